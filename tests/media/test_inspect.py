"""media.inspect: the type of an upload from its bytes, an image's size, damaged files.

Every image here is a real file written by Pillow; the MP4 is a minimal
``ftyp`` box, which is all the sniffer reads of a video.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from media.inspect import (
    CONTENT_TYPES,
    EXTENSIONS,
    KINDS,
    MAX_DIMENSION,
    Inspection,
    inspect,
    sniff,
)
from tests.media import animated_gif, image_bytes, mp4_bytes


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


CASES = {
    "jpeg": (image_bytes("JPEG", (123, 45)), "image/jpeg", (123, 45)),
    "progressive jpeg": (image_bytes("JPEG", (80, 60), progressive=True), "image/jpeg", (80, 60)),
    "png": (image_bytes("PNG", (64, 48)), "image/png", (64, 48)),
    "webp": (image_bytes("WEBP", (300, 200)), "image/webp", (300, 200)),
    "lossless webp": (image_bytes("WEBP", (31, 17), lossless=True), "image/webp", (31, 17)),
    "gif": (image_bytes("GIF", (40, 30)), "image/gif", (40, 30)),
    "animated gif": (animated_gif((50, 20)), "image/gif", (50, 20)),
}


# --- sniff ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_sniff_reads_the_type_from_the_first_bytes(name: str) -> None:
    data, content_type, _ = CASES[name]
    assert sniff(data) == content_type
    assert sniff(data[:16]) == content_type  # the magic number is all it needs


@pytest.mark.parametrize("brand", [b"isom", b"mp42", b"mp41", b"avc1", b"M4V ", b"dash"])
def test_sniff_knows_an_mp4_by_its_ftyp_box(brand: bytes) -> None:
    assert sniff(mp4_bytes(100, brand)) == "video/mp4"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is a text file\n",
        b"<!doctype html><html><body>not an image</body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"BM" + b"\x00" * 60,  # BMP
        b"II*\x00" + b"\x00" * 60,  # TIFF
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",  # QuickTime, not MP4
        b"ftypisom" + b"\x00" * 20,  # the box at the wrong offset
        b"RIFF\x10\x00\x00\x00WAVEfmt ",  # a RIFF file that is not WebP
        b"\xff\xd8",  # two bytes of a JPEG magic number
    ],
)
def test_sniff_refuses_what_chirp_does_not_accept(data: bytes) -> None:
    assert sniff(data) is None
    assert inspect(data) is None


# --- inspect: good files -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_inspect_gives_the_type_and_the_real_dimensions(name: str) -> None:
    data, content_type, (width, height) = CASES[name]
    assert inspect(data) == Inspection(content_type, width, height)


def test_inspect_accepts_images_of_every_colour_mode() -> None:
    grey = Image.linear_gradient("L").resize((30, 20))
    files = {
        "greyscale jpeg": save(grey, "JPEG"),
        "cmyk jpeg": save(grey.convert("CMYK"), "JPEG"),
        "palette png with transparency": save(grey.convert("P"), "PNG", transparency=0),
        "rgba png": save(grey.convert("RGBA"), "PNG"),
        "16-bit png": save(grey.convert("I;16"), "PNG"),
        "rgba webp": save(grey.convert("RGBA"), "WEBP"),
        "1x1 jpeg": save(Image.new("RGB", (1, 1)), "JPEG"),
    }
    for name, data in files.items():
        found = inspect(data)
        assert found is not None, name
        assert (found.width, found.height) == ((1, 1) if "1x1" in name else (30, 20)), name


def test_inspect_accepts_animated_png_and_webp() -> None:
    frames = [Image.linear_gradient("L").resize((24, 12)).convert("RGB").rotate(a) for a in (0, 90)]
    apng = save(frames[0], "PNG", save_all=True, append_images=frames[1:])
    webp = save(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    assert inspect(apng) == Inspection("image/png", 24, 12)
    assert inspect(webp) == Inspection("image/webp", 24, 12)


def test_a_phone_camera_jpeg_with_a_multi_picture_segment_is_a_jpeg() -> None:
    # Pillow names JPEGs carrying an MPF segment "MPO"; they are JPEG files all the same
    image = Image.linear_gradient("L").resize((40, 30)).convert("RGB")
    mpo = save(image, "MPO", save_all=True, append_images=[image.rotate(180)])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    assert inspect(mpo) == Inspection("image/jpeg", 40, 30)


def test_inspect_of_an_mp4_gives_no_dimensions() -> None:
    assert inspect(mp4_bytes()) == Inspection("video/mp4", None, None)


# --- inspect: lying, damaged and hostile files -----------------------------------------------


def test_a_png_renamed_as_jpeg_is_a_png(tmp_path: Path) -> None:
    renamed = tmp_path / "holiday.jpg"
    renamed.write_bytes(image_bytes("PNG", (20, 10)))
    assert CONTENT_TYPES[renamed.suffix] == "image/jpeg"  # what the name claims
    assert inspect(renamed.read_bytes()) == Inspection("image/png", 20, 10)


def test_a_text_file_is_not_an_image(tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("these are my notes, not a picture\n" * 50)
    assert inspect(text.read_bytes()) is None


@pytest.mark.parametrize(
    ("magic", "what"),
    [
        (b"\xff\xd8\xff\xe0", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF89a", "gif"),
        (b"RIFF\x00\x10\x00\x00WEBPVP8 ", "webp"),
    ],
)
def test_a_magic_number_followed_by_garbage_is_refused(magic: bytes, what: str) -> None:
    assert inspect(magic + b"garbage, not image data " * 40) is None, what


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("kept", [0.5, 0.9])
def test_a_truncated_image_is_refused(name: str, kept: float) -> None:
    data = CASES[name][0]
    assert inspect(data[: int(len(data) * kept)]) is None
    assert inspect(data[:24]) is None  # the header only


def test_a_large_truncated_photo_is_refused() -> None:
    data = image_bytes("JPEG", (640, 480), noise=True, quality=90)
    assert inspect(data) == Inspection("image/jpeg", 640, 480)
    assert inspect(data[: len(data) - 200]) is None
    png = image_bytes("PNG", (200, 150), noise=True)
    assert inspect(png[: len(png) - 100]) is None


def test_images_beyond_the_maximum_dimension_are_refused() -> None:
    wide = save(Image.new("1", (MAX_DIMENSION + 1, 1)), "PNG")
    assert inspect(wide) is None
    edge = save(Image.new("1", (MAX_DIMENSION, 1)), "PNG")
    assert inspect(edge) == Inspection("image/png", MAX_DIMENSION, 1)


def test_a_decompression_bomb_is_refused_not_an_error() -> None:
    bomb = png_claiming(16_000, 16_000)  # 256 megapixels in a few dozen bytes
    assert len(bomb) < 200
    assert sniff(bomb) == "image/png"
    assert inspect(bomb) is None


# --- the tables ---------------------------------------------------------------------------


def test_every_accepted_type_has_a_kind_and_an_extension() -> None:
    assert set(KINDS) == set(EXTENSIONS)
    assert set(KINDS.values()) == {"PHOTO", "GIF", "VIDEO"}
    assert {ext: ctype for ctype, ext in EXTENSIONS.items()} == CONTENT_TYPES
