"""RetryFlowFile: counts passes through a retry loop and stops after a maximum."""

from __future__ import annotations

from typing import Any

from flowengine import (
    AllowableValue,
    DynamicProperties,
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)
from flowengine import validators as v

__all__ = ["RetryFlowFile"]

FAIL, WARN, RESET = "fail", "warn", "reset"
ERROR_ATTRIBUTE = "RetryFlowFile.error"


class RetryFlowFile(Processor):
    """Increments the *Retry Attribute* and routes by *Maximum Retries* (NiFi).

    Below the maximum the FlowFile goes to ``retry`` (penalized by default) with the
    counter and ``<attr>.uuid`` = this processor's id; above it, to ``retries_exceeded``
    with the counter and owner attributes removed and the dynamic properties added.
    A counter owned by another processor (``<attr>.uuid`` differs) is handled by *Reuse
    Mode*: ``fail`` → ``failure``, ``warn`` → log and take it over, ``reset`` → count
    from zero. A non-numeric counter is reset to 1, or failed with *Fail on
    Non-numerical Overwrite*. ``failure`` is auto-terminated unless connected.
    """

    tags = ("Retry", "FlowFile")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
retry:
  type: RetryFlowFile
  properties:
    maximum_retries: "5"
    retry.reason: gave up
"""

    RETRY_ATTRIBUTE = PropertyDescriptor(
        "retry_attribute",
        "The attribute holding the FlowFile's current retry count.",
        display_name="Retry Attribute",
        default="flowfile.retries",
        required=True,
        validators=(v.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    MAXIMUM_RETRIES = PropertyDescriptor(
        "maximum_retries",
        "How many times a FlowFile may be retried before 'retries_exceeded'.",
        display_name="Maximum Retries",
        default="3",
        required=True,
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    PENALIZE_RETRIES = PropertyDescriptor(
        "penalize_retries",
        "Penalize FlowFiles sent to 'retry' (not those sent to 'retries_exceeded').",
        display_name="Penalize Retries",
        default="true",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    FAIL_ON_OVERWRITE = PropertyDescriptor(
        "fail_on_non_numerical_overwrite",
        "Fail a FlowFile whose Retry Attribute is not a number instead of resetting it "
        "to 1.",
        display_name="Fail on Non-numerical Overwrite",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    REUSE_MODE = PropertyDescriptor(
        "reuse_mode",
        "What to do when the counter is owned by another processor (its '<attr>.uuid' "
        "is not this processor's id), i.e. was not reset after an earlier retry loop.",
        display_name="Reuse Mode",
        default=FAIL,
        required=True,
        allowable_values=(
            AllowableValue(FAIL, "Fail on Reuse", "route to failure"),
            AllowableValue(WARN, "Warn on Reuse", "log a warning and take it over"),
            AllowableValue(RESET, "Reset Reuse", "start counting from zero"),
        ),
    )
    dynamic_properties = DynamicProperties(
        "Attributes added to FlowFiles sent to 'retries_exceeded'.",
        name="Exceeded FlowFile Attribute Key",
        value="The value of the attribute added to the FlowFile",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    reads_attributes = {"<Retry Attribute>": "the current retry count"}
    writes_attributes = {
        "<Retry Attribute>": "the incremented retry count",
        "<Retry Attribute>.uuid": "id of the processor that owns the count",
        ERROR_ATTRIBUTE: "why the FlowFile went to failure",
    }

    RETRY = Relationship("retry", "FlowFiles below the maximum: try again")
    RETRIES_EXCEEDED = Relationship(
        "retries_exceeded", "FlowFiles that were retried more than the maximum"
    )
    FAILURE = Relationship(
        "failure",
        "Non-numeric counter (when failing on overwrite), foreign counter (Reuse Mode "
        "fail) or an unusable Maximum Retries",
        auto_terminate_default=True,
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        pv = context.property(self.MAXIMUM_RETRIES)
        if pv.value is None or pv.has_expressions:
            return []
        try:
            int(pv.value.strip())
        except ValueError:
            return [f"Maximum Retries must be an integer, not {pv.value!r}"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._attr = context.property(self.RETRY_ATTRIBUTE).evaluate().value or ""
        self._owner_attr = self._attr + ".uuid"
        self._penalize = bool(context.property(self.PENALIZE_RETRIES).as_bool())
        self._fail_nonnumeric = bool(context.property(self.FAIL_ON_OVERWRITE).as_bool())
        self._reuse = context.property(self.REUSE_MODE).value
        self._exceeded = dict(context.dynamic_properties)

    def _route(
        self, context: ProcessContext, session: ProcessSession, ff: Any
    ) -> tuple[Any, Relationship]:
        raw_max = context.property(self.MAXIMUM_RETRIES).evaluate(ff).value or ""
        try:
            maximum = int(raw_max.strip())
        except ValueError:
            return self._fail(
                session, ff, f"Maximum Retries {raw_max!r} is not a number"
            )
        raw = ff.get(self._attr)
        count = 0
        if raw is not None:
            try:
                count = int(raw.strip())
            except ValueError:
                if self._fail_nonnumeric:
                    return self._fail(
                        session, ff, f"{self._attr} is not a number: {raw!r}"
                    )
        owner = ff.get(self._owner_attr)
        if owner is not None and owner != context.id:
            if self._reuse == FAIL:
                return self._fail(
                    session, ff, f"{self._attr} is owned by another processor ({owner})"
                )
            if self._reuse == WARN:
                context.logger.warning(
                    "retry_attribute_reused", uuid=ff.uuid, owner=owner
                )
            else:
                count = 0
        count += 1
        if count > maximum:
            ff = session.remove_attributes(ff, [self._attr, self._owner_attr])
            extra = {k: pv.evaluate(ff).value or "" for k, pv in self._exceeded.items()}
            if extra:
                ff = session.put_attributes(ff, extra)
            return ff, self.RETRIES_EXCEEDED
        ff = session.put_attributes(
            ff, {self._attr: str(count), self._owner_attr: context.id}
        )
        if self._penalize:
            ff = session.penalize(ff)
        return ff, self.RETRY

    def _fail(
        self, session: ProcessSession, ff: Any, reason: str
    ) -> tuple[Any, Relationship]:
        return session.put_attribute(ff, ERROR_ATTRIBUTE, reason), self.FAILURE

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        routed: dict[Relationship, list[Any]] = {}
        for ff in session.get(context.batch_size):
            out, rel = self._route(context, session, ff)
            routed.setdefault(rel, []).append(out)
        for rel, flowfiles in routed.items():
            session.transfer(flowfiles, rel)
