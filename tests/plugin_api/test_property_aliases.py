"""Several names per property: snake_case, NiFi display name, NiFi API name, legacy names.

NiFi flows exported from the API use the API name (``use-filename-in-detection``), the UI
shows the display name; both must load, and giving one property under two names must be
rejected with its position rather than one silently winning.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flowengine.processors.content.identify_mime import IdentifyMimeType

import flowengine
from flowengine import ALLOWABLE_BOOLEANS, PropertyDescriptor, ValidationError, choices
from flowengine.testing import TestRunner


def test_names_are_canonical_first_without_repeats() -> None:
    d = PropertyDescriptor(
        "prefix", display_name="Prefix", aliases=("prefix", "s3-prefix", "Prefix")
    )
    assert d.names == ("prefix", "Prefix", "s3-prefix")
    single = PropertyDescriptor("x", aliases="old-x")  # type: ignore[arg-type]
    assert single.aliases == ("old-x",)


def test_boolean_values_and_choices_are_public() -> None:
    assert [a.value for a in ALLOWABLE_BOOLEANS] == ["true", "false"]
    assert [a.value for a in choices("a", "b")] == ["a", "b"]
    assert (
        "ALLOWABLE_BOOLEANS" in flowengine.__all__ and "choices" in flowengine.__all__
    )


@pytest.mark.parametrize(
    "key",
    [
        "use_filename_in_detection",
        "Use Filename In Detection",
        "use-filename-in-detection",
    ],
)
def test_every_name_is_accepted_by_the_test_runner(key: str) -> None:
    runner = TestRunner(IdentifyMimeType).set_property(key, "false")
    runner.enqueue(b"%PDF-1.4\n", {"filename": "x.txt"})
    runner.run()
    out = runner.flowfiles_for("success")
    assert len(out) == 1
    # with the filename ignored, the content decides: a PDF, not text/plain
    assert out[0].attributes["mime.type"] == "application/pdf"


def _write(tmp_path: Path, props: str) -> Path:
    p = tmp_path / "flow.yaml"
    p.write_text(
        textwrap.dedent(
            """\
            flow: a
            processors:
              gen:
                type: GenerateFlowFile
                properties: {custom_text: hi}
              mime:
                type: IdentifyMimeType
                properties:
            %s
                auto_terminate: [success]
            connections:
              - gen -> mime
            """
        )
        % textwrap.indent(textwrap.dedent(props), "      "),
        encoding="utf-8",
    )
    return p


def test_loader_accepts_the_nifi_api_name(tmp_path: Path) -> None:
    flow = flowengine.load(_write(tmp_path, 'use-filename-in-detection: "false"\n'))
    assert flow.validate(None) == []


def test_one_property_under_two_names_is_an_error_with_its_position(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        """\
        use-filename-in-detection: "false"
        Use Filename In Detection: "true"
        """,
    )
    with pytest.raises(ValidationError) as err:
        flowengine.load(path)
    assert str(err.value).startswith(
        f"{path}:10:7: processor 'mime': 'use_filename_in_detection' given twice "
        "(also as 'use-filename-in-detection')"
    ), str(err.value)


def test_schema_and_describe_list_the_aliases() -> None:
    schema = json.loads(
        subprocess.run(
            [sys.executable, "-m", "flowengine", "schema"],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    )
    text = json.dumps(schema)
    assert '"use-filename-in-detection"' in text
    assert '"record-reader"' in text
    described = subprocess.run(
        [sys.executable, "-m", "flowengine", "describe", "IdentifyMimeType"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "use_filename_in_detection" in described
    assert "also accepted as: use-filename-in-detection" in described
