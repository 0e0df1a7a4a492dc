"""CryptographicHashContent: NiFi's algorithm names, content_<ALG>, empty content."""

from __future__ import annotations

import hashlib

import pytest
from flowengine.processors.content.hash import CryptographicHashContent

from flowengine.testing import TestRunner

DATA = b"apachenifi" * 200_000  # 2 MB: several read chunks

EXPECTED = {
    "MD5": hashlib.md5(DATA).hexdigest(),
    "SHA-1": hashlib.sha1(DATA).hexdigest(),
    "SHA-224": hashlib.sha224(DATA).hexdigest(),
    "SHA-256": hashlib.sha256(DATA).hexdigest(),
    "SHA-384": hashlib.sha384(DATA).hexdigest(),
    "SHA-512": hashlib.sha512(DATA).hexdigest(),
    "SHA-512/224": hashlib.new("sha512_224", DATA).hexdigest(),
    "SHA-512/256": hashlib.new("sha512_256", DATA).hexdigest(),
    "SHA3-224": hashlib.sha3_224(DATA).hexdigest(),
    "SHA3-256": hashlib.sha3_256(DATA).hexdigest(),
    "SHA3-384": hashlib.sha3_384(DATA).hexdigest(),
    "SHA3-512": hashlib.sha3_512(DATA).hexdigest(),
    "BLAKE2-160": hashlib.blake2b(DATA, digest_size=20).hexdigest(),
    "BLAKE2-256": hashlib.blake2b(DATA, digest_size=32).hexdigest(),
    "BLAKE2-384": hashlib.blake2b(DATA, digest_size=48).hexdigest(),
    "BLAKE2-512": hashlib.blake2b(DATA, digest_size=64).hexdigest(),
}


@pytest.mark.parametrize("algorithm", sorted(EXPECTED))
def test_every_algorithm_writes_content_attribute(algorithm: str) -> None:
    """Each NiFi algorithm writes content_<name> with the lowercase hex digest."""
    runner = TestRunner(CryptographicHashContent)
    runner.set_property("Hash Algorithm", algorithm)
    runner.enqueue(DATA)
    runner.run()
    ff = runner.flowfiles_for("success")[0]
    ff.assert_attribute_equals(f"content_{algorithm}", EXPECTED[algorithm])
    ff.assert_content_equals(DATA)


def test_default_is_sha256_of_known_vector() -> None:
    """Default SHA-256; 'apachenifi' hashes to NiFi's documented test value."""
    runner = TestRunner(CryptographicHashContent)
    runner.enqueue(b"apachenifi")
    runner.run()
    runner.flowfiles_for("success")[0].assert_attribute_equals(
        "content_SHA-256",
        "dc4bd945723b9c234f1be408e8ceb78660b481008b8ab5b71eb2aa3b4f08357a",
    )


def test_empty_content_hashes_by_default() -> None:
    """Empty content is hashed unless 'Fail if the content is empty' is true."""
    runner = TestRunner(CryptographicHashContent)
    runner.enqueue(b"")
    runner.run()
    runner.flowfiles_for("success")[0].assert_attribute_equals(
        "content_SHA-256", hashlib.sha256(b"").hexdigest()
    )


def test_empty_content_fails_when_configured() -> None:
    """With 'Fail if the content is empty' an empty FlowFile goes to failure."""
    runner = TestRunner(CryptographicHashContent)
    runner.set_property("Fail if the content is empty", "true")
    runner.enqueue(b"")
    runner.enqueue(b"x")
    runner.run()
    failed = runner.flowfiles_for("failure")[0]
    failed.assert_attribute_not_exists("content_SHA-256")
    failed.assert_attribute_exists("error.message")
    runner.assert_transfer_count("success", 1)


def test_unknown_algorithm_is_invalid() -> None:
    """An algorithm NiFi does not name is rejected at validation (MD2 included)."""
    for name in ("SHA-999", "MD2"):
        runner = TestRunner(CryptographicHashContent)
        runner.set_property("hash_algorithm", name)
        runner.assert_not_valid()
