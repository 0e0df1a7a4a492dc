"""The hand-rewritten NiFi flow ReplaceTextExpressionLanguageCSVReformatting produces
what NiFi would: the CSV with its date column reformatted."""

from __future__ import annotations

from pathlib import Path

import flowengine
from flowengine.testing import TestRunner

FLOW = (
    Path(__file__).resolve().parents[2]
    / "flows"
    / "nifi"
    / "ReplaceTextExpressionLanguageCSVReformatting.yaml"
)


def test_csv_reformatting_flow_output() -> None:
    """One FlowFile leaves, its third column reformatted from ddMMMyyyy to yyyy/MM/dd."""
    with flowengine.load(FLOW).run(timeout=30) as res:
        out = res.outputs["out"]
        assert [res.read(ff) for ff in out] == [
            b"2006,10-01-2004,2004/05/10\n"
            b"2007,15-05-2006,2005/06/10\n"
            b"2009,8-8-2008,2008/08/10"
        ]


def test_line_by_line_leaves_empty_content_untouched() -> None:
    """Why the rewrite sets the CSV with Entire text: NiFi's Line-by-Line mode leaves a
    0-byte FlowFile as it is (no line to replace); Entire text replaces the empty match."""
    value = "2006,10-01-2004,10may2004"
    for mode, expected in (("Line-by-Line", b""), ("Entire text", value.encode())):
        runner = TestRunner("ReplaceText")
        runner.set_property("Replacement Value", value)
        runner.set_property("Evaluation Mode", mode)
        runner.enqueue(b"")
        runner.run()
        runner.flowfiles_for("success")[0].assert_content_equals(expected)
