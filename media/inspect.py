"""What an uploaded file really is: its type from its bytes, and an image's size.

The client's declared content type is never trusted: the first bytes decide
(magic numbers), and images are opened by Pillow to read their dimensions and
checked whole (a truncated or corrupt image is refused), without ever holding
a full-size bitmap in memory: PNG chunks are CRC-checked, JPEGs decoded at
1/8 scale, GIF blocks walked, WebP decoded by libwebp on opening.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Bytes read from the start of an object to decide its type and image size.
HEAD_BYTES = 1024 * 1024

KINDS = {
    "image/jpeg": "PHOTO",
    "image/png": "PHOTO",
    "image/webp": "PHOTO",
    "image/gif": "GIF",
    "video/mp4": "VIDEO",
}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
}
CONTENT_TYPES = {ext: ctype for ctype, ext in EXTENSIONS.items()}
_PILLOW_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    # JPEGs carrying a Multi-Picture (MPF) segment, as many phone cameras write them
    "MPO": "image/jpeg",
}
MAX_DIMENSION = 16_384


@dataclass(frozen=True)
class Inspection:
    content_type: str
    width: int | None
    height: int | None


def sniff(head: bytes) -> str | None:
    """The content type the bytes show, among the ones Chirp accepts; None otherwise."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        return "video/mp4"
    return None


_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"dash",
    b"MSNV",
}


def inspect(head: bytes) -> Inspection | None:
    """Type and, for images, dimensions; None when the bytes are not an accepted format.

    For an image, ``head`` must be the whole file: a truncated image is refused.
    """
    content_type = sniff(head)
    if content_type is None:
        return None
    if KINDS[content_type] == "VIDEO":
        return Inspection(content_type, None, None)
    try:
        with Image.open(io.BytesIO(head)) as image:
            if _PILLOW_FORMATS.get(image.format or "") != content_type:
                return None
            width, height = image.size
            if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
                return None
            if not _whole(image, content_type, head):
                return None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return None
    return Inspection(content_type, width, height)


def _whole(image: Image.Image, content_type: str, data: bytes) -> bool:
    """Whether the image's data is all there (raises or False when not)."""
    if content_type == "image/png":
        image.verify()  # reads every chunk up to IEND and checks its CRC
    elif content_type == "image/jpeg":
        image.draft("RGB", (max(image.width // 8, 1), max(image.height // 8, 1)))
        image.load()  # decodes every scan: raises "image file is truncated"
    elif content_type == "image/gif":
        return _gif_blocks_complete(data)
    return True  # WebP: libwebp decoded the whole image on opening


def _gif_blocks_complete(data: bytes) -> bool:
    """Walk a GIF's blocks to its trailer: False when the data stops first."""

    def sub_blocks(pos: int) -> int:
        while pos < len(data):
            size = data[pos]
            pos += 1 + size
            if size == 0:
                return pos
        return -1

    def color_table(packed: int) -> int:
        return 3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0

    if len(data) < 13:
        return False
    pos = 13 + color_table(data[10])
    images = 0
    while 0 <= pos < len(data):
        block = data[pos]
        if block == 0x3B:  # trailer
            return images > 0
        if block == 0x21:  # extension: label, then data sub-blocks
            pos = sub_blocks(pos + 2)
        elif block == 0x2C:  # image descriptor, local color table, LZW code size, data
            if pos + 10 > len(data):
                return False
            pos = sub_blocks(pos + 10 + color_table(data[pos + 9]) + 1)
            images += 1
        else:
            return False
    return False
