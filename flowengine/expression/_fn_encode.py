"""Encode/decode and hashing functions (NiFi guide §Encode/Decode).

Owns: escapeJson escapeXml escapeCsv escapeHtml3 escapeHtml4 unescapeJson
unescapeXml unescapeCsv unescapeHtml3 unescapeHtml4 urlEncode urlDecode
base64Encode base64Decode hash UUID3 UUID5. The escapers reproduce Apache
commons-text ``StringEscapeUtils`` (which NiFi calls), e.g. ``escapeJson`` also
escapes ``/`` and every non-ASCII character as ``\\uXXXX``; a null subject gives "".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html.entities
import re
import urllib.parse
import uuid
from typing import Final

from flowengine.expression._errors import ExpressionEvaluationError
from flowengine.expression._registry import register

__all__: list[str] = []

S = "STRING"


def _u(cp: int) -> str:
    if cp > 0xFFFF:
        hi = 0xD800 + ((cp - 0x10000) >> 10)
        lo = 0xDC00 + ((cp - 0x10000) & 0x3FF)
        return f"\\u{hi:04X}\\u{lo:04X}"
    return f"\\u{cp:04X}"


_JSON_MAP: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\n": "\\n",
    "\t": "\\t",
    "\f": "\\f",
    "\r": "\\r",
}


@register("escapeJson", null="never")
def _escape_json(s: str | None) -> str:
    if s is None:
        return ""
    out = []
    for c in s:
        mapped = _JSON_MAP.get(c)
        if mapped is not None:
            out.append(mapped)
        elif ord(c) < 32 or ord(c) > 0x7F:
            out.append(_u(ord(c)))
        else:
            out.append(c)
    return "".join(out)


_JAVA_UNESCAPE_RE: Final = re.compile(r"\\(u+[0-9a-fA-F]{4}|[0-7]{1,3}|.|$)", re.DOTALL)
_JAVA_CTRL: Final = {"b": "\b", "n": "\n", "t": "\t", "f": "\f", "r": "\r"}


def _java_unescape(m: re.Match[str]) -> str:
    body = m.group(1)
    if body.startswith("u") and len(body) >= 5:
        return chr(int(body[-4:], 16))
    if body[:1].isdigit() and body[0] in "01234567":
        digits = body if int(body[0]) <= 3 else body[:2]
        rest = body[len(digits) :]
        return chr(int(digits, 8)) + rest
    return _JAVA_CTRL.get(body, body)


@register("unescapeJson", null="never")
def _unescape_json(s: str | None) -> str:
    if s is None:
        return ""
    text = _JAVA_UNESCAPE_RE.sub(_java_unescape, s)
    # Recombine surrogate pairs produced by \\uD83D\\uDE00 style escapes.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_XML_BASIC: Final = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&apos;",
}


def _xml10_ok(cp: int) -> bool:
    return (
        cp in (0x9, 0xA, 0xD)
        or 0x20 <= cp <= 0xD7FF
        or 0xE000 <= cp <= 0xFFFD
        or cp > 0xFFFF
    )


@register("escapeXml", null="never")
def _escape_xml(s: str | None) -> str:
    if s is None:
        return ""
    out = []
    for c in s:
        cp = ord(c)
        if c in _XML_BASIC:
            out.append(_XML_BASIC[c])
        elif not _xml10_ok(cp):
            continue
        elif 0x7F <= cp <= 0x84 or 0x86 <= cp <= 0x9F:
            out.append(f"&#{cp};")
        else:
            out.append(c)
    return "".join(out)


_ENTITY_RE: Final = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _entity_sub(s: str, names: dict[str, int]) -> str:
    def repl(m: re.Match[str]) -> str:
        body = m.group(1)
        if body[0] == "#":
            try:
                cp = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
                return chr(cp)
            except (ValueError, OverflowError):
                return m.group(0)
        named = names.get(body)
        return m.group(0) if named is None else chr(named)

    return _ENTITY_RE.sub(repl, s)


_XML_NAMES: Final = {"amp": 38, "lt": 60, "gt": 62, "quot": 34, "apos": 39}
_HTML4_NAMES: Final = dict(html.entities.name2codepoint)
_HTML3_NAMES: Final = {
    k: v
    for k, v in _HTML4_NAMES.items()
    if 160 <= v <= 255 or k in ("amp", "lt", "gt", "quot")
}


@register("unescapeXml", null="never")
def _unescape_xml(s: str | None) -> str:
    return "" if s is None else _entity_sub(s, _XML_NAMES)


def _html_escape(s: str | None, names: dict[str, int]) -> str:
    if s is None:
        return ""
    by_cp = {v: k for k, v in names.items()}
    return "".join(f"&{by_cp[ord(c)]};" if ord(c) in by_cp else c for c in s)


@register("escapeHtml3", null="never")
def _escape_html3(s: str | None) -> str:
    return _html_escape(s, _HTML3_NAMES)


@register("escapeHtml4", null="never")
def _escape_html4(s: str | None) -> str:
    return _html_escape(s, _HTML4_NAMES)


@register("unescapeHtml3", null="never")
def _unescape_html3(s: str | None) -> str:
    return "" if s is None else _entity_sub(s, _HTML3_NAMES)


@register("unescapeHtml4", null="never")
def _unescape_html4(s: str | None) -> str:
    return "" if s is None else _entity_sub(s, _HTML4_NAMES)


_CSV_SPECIAL: Final = (",", '"', "\r", "\n")


@register("escapeCsv", null="never")
def _escape_csv(s: str | None) -> str:
    if s is None:
        return ""
    if any(ch in s for ch in _CSV_SPECIAL):
        return '"' + s.replace('"', '""') + '"'
    return s


@register("unescapeCsv", null="never")
def _unescape_csv(s: str | None) -> str:
    if s is None:
        return ""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        return s
    inner = s[1:-1]
    if any(ch in inner for ch in _CSV_SPECIAL):
        return inner.replace('""', '"')
    return s


@register("urlEncode")
def _url_encode(s: str | None) -> str | None:
    if s is None:
        return None
    # java.net.URLEncoder: keeps [A-Za-z0-9.*_-], space -> '+', the rest %XX.
    return urllib.parse.quote_plus(s, safe="*").replace("~", "%7E")


_BAD_PERCENT: Final = re.compile(r"%(?![0-9a-fA-F]{2})")


@register("urlDecode")
def _url_decode(s: str | None) -> str | None:
    if s is None:
        return None
    if _BAD_PERCENT.search(s):
        raise ExpressionEvaluationError(
            f"URLDecoder: illegal hex characters in escape (%) pattern: {s}"
        )
    return urllib.parse.unquote_plus(s, errors="replace")


@register("base64Encode")
def _b64encode(s: str | None) -> str | None:
    return None if s is None else base64.b64encode(s.encode("utf-8")).decode("ascii")


@register("base64Decode")
def _b64decode(s: str | None) -> str | None:
    if s is None:
        return None
    try:
        return base64.b64decode(s, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        raise ExpressionEvaluationError(f"invalid Base64 value: {exc}") from exc


_ALGORITHMS: Final = {
    "MD5": "md5",
    "SHA": "sha1",
    "SHA-1": "sha1",
    "SHA1": "sha1",
    "SHA-224": "sha224",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
    "SHA-512/224": "sha512_224",
    "SHA-512/256": "sha512_256",
    "SHA3-224": "sha3_224",
    "SHA3-256": "sha3_256",
    "SHA3-384": "sha3_384",
    "SHA3-512": "sha3_512",
    "MD2": "md2",
}


def _algorithm(name: str) -> str:
    algo = _ALGORITHMS.get(name.upper())
    if algo is None or algo not in hashlib.algorithms_available | set(
        hashlib.algorithms_guaranteed
    ):
        raise ExpressionEvaluationError(f"{name} MessageDigest not available")
    return algo


def _check_algorithm(name: object) -> None:
    if isinstance(name, str):
        _algorithm(name)


@register("hash", min_args=1, max_args=1, arg_types=(S,), validate=_check_algorithm)
def _hash(s: str | None, algorithm: str | None) -> str | None:
    if s is None:
        return None
    if algorithm is None:
        raise ExpressionEvaluationError("hash() needs an algorithm")
    return hashlib.new(_algorithm(algorithm), s.encode("utf-8")).hexdigest()


def _namespace(ns: str | None) -> uuid.UUID | None:
    if ns is None:
        return None
    try:
        return uuid.UUID(ns)
    except ValueError as exc:
        raise ExpressionEvaluationError(f"Invalid UUID string: {ns}") from exc


def _check_namespace(ns: object) -> None:
    if isinstance(ns, str):
        _namespace(ns)


def _name_uuid(ns: uuid.UUID | None, name: str, version: int) -> str:
    if ns is not None:
        return str(uuid.uuid3(ns, name) if version == 3 else uuid.uuid5(ns, name))
    digest = bytearray(
        hashlib.new("md5" if version == 3 else "sha1", name.encode()).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | (version << 4)
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


@register("UUID3", min_args=1, max_args=1, arg_types=(S,), validate=_check_namespace)
def _uuid3(s: str | None, ns: str | None) -> str | None:
    return None if s is None else _name_uuid(_namespace(ns), s, 3)


@register("UUID5", min_args=1, max_args=1, arg_types=(S,), validate=_check_namespace)
def _uuid5(s: str | None, ns: str | None) -> str | None:
    return None if s is None else _name_uuid(_namespace(ns), s, 5)
