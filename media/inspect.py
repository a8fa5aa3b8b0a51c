"""What an uploaded file really is: its type from its bytes, and an image's size.

The client's declared content type is never trusted: the first bytes decide
(magic numbers), and images are opened by Pillow to read their dimensions.
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
    """Type and, for images, dimensions; None when the bytes are not an accepted format."""
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
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
        return None
    return Inspection(content_type, width, height)
