"""LogAttribute and LogMessage: write FlowFile details or messages to the log (structlog)."""

from __future__ import annotations

import re
from typing import Any

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

__all__ = ["LogAttribute", "LogMessage"]

LEVELS = ("trace", "debug", "info", "warn", "error")


def _log(context: ProcessContext, level: str, event: str, **kw: Any) -> None:
    method = {"trace": "debug", "warn": "warning"}.get(level, level)
    getattr(context.logger, method)(event, **kw)


LOG_LEVEL = PropertyDescriptor(
    "log_level",
    "The level to log at.",
    display_name="Log Level",
    default="info",
    required=True,
    allowable_values=LEVELS,
)
LOG_PREFIX = PropertyDescriptor(
    "log_prefix",
    "Text to put in front of each log line, to tell processors apart.",
    display_name="Log Prefix",
    expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
)


class LogAttribute(Processor):
    """Logs the attributes (and optionally the content) of every FlowFile.

    Meant for debugging flows: it logs one event per FlowFile at the chosen level.
    """

    tags = ("attributes", "logging")
    input_requirement = InputRequirement.REQUIRED

    LOG_LEVEL = LOG_LEVEL
    LOG_PAYLOAD = PropertyDescriptor(
        "log_payload",
        "Also log the content (decoded with the character set).",
        display_name="Log Payload",
        default="false",
        required=True,
        allowable_values=("true", "false"),
    )
    ATTRIBUTES_TO_LOG = PropertyDescriptor(
        "attributes_to_log",
        "Comma-separated attribute names to log (all when unset).",
        display_name="Attributes to Log",
    )
    ATTRIBUTES_TO_LOG_REGEX = PropertyDescriptor(
        "attributes_to_log_regex",
        "Regular expression of attribute names to log.",
        display_name="Attributes to Log by Regular Expression",
        default=".*",
        validators=(validators.REGEX,),
    )
    ATTRIBUTES_TO_IGNORE = PropertyDescriptor(
        "attributes_to_ignore",
        "Comma-separated attribute names not to log.",
        display_name="Attributes to Ignore",
    )
    ATTRIBUTES_TO_IGNORE_REGEX = PropertyDescriptor(
        "attributes_to_ignore_regex",
        "Regular expression of attribute names not to log.",
        display_name="Attributes to Ignore by Regular Expression",
        validators=(validators.REGEX,),
    )
    LOG_FLOWFILE_PROPERTIES = PropertyDescriptor(
        "log_flowfile_properties",
        "Also log size, entry date and lineage start date.",
        display_name="Log FlowFile Properties",
        default="true",
        required=True,
        allowable_values=("true", "false"),
    )
    LOG_PREFIX = LOG_PREFIX
    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "Encoding used to decode the payload.",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        validators=(validators.CHARACTER_SET,),
    )
    OUTPUT_FORMAT = PropertyDescriptor(
        "output_format",
        "Kept for NiFi compatibility: structured logs always carry attributes as one mapping.",
        display_name="Output Format",
        default="Line per Attribute",
        allowable_values=(
            AllowableValue("Line per Attribute"),
            AllowableValue("Single Line"),
        ),
    )
    SUCCESS = Relationship("success", "All FlowFiles after logging")

    def on_scheduled(self, context: ProcessContext) -> None:
        names = context.property(self.ATTRIBUTES_TO_LOG).value
        ignore = context.property(self.ATTRIBUTES_TO_IGNORE).value
        self._names = (
            {n.strip() for n in names.split(",") if n.strip()} if names else None
        )
        self._ignore = (
            {n.strip() for n in ignore.split(",") if n.strip()} if ignore else set()
        )
        self._regex = re.compile(
            context.property(self.ATTRIBUTES_TO_LOG_REGEX).value or ".*"
        )
        ig = context.property(self.ATTRIBUTES_TO_IGNORE_REGEX).value
        self._ignore_regex = re.compile(ig) if ig else None

    def _selected(self, name: str) -> bool:
        if name in self._ignore or (
            self._ignore_regex and self._ignore_regex.fullmatch(name)
        ):
            return False
        if self._names is not None:
            return name in self._names
        return bool(self._regex.fullmatch(name))

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        level = context.property(self.LOG_LEVEL).value or "info"
        payload = context.property(self.LOG_PAYLOAD).as_bool()
        props = context.property(self.LOG_FLOWFILE_PROPERTIES).as_bool()
        charset = context.property(self.CHARACTER_SET).value or "UTF-8"
        for ff in session.get(context.batch_size):
            attrs = {k: v for k, v in ff.attributes.items() if self._selected(k)}
            kw: dict[str, Any] = {"flowfile": ff.get("uuid"), "attributes": attrs}
            prefix = context.property(LOG_PREFIX).evaluate(ff).value
            if prefix:
                kw["prefix"] = prefix
            if props:
                kw.update(
                    size=ff.size,
                    entry_date=ff.entry_date,
                    lineage_start_date=ff.lineage_start_date,
                )
            if payload:
                kw["payload"] = session.read(ff).decode(charset, errors="replace")
            _log(context, level, "flowfile_attributes", **kw)
            session.transfer(ff, self.SUCCESS)


class LogMessage(Processor):
    """Logs a message (Expression Language) for every FlowFile."""

    tags = ("attributes", "logging")
    input_requirement = InputRequirement.REQUIRED

    LOG_LEVEL = LOG_LEVEL
    LOG_PREFIX = LOG_PREFIX
    LOG_MESSAGE = PropertyDescriptor(
        "log_message",
        "The message to log.",
        display_name="Log message",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    SUCCESS = Relationship("success", "All FlowFiles after logging")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        level = context.property(self.LOG_LEVEL).value or "info"
        for ff in session.get(context.batch_size):
            message = context.property(self.LOG_MESSAGE).evaluate(ff).value or ""
            prefix = context.property(self.LOG_PREFIX).evaluate(ff).value
            _log(
                context,
                level,
                "log_message",
                message=(prefix or "") + message,
                flowfile=ff.get("uuid"),
            )
            session.transfer(ff, self.SUCCESS)
