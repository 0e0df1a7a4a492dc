"""DuplicateFlowFile: N extra copies of every FlowFile, sharing its content."""

from __future__ import annotations

from typing import Any

from flowengine import (
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

__all__ = ["DuplicateFlowFile"]

COPY_INDEX = "copy.index"
ERROR_ATTRIBUTE = "DuplicateFlowFile.error"


class DuplicateFlowFile(Processor):
    """Sends each FlowFile and *Number of Copies* clones of it to ``success``.

    The original gets ``copy.index`` 0 and the clones 1..N (NiFi). Clones share the
    content claim (no bytes are copied) and each is a CLONE provenance event. When the
    Expression Language of *Number of Copies* yields something that is not a
    non-negative integer the FlowFile goes to ``failure`` with the reason in
    ``DuplicateFlowFile.error`` — NiFi would roll back and retry forever; ``failure`` is
    auto-terminated unless connected, so flows written for NiFi stay valid.
    """

    tags = ("test", "load", "duplicate")
    input_requirement = InputRequirement.REQUIRED
    example = """\
duplicate:
  type: DuplicateFlowFile
  properties:
    number_of_copies: "${copies}"
"""

    NUMBER_OF_COPIES = PropertyDescriptor(
        "number_of_copies",
        "How many copies of each incoming FlowFile to make (the original is also sent).",
        display_name="Number of Copies",
        default="100",
        required=True,
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    writes_attributes = {
        COPY_INDEX: "0 for the original, 1..N for the copies",
        ERROR_ATTRIBUTE: "why Number of Copies could not be used",
    }

    SUCCESS = Relationship("success", "The original FlowFile and all copies")
    FAILURE = Relationship(
        "failure",
        "Number of Copies did not evaluate to a non-negative integer",
        auto_terminate_default=True,
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        pv = context.property(self.NUMBER_OF_COPIES)
        if pv.has_expressions or pv.value is None:
            return []
        try:
            if int(pv.value.strip()) >= 0:
                return []
        except ValueError:
            pass
        return [f"Number of Copies must be a non-negative integer, not {pv.value!r}"]

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        prop = context.property(self.NUMBER_OF_COPIES)
        ok: list[Any] = []
        failed: list[Any] = []
        put = session.put_attribute
        for ff in session.get(context.batch_size):
            raw = prop.evaluate(ff).value or ""
            try:
                copies = int(raw.strip())
                if copies < 0:
                    raise ValueError
            except ValueError:
                reason = (
                    f"Number of Copies evaluated to {raw!r}, not a non-negative integer"
                )
                failed.append(put(ff, ERROR_ATTRIBUTE, reason))
                continue
            ok.extend(
                put(session.clone(ff), COPY_INDEX, str(i)) for i in range(1, copies + 1)
            )
            ok.append(put(ff, COPY_INDEX, "0"))
        if ok:
            session.transfer(ok, self.SUCCESS)
        if failed:
            session.transfer(failed, self.FAILURE)
