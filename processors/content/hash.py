"""CryptographicHashContent and CryptographicHashAttribute: NiFi's hash algorithms.

The algorithm names are NiFi's (``HashAlgorithm``), mapped onto hashlib. BLAKE2-*
are BLAKE2b with the named digest length, as in NiFi. MD2 is not offered: OpenSSL 3
no longer provides it and NiFi itself flags it as cryptographically broken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flowengine import (
    AllowableValue,
    DynamicProperties,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

__all__ = ["ALGORITHMS", "CryptographicHashAttribute", "CryptographicHashContent"]

_CHUNK = 4 << 20  # fewer reads: hashing is faster than the per-read overhead


def _blake2(size: int) -> Callable[[], Any]:
    return lambda: hashlib.blake2b(digest_size=size)


def _named(name: str) -> Callable[[], Any]:
    return lambda: hashlib.new(name)


# NiFi name -> (hash factory, digest bytes, description)
ALGORITHMS: dict[str, tuple[Callable[[], Any], int, str]] = {
    "MD5": (hashlib.md5, 16, "Cryptographically broken due to collisions"),
    "SHA-1": (hashlib.sha1, 20, "Cryptographically broken due to collisions"),
    "SHA-224": (hashlib.sha224, 28, "SHA-2 family"),
    "SHA-256": (hashlib.sha256, 32, "SHA-2 family"),
    "SHA-384": (hashlib.sha384, 48, "SHA-2 family"),
    "SHA-512": (hashlib.sha512, 64, "SHA-2 family"),
    "SHA-512/224": (_named("sha512_224"), 28, "SHA-2 using SHA-512, truncated"),
    "SHA-512/256": (_named("sha512_256"), 32, "SHA-2 using SHA-512, truncated"),
    "SHA3-224": (hashlib.sha3_224, 28, "Keccak-based SHA3 family"),
    "SHA3-256": (hashlib.sha3_256, 32, "Keccak-based SHA3 family"),
    "SHA3-384": (hashlib.sha3_384, 48, "Keccak-based SHA3 family"),
    "SHA3-512": (hashlib.sha3_512, 64, "Keccak-based SHA3 family"),
    "BLAKE2-160": (_blake2(20), 20, "Also known as Blake2b"),
    "BLAKE2-256": (_blake2(32), 32, "Also known as Blake2b"),
    "BLAKE2-384": (_blake2(48), 48, "Also known as Blake2b"),
    "BLAKE2-512": (_blake2(64), 64, "Also known as Blake2b"),
}
_BROKEN = {"MD5", "SHA-1"}


def _allowable() -> tuple[AllowableValue, ...]:
    out = []
    for name, (_, size, desc) in ALGORITHMS.items():
        warn = " [WARNING -- Cryptographically broken]" if name in _BROKEN else ""
        out.append(
            AllowableValue(name, name, f"{name} ({size} byte output){warn} {desc}")
        )
    return tuple(out)


def _canonical(name: str) -> str:
    """NiFi matches algorithm names case-insensitively."""
    for known in ALGORITHMS:
        if known.lower() == name.lower():
            return known
    raise ValueError(f"no hash algorithm named {name!r}")


HASH_ALGORITHM = PropertyDescriptor(
    "hash_algorithm",
    "The hash algorithm. Some are offered only for legacy compatibility (MD5, SHA-1); "
    "prefer the strongest the consumer accepts.",
    display_name="Hash Algorithm",
    aliases=("hash_algorithm",),
    default="SHA-256",
    required=True,
    allowable_values=_allowable(),
)

# Java charsets NiFi's HashService offers; UTF-16 writes a big-endian BOM as Java does.
_CHARSETS = ("US-ASCII", "ISO-8859-1", "UTF-8", "UTF-16BE", "UTF-16LE", "UTF-16")


def _encode(value: str, charset: str) -> bytes:
    """As Java's ``String.getBytes``: unmappable characters become ``?``."""
    if charset == "UTF-16":
        return b"\xfe\xff" + value.encode("utf-16-be", "replace")
    return value.encode(charset, "replace")


class CryptographicHashContent(Processor):
    """Calculates a cryptographic hash of the content into ``content_<algorithm>``.

    The content is streamed through the hash in 1 MiB chunks; the attribute is named by
    the algorithm as NiFi names it (``content_SHA-256``) and holds lowercase hex. With
    "Fail if the content is empty" an empty content goes to ``failure`` instead.
    """

    tags = ("content", "hash", "sha", "blake2", "md5", "cryptography")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # hashing large contents: worker threads
    writes_attributes = {
        "content_<algorithm>": "the hex hash of the content, e.g. content_SHA-256",
        "error.message": "why the FlowFile went to failure",
    }
    example = """\
hash:
  type: CryptographicHashContent
  properties: {hash_algorithm: SHA-256}
"""

    FAIL_WHEN_EMPTY = PropertyDescriptor(
        "fail_when_empty",
        "Route to failure if the content is empty. Hashing empty content is valid, "
        "but some flows want to detect empty input.",
        display_name="Fail if the content is empty",
        aliases=("fail_when_empty",),
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    HASH_ALGORITHM = HASH_ALGORITHM
    SUCCESS = Relationship("success", "FlowFiles with the hash attribute added")
    FAILURE = Relationship(
        "failure",
        "FlowFiles with no content when 'Fail if the content is empty' is set",
    )

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        name = _canonical(context.property(self.HASH_ALGORITHM).value or "SHA-256")
        factory = ALGORITHMS[name][0]
        attribute = f"content_{name}"
        fail_empty = bool(context.property(self.FAIL_WHEN_EMPTY).as_bool())
        buf = bytearray(_CHUNK)
        view = memoryview(buf)
        for ff in session.get(context.batch_size):
            if ff.size == 0 and fail_empty:
                ff = session.put_attribute(ff, "error.message", "content is empty")
                session.transfer(ff, self.FAILURE)
                continue
            h = factory()
            with session.open(ff) as src:
                # readinto one reused buffer: no new bytes object per read
                while n := src.readinto(buf):
                    h.update(view[:n])
            ff = session.put_attribute(ff, attribute, h.hexdigest())
            session.provenance.modify_attributes(ff)
            session.transfer(ff, self.SUCCESS)


ALLOW = "ALLOW"
PROHIBIT = "PROHIBIT"


class CryptographicHashAttribute(Processor):
    """Hashes attribute values into new attributes, one per dynamic property.

    Each dynamic property names an attribute to hash (the property name) and the
    attribute to write the hex hash to (its value). When none of the configured
    attributes is present the FlowFile goes to ``failure`` if "Fail when no attributes
    present" (default); when only some are, "Missing attribute policy" decides: hash the
    ones present (``ALLOW``, default) or route to failure (``PROHIBIT``). Values are
    encoded with Character Set before hashing.
    """

    tags = ("attributes", "hash", "sha", "blake2", "md5", "cryptography")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    writes_attributes = {
        "<dynamic property value>": "the hex hash of the attribute the property names",
        "error.message": "which configured attributes were missing (failure)",
    }
    example = """\
hash_ids:
  type: CryptographicHashAttribute
  properties: {hash_algorithm: SHA-256, username: username_sha256}
"""

    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "The character set used to encode the attribute values before hashing "
        "(the input encoding, not the hash encoding).",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        allowable_values=tuple(AllowableValue(c) for c in _CHARSETS),
    )
    FAIL_WHEN_EMPTY = PropertyDescriptor(
        "fail_when_empty",
        "Route to failure when none of the attributes configured for hashing are "
        "found; if false such FlowFiles pass through to success.",
        display_name="Fail when no attributes present",
        aliases=("fail_when_empty",),
        default="true",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    HASH_ALGORITHM = HASH_ALGORITHM
    MISSING_ATTR_POLICY = PropertyDescriptor(
        "missing_attr_policy",
        "What to do when some of the attributes configured for hashing are missing.",
        display_name="Missing attribute policy",
        aliases=("missing_attr_policy",),
        default=ALLOW,
        required=True,
        allowable_values=(
            AllowableValue(
                ALLOW,
                "Allow missing attributes",
                "Hash the attributes present; do not route to failure",
            ),
            AllowableValue(
                PROHIBIT,
                "Fail if missing attributes",
                "Route to failure if any configured attribute is missing",
            ),
        ),
    )
    dynamic_properties = DynamicProperties(
        "Hashes the attribute named by the property into the attribute named by the "
        "value.",
        name="A FlowFile attribute to hash",
        value="The attribute to write the hash to",
    )
    SUCCESS = Relationship("success", "FlowFiles with the hash attributes added")
    FAILURE = Relationship("failure", "FlowFiles missing required attributes")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        name = _canonical(context.property(self.HASH_ALGORITHM).value or "SHA-256")
        factory = ALGORITHMS[name][0]
        charset = context.property(self.CHARACTER_SET).value or "UTF-8"
        fail_empty = bool(context.property(self.FAIL_WHEN_EMPTY).as_bool())
        prohibit = context.property(self.MISSING_ATTR_POLICY).value == PROHIBIT
        targets = {k: pv.value or "" for k, pv in context.dynamic_properties.items()}
        for ff in session.get(context.batch_size):
            present = {k: ff[k] for k in sorted(targets) if k in ff}
            missing = [k for k in sorted(targets) if k not in present]
            if (not present and fail_empty) or (missing and prohibit):
                ff = session.put_attribute(
                    ff, "error.message", f"missing attributes: {', '.join(missing)}"
                )
                session.transfer(ff, self.FAILURE)
                continue
            if present:
                values = {}
                for key, value in present.items():
                    h = factory()
                    h.update(_encode(value, charset))
                    values[targets[key]] = h.hexdigest()
                ff = session.put_attributes(ff, values)
                session.provenance.modify_attributes(ff)
            session.transfer(ff, self.SUCCESS)
