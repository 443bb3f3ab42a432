"""Static files as whitenoise serves them, with a year's cache for the hashed ones.

A file whose name carries a hash of its content (what `collectstatic` makes) never changes
under that name, so browsers may keep it a year without asking again (`immutable`); a new
version of a file is a new name. Whitenoise says ten years by default; a year is what HTTP
caches are asked to honour at most.
"""

from whitenoise.middleware import WhiteNoiseMiddleware

A_YEAR = 365 * 24 * 60 * 60


class StaticFiles(WhiteNoiseMiddleware):
    FOREVER = A_YEAR
