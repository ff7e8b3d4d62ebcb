"""What a careless, broken or hostile client sends: text, bytes, numbers and whole bodies."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

# Characters no form should carry: control and format characters, lone surrogates,
# private use, unassigned code points, line and paragraph separators.
ODD_CHARACTERS = st.characters(categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"])
TRICKY = [
    "",
    " ",
    "\x00",
    "\r\n",
    "\u202e",
    "\ufeff",
    "\ud800",
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "-0",
    "9" * 40,
    "²³",
    "٣٤",
    "0x10",
    "1_000",
    "+86 138-1234-5678",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "%ff",
    "null",
    "true",
]

texts = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=40),
    st.text(alphabet=st.one_of(ODD_CHARACTERS, st.characters()), max_size=40),
    # Long runs, around and far beyond every field's limit.
    st.builds(
        lambda piece, times: piece * times,
        st.sampled_from(["a", "字", "\x00", "\ud800", "🀄", " ", "\n", "1"]),
        st.integers(0, 12_000),
    ),
    st.integers(min_value=-(10**60), max_value=10**60).map(str),
)
# Raw bytes in a value: invalid UTF-8 among them.
values = st.one_of(texts, st.binary(max_size=40))


def as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def urlencoded(pairs: list[tuple[str | bytes, str | bytes]], *, quoted: bool = True) -> bytes:
    """An application/x-www-form-urlencoded body, percent-encoded or with its bytes raw."""

    def encode(part: str | bytes) -> bytes:
        raw = as_bytes(part)
        return quote_from_bytes(raw, safe="").encode() if quoted else raw

    return b"&".join(encode(name) + b"=" + encode(value) for name, value in pairs)


BOUNDARY = "fuzzboundary"


def multipart(
    pairs: list[tuple[str | bytes, str | bytes]], files: list[tuple[str, bytes, str]]
) -> bytes:
    """A multipart/form-data body with text parts and file parts (filename, content, type)."""
    parts = []
    for name, value in pairs:
        parts.append(
            b'--%s\r\ncontent-disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (BOUNDARY.encode(), as_bytes(name), as_bytes(value))
        )
    for index, (filename, content, media_type) in enumerate(files):
        parts.append(
            b'--%s\r\ncontent-disposition: form-data; name="file%d"; filename="%s"\r\n'
            b"content-type: %s\r\n\r\n%s\r\n"
            % (
                BOUNDARY.encode(),
                index,
                as_bytes(filename),
                media_type.encode("latin-1", "replace"),
                content,
            )
        )
    return b"".join(parts) + b"--%s--\r\n" % BOUNDARY.encode()


CONTENT_TYPES = [
    None,
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=gbk",
    f"multipart/form-data; boundary={BOUNDARY}",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    f"multipart/mixed; boundary={BOUNDARY}",
    "text/plain",
    "application/json",
    "application/octet-stream",
    "*/*",
    "\x7f; ;=",
]
content_types = st.sampled_from(CONTENT_TYPES)
files = st.lists(
    st.tuples(st.text(max_size=20), st.binary(max_size=200), st.sampled_from(["text/plain", ""])),
    max_size=3,
)
# Just over and far over the 256 KiB request limit, and a little under it.
body_sizes = st.sampled_from([250 * 1024, 256 * 1024 + 1, 300 * 1024, 2 * 1024 * 1024])
