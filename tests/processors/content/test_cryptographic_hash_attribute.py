"""CryptographicHashAttribute: dynamic attr -> output attr, missing-attribute policies."""

from __future__ import annotations

import hashlib

from flowengine.processors.content.hash import CryptographicHashAttribute

from flowengine.testing import TestRunner


def _runner(**props: str) -> TestRunner:
    runner = TestRunner(CryptographicHashAttribute)
    runner.set_property("name", "name_sha256")
    runner.set_property("value", "value_sha256")
    for k, v in props.items():
        runner.set_property(k, v)
    return runner


def test_hashes_each_configured_attribute() -> None:
    """Every configured attribute present is hashed into the attribute its value names."""
    runner = _runner()
    runner.enqueue(b"", {"name": "abc", "value": "xyz", "other": "o"})
    runner.run()
    ff = runner.flowfiles_for("success")[0]
    ff.assert_attribute_equals("name_sha256", hashlib.sha256(b"abc").hexdigest())
    ff.assert_attribute_equals("value_sha256", hashlib.sha256(b"xyz").hexdigest())
    ff.assert_attribute_not_exists("other_sha256")


def test_partial_allowed_by_default() -> None:
    """Allow missing attributes (default): the present ones are hashed, to success."""
    runner = _runner()
    runner.enqueue(b"", {"name": "abc"})
    runner.run()
    ff = runner.flowfiles_for("success")[0]
    ff.assert_attribute_exists("name_sha256")
    ff.assert_attribute_not_exists("value_sha256")


def test_partial_prohibited_fails() -> None:
    """Fail if missing attributes: a FlowFile lacking one goes to failure, unhashed."""
    runner = _runner(missing_attr_policy="Fail if missing attributes")
    runner.enqueue(b"", {"name": "abc"})
    runner.run()
    ff = runner.flowfiles_for("failure")[0]
    ff.assert_attribute_not_exists("name_sha256")
    assert "value" in ff["error.message"]


def test_all_missing_fails_by_default_and_passes_when_allowed() -> None:
    """No configured attribute present: failure, unless 'Fail when no attributes present'
    is false, then success unchanged."""
    runner = _runner()
    runner.enqueue(b"", {"x": "1"})
    runner.run()
    runner.assert_all_transferred("failure", 1)
    runner = _runner(fail_when_empty="false")
    runner.enqueue(b"", {"x": "1"})
    runner.run()
    ff = runner.flowfiles_for("success")[0]
    ff.assert_attribute_not_exists("name_sha256")


def test_character_set_changes_the_bytes_hashed() -> None:
    """Values are encoded with Character Set; UTF-16 has Java's big-endian BOM."""
    for charset, encoded in [
        ("UTF-8", "héllo".encode()),
        ("ISO-8859-1", "héllo".encode("latin-1")),
        ("UTF-16LE", "héllo".encode("utf-16-le")),
        ("UTF-16", b"\xfe\xff" + "héllo".encode("utf-16-be")),
    ]:
        runner = _runner(character_set=charset, hash_algorithm="MD5")
        runner.enqueue(b"", {"name": "héllo"})
        runner.run()
        runner.flowfiles_for("success")[0].assert_attribute_equals(
            "name_sha256", hashlib.md5(encoded).hexdigest()
        )


def test_unmappable_characters_become_question_marks_as_in_java() -> None:
    """A character US-ASCII cannot encode is hashed as '?', as Java's getBytes does."""
    runner = _runner(character_set="US-ASCII")
    runner.enqueue(b"", {"name": "héllo"})
    runner.run()
    runner.flowfiles_for("success")[0].assert_attribute_equals(
        "name_sha256", hashlib.sha256(b"h?llo").hexdigest()
    )
