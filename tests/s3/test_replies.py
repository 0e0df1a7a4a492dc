"""The attributes S3 processors derive from S3 replies (``processors/aws/_replies.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from flowengine.processors.aws._replies import (
    expiration_attributes,
    storage_attributes,
    tag_set,
    version_attribute,
)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ({"VersionId": "3HL4kqtJlcpXroDTDmJ"}, {"s3.version": "3HL4kqtJlcpXroDTDmJ"}),
        ({"VersionId": "null"}, {}),
        ({"VersionId": ""}, {}),
        ({}, {}),
    ],
)
def test_version_attribute(reply: dict[str, Any], expected: dict[str, str]) -> None:
    """s3.version is written only for a real version id (not S3's "null")."""
    assert version_attribute(reply) == expected


def test_expiration_header_gives_time_in_ms_and_rule() -> None:
    """The x-amz-expiration header becomes epoch milliseconds and the rule id."""
    header = 'expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion"'
    assert expiration_attributes(header) == {
        "s3.expirationTime": "1356220800000",
        "s3.expirationTimeRuleId": "picture-deletion",
    }


@pytest.mark.parametrize("header", [None, ""])
def test_no_expiration_header_gives_nothing(header: str | None) -> None:
    """No header (objects without a lifecycle rule), no attributes."""
    assert expiration_attributes(header) == {}


def test_unparsable_expiry_date_is_left_out() -> None:
    """A date that does not parse drops only the time, never fails the FlowFile."""
    header = 'expiry-date="not a date", rule-id="r1"'
    assert expiration_attributes(header) == {"s3.expirationTimeRuleId": "r1"}


def test_storage_attributes_prefer_server_side_encryption() -> None:
    """SSE-S3/KMS is reported over a customer key algorithm, with the expiration."""
    reply = {
        "ServerSideEncryption": "aws:kms",
        "SSECustomerAlgorithm": "AES256",
        "Expiration": 'expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="r"',
    }
    assert storage_attributes(reply) == {
        "s3.sseAlgorithm": "aws:kms",
        "s3.expirationTime": "1356220800000",
        "s3.expirationTimeRuleId": "r",
    }


def test_storage_attributes_customer_key_and_plain() -> None:
    """SSE-C replies name the customer algorithm; unencrypted replies give nothing."""
    assert storage_attributes({"SSECustomerAlgorithm": "AES256"}) == {
        "s3.sseAlgorithm": "AES256"
    }
    assert storage_attributes({"ETag": '"abc"'}) == {}


def test_tag_set_from_get_object_tagging_reply() -> None:
    """A GetObjectTagging reply becomes {key: value}; no TagSet means no tags."""
    reply = {"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}
    assert tag_set(reply) == {"a": "1", "b": "2"}
    assert tag_set({}) == {}
