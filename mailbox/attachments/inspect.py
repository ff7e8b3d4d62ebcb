"""What an uploaded file really is, judged by its content, never by its name or declared type.

Photos are decoded and encoded again, which drops EXIF (GPS position, camera serial) and any
other metadata; DOCX and XLSX are read as ZIP directories without unpacking them, and refused
when they hold macros, encryption, or more data than an office document plausibly holds.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps, UnidentifiedImageError

from mailbox.attachments.kinds import CONTENT_TYPES, EXTENSIONS, Kind

MAX_PIXELS = 50_000_000  # a 50-megapixel photo; beyond, decoding is a memory attack
MAX_ZIP_ENTRIES = 2_000
MAX_UNPACKED = 200 * 1024 * 1024  # what the entries claim to unpack to, in all
MAX_RATIO = 200  # unpacked / packed per entry: text compresses ~10x, a bomb ~1000x
NAME_LENGTH = 80
ORIENTATION = 0x0112  # the EXIF tag
OFFICE_PARTS = {Kind.DOCX: "word/document.xml", Kind.XLSX: "xl/workbook.xml"}
UNSAFE_NAME_CHARACTERS = set('<>:"/\\|?*;')


class Reason(StrEnum):
    EMPTY = "empty"
    TOO_BIG = "too_big"
    TYPE = "type"  # none of the five kinds, or a kind in disguise
    DAMAGED = "damaged"  # looks like one of the kinds but cannot be read
    UNSAFE = "unsafe"  # macros, encryption, a ZIP bomb


class Refused(Exception):
    def __init__(self, filename: str, reason: Reason) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason


@dataclass(frozen=True)
class Checked:
    filename: str  # safe to show and to send in Content-Disposition; extension from the kind
    kind: Kind
    data: bytes  # what is stored: for photos, the re-encoded image
    sha256: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def check(filename: str, data: bytes, max_bytes: int) -> Checked:
    """The file as it will be stored, or Refused naming it. CPU-bound: run it in a thread."""
    shown = display_name(filename)
    if not data:
        raise Refused(shown, Reason.EMPTY)
    if len(data) > max_bytes:
        raise Refused(shown, Reason.TOO_BIG)
    kind = sniff(data)
    if kind is None:
        raise Refused(shown, Reason.TYPE)
    if kind in (Kind.JPEG, Kind.PNG):
        data = _reencoded(shown, data, kind)
    elif kind in OFFICE_PARTS:
        _check_office(shown, data, kind)
    return Checked(
        filename=safe_filename(filename, kind),
        kind=kind,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def sniff(data: bytes) -> Kind | None:
    """The kind the first bytes announce. DOCX and XLSX are both ZIP: told apart later."""
    if data.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if data.startswith((b"%PDF-1.", b"%PDF-2.")):
        return Kind.PDF
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data)
    return None


def _office_kind(data: bytes) -> Kind | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None
    for kind, part in OFFICE_PARTS.items():
        if part in names and "[Content_Types].xml" in names:
            return kind
    return None  # some other ZIP: an archive, a JAR, an EPUB


def _check_office(shown: str, data: bytes, kind: Kind) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        types = archive.read("[Content_Types].xml")[:1_000_000]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError):
        raise Refused(shown, Reason.DAMAGED) from None
    unpacked = sum(entry.file_size for entry in entries)
    if len(entries) > MAX_ZIP_ENTRIES or unpacked > MAX_UNPACKED:
        raise Refused(shown, Reason.UNSAFE)
    for entry in entries:
        name = entry.filename.lower()
        if (
            entry.flag_bits & 0x1  # encrypted
            or name.endswith(("vbaproject.bin", ".zip", ".exe", ".dll"))
            or (entry.file_size > 1_000_000 and entry.file_size > MAX_RATIO * entry.compress_size)
        ):
            raise Refused(shown, Reason.UNSAFE)
    if b"macroEnabled" in types:  # a .docm or .xlsm given a new name
        raise Refused(shown, Reason.UNSAFE)


def _reencoded(shown: str, data: bytes, kind: Kind) -> bytes:
    out = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind.name]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Refused(shown, Reason.UNSAFE)
                image.load()
                icc = image.info.get("icc_profile")
                turned = image.getexif().get(ORIENTATION, 1) not in (1, None)
                # Turn the pixels as the EXIF orientation says before the EXIF goes, or
                # a phone's upright photo would arrive lying on its side.
                upright = ImageOps.exif_transpose(image) if turned else image
                # Pillow writes EXIF and XMP only when asked, but copies a JPEG comment
                # unless told otherwise: comment=b"" drops it.
                if kind is Kind.JPEG:
                    if upright.mode not in ("L", "RGB", "CMYK"):
                        upright = upright.convert("RGB")
                    # Unturned, the camera's own quantisation keeps size and quality as they
                    # were; a turned copy is a new image and needs a quality of its own.
                    keep = upright is image
                    upright.save(
                        out,
                        "JPEG",
                        quality="keep" if keep else 88,
                        subsampling="keep" if keep else -1,
                        icc_profile=icc,
                        comment=b"",
                    )
                else:
                    upright.save(out, "PNG", icc_profile=icc)
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(shown, Reason.UNSAFE) from None
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,  # some of Pillow's plugins raise it on corrupt headers
    ):
        raise Refused(shown, Reason.DAMAGED) from None
    return out.getvalue()


def display_name(raw: str) -> str:
    """The name as the writer knows it, without any folder, for messages."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]  # old browsers sent the whole path
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if ch.isprintable())
    return name.strip()[:120] or "?"


def safe_filename(raw: str, kind: Kind) -> str:
    """A name fit for every file system and browser, ending in the kind's own extension."""
    name = "".join(ch for ch in display_name(raw) if ch not in UNSAFE_NAME_CHARACTERS)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.strip(" .")[:NAME_LENGTH].strip(" .") or "attachment"
    return f"{stem}.{EXTENSIONS[kind]}"
