"""ExecuteScript: NiFi's bindings in Python, script file/body, modules, rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
from flowengine.processors.execute.script import ExecuteScript

from flowengine.testing import TestRunner

TAG = """\
ff = session.get()
if ff is not None:
    ff = session.put_attribute(ff, "greeting", greeting.evaluate(ff).value)
    if ff.get("bad"):
        session.transfer(ff, REL_FAILURE)
    else:
        session.transfer(session.write(ff, session.read(ff).upper()), REL_SUCCESS)
"""


def test_script_body_with_bindings_and_dynamic_property() -> None:
    """session/REL_* bindings work; a dynamic property is a PropertyValue variable."""
    runner = TestRunner(ExecuteScript)
    runner.set_property("Script Body", TAG)
    runner.set_property("greeting", "hello ${name}")
    runner.enqueue(b"abc", {"name": "ann"})
    runner.enqueue(b"x", {"bad": "1", "name": "bo"})
    runner.run(2)
    out = runner.flowfiles_for("success")[0]
    out.assert_content_equals(b"ABC")
    out.assert_attribute_equals("greeting", "hello ann")
    runner.flowfiles_for("failure")[0].assert_attribute_equals("greeting", "hello bo")


def test_script_file_and_module_directory(tmp_path: Path) -> None:
    """Script File is read; Module Directory makes its modules importable."""
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "helper_esx.py").write_text("def shout(b):\n    return b + b'!'\n")
    script = tmp_path / "s.py"
    script.write_text(
        "import helper_esx\nff = session.get()\n"
        "if ff:\n    session.transfer(session.write(ff, helper_esx.shout("
        "session.read(ff))), REL_SUCCESS)\n    log.debug('done')\n"
    )
    runner = TestRunner(ExecuteScript)
    runner.set_property("Script File", str(script))
    runner.set_property("Module Directory", str(mods))
    runner.enqueue(b"hey")
    runner.run()
    runner.flowfiles_for("success")[0].assert_content_equals(b"hey!")


@pytest.mark.parametrize("engine", ["Groovy", "Clojure", "lua"])
def test_other_engines_rejected_with_hint(engine: str) -> None:
    """NiFi's other script engines are rejected at validation, naming 'python'."""
    runner = TestRunner(ExecuteScript)
    runner.set_property("Script Engine", engine)
    runner.set_property("Script Body", "pass")
    problems = runner.validate()
    assert any(engine in p and "'python'" in p for p in problems), problems


def test_body_and_file_exclusive(tmp_path: Path) -> None:
    """Exactly one of Script File and Script Body."""
    runner = TestRunner(ExecuteScript)
    assert any("exactly one" in p for p in runner.validate())
    runner.set_property("Script Body", "pass")
    runner.set_property("Script File", str(tmp_path / "x.py"))
    assert any("exactly one" in p for p in runner.validate())


def test_script_that_raises_rolls_back_and_is_isolated_to_failure() -> None:
    """An exception rolls the session back (the script's changes are undone); the
    engine's isolation rule then sends the FlowFile alone to failure with the reason."""
    runner = TestRunner(ExecuteScript)
    runner.set_property(
        "Script Body",
        "ff = session.get()\nff = session.put_attribute(ff, 'x', '1')\n"
        "raise ValueError('nope')\n",
    )
    runner.enqueue(b"keep")
    runner.run()
    runner.assert_all_transferred("failure", 1)
    ff = runner.flowfiles_for("failure")[0]
    ff.assert_content_equals(b"keep")
    ff.assert_attribute_not_exists("x")
    assert any("nope" in v for v in ff.attributes.values()), ff.attributes
