"""RouteText: routes each line of text content by conditions, into new FlowFiles."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, BinaryIO, cast

from flowengine import (
    AllowableValue,
    DynamicProperties,
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
from flowengine.expression import ExpressionError
from flowengine.expression import compile as compile_expression

from ._text import (
    JAVA_REGEX,
    codec_name,
    iter_text_lines,
    java_pattern,
    line_ending,
    regex_group_check,
)

__all__ = ["RouteText"]

BY_NAME = "Route to each matching Property Name"
ALL_MATCH = "Route to 'matched' if line matches all conditions"
ANY_MATCH = "Route to 'matched' if lines matches any condition"
STARTS_WITH = "Starts With"
ENDS_WITH = "Ends With"
CONTAINS = "Contains"
EQUALS = "Equals"
MATCHES_REGEX = "Matches Regular Expression"
CONTAINS_REGEX = "Contains Regular Expression"
SATISFIES = "Satisfies Expression"
ROUTE_ATTRIBUTE = "RouteText.Route"
GROUP_ATTRIBUTE = "RouteText.Group"
_JAVA_TRIM = "".join(chr(i) for i in range(33))  # String.trim(): chars <= ' '
_SPOOL = 4 << 20  # lines routed to one output stay in memory up to this, then disk


class RouteText(Processor):
    """Routes the lines of text content to relationships, one new FlowFile per
    relationship (and per group), keeping each line's ending.

    Each dynamic property is a condition compared with every line (without its line
    ending, trimmed unless Ignore Leading/Trailing Whitespace is false) by Matching
    Strategy; Satisfies Expression evaluates the property as Expression Language with
    ``${line}`` (the line, with its ending) and ``${lineNo}`` (1-based). With Route to
    each matching Property Name a line goes to every relationship it matches, else to
    ``unmatched``; the other strategies route it to ``matched`` when all / any
    condition holds. Grouping Regular Expression (matched against the whole line)
    splits each relationship's lines further by the values of its capture groups,
    joined by ", " into ``RouteText.Group``. The input goes to ``original``. The lines
    are streamed; outputs spill to disk past 4 MiB. Text not valid in Character Set
    reads as U+FFFD, as in NiFi.
    """

    tags = ("attributes", "routing", "text", "regexp", "regex", "filter", "search")
    input_requirement = InputRequirement.REQUIRED
    writes_attributes = {
        ROUTE_ATTRIBUTE: "the relationship the FlowFile was routed to",
        GROUP_ATTRIBUTE: "the Grouping Regular Expression's captured values, joined "
        "by ', ' (empty without grouping)",
    }

    ROUTING_STRATEGY = PropertyDescriptor(
        "routing_strategy",
        "How the conditions decide the relationship of a line.",
        display_name="Routing Strategy",
        default=BY_NAME,
        required=True,
        allowable_values=(
            AllowableValue(
                BY_NAME, BY_NAME, "Every relationship whose condition holds"
            ),
            AllowableValue(ALL_MATCH, ALL_MATCH, "matched when every condition holds"),
            AllowableValue(ANY_MATCH, ANY_MATCH, "matched when any condition holds"),
        ),
    )
    MATCHING_STRATEGY = PropertyDescriptor(
        "matching_strategy",
        "How a line is compared with a condition.",
        display_name="Matching Strategy",
        required=True,
        allowable_values=tuple(
            AllowableValue(v, v, d)
            for v, d in (
                (SATISFIES, "The Expression Language condition is true"),
                (STARTS_WITH, "The line starts with the value"),
                (ENDS_WITH, "The line ends with the value"),
                (CONTAINS, "The line contains the value"),
                (EQUALS, "The line equals the value"),
                (MATCHES_REGEX, "The Java regex matches the entire line"),
                (CONTAINS_REGEX, "The Java regex is found in the line"),
            )
        ),
    )
    CHARACTER_SET = PropertyDescriptor(
        "character_set",
        "The character set of the text.",
        display_name="Character Set",
        default="UTF-8",
        required=True,
        validators=(validators.CHARACTER_SET,),
    )
    TRIM = PropertyDescriptor(
        "ignore_leading_trailing_whitespace",
        "Ignore whitespace at the start and end of a line when comparing.",
        display_name="Ignore Leading/Trailing Whitespace",
        default="true",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    IGNORE_CASE = PropertyDescriptor(
        "ignore_case",
        "Compare regardless of case (not for Satisfies Expression).",
        display_name="Ignore Case",
        default="false",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    GROUPING_REGEX = PropertyDescriptor(
        "grouping_regular_expression",
        "A Java regex with at least one capture group, matched against each line: "
        "lines go to the same FlowFile only when their captured values are equal.",
        display_name="Grouping Regular Expression",
        validators=(JAVA_REGEX,),
    )
    dynamic_properties = DynamicProperties(
        "A condition on each line; with Route to each matching Property Name, also a "
        "relationship of the same name.",
        name="A relationship name",
        value="A value, a Java regex or a boolean expression (see Matching Strategy)",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )

    ORIGINAL = Relationship("original", "The input FlowFile, once its lines are routed")
    UNMATCHED = Relationship("unmatched", "Lines that do not satisfy the conditions")
    MATCHED = Relationship("matched", "Lines that satisfy the conditions (all/any)")

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        rels = [cls.ORIGINAL, cls.UNMATCHED]
        if properties.get("routing_strategy", BY_NAME) == BY_NAME:
            rels.extend(Relationship(n, f"Lines matching {n}") for n in dynamic)
        else:
            rels.append(cls.MATCHED)
        return rels

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if not context.dynamic_properties:
            return ["In order to route text there must be dynamic properties"]
        problems = []
        grouping = context.property(self.GROUPING_REGEX).value
        if grouping and (err := regex_group_check(1)(grouping)):
            problems.append(f"Grouping Regular Expression: {err}")
        strategy = context.property(self.MATCHING_STRATEGY).value
        for name, pv in context.dynamic_properties.items():
            value = pv.value or ""
            if strategy in (MATCHES_REGEX, CONTAINS_REGEX) and "${" not in value:
                if err := regex_group_check()(value):
                    problems.append(f"dynamic property {name!r}: {err}")
            elif strategy == SATISFIES:
                try:
                    compile_expression(value)
                except ExpressionError as exc:
                    problems.append(f"dynamic property {name!r}: {exc}")
        return problems

    def on_scheduled(self, context: ProcessContext) -> None:
        self._routing = context.property(self.ROUTING_STRATEGY).value or BY_NAME
        self._matching = context.property(self.MATCHING_STRATEGY).value or CONTAINS
        self._charset = codec_name(
            context.property(self.CHARACTER_SET).value or "utf-8"
        )
        self._trim = bool(context.property(self.TRIM).as_bool())
        self._ignore_case = bool(context.property(self.IGNORE_CASE).as_bool())
        grouping = context.property(self.GROUPING_REGEX).value
        self._grouping = java_pattern(grouping) if grouping else None
        self._props = list(context.dynamic_properties.items())

    def _condition(
        self, pv: Any, ff: FlowFile
    ) -> Callable[[str, dict[str, str]], bool]:
        """The test of one condition against a (prepared) line, for this FlowFile."""
        strategy, fold = self._matching, self._ignore_case
        if strategy == SATISFIES:
            expr = pv.expression
            return lambda line, extras: bool(expr.evaluate_boolean(ff, extras=extras))
        value = pv.evaluate(ff).value or ""
        if strategy in (MATCHES_REGEX, CONTAINS_REGEX):
            pattern = java_pattern(value, re.IGNORECASE if fold else 0)
            if strategy == MATCHES_REGEX:
                return lambda line, _: pattern.fullmatch(line) is not None
            return lambda line, _: pattern.search(line) is not None
        if fold:
            value = value.lower()
        test: Callable[[str], bool] = {
            STARTS_WITH: lambda s: s.startswith(value),
            ENDS_WITH: lambda s: s.endswith(value),
            CONTAINS: lambda s: value in s,
            EQUALS: lambda s: s == value,
        }[strategy]
        if fold:
            return lambda line, _: test(line.lower())
        return lambda line, _: test(line)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            self._route(session, ff)

    def _route(self, session: ProcessSession, ff: FlowFile) -> None:
        conditions = [(name, self._condition(pv, ff)) for name, pv in self._props]
        routing, trim, grouping = self._routing, self._trim, self._grouping
        outputs: dict[tuple[str, str], IO[bytes]] = {}
        charset = self._charset

        def emit(rel: str, group: str, line: str) -> None:
            out = outputs.get((rel, group))
            if out is None:
                out = tempfile.SpooledTemporaryFile(_SPOOL)  # noqa: SIM115 (closed below)
                outputs[rel, group] = out
            out.write(line.encode(charset))

        try:
            with session.open(ff) as src:
                for number, line in enumerate(
                    iter_text_lines(src, charset, errors="replace"), 1
                ):
                    body = line[: line_ending(line)]
                    subject = body.strip(_JAVA_TRIM) if trim else body
                    extras = {"line": line, "lineNo": str(number)}
                    if grouping is not None:
                        gm = grouping.fullmatch(subject)
                        group = ", ".join(g or "" for g in gm.groups()) if gm else ""
                    else:
                        group = ""
                    if routing == BY_NAME:
                        hits = [n for n, test in conditions if test(subject, extras)]
                        for name in hits or ["unmatched"]:
                            emit(name, group, line)
                        continue
                    if routing == ANY_MATCH:
                        ok = any(test(subject, extras) for _, test in conditions)
                    else:
                        ok = all(test(subject, extras) for _, test in conditions)
                    emit("matched" if ok else "unmatched", group, line)
            for (rel, group), out in outputs.items():
                out.seek(0)
                child = session.create(ff)
                child = session.import_from(cast(BinaryIO, out), child)
                child = session.put_attributes(
                    child, {ROUTE_ATTRIBUTE: rel, GROUP_ATTRIBUTE: group}
                )
                session.provenance.route(child, rel)
                session.transfer(child, rel)
        finally:
            for out in outputs.values():
                out.close()
        ff = session.put_attribute(ff, ROUTE_ATTRIBUTE, "original")
        session.transfer(ff, self.ORIGINAL)
