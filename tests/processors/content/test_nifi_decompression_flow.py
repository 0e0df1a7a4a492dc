"""flows/nifi/decompression_circular.yaml produces what NiFi's flow produces."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

import flowengine

FLOWS = Path(__file__).resolve().parents[3] / "flows"
FLOW = FLOWS / "nifi" / "decompression_circular.yaml"


def test_flow_validates_against_the_schema() -> None:
    """The rewrite is a valid flow file per flows/flow.schema.json."""
    schema = json.loads((FLOWS / "flow.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(FLOW.read_text()), schema)


def test_four_gzip_layers_peeled_back_to_the_text() -> None:
    """The 10 KB text, gzipped four times, loops through decompress/identify/route
    four times and leaves as the original text/plain content, nothing left queued."""
    flow = flowengine.load(FLOW)
    with flow.run(until_drained=True, timeout=60) as result:
        assert result.drained
        (ff,) = result.outputs["out"]
        content = result.read(ff)
        assert len(content) == 10 * 1024
        content.decode("utf-8")  # GenerateFlowFile's Text data format
        assert ff.attributes["mime.type"] == "text/plain"
        assert ff.attributes["mime.extension"] == ".txt"
        assert ff.attributes["RouteOnAttribute.Route"] == "unmatched"
        assert not result.failures
