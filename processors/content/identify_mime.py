"""IdentifyMimeType: detects the MIME type of content from its leading bytes.

NiFi detects with Apache Tika. This is a pure-Python detector over a table of Tika's
magic signatures, type names and extensions for the common formats (compression,
archives, images, documents, audio/video, data files), plus NiFi's FlowFile package
and the data formats flowengine's record services write that Tika does not know (Avro,
ORC, Arrow IPC). It needs no system library. libmagic (through python-magic) was
measured and not used: 2.3 ms a call against ~0.12 ms here, it names some types
differently from Tika (XML is ``text/xml``, Tika's ``application/xml``) while NiFi flows
route on Tika's names, and it knows none of Parquet, Avro, ORC, Arrow IPC or NiFi's
FlowFile package.
"""

from __future__ import annotations

import fnmatch
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from flowengine import (
    AllowableValue,
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

__all__ = ["IdentifyMimeType"]

_HEAD = 64 * 1024  # Tika reads at most this much for magic detection
OCTET = "application/octet-stream"


@dataclass
class MimeType:
    """One type: its magic matches (offset range, bytes), globs and parent type."""

    name: str
    extension: str = ""
    magics: list[tuple[int, int, bytes | re.Pattern[bytes]]] = field(
        default_factory=list
    )
    globs: list[str] = field(default_factory=list)
    parent: str | None = None
    priority: int = 50

    #: configured magic: each chain matches when all its matches do (Tika's nesting)
    chains: list[list[tuple[int, int, bytes | re.Pattern[bytes]]]] = field(
        default_factory=list
    )

    def matches(self, head: bytes) -> bool:
        return any(_hit(head, m) for m in self.magics) or any(
            all(_hit(head, m) for m in chain) for chain in self.chains
        )


def _hit(head: bytes, match: tuple[int, int, bytes | re.Pattern[bytes]]) -> bool:
    start, end, value = match
    if isinstance(value, re.Pattern):
        return value.match(head, start) is not None
    if start == end:
        return head.startswith(value, start)
    return head.find(value, start, end + len(value)) >= 0


def _t(
    name: str,
    ext: str,
    *magic: bytes | tuple[int, bytes] | tuple[int, int, bytes],
    globs: tuple[str, ...] = (),
    parent: str | None = None,
    priority: int = 50,
) -> MimeType:
    ms: list[tuple[int, int, bytes | re.Pattern[bytes]]] = []
    for m in magic:
        if isinstance(m, bytes):
            ms.append((0, 0, m))
        elif len(m) == 2:
            ms.append((m[0], m[0], m[1]))
        else:
            ms.append((m[0], m[1], m[2]))
    return MimeType(
        name,
        ext,
        ms,
        list(globs) or [f"*{ext}"] if ext else list(globs),
        parent,
        priority,
    )


# Order matters only between overlapping signatures: more specific first.
_PRESET: list[MimeType] = [
    _t("application/flowfile-v3", "", b"NiFiFF3", priority=60),
    _t("application/gzip", ".gz", b"\x1f\x8b", globs=("*.gz", "*.tgz", "*-gz")),
    _t("application/x-bzip2", ".bz2", b"BZh", globs=("*.bz2", "*.tbz2", "*.boz")),
    _t("application/x-xz", ".xz", b"\xfd7zXZ\x00"),
    _t("application/zstd", ".zst", b"\x28\xb5\x2f\xfd"),
    _t("application/x-lz4", ".lz4", b"\x04\x22\x4d\x18", b"\x02\x21\x4c\x18"),
    _t("application/x-snappy-framed", ".sz", b"\xff\x06\x00\x00sNaPpY"),
    _t("application/x-7z-compressed", ".7z", b"7z\xbc\xaf\x27\x1c"),
    _t("application/x-rar-compressed", ".rar", b"Rar!\x1a"),
    _t("application/x-compress", ".z", b"\x1f\x9d"),
    _t("application/x-lzma", ".lzma", globs=("*.lzma",)),
    _t("application/x-brotli", ".br", globs=("*.br", "*.brotli")),
    _t("application/java-archive", ".jar", parent="application/zip", globs=("*.jar",)),
    _t(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
        parent="application/zip",
        globs=("*.docx",),
    ),
    _t(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsx",
        parent="application/zip",
        globs=("*.xlsx",),
    ),
    _t(
        "application/zip",
        ".zip",
        b"PK\x03\x04",
        b"PK\x05\x06",
        b"PK\x07\x08",
        globs=("*.zip", "*.zipx"),
    ),
    _t(
        "application/x-gtar", ".gtar", (257, b"ustar  \x00"), parent="application/x-tar"
    ),
    _t("application/x-tar", ".tar", (257, b"ustar\x00")),
    _t("application/x-rpm", ".rpm", b"\xed\xab\xee\xdb"),
    _t("application/x-parquet", ".parquet", b"PAR1"),
    _t("application/avro-binary", ".avro", b"Obj\x01"),
    _t("application/x-orc", ".orc", b"ORC"),
    _t("application/vnd.apache.arrow.file", ".arrow", b"ARROW1\x00\x00"),
    _t("application/x-sqlite3", "", b"SQLite format 3\x00"),
    _t("application/pdf", ".pdf", b"%PDF-", b"\xef\xbb\xbf%PDF-"),
    _t("application/postscript", ".ps", b"%!", globs=("*.ps", "*.eps")),
    _t("application/x-msdownload", ".exe", b"MZ", globs=("*.exe", "*.dll")),
    _t("application/x-executable", "", b"\x7fELF"),
    _t("application/java-vm", ".class", b"\xca\xfe\xba\xbe"),
    _t("application/wasm", ".wasm", b"\x00asm"),
    _t("application/x-tika-msoffice", "", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    _t("image/png", ".png", b"\x89PNG\r\n\x1a\n"),
    _t("image/jpeg", ".jpg", b"\xff\xd8\xff", globs=("*.jpg", "*.jpeg", "*.jpe")),
    _t("image/gif", ".gif", b"GIF87a", b"GIF89a"),
    _t("image/bmp", ".bmp", b"BM", globs=("*.bmp", "*.dib"), priority=40),
    _t("image/tiff", ".tiff", b"MM\x00\x2a", b"II\x2a\x00", globs=("*.tiff", "*.tif")),
    _t("image/webp", ".webp", (0, 0, b"RIFF"), priority=40),  # refined below
    _t("image/vnd.microsoft.icon", ".ico", b"\x00\x00\x01\x00", priority=40),
    _t("audio/vnd.wave", ".wav", priority=40),  # RIFF....WAVE, see _riff
    _t("audio/mpeg", ".mp3", b"ID3", globs=("*.mp3", "*.mpga")),
    _t("application/ogg", ".ogx", b"OggS"),
    _t("video/mp4", ".mp4", (4, b"ftypmp4"), (4, b"ftypisom"), globs=("*.mp4",)),
    _t("video/quicktime", ".qt", (4, b"ftypqt"), (4, b"moov"), globs=("*.mov", "*.qt")),
    _t("image/svg+xml", ".svg", parent="application/xml", globs=("*.svg",)),
    _t(
        "application/xml",
        ".xml",
        b"<?xml",
        b"\xef\xbb\xbf<?xml",
        globs=("*.xml", "*.xsl", "*.xsd"),
        parent="text/plain",
    ),
    _t(
        "text/html",
        ".html",
        b"<!DOCTYPE html",
        b"<!DOCTYPE HTML",
        b"<html",
        b"<HTML",
        globs=("*.html", "*.htm"),
    ),
    _t("application/json", ".json", parent="text/plain", globs=("*.json",)),
    _t("text/csv", ".csv", parent="text/plain", globs=("*.csv",)),
    _t("text/tab-separated-values", ".tsv", parent="text/plain", globs=("*.tsv",)),
    _t("application/x-yaml", ".yaml", parent="text/plain", globs=("*.yaml", "*.yml")),
    _t("text/x-python", ".py", parent="text/plain", globs=("*.py",)),
    _t("text/x-log", ".log", parent="text/plain", globs=("*.log",)),
    _t("text/plain", ".txt", globs=("*.txt", "*.text")),
]


def _riff(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and len(head) >= 12:
        kind = head[8:12]
        if kind == b"WAVE":
            return "audio/vnd.wave"
        if kind == b"WEBP":
            return "image/webp"
        if kind == b"AVI ":
            return "video/x-msvideo"
    return None


def _arrow_stream(head: bytes) -> bool:
    """An Arrow IPC stream starts with the continuation marker and a small length."""
    if head[:4] != b"\xff\xff\xff\xff" or len(head) < 8:
        return False
    length = int.from_bytes(head[4:8], "little")
    return 0 < length < (1 << 24)


_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    controls = len(head) - len(head.translate(None, _CONTROLS))
    return controls * 100 <= len(head)  # allow a little noise, as Tika's text check


def _charset(head: bytes) -> str:
    """A charset for text/* content (Tika reports one; ASCII as ISO-8859-1)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "UTF-8"
    if head.startswith(b"\xff\xfe"):
        return "UTF-16LE"
    if head.startswith(b"\xfe\xff"):
        return "UTF-16BE"
    if head.isascii():
        return "ISO-8859-1"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the 64 KiB edge
            return "windows-1252"
    return "UTF-8"


class _Detector:
    """Magic first, then the filename glob where it refines (or replaces) the magic
    result, as Tika's MimeTypes does."""

    def __init__(self, types: list[MimeType], builtin_text: bool = True) -> None:
        self.types = sorted(types, key=lambda t: -t.priority)
        self.by_name = {t.name: t for t in types}
        self.builtin = builtin_text
        self._globs = [
            (
                t.name,
                re.compile("|".join(fnmatch.translate(g.lower()) for g in t.globs)),
            )
            for t in self.types
            if t.globs
        ]

    def _is_a(self, name: str, ancestor: str) -> bool:
        seen = 0
        while name and seen < 16:
            if name == ancestor:
                return True
            t = self.by_name.get(name)
            name = t.parent if t and t.parent else ""
            seen += 1
        return False

    def detect(self, head: bytes, filename: str | None) -> str:
        magic = next(
            (t.name for t in self.types if (t.magics or t.chains) and t.matches(head)),
            None,
        )
        if self.builtin:
            if magic in (None, "image/webp"):
                magic = _riff(head) or (None if magic == "image/webp" else magic)
            if magic is None and _arrow_stream(head):
                magic = "application/vnd.apache.arrow.stream"
            if magic is None and head.lstrip()[:5].lower() == b"<?xml":
                magic = "application/xml"
        if filename:
            lower = filename.lower()
            glob = next((n for n, rx in self._globs if rx.match(lower)), None)
            if glob and (magic is None or self._is_a(glob, magic)):
                return glob
        if magic:
            return magic
        if self.builtin and _looks_like_text(head):
            return "text/plain"
        return OCTET

    def extension(self, name: str) -> str:
        t = self.by_name.get(name)
        return t.extension if t else ""


def _unescape(value: str) -> bytes:
    """A Tika magic ``string`` value: ``\\xNN``, octal ``\\NNN`` and C escapes."""
    if value.lower().startswith("0x") and re.fullmatch(r"0[xX][0-9a-fA-F]+", value):
        return bytes.fromhex(value[2:])
    out = bytearray()
    i = 0
    while i < len(value):
        c = value[i]
        if c != "\\" or i + 1 == len(value):
            out += c.encode("utf-8")
            i += 1
            continue
        n = value[i + 1]
        if n == "x":
            out.append(int(value[i + 2 : i + 4], 16))
            i += 4
        elif n.isdigit():
            m = re.match(r"[0-7]{1,3}", value[i + 1 :])
            assert m is not None
            out.append(int(m.group(), 8))
            i += 1 + len(m.group())
        else:
            out += {"n": b"\n", "r": b"\r", "t": b"\t"}.get(n, n.encode())
            i += 2
    return bytes(out)


def parse_config(text: str) -> list[MimeType]:
    """Types from a Tika ``mime-info`` document (mime-type, glob, sub-class-of and
    magic/match of type ``string`` or ``regex`` with an offset or offset range)."""
    root = ET.fromstring(text)
    types = []
    for node in root.iter("mime-type"):
        name = node.get("type")
        if not name:
            raise ValueError("a <mime-type> has no type attribute")
        t = MimeType(name)
        t.globs = [
            g.get("pattern", "") for g in node.findall("glob") if g.get("pattern")
        ]
        exts = [g[1:] for g in t.globs if g.startswith("*.")]
        t.extension = exts[0] if exts else ""
        sub = node.find("sub-class-of")
        t.parent = sub.get("type") if sub is not None else None
        for magic in node.findall("magic"):
            t.priority = int(magic.get("priority", "50"))
            for match in magic.findall("match"):
                t.chains.extend(_chains(name, match, []))
        types.append(t)
    return types


def _chains(
    name: str,
    match: ET.Element,
    prefix: list[tuple[int, int, bytes | re.Pattern[bytes]]],
) -> list[list[tuple[int, int, bytes | re.Pattern[bytes]]]]:
    """A <match> and its nested ones as AND-chains (one per leaf), as Tika reads them."""
    kind = match.get("type", "string")
    value = match.get("value", "")
    lo, _, hi = match.get("offset", "0").partition(":")
    start, end = int(lo), int(hi or lo)
    if kind == "string":
        here: bytes | re.Pattern[bytes] = _unescape(value)
    elif kind == "regex":
        here = re.compile(value.encode())
        end = start
    else:
        raise ValueError(
            f"{name}: match type {kind!r} is not supported (use string or regex)"
        )
    chain = [*prefix, (start, end, here)]
    children = match.findall("match")
    if not children:
        return [chain]
    return [c for child in children for c in _chains(name, child, chain)]


PRESET = "Preset"
REPLACE = "Replace"
MERGE = "Merge"


class IdentifyMimeType(Processor):
    """Identifies the MIME type of content and writes ``mime.type`` and ``mime.extension``.

    The first 64 KiB are matched against magic signatures (Tika's names: compression
    formats, archives, images, PDF, XML, Parquet ``application/x-parquet``, NiFi's
    ``application/flowfile-v3``, plus Avro ``application/avro-binary``, ORC
    ``application/x-orc`` and Arrow IPC ``application/vnd.apache.arrow.file`` /
    ``.stream``); with Use Filename In Detection the filename's extension refines the
    result where magic cannot tell (``.csv`` text is ``text/csv``, ``.jar`` zip is
    ``application/java-archive``). Undetectable binary content is
    ``application/octet-stream``; other text is ``text/plain``. ``mime.extension`` is
    the type's usual extension (``.gz``) or empty; for text/* types ``mime.charset``
    is set too. Config Strategy Replace/Merge loads a Tika ``mime-info`` XML (Config
    Body or Config File) of string/regex magic and globs instead of, or before, the
    built-in table. Every FlowFile goes to ``success``.
    """

    tags = (
        "compression",
        "gzip",
        "bzip2",
        "zip",
        "MIME",
        "mime.type",
        "file",
        "identify",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    writes_attributes = {
        "mime.type": "the detected type, or application/octet-stream",
        "mime.extension": "the type's usual extension (with the dot), or empty",
        "mime.charset": "the detected charset, for text/* types only",
    }
    example = """\
identify:
  type: IdentifyMimeType
"""

    USE_FILENAME = PropertyDescriptor(
        "use_filename_in_detection",
        "If true the filename aids detection (its extension refines the magic result).",
        display_name="Use Filename In Detection",
        aliases=("use-filename-in-detection",),
        default="true",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    CONFIG_STRATEGY = PropertyDescriptor(
        "config_strategy",
        "Which MIME type definitions to use.",
        display_name="Config Strategy",
        aliases=("config-strategy",),
        default=PRESET,
        required=True,
        allowable_values=(
            AllowableValue(PRESET, PRESET, "The built-in MIME types"),
            AllowableValue(REPLACE, REPLACE, "The configured MIME types only"),
            AllowableValue(MERGE, MERGE, "The configured types before the built-in"),
        ),
    )
    CONFIG_BODY = PropertyDescriptor(
        "config_body",
        "A Tika mime-info XML document. Only one of Config File or Config Body.",
        display_name="Config Body",
        aliases=("config-body",),
        depends_on=("config_strategy", (REPLACE, MERGE)),
    )
    CONFIG_FILE = PropertyDescriptor(
        "config_file",
        "Path to a Tika mime-info XML file. Only one of Config File or Config Body.",
        display_name="Config File",
        aliases=("config-file",),
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
        depends_on=("config_strategy", (REPLACE, MERGE)),
    )
    SUCCESS = Relationship("success", "All FlowFiles")

    def _config_text(self, context: ProcessContext) -> str | None:
        body = context.property(self.CONFIG_BODY).value
        if body is not None:
            return body
        path = context.property(self.CONFIG_FILE).evaluate().value
        return Path(path).read_text(encoding="utf-8") if path else None

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if context.property(self.CONFIG_STRATEGY).value == PRESET:
            return []
        body = context.property(self.CONFIG_BODY).is_set
        file = context.property(self.CONFIG_FILE).is_set
        if body and file:
            return ["either config_body or config_file can be set, not both"]
        if not body and not file:
            return ["config_body or config_file is required with Replace or Merge"]
        try:
            parse_config(self._config_text(context) or "")
        except (ET.ParseError, ValueError, OSError, re.error) as exc:
            return [f"MIME type config is invalid: {exc}"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        strategy = context.property(self.CONFIG_STRATEGY).value
        if strategy == PRESET:
            self._detector = _Detector(list(_PRESET))
            return
        custom = parse_config(self._config_text(context) or "")
        if strategy == REPLACE:
            self._detector = _Detector(custom, builtin_text=False)
        else:
            for t in custom:
                t.priority += 1000  # configured types are tried first
            self._detector = _Detector(custom + list(_PRESET))

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        use_name = bool(context.property(self.USE_FILENAME).as_bool())
        detector = self._detector
        for ff in session.get(context.batch_size):
            with session.open(ff) as src:
                head = src.read(_HEAD) if ff.size else b""
            mime = detector.detect(head, ff.get("filename") if use_name else None)
            attrs = {"mime.type": mime, "mime.extension": detector.extension(mime)}
            if mime.startswith("text/") and head:
                attrs["mime.charset"] = _charset(head)
            ff = session.put_attributes(ff, attrs)
            session.provenance.modify_attributes(ff)
            session.transfer(ff, self.SUCCESS)
