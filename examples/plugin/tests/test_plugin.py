"""The example plugin's own tests, with flowengine's TestRunner."""

from __future__ import annotations

from flowengine_example_plugin.count_words import CountWords
from flowengine_example_plugin.reverse import reverse

from flowengine.testing import TestRunner


def test_count_words_routes_by_length() -> None:
    """Short texts go to success, long ones to long, both counted."""
    runner = TestRunner(CountWords)
    runner.set_property("long_text_threshold", "2")
    runner.enqueue("two words")
    runner.enqueue("three words here")
    runner.run()
    runner.flowfiles_for("success")[0].assert_attribute_equals("word.count", "2")
    runner.flowfiles_for("long")[0].assert_attribute_equals("word.count", "3")


def test_count_words_rejects_binary() -> None:
    """Bytes that are not UTF-8 go to failure with an error message."""
    runner = TestRunner(CountWords)
    runner.enqueue(b"\xff\xfe")
    runner.run()
    runner.assert_all_transferred("failure", 1)
    runner.flowfiles_for("failure")[0].assert_attribute_exists("error.message")


def test_reverse() -> None:
    """Reverse reverses."""
    runner = TestRunner(reverse)
    runner.enqueue(b"abc")
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(b"cba")
