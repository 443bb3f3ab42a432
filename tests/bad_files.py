"""Hostile and broken upload files, made on the fly.

BAD_FILES is the corpus the references field and generate must each refuse, with a
sentence naming the file. The builders after it make files that are fine to accept
but carry metadata or a payload the stored copy must not keep.
"""

import functools
import gzip
import io
import mimetypes
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from .images import image_bytes

MB = 1024 * 1024
FORMATS = "is not a JPG, PNG or WEBP image, or it is damaged"
DAMAGED = "is damaged or incomplete and cannot be read"
TOO_MANY_PIXELS = "has too many pixels: at most 36 megapixels"
# Script text hidden in files: it must never be stored, nor reach a page.
SCRIPT = '<script>alert("metadata-marker")</script>'
MARKER = "metadata-marker"


def file(name, data):
    return SimpleUploadedFile(name, data, content_type=mimetypes.guess_type(name)[0] or "text/plain")


def saved(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noise(mode, size):
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))


def half(data):
    return data[: len(data) // 2]


def small(fmt, **options):
    return image_bytes((64, 48), fmt, **options)


def animated(fmt):
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("red", "blue", "green")]
    return saved(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)


@functools.cache
def png_over_10_mb():
    return saved(noise("RGB", (2048, 2048)), "PNG", compress_level=1)


@functools.cache
def png_7000_square():
    return saved(Image.new("1", (7000, 7000)), "PNG")


# -- PNG made chunk by chunk ------------------------------------------------------------


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, idat, *, depth=1, colour=0, before_idat=b""):
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    chunks = png_chunk(b"IHDR", header) + before_idat + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def png_claiming(width, height):
    """A few dozen bytes whose header claims width × height 1-bit pixels."""
    return png(width, height, zlib.compress(b"\0" * 16))


def zeros_inflating_to(total):
    """A zlib stream of `total` zero bytes (a whole number of MB), made without deflating them
    all: after a full flush the deflater starts afresh, so every further MB packs the same."""
    deflater = zlib.compressobj(9)
    first = deflater.compress(bytes(MB)) + deflater.flush(zlib.Z_FULL_FLUSH)
    again = deflater.compress(bytes(MB)) + deflater.flush(zlib.Z_FULL_FLUSH)
    end = deflater.flush()[:-4]  # the last empty block, without the checksum of 2 MB
    adler = (total % 65521) << 16 | 1  # Adler-32 of zeros: A stays 1, B counts the bytes
    return first + again * (total // MB - 1) + end + struct.pack(">I", adler)


@functools.cache
def png_inflating_to_gigabytes():
    """50,000 × 50,000 grey pixels, every one really there: 2.5 GB inflated, about 2.5 MB as sent."""
    side = 50_000
    return png(side, side, zeros_inflating_to(-(-(side + 1) * side // MB) * MB), depth=8)


@functools.cache
def png_9000_square_grey():
    return png(9000, 9000, zeros_inflating_to(78 * MB), depth=8)


def png_cut_at_6000_square():
    """The largest size allowed (36 MP, RGBA: 144 MB decoded), its data cut off half-way."""
    return png(6000, 6000, zeros_inflating_to(72 * MB)[:-64], depth=8, colour=6)


def png_bad_crc():
    data = bytearray(small("PNG"))
    data[data.index(b"IDAT") + 20] ^= 0xFF
    return bytes(data)


def png_with_zipped_chunk(kind, head):
    """A PNG with a zTXt or iCCP chunk that inflates to 64 MB."""
    return png(
        8,
        8,
        zlib.compress(bytes(9 * 8)),
        depth=8,
        before_idat=png_chunk(kind, head + zeros_inflating_to(64 * MB)),
    )


# -- WEBP and JPEG headers that lie --------------------------------------------------------


def webp_claiming(width, height):
    """A lossless 1-pixel WEBP whose header says width × height."""
    data = bytearray(saved(Image.new("RGB", (1, 1)), "WEBP", lossless=True))
    fields = int.from_bytes(data[21:25], "little") & ~((1 << 28) - 1)
    data[21:25] = (fields | (width - 1) | (height - 1) << 14).to_bytes(4, "little")
    return bytes(data)


def webp_canvas(width, height):
    """A 1-pixel WEBP inside an extended header whose canvas is width × height."""
    image = saved(Image.new("RGB", (1, 1)), "WEBP", lossless=True)[12:]
    canvas = (
        b"VP8X"
        + struct.pack("<I", 10)
        + bytes(4)
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + canvas + image
    return b"RIFF" + struct.pack("<I", len(body)) + body


def jpeg_claiming(width, height):
    data = bytearray(small("JPEG"))
    frame = data.index(b"\xff\xc0") + 5  # after the marker, length and precision
    data[frame : frame + 4] = struct.pack(">HH", height, width)
    return bytes(data)


# -- other formats and other files -----------------------------------------------------------


def psd(width=8, height=8):
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    return header + bytes(12) + struct.pack(">H", 0) + bytes(3 * width * height)


def zip_archive():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<html><body>" + SCRIPT + "</body></html>")
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
EXE = b"MZ\x90\x00\x03" + bytes(59) + b"This program cannot be run in DOS mode.\r\n" + bytes(200)
ELF = b"\x7fELF\x02\x01\x01" + bytes(120)
HTML = b"<!doctype html><html><body>" + SCRIPT.encode() + b"</body></html>"
PHP = b"<?php system($_GET['cmd']); ?>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"/>'
SVG_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload="alert(1)">'
    + SCRIPT.encode()
    + b"</svg>"
)
HEIC = struct.pack(">I", 24) + b"ftypheic" + bytes(4) + b"mif1heic" + bytes(64)


@dataclass(frozen=True)
class BadFile:
    name: str  # as sent
    make: object  # () -> bytes
    phrase: str  # what the message says besides the name
    shown: str = ""  # the name as the message gives it, when not as sent

    @property
    def named(self):
        return f"“{self.shown or self.name}”"


def bad(name, make, phrase, shown=""):
    return BadFile(name, make, phrase, shown)


BAD_FILES = {
    # not images, or not in full
    "renamed-text-file": bad("notes.png", lambda: b"Shopping list: eggs, milk.\n", FORMATS),
    "empty-file": bad("empty.png", lambda: b"", "is empty"),
    "truncated-png": bad("cut.png", lambda: half(image_bytes()), "damaged"),
    "truncated-jpeg": bad("cut.jpg", lambda: half(image_bytes(fmt="JPEG")), DAMAGED),
    "truncated-webp": bad("cut.webp", lambda: half(image_bytes(fmt="WEBP")), "damaged"),
    "png-without-pixels": bad("hollow.png", lambda: png(64, 64, b""), "damaged"),
    "png-cut-at-6000x6000": bad("cut-large.png", png_cut_at_6000_square, DAMAGED),
    "png-bad-checksum": bad("flipped.png", png_bad_crc, FORMATS),
    "png-zero-width": bad("flat.png", lambda: png_claiming(0, 64), FORMATS),
    # decompression bombs: headers claiming huge sizes in tiny files
    "over-10-mb": bad("huge.png", png_over_10_mb, "is larger than 10 MB"),
    "7000x7000-1-bit": bad("wide.png", png_7000_square, "is 7000 × 7000 pixels: at most 36 megapixels"),
    "60000x60000-header": bad("bomb.png", lambda: png_claiming(60000, 60000), TOO_MANY_PIXELS),
    "png-idat-inflating-to-2.5-gb": bad("deep.png", png_inflating_to_gigabytes, TOO_MANY_PIXELS),
    "png-9000x9000-grey": bad("grey.png", png_9000_square_grey, "is 9000 × 9000 pixels"),
    "png-ztxt-inflating-to-64-mb": bad(
        "notes-bomb.png", lambda: png_with_zipped_chunk(b"zTXt", b"Comment\0\0"), FORMATS
    ),
    "png-iccp-inflating-to-64-mb": bad(
        "colour-bomb.png", lambda: png_with_zipped_chunk(b"iCCP", b"icc\0\0"), FORMATS
    ),
    "webp-header-16383x16383": bad("bomb.webp", lambda: webp_claiming(16383, 16383), TOO_MANY_PIXELS),
    "webp-header-9000x9000": bad("wide.webp", lambda: webp_claiming(9000, 9000), "is 9000 × 9000 pixels"),
    "webp-canvas-16383x16383": bad("canvas.webp", lambda: webp_canvas(16383, 16383), TOO_MANY_PIXELS),
    "jpeg-header-65000x65000": bad("bomb.jpg", lambda: jpeg_claiming(65000, 65000), TOO_MANY_PIXELS),
    "jpeg-header-8000x8000": bad("wide.jpg", lambda: jpeg_claiming(8000, 8000), "is 8000 × 8000 pixels"),
    # other image formats, whatever the name says
    "gif": bad("still.gif", lambda: image_bytes(fmt="GIF"), "is a GIF file: use JPG, PNG or WEBP"),
    "gif-named-png": bad("still.png", lambda: small("GIF"), "is a GIF file"),
    "bmp": bad("old.bmp", lambda: image_bytes(fmt="BMP"), "is a BMP file"),
    "bmp-named-jpg": bad("old.jpg", lambda: small("BMP"), "is a BMP file"),
    "tiff": bad("scan.tiff", lambda: image_bytes(fmt="TIFF"), "is a TIFF file"),
    "ico": bad("favicon.ico", lambda: small("ICO"), "is a ICO file"),
    "psd": bad("layers.psd", psd, "is a PSD file"),
    "avif": bad("photo.avif", lambda: small("AVIF"), "is a AVIF file"),
    "heic": bad("photo.heic", lambda: HEIC, FORMATS),
    "jpeg-2000": bad("scan.jp2", lambda: small("JPEG2000"), "is a JPEG2000 file"),
    "ppm": bad("raw.ppm", lambda: small("PPM"), "is a PPM file"),
    "pcx": bad("paint.pcx", lambda: small("PCX"), "is a PCX file"),
    "tga": bad("game.tga", lambda: small("TGA"), "is a TGA file"),
    "eps": bad("print.eps", lambda: small("EPS"), "is a EPS file"),
    "svg": bad("logo.svg", lambda: SVG, FORMATS),
    "svg-with-script": bad("logo.svg", lambda: SVG_SCRIPT, FORMATS),
    "svgz": bad("logo.svgz", lambda: gzip.compress(SVG_SCRIPT), FORMATS),
    # more than one frame
    "animated-webp": bad("moving.webp", lambda: animated("WEBP"), "animated"),
    "animated-png": bad("moving.png", lambda: animated("PNG"), "animated"),
    "animated-gif": bad("moving.gif", lambda: animated("GIF"), "animated"),
    "mpo": bad("stereo.jpg", lambda: animated("MPO"), "several frames"),
    # polyglots and other files named as images
    "gif-html-polyglot": bad("page.gif", lambda: b"GIF89a<script>alert(document.cookie)</script>", FORMATS),
    "gif-php-polyglot": bad("shell.php.jpg", lambda: b"GIF89a;" + PHP, FORMATS),
    "png-signature-then-zip": bad("archive.png", lambda: b"\x89PNG\r\n\x1a\n" + zip_archive(), FORMATS),
    "html-named-png": bad("page.png", lambda: HTML, FORMATS),
    "php-named-jpg": bad("shell.jpg", lambda: PHP, FORMATS),
    "exe-named-png": bad("setup.png", lambda: EXE, FORMATS),
    "elf-named-webp": bad("tool.webp", lambda: ELF, FORMATS),
    "zip-named-jpg": bad("photos.jpg", zip_archive, FORMATS),
    "pdf-named-jpg": bad("invoice.jpg", lambda: PDF, FORMATS),
    "pdf": bad("invoice.pdf", lambda: PDF, FORMATS),
    # hostile names: the message names the file as it is kept, escaped in the page
    "name-with-nul": bad("evil\0name.png", lambda: HTML, FORMATS, shown="evilname.png"),
    "name-of-300-characters": bad("a" * 296 + ".png", lambda: HTML, FORMATS, shown="a" * 115 + "….png"),
    "name-with-path": bad(
        "../../etc/passwd", lambda: b"root:x:0:0:root:/root:/bin/bash\n", FORMATS, shown="passwd"
    ),
    "name-with-windows-path": bad("..\\..\\boot.ini", lambda: b"[boot loader]\n", FORMATS, shown="boot.ini"),
    "name-with-html": bad('<img src=x onerror="alert(1)">.png', lambda: HTML, FORMATS),
}


# -- files to accept, without what they carry -------------------------------------------------


def jpeg_with_metadata(size=(300, 200)):
    """A landscape JPEG shown as portrait (EXIF orientation 6), with a GPS position, XMP,
    a comment and script text in all of them."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "MarkerCam"
    exif[ExifTags.Base.ImageDescription] = SCRIPT
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 17.0, 40.0),
    }
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:description>{SCRIPT}</dc:description></x:xmpmeta>'
    return image_bytes(size, "JPEG", quality=92, exif=exif, xmp=xmp.encode(), comment=SCRIPT)


def png_with_text_chunks(size=(120, 80)):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT)  # tEXt
    info.add_text("Author", "MarkerCam " + SCRIPT, zip=True)  # zTXt
    info.add_itxt("Description", SCRIPT, lang="en", tkey="Beschreibung")  # iTXt
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta>{SCRIPT}</x:xmpmeta>", zip=True)
    return image_bytes(size, "PNG", pnginfo=info)


def with_payload(image, payload):
    """A valid image with another file appended: a polyglot the decoder reads as the image."""
    return image + payload


def cmyk_jpeg(size=(64, 48)):
    return saved(Image.new("CMYK", size, (0, 255, 255, 0)), "JPEG", quality=95)  # red


def grey_16_bit_png(size=(64, 48), level=32768):
    return saved(Image.new("I;16", size, level), "PNG")


def palette_png_with_transparency(size=(64, 48)):
    image = Image.new("P", size, 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(0, (0, 0, size[0] // 2, size[1]))
    return saved(image, "PNG", transparency=0)


def linear_rgb_profile():
    """An ICC profile for RGB with a linear tone curve (gamma 1.0) instead of sRGB's:
    lcms's own sRGB profile, its three curves pointed at one 'curv' of gamma 1.0."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x100) + bytes(2)
    offset = len(data)
    data += curve
    for index in range(struct.unpack(">I", data[128:132])[0]):
        entry = 132 + 12 * index
        if data[entry : entry + 4] in (b"rTRC", b"gTRC", b"bTRC"):
            data[entry + 4 : entry + 12] = struct.pack(">II", offset, len(curve) - 2)
        if data[entry : entry + 4] == b"desc":  # name it other than sRGB
            start = struct.unpack(">I", data[entry + 4 : entry + 8])[0]
            data[start : start + 128] = (
                data[start : start + 128].replace(b"\0s\0R\0G\0B", b"\0l\0i\0n\0R").replace(b"sRGB", b"linR")
            )
    data[0:4] = struct.pack(">I", len(data))
    data[84:100] = bytes(16)  # the profile id, a checksum of what was changed
    return bytes(data)
