"""ExecuteScript: runs a Python script per trigger with NiFi's bindings.

NiFi's ExecuteScript runs a JSR-223 script (Groovy, Clojure, ...; Jython was removed in
NiFi 2) with ``session``, ``context``, ``log``, ``REL_SUCCESS``, ``REL_FAILURE`` and one
variable per dynamic property bound. Here the only engine is ``python``: the script is
compiled once when the processor is scheduled and executed on every trigger in a fresh
namespace holding those bindings. The bound objects are flowengine's own, so a script
uses the Python API; the mapping from NiFi's Java API is in the processor's docstring.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import CodeType
from typing import Any

from flowengine import (
    DynamicProperties,
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    ProcessException,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

__all__ = ["ExecuteScript"]

PYTHON = "python"
#: NiFi's script engines that flowengine does not run (for the validation hint)
NIFI_ENGINES = ("Groovy", "Clojure", "ECMAScript", "lua", "ruby", "python (Jython)")


class ExecuteScript(Processor):
    """Executes a Python script on each trigger, with NiFi's ExecuteScript bindings.

    Bindings: ``session`` (the ProcessSession), ``context`` (the ProcessContext),
    ``log`` (the processor's structlog logger), ``REL_SUCCESS`` and ``REL_FAILURE``
    (Relationships), and each dynamic property as a variable holding its PropertyValue
    (``myProp.evaluate(flowfile).value`` is NiFi's
    ``myProp.evaluateAttributeExpressions(flowFile).getValue()``). The script calls
    ``session.get()`` itself, as in NiFi, so it also runs when nothing is queued.

    NiFi Java session API → flowengine: ``session.get()`` → ``session.get()`` (None when
    empty); ``putAttribute(ff, k, v)`` → ``ff = session.put_attribute(ff, k, v)`` (a
    FlowFile is immutable: keep the returned one); ``putAllAttributes`` →
    ``put_attributes``; ``removeAttribute`` → ``remove_attribute``;
    ``write(ff, OutputStreamCallback)`` → ``session.write(ff, lambda out: ...)`` or
    ``session.write(ff, b"bytes")``; ``write(ff, StreamCallback)`` →
    ``session.rewrite(ff, lambda src, dst: ...)``; ``read(ff, InputStreamCallback)`` →
    ``with session.open(ff) as src:`` or ``session.read(ff)``; ``create``/``clone``/
    ``remove``/``penalize``/``transfer`` keep their names; ``context.getProperty(name)``
    → ``context.property(name)``; ``log.info(msg)`` → ``log.info("event", key=value)``.
    ``flowFile.getAttribute(k)`` → ``ff.get(k)``; ``getSize()`` → ``ff.size``.

    Rollback on exception: a script that raises rolls the session back (its changes
    are undone) and the error is logged. NiFi then leaves the FlowFiles queued,
    penalized; flowengine's isolation rule (docs/architecture.md) retries them one by
    one and sends the one that still fails to ``failure`` with the reason, so one bad
    FlowFile cannot block the queue. Script Engine values other than ``python`` (NiFi's Groovy,
    Clojure, ...) are rejected at validation with a hint.
    """

    tags = ("script", "python", "execute", "invoke", "custom")
    input_requirement = InputRequirement.ALLOWED
    example = """\
tag:
  type: ExecuteScript
  properties:
    Script Body: |
      ff = session.get()
      if ff is not None:
          session.transfer(session.put_attribute(ff, "tagged", "yes"), REL_SUCCESS)
"""

    SCRIPT_ENGINE = PropertyDescriptor(
        "script_engine",
        "The language of the script: only 'python' (NiFi's Groovy, Clojure, ... are "
        "not available and are rejected at validation).",
        display_name="Script Engine",
        default=PYTHON,
        required=True,
    )
    SCRIPT_FILE = PropertyDescriptor(
        "script_file",
        "Path of a file holding the script (exactly one of Script File and Script "
        "Body).",
        display_name="Script File",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    SCRIPT_BODY = PropertyDescriptor(
        "script_body",
        "The script itself (exactly one of Script File and Script Body).",
        display_name="Script Body",
    )
    MODULE_DIRECTORY = PropertyDescriptor(
        "module_directory",
        "Comma-separated directories added to the module search path (sys.path) so "
        "the script can import modules from them.",
        display_name="Module Directory",
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    dynamic_properties = DynamicProperties(
        "Bound as a variable of the script, holding the PropertyValue (evaluate it "
        "against a FlowFile for Expression Language).",
        name="A script variable name",
        value="Its value (Expression Language)",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    SUCCESS = Relationship("success", "FlowFiles the script transferred to success")
    FAILURE = Relationship("failure", "FlowFiles the script transferred to failure")

    def custom_validate(self, context: ProcessContext) -> list[str]:
        problems = []
        engine = context.property(self.SCRIPT_ENGINE).value or ""
        if engine != PYTHON:
            known = " (one of NiFi's engines)" if engine in NIFI_ENGINES else ""
            problems.append(
                f"Script Engine {engine!r}{known} is not supported: flowengine runs "
                "scripts in Python only; set Script Engine to 'python' and port the "
                "script (see the session API mapping in ExecuteScript's docs)"
            )
        has_file = context.property(self.SCRIPT_FILE).is_set
        has_body = context.property(self.SCRIPT_BODY).is_set
        if has_file == has_body:
            problems.append("exactly one of Script File and Script Body must be set")
        return problems

    def on_scheduled(self, context: ProcessContext) -> None:
        path = context.property(self.SCRIPT_FILE).evaluate().value
        if path:
            try:
                source = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ProcessException(
                    f"cannot read Script File {path!r}: {exc}"
                ) from exc
            name = path
        else:
            source = context.property(self.SCRIPT_BODY).value or ""
            name = "<Script Body>"
        try:
            self._code: CodeType = compile(source, name, "exec")
        except SyntaxError as exc:
            raise ProcessException(f"the script does not compile: {exc}") from exc
        dirs = context.property(self.MODULE_DIRECTORY).evaluate().value or ""
        for d in (p.strip() for p in dirs.split(",")):
            if d and d not in sys.path:
                sys.path.append(d)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        namespace: dict[str, Any] = {
            "__name__": "__flowengine_script__",
            "session": session,
            "context": context,
            "log": context.logger,
            "REL_SUCCESS": self.SUCCESS,
            "REL_FAILURE": self.FAILURE,
        }
        namespace.update(context.dynamic_properties)
        try:
            exec(self._code, namespace)
        except Exception as exc:
            context.logger.error("script_failed", error=repr(exc))
            raise ProcessException(
                f"the script raised {type(exc).__name__}: {exc}"
            ) from exc
