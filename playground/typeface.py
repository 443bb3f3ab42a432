"""The pages' typeface, Inter, served from our own static files.

The fontpkg-inter package ships Inter as two variable TTFs of almost 900 KB each. The pages
need far less: the Latin letters, at the text optical size, from regular to bold. This module
cuts that out of the package's file once (about 30 KB as WOFF2) and keeps it under DATA_DIR;
a static files finder offers it as `playground/fonts/inter-latin.woff2`, so `collectstatic`
and the development server pick it up like any other static file. Korean and Chinese text
falls back to the system's fonts (see the font stack in app.css).
"""

import hashlib
import io
import os
import tempfile
from importlib.metadata import version
from pathlib import Path

import fontpkg
from django.conf import settings
from django.contrib.staticfiles.finders import BaseStorageFinder
from django.core.files.storage import FileSystemStorage

STATIC_PATH = "playground/fonts/inter-latin.woff2"

# The Latin subset as the font services cut it: ASCII, Latin-1, the typographic punctuation
# (dashes, quotes, ellipsis, the middle dot of "N running · M completed"), euro, trade mark,
# arrows and minus.
LATIN = [
    *range(0x20, 0x7F), *range(0xA0, 0x100), 0x131, 0x152, 0x153, 0x2BB, 0x2BC, 0x2C6, 0x2DA, 0x2DC,
    0x304, 0x308, 0x329, *range(0x2000, 0x2070), 0x20AC, 0x2122, 0x2190, 0x2191, 0x2192, 0x2193,
    0x2212, 0x2215, 0xFEFF, 0xFFFD,
]
LAYOUT_FEATURES = ["kern", "liga", "calt", "ccmp", "locl", "mark", "mkmk", "tnum", "case"]
# Text size (Inter's opsz 14), and only the weights the stylesheets use.
AXES = {"opsz": 14, "wght": (400, 700)}


def recipe():
    """What the cut file depends on: the package's version and the cut itself."""
    return f"{version('fontpkg-inter')} {LATIN} {LAYOUT_FEATURES} {sorted(AXES.items())}"


def cut():
    """The subset as WOFF2 bytes (about two seconds: fontTools is thorough)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(fontpkg.path("Inter"))
    options = subset.Options()
    options.layout_features = LAYOUT_FEATURES
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=LATIN)
    subsetter.subset(font)
    font = instancer.instantiateVariableFont(font, AXES)
    font.flavor = "woff2"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def built_directory():
    """The directory that holds STATIC_PATH, cutting the file first when this recipe has not been."""
    key = hashlib.sha256(recipe().encode()).hexdigest()[:12]
    directory = Path(settings.DATA_DIR) / "typeface" / key
    target = directory / STATIC_PATH
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: several processes (web workers, test workers) may start at once.
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as part:
            part.write(cut())
        os.replace(part.name, target)
    return directory


class TypefaceFinder(BaseStorageFinder):
    """Finds STATIC_PATH, cut from the installed package into DATA_DIR."""

    def __init__(self, *args, **kwargs):
        super().__init__(FileSystemStorage(location=built_directory()), *args, **kwargs)
