"""The size picker: the contract's six sizes as three shapes, each sent as a ratio or in pixels.

The shapes are what a person chooses; whether "3:2" or "1536x1024" is sent is a detail
kept under API options, and a re-run brings back exactly the form it used.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Shape:
    name: str  # square, portrait, landscape: the CSS draws it
    label: str
    ratio: str
    pixels: str


SHAPES = [
    Shape("square", _("Square"), "1:1", "1024x1024"),
    Shape("portrait", _("Portrait"), "2:3", "1024x1536"),
    Shape("landscape", _("Landscape"), "3:2", "1536x1024"),
]
PIXEL_SIZES = {shape.pixels for shape in SHAPES}


def size_form(value):
    """How the chosen size is written: "pixels" for 1024x1536 and the like, else "ratio"."""
    return "pixels" if value in PIXEL_SIZES else "ratio"


def shape_choices(field):
    """The size field's radio buttons, each with its shape, the other form of the same
    size and the pixels it makes: ratio forms first, so arrow keys walk the visible three."""
    by_value = {str(choice.data["value"]): choice for choice in field}
    choices = []
    for form in ("ratio", "pixels"):
        for shape in SHAPES:
            value, other = (shape.ratio, shape.pixels) if form == "ratio" else (shape.pixels, shape.ratio)
            choices.append({"radio": by_value[value], "shape": shape, "form": form, "other": other,
                            "pixels": by_value[shape.pixels].choice_label})
    return choices
