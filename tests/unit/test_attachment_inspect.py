"""What an upload is, by its content: the five kinds pass, disguises and bombs do not, and
photos lose their metadata but keep their pixels the right way up."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mailbox.attachments.inspect import Reason, Refused, check, safe_filename
from mailbox.attachments.kinds import Kind
from tests import files

LIMIT = 10 * 1024 * 1024


@pytest.mark.parametrize("name", list(files.ALLOWED))
def test_each_allowed_kind_passes_with_its_own_type(name: str) -> None:
    content_type, make = files.ALLOWED[name]
    checked = check(name, make(), LIMIT)
    assert checked.content_type == content_type
    assert checked.filename == name


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("photo.jpg", files.exe, Reason.TYPE),  # a renamed executable
        ("photo.jpg", files.html, Reason.TYPE),  # HTML that would run if served as a page
        ("contract.docx", files.zip_bomb_docx, Reason.UNSAFE),
        ("contract.docx", files.macro_docx, Reason.UNSAFE),
        ("archive.docx", lambda: files._zip({"a.txt": b"hello"}), Reason.TYPE),  # any ZIP
        ("photo.jpg", lambda: files.jpeg_with_gps()[:200], Reason.DAMAGED),
        ("empty.pdf", lambda: b"", Reason.EMPTY),
        ("big.pdf", lambda: files.pdf() + bytes(LIMIT), Reason.TOO_BIG),
    ],
)
def test_refused_with_the_reason_and_the_name(name: str, make: object, reason: Reason) -> None:
    with pytest.raises(Refused) as refused:
        check(name, make(), LIMIT)  # type: ignore[operator]
    assert refused.value.reason is reason and refused.value.filename == name


def test_a_photo_loses_its_exif_and_gps_position() -> None:
    original = files.jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(files.GPS_IFD)  # it had one
    stored = check("现场照片.jpg", original, LIMIT).data
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert not image.getexif() and b"Exif" not in stored and b"PhoneMaker" not in stored


def test_a_photo_taken_sideways_is_stored_upright() -> None:
    # Orientation 6: the camera held on its side; viewers turn it 90° clockwise.
    stored = check("p.jpg", files.jpeg_with_gps((64, 48), orientation=6), LIMIT).data
    assert Image.open(io.BytesIO(stored)).size == (48, 64)


def test_png_text_chunks_are_dropped() -> None:
    stored = check("s.png", files.png_with_text(), LIMIT).data
    assert b"13812345678" not in stored and not Image.open(io.BytesIO(stored)).text


def test_a_decompression_bomb_image_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in a few KB
    with pytest.raises(Refused) as refused:
        check("huge.png", out.getvalue(), LIMIT)
    assert refused.value.reason is Reason.UNSAFE


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("C:\\Users\\张三\\现场照片.JPG", Kind.JPEG, "现场照片.jpg"),
        ("../../etc/passwd", Kind.PDF, "passwd.pdf"),
        ('evil"; filename=x.html', Kind.PNG, "evil filename=x.png"),
        ("report.exe", Kind.PDF, "report.pdf"),
        ("\x00\x1b[31m.", Kind.DOCX, "[31m.docx"),  # control characters go
        ("\x00\x07 .", Kind.DOCX, "attachment.docx"),
        ("...", Kind.XLSX, "attachment.xlsx"),
        ("长" * 200 + ".pdf", Kind.PDF, "长" * 80 + ".pdf"),
    ],
)
def test_stored_names_are_safe_and_end_in_the_real_kind(
    raw: str, kind: Kind, expected: str
) -> None:
    assert safe_filename(raw, kind) == expected


def test_a_jpeg_comment_is_dropped_too() -> None:
    image = Image.open(io.BytesIO(files.jpeg_with_gps()))
    out = io.BytesIO()
    image.save(out, "JPEG", comment="张三丰 13812345678".encode())
    assert b"13812345678" in out.getvalue()
    stored = check("p.jpg", out.getvalue(), LIMIT).data
    assert b"13812345678" not in stored and "comment" not in Image.open(io.BytesIO(stored)).info
