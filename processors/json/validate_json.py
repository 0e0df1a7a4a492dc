"""ValidateJson: the content against a JSON Schema (jsonschema-rs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import jsonschema_rs

from flowengine import (
    AllowableValue,
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._common import ERROR_ATTRIBUTE, BadJson, longest_string, parse

__all__ = ["ValidateJson"]

ERRORS_ATTRIBUTE: Final = "json.validation.errors"
SCHEMA_NAME_PROPERTY = "SCHEMA_NAME_PROPERTY"
SCHEMA_CONTENT_PROPERTY = "SCHEMA_CONTENT_PROPERTY"

_DRAFTS: Final[dict[str, tuple[str, Any]]] = {
    "DRAFT_4": ("Draft 4", jsonschema_rs.Draft4Validator),
    "DRAFT_6": ("Draft 6", jsonschema_rs.Draft6Validator),
    "DRAFT_7": ("Draft 7", jsonschema_rs.Draft7Validator),
    "DRAFT_2019_09": ("Draft 2019-09", jsonschema_rs.Draft201909Validator),
    "DRAFT_2020_12": ("Draft 2020-12", jsonschema_rs.Draft202012Validator),
}


def _load_schema(text: str) -> Any:
    """The schema given as JSON text or as a file path (NiFi's resource property:
    text or file; URLs are not fetched)."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[", "true", "false")):
        try:
            stripped = Path(stripped).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(
                f"JSON Schema {text!r} is neither JSON nor a readable file: {exc}; "
                "hint: give the schema inline or a path to a .json file"
            ) from exc
    try:
        return json.loads(stripped)
    except ValueError as exc:
        raise ValueError(f"JSON Schema is not valid JSON: {exc}") from exc


def _pointer(parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class ValidateJson(Processor):
    """Validates the content against a JSON Schema (Draft 4, 6, 7, 2019-09 or
    2020-12) with jsonschema-rs. Valid documents go to ``valid``; invalid ones to
    ``invalid`` with ``json.validation.errors`` listing every error as
    ``<JSON pointer>: <message>`` in NiFi's list form ``[e1, e2]``; content that
    is not JSON (parser position in ``json.error``), nested too deep, or with a
    string over Max String Length goes to ``failure``. As in NiFi, only the first
    JSON document of the content is considered.

    Schema Access Strategy Schema Name Property needs a JSON Schema Registry
    service, which flowengine does not have yet: the flow is rejected at
    validation with a hint.
    """

    tags = ("JSON", "schema", "validation")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
validate:
  type: ValidateJson
  properties:
    JSON Schema: '{"type": "object", "required": ["id"]}'
"""

    SCHEMA_ACCESS_STRATEGY = PropertyDescriptor(
        "schema_access_strategy",
        "Specifies how to obtain the schema that is to be used for interpreting the "
        "data.",
        display_name="Schema Access Strategy",
        default=SCHEMA_CONTENT_PROPERTY,
        required=True,
        allowable_values=(
            AllowableValue(SCHEMA_NAME_PROPERTY, "Schema Name Property"),
            AllowableValue(SCHEMA_CONTENT_PROPERTY, "JSON Schema Property"),
        ),
    )
    SCHEMA_NAME = PropertyDescriptor(
        "schema_name",
        "Specifies the name of the schema to lookup in the Schema Registry property",
        display_name="Schema Name",
        default="${schema.name}",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    SCHEMA_CONTENT = PropertyDescriptor(
        "json_schema",
        "A file path to the JSON schema or the actual JSON schema content",
        display_name="JSON Schema",
    )
    SCHEMA_VERSION = PropertyDescriptor(
        "json_schema_version",
        "The JSON schema specification",
        display_name="JSON Schema Version",
        default="DRAFT_2020_12",
        required=True,
        allowable_values=tuple(
            AllowableValue(k, label) for k, (label, _) in _DRAFTS.items()
        ),
    )
    MAX_STRING_LENGTH = PropertyDescriptor(
        "max_string_length",
        "The maximum allowed length of a string value when parsing the JSON document",
        display_name="Max String Length",
        default="20 MB",
        required=True,
        validators=(validators.DATA_SIZE,),
    )

    VALID = Relationship(
        "valid",
        "FlowFiles that are successfully validated against the schema are routed to "
        "this relationship",
    )
    INVALID = Relationship(
        "invalid",
        "FlowFiles that are not valid according to the specified schema are routed "
        "to this relationship",
    )
    FAILURE = Relationship(
        "failure",
        "FlowFiles that cannot be read as JSON are routed to this relationship",
    )

    def _strategy(self, context: ProcessContext) -> str:
        value = context.property(self.SCHEMA_ACCESS_STRATEGY).value
        return (
            SCHEMA_NAME_PROPERTY
            if value in (SCHEMA_NAME_PROPERTY, "Schema Name Property")
            else SCHEMA_CONTENT_PROPERTY
        )

    def _draft(self, context: ProcessContext) -> Any:
        value = context.property(self.SCHEMA_VERSION).value or "DRAFT_2020_12"
        for key, (label, cls) in _DRAFTS.items():
            if value in (key, label):
                return cls
        return jsonschema_rs.Draft202012Validator

    def _validator(self, context: ProcessContext) -> Any:
        text = context.property(self.SCHEMA_CONTENT).value
        if not text:
            raise ValueError(
                "JSON Schema is required with Schema Access Strategy JSON Schema "
                "Property"
            )
        schema = _load_schema(text)
        try:
            return self._draft(context)(schema, validate_formats=False)
        except (jsonschema_rs.ValidationError, ValueError, TypeError) as exc:
            raise ValueError(f"JSON Schema is not a valid schema: {exc}") from exc

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if self._strategy(context) == SCHEMA_NAME_PROPERTY:
            return [
                "Schema Access Strategy 'Schema Name Property' needs a JSON Schema "
                "Registry service, which flowengine does not provide yet; hint: use "
                "'JSON Schema Property' with the schema inline or as a file path"
            ]
        try:
            self._validator(context)
        except ValueError as exc:
            return [str(exc)]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._schema = self._validator(context)
        self._max_str = context.property(self.MAX_STRING_LENGTH).as_data_size() or 0

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        valid: list[FlowFile] = []
        invalid: list[FlowFile] = []
        failed: list[FlowFile] = []
        schema = self._schema
        for ff in session.get(context.batch_size):
            data = session.read(ff)
            try:
                doc = parse(data)
                if len(data) > self._max_str and longest_string(doc, self._max_str):
                    raise BadJson(
                        f"a string is longer than Max String Length ({self._max_str})"
                    )
            except BadJson as exc:
                failed.append(session.put_attribute(ff, ERROR_ATTRIBUTE, str(exc)))
                continue
            if schema.is_valid(doc):
                valid.append(ff)
                continue
            errors = [
                f"{_pointer(e.instance_path)}: {e.message}"
                for e in schema.iter_errors(doc)
            ]
            invalid.append(
                session.put_attribute(
                    ff, ERRORS_ATTRIBUTE, "[" + ", ".join(errors) + "]"
                )
            )
        session.transfer(valid, self.VALID)
        session.transfer(invalid, self.INVALID)
        session.transfer(failed, self.FAILURE)
