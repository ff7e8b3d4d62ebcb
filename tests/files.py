"""Sample files for the attachment tests, made in memory: real formats, real metadata."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook
from PIL import Image

GPS_IFD = 0x8825
MAKE, ORIENTATION = 0x010F, 0x0112
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    "</Types>"
)


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int = 1) -> bytes:
    """A phone photo: camera make, GPS position (天安门), and an orientation tag."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1] // 4))  # a corner to see turns by
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "张三丰 13812345678")
    out = io.BytesIO()
    Image.new("RGBA", (32, 32), (0, 128, 0, 255)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _zip(entries: dict[str, bytes], *, level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx(extra: dict[str, bytes] | None = None, content_types: str = CONTENT_TYPES) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": content_types.encode(),
            "word/document.xml": b"<w:document>\xe5\x9b\x9e\xe5\xa4\x8d</w:document>",
            **(extra or {}),
        }
    )


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["月份", "件数"])
    book.active.append(["一月", 46])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A DOCX on the outside; inside, 64 MB of zeros packed into some 60 KB."""
    return docx({"word/media/image1.bin": bytes(64 * 1024 * 1024)})


def macro_docx() -> bytes:
    """A .docm renamed to .docx: the content type says macros."""
    return docx(
        {"word/vbaProject.bin": b"Attribute VB_Name"},
        CONTENT_TYPES.replace("</Types>", "<!-- macroEnabled --></Types>"),
    )


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(500) + b"This program cannot be run"


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


ALLOWED = {
    "现场照片.jpg": ("image/jpeg", jpeg_with_gps),
    "screenshot.png": ("image/png", png_with_text),
    "通知扫描件.pdf": ("application/pdf", pdf),
    "合同.docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        docx,
    ),
    "统计.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx),
}
