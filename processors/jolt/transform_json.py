"""JoltTransformJSON: apply a Jolt specification to JSON content (or an attribute)."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from typing import Any

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

from ._jolt import (
    JOLT_TRANSFORMS,
    JoltSpecError,
    JoltTransformError,
    compile_spec,
    parse_json_with_comments,
)

__all__ = ["JoltTransformJSON"]

FLOW_FILE = "FLOW_FILE"
ATTRIBUTE = "ATTRIBUTE"
_SORT = "jolt-transform-sort"


def _spec_text(raw: str) -> str:
    """NiFi's Jolt Specification is a resource: inline text or a file path."""
    stripped = raw.strip()
    if (
        stripped
        and stripped[0] not in "[{"
        and "\n" not in stripped
        and os.path.isfile(stripped)
    ):
        with open(stripped, encoding="utf-8") as fh:
            return fh.read()
    return raw


class _Cache:
    """LRU of compiled transforms keyed by (transform, evaluated spec text): specs that
    use Expression Language compile once per distinct text (Transform Cache Size)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.entries: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def get(self, transform: str, text: str) -> Any:
        key = (transform, text)
        hit = self.entries.get(key)
        if hit is not None:
            self.entries.move_to_end(key)
            return hit
        spec = None if transform == _SORT else parse_json_with_comments(text)
        compiled = compile_spec(transform, spec)
        self.entries[key] = compiled
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return compiled


class JoltTransformJSON(Processor):
    """Applies a Jolt specification (Chain, Shift, Default, Remove, Cardinality, Sort,
    Modify - Default/Overwrite/Define) to the JSON of each FlowFile.

    The specification may use Expression Language (evaluated per FlowFile, compiled
    once per distinct text through an LRU of Transform Cache Size) and may name a file.
    A spec without Expression Language is parsed and compiled at validation, so a spec
    that does not parse is rejected before the flow starts with its line and column.
    A document that is not JSON, is nested too deeply, or on which the transform fails
    goes to ``failure`` unchanged with ``error.message``; the others go on.
    The output replaces the content with ``mime.type`` = ``application/json``.
    """

    tags = (
        "json",
        "jolt",
        "transform",
        "shiftr",
        "chainr",
        "defaultr",
        "removr",
        "cardinality",
        "sort",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False
    writes_attributes = {
        "mime.type": "always application/json",
        "error.message": "why the FlowFile went to failure",
    }
    example = """\
to_person:
  type: JoltTransformJSON
  properties:
    Jolt Transform: jolt-transform-shift
    Jolt Specification: '{"name": "person.name"}'
"""

    JOLT_TRANSFORM = PropertyDescriptor(
        "jolt_transform",
        "Specifies the Jolt Transformation that should be used with the provided specification.",
        display_name="Jolt Transform",
        default="jolt-transform-chain",
        required=True,
        allowable_values=tuple(
            AllowableValue(api, display, desc)
            for api, (display, _op, desc) in JOLT_TRANSFORMS.items()
        ),
    )
    JOLT_SPEC = PropertyDescriptor(
        "jolt_spec",
        "Jolt Specification for transformation of JSON data: the JSON text or a file "
        "holding it. Not used by the Sort transformation.",
        display_name="Jolt Specification",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    TRANSFORM_CACHE_SIZE = PropertyDescriptor(
        "transform_cache_size",
        "Compiling a Jolt Transform can be fairly expensive. Ideally, this will be done "
        "only once. However, if the Expression Language is used in the transform, we "
        "may need a new Transform for each FlowFile. This value controls how many of "
        "those Transforms we cache in memory in order to avoid having to compile the "
        "Transform each time.",
        display_name="Transform Cache Size",
        default="1",
        required=True,
        validators=(validators.POSITIVE_INTEGER,),
    )
    JSON_SOURCE = PropertyDescriptor(
        "json_source",
        "Specifies whether the Jolt transformation is applied to FlowFile JSON content "
        "or to specified FlowFile JSON attribute.",
        display_name="JSON Source",
        default=FLOW_FILE,
        required=True,
        allowable_values=(
            AllowableValue(FLOW_FILE, "FlowFile", "JSON content of the FlowFile"),
            AllowableValue(ATTRIBUTE, "Attribute", "JSON in a FlowFile attribute"),
        ),
    )
    JSON_SOURCE_ATTRIBUTE = PropertyDescriptor(
        "json_source_attribute",
        "The FlowFile attribute containing JSON to be transformed; the result is "
        "written back to that attribute.",
        display_name="JSON Source Attribute",
        depends_on=("json_source", (ATTRIBUTE,)),
        validators=(validators.NON_EMPTY,),
    )
    PRETTY_PRINT = PropertyDescriptor(
        "pretty_print",
        "Apply pretty print formatting to the output of the Jolt transform",
        display_name="Pretty Print",
        default="false",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    SUCCESS = Relationship(
        "success",
        "The FlowFile with transformed content will be routed to this relationship",
    )
    FAILURE = Relationship(
        "failure",
        "If a FlowFile fails processing for any reason (for example, the FlowFile is "
        "not valid JSON), it will be routed to this relationship",
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        transform = context.property(self.JOLT_TRANSFORM).value or ""
        raw = context.property(self.JOLT_SPEC).value
        if context.property(self.JSON_SOURCE).value == ATTRIBUTE and not (
            context.property(self.JSON_SOURCE_ATTRIBUTE).value
        ):
            return ["JSON Source Attribute is required when JSON Source is Attribute"]
        if transform == _SORT:
            return []
        if not raw or not raw.strip():
            return [
                f"Jolt Specification is required for {transform}; hint: give the spec JSON inline or a file path"
            ]
        if "${" in raw:
            return []  # evaluated per FlowFile; compiled (and checked) at run time
        try:
            _Cache(1).get(transform, _spec_text(raw))
        except JoltSpecError as exc:
            return [
                f"Jolt Specification: {exc}; hint: check the JSON at that position (comments // and /* */ are allowed)"
            ]
        except OSError as exc:
            return [f"Jolt Specification: cannot read the file: {exc}"]
        return []

    def jolt_context(self, ff: FlowFile) -> dict[str, Any]:
        """The Jolt context map (what ``@(n,...)`` lookups of ``^`` read): empty, as
        NiFi's processor passes; a subclass may supply one."""
        return {}

    def on_scheduled(self, context: ProcessContext) -> None:
        size = context.property(self.TRANSFORM_CACHE_SIZE).as_int() or 1
        self._cache = _Cache(size)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        transform = (
            context.property(self.JOLT_TRANSFORM).value or "jolt-transform-chain"
        )
        spec_pv = context.property(self.JOLT_SPEC)
        from_attr = context.property(self.JSON_SOURCE).value == ATTRIBUTE
        attr = context.property(self.JSON_SOURCE_ATTRIBUTE).value or ""
        pretty = bool(context.property(self.PRETTY_PRINT).as_bool())
        for ff in session.get(context.batch_size):
            try:
                text = (
                    _spec_text(spec_pv.evaluate(ff).value or "")
                    if transform != _SORT
                    else ""
                )
                run = self._cache.get(transform, text)
                if from_attr:
                    source = ff.attributes.get(attr)
                    if source is None:
                        raise JoltTransformError(f"attribute {attr!r} is not set")
                else:
                    source = session.read(ff).decode("utf-8")
                try:
                    document = json.loads(source)
                except json.JSONDecodeError as exc:
                    raise JoltTransformError(
                        f"the input is not valid JSON: {exc}"
                    ) from None
                except RecursionError:
                    raise JoltTransformError(
                        "the input JSON is nested too deeply"
                    ) from None
                result = run(document, self.jolt_context(ff))
                try:
                    out = json.dumps(
                        result,
                        indent=2 if pretty else None,
                        ensure_ascii=False,
                        separators=None if pretty else (",", ":"),
                    )
                except RecursionError:
                    raise JoltTransformError(
                        "the output JSON is nested too deeply"
                    ) from None
            except (
                JoltSpecError,
                JoltTransformError,
                UnicodeDecodeError,
                OSError,
            ) as exc:
                ff = session.put_attribute(ff, "error.message", str(exc))
                session.transfer(ff, self.FAILURE)
                continue
            if from_attr:
                ff = session.put_attribute(ff, attr, out)
            else:
                ff = session.write(ff, out.encode("utf-8"))
                ff = session.put_attribute(ff, "mime.type", "application/json")
                session.provenance.modify_content(ff)
            session.transfer(ff, self.SUCCESS)
