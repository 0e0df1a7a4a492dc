"""EncodeContent: Base64, Base32 or hexadecimal encoding and decoding, streamed."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import BinaryIO

from flowengine import (
    AllowableValue,
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

__all__ = ["EncodeContent"]

ENCODE = "Encode"
DECODE = "Decode"
BASE64 = "base64"
BASE32 = "base32"
HEX = "hex"
SINGLE_LINE = "SINGLE_LINE"
MULTIPLE_LINES = "MULTIPLE_LINES"

_CHUNK = 3 * 5 * (1 << 16)  # a multiple of the 3- and 5-byte Base64/Base32 blocks
_WHITESPACE = re.compile(rb"[ \t\r\n]+")
_B64_INVALID = re.compile(rb"[^A-Za-z0-9+/=\-_ \t\r\n]")
_B32_INVALID = re.compile(rb"[^A-Za-z2-7= \t\r\n]")
_HEX_INVALID = re.compile(rb"[^0-9A-Fa-f]")


class _DecodeError(Exception):
    """The content is not valid in the chosen encoding."""


def _encode(
    src: BinaryIO, out: BinaryIO, enc: Callable[[bytes], bytes], line: int
) -> None:
    """Encode in whole blocks; with ``line`` > 0 end every line (the last too) with LF,
    as commons-codec's chunked Base64/Base32 output streams do."""
    pending = b""  # encoded text not yet written as full lines
    while chunk := src.read(_CHUNK):
        text = enc(chunk)
        if line <= 0:
            out.write(text)
            continue
        text = pending + text
        end = len(text) - len(text) % line
        out.write(b"".join(text[i : i + line] + b"\n" for i in range(0, end, line)))
        pending = text[end:]
    if pending:
        out.write(pending + b"\n")


def _decode_blocks(
    src: BinaryIO,
    out: BinaryIO,
    invalid: re.Pattern[bytes],
    block: int,
    dec: Callable[[bytes], bytes],
    what: str,
) -> None:
    """Validate and decode ``block``-character groups; whitespace is ignored and
    decoding stops at the first padding character, as commons-codec does."""
    pending = b""
    done = False
    while chunk := src.read(_CHUNK):
        bad = invalid.search(chunk)
        if bad:
            raise _DecodeError(f"content is not {what}: byte {bad.group()!r}")
        if done:
            continue
        text = pending + _WHITESPACE.sub(b"", chunk)
        pad = text.find(b"=")
        if pad >= 0:
            text, done = text[:pad], True
        end = len(text) if done else len(text) - len(text) % block
        body, pending = text[:end], text[end:]
        if done:
            body = _pad(body, block)
        if body:
            out.write(dec(body))
    if not done and pending:
        out.write(dec(_pad(pending, block)))


def _pad(text: bytes, block: int) -> bytes:
    """Complete the last group; a lone trailing character carries no byte (lenient)."""
    rest = len(text) % block
    if not rest:
        return text
    if block == 4 and rest == 1:
        return text[:-1]
    if block == 8 and rest in (1, 3, 6):
        return text[:-1]
    return text + b"=" * (block - rest)


def _b64decode(text: bytes) -> bytes:
    return base64.b64decode(text.replace(b"-", b"+").replace(b"_", b"/"))


def _b32decode(text: bytes) -> bytes:
    return base64.b32decode(text, casefold=True)


def _hex_decode(src: BinaryIO, out: BinaryIO) -> None:
    carry = b""
    while chunk := src.read(_CHUNK):
        bad = _HEX_INVALID.search(chunk)
        if bad:
            raise _DecodeError(f"content is not hexadecimal: byte {bad.group()!r}")
        text = carry + chunk
        end = len(text) - len(text) % 2
        out.write(binascii.unhexlify(text[:end]))
        carry = text[end:]
    if carry:
        raise _DecodeError("content is not hexadecimal: odd number of digits")


class EncodeContent(Processor):
    """Encodes or decodes content with Base64, Base32 or hexadecimal (NiFi's rules).

    Encoding hex writes uppercase digits; Base64/Base32 write one line, or with Line
    Output Mode "Multiple Lines" lines of Encoded Line Length characters (rounded down
    to a whole 4- or 8-character group), each ended by a line feed. Decoding ignores
    whitespace, accepts the URL-safe Base64 alphabet and stops at padding; any other
    character, or an odd number of hex digits, sends the FlowFile to ``failure`` with
    ``error.message`` and its content unchanged. Content is streamed.
    """

    tags = ("encode", "decode", "base64", "base32", "hex")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False
    writes_attributes = {"error.message": "why the FlowFile went to failure"}
    example = """\
to_base64:
  type: EncodeContent
  properties: {mode: Encode, encoding: base64}
"""

    MODE = PropertyDescriptor(
        "mode",
        "Whether the content should be encoded or decoded.",
        display_name="Mode",
        default=ENCODE,
        required=True,
        allowable_values=(
            AllowableValue(ENCODE, ENCODE, "Transform input to its encoded form"),
            AllowableValue(DECODE, DECODE, "Transform encoded input back"),
        ),
    )
    ENCODING = PropertyDescriptor(
        "encoding",
        "The encoding.",
        display_name="Encoding",
        default=BASE64,
        required=True,
        allowable_values=(
            AllowableValue(BASE64, "Base64", "The Base64 alphabet"),
            AllowableValue(BASE32, "Base32", "The Base32 alphabet"),
            AllowableValue(HEX, "Hexadecimal", "Hexadecimal digits"),
        ),
    )
    LINE_OUTPUT_MODE = PropertyDescriptor(
        "line_output_mode",
        "Line formatting of Base64/Base32 encoded content.",
        display_name="Line Output Mode",
        default=SINGLE_LINE,
        required=True,
        allowable_values=(
            AllowableValue(SINGLE_LINE, "Single Line", "One line"),
            AllowableValue(MULTIPLE_LINES, "Multiple Lines", "Lines of fixed length"),
        ),
        depends_on=("mode", (ENCODE,)),
    )
    ENCODED_LINE_LENGTH = PropertyDescriptor(
        "encoded_line_length",
        "Characters per line of encoded data, rounded down to a multiple of 4 "
        "(Base64) or 8 (Base32).",
        display_name="Encoded Line Length",
        default="76",
        required=True,
        validators=(validators.POSITIVE_INTEGER,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("line_output_mode", (MULTIPLE_LINES,)),
    )
    SUCCESS = Relationship("success", "FlowFiles encoded or decoded")
    FAILURE = Relationship("failure", "FlowFiles that could not be encoded or decoded")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        encode = context.property(self.MODE).value == ENCODE
        encoding = context.property(self.ENCODING).value or BASE64
        multi = context.property(self.LINE_OUTPUT_MODE).value == MULTIPLE_LINES
        length_pv = context.property(self.ENCODED_LINE_LENGTH)
        for ff in session.get(context.batch_size):
            line = -1
            if encode and multi and encoding != HEX:
                raw = length_pv.evaluate(ff).value or ""
                if problem := validators.POSITIVE_INTEGER(raw):
                    ff = session.put_attribute(
                        ff, "error.message", f"Encoded Line Length {raw!r}: {problem}"
                    )
                    session.transfer(ff, self.FAILURE)
                    continue
                group = 4 if encoding == BASE64 else 8
                line = int(raw) // group * group
            callback = self._callback(encode, encoding, line)
            try:
                ff = session.rewrite(ff, callback)
            except (_DecodeError, binascii.Error, ValueError) as exc:
                ff = session.put_attribute(ff, "error.message", str(exc))
                session.transfer(ff, self.FAILURE)
                continue
            session.provenance.modify_content(ff)
            session.transfer(ff, self.SUCCESS)

    @staticmethod
    def _callback(
        encode: bool, encoding: str, line: int
    ) -> Callable[[BinaryIO, BinaryIO], None]:
        if encoding == HEX:
            if encode:
                return lambda s, o: _encode(
                    s, o, lambda b: b.hex().upper().encode(), -1
                )
            return _hex_decode
        if encoding == BASE32:
            if encode:
                return lambda s, o: _encode(s, o, base64.b32encode, line)
            return lambda s, o: _decode_blocks(
                s, o, _B32_INVALID, 8, _b32decode, "Base32"
            )
        if encode:
            return lambda s, o: _encode(s, o, base64.b64encode, line)
        return lambda s, o: _decode_blocks(s, o, _B64_INVALID, 4, _b64decode, "Base64")
