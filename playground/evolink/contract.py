"""Facts of the EvoLink GPT-4o Image contract (`evolink-api.md`), shared by the client
and the built-in sandbox so the two can never disagree on them."""

MODEL = "gpt-4o-image"
# In the contract's order: three ratios, then their pixel forms.
SIZES = ("1:1", "2:3", "3:2", "1024x1024", "1024x1536", "1536x1024")
PIXELS = {
    "1:1": (1024, 1024),
    "2:3": (1024, 1536),
    "3:2": (1536, 1024),
    "1024x1024": (1024, 1024),
    "1024x1536": (1024, 1536),
    "1536x1024": (1536, 1024),
}
COUNTS = (1, 2, 4)
MAX_REFERENCE_IMAGES = 5
