"""ExecuteStreamCommand: runs a program once per FlowFile, content in, output out.

The program is started directly (argv, never through a shell) as an anyio subprocess on
the event loop: one coroutine feeds stdin from the content in 256 KiB chunks while
another drains stdout into a spool file beside the content and a third keeps the last
4000 characters of stderr, so memory stays flat for any content size and no thread is
held per FlowFile. The spool file becomes the output FlowFile's content via
``import_from(..., link=True)`` (a hard link in a durable repository, no second copy).
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import BinaryIO

import anyio
from anyio.abc import ByteReceiveStream, ByteSendStream, Process

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

__all__ = ["ExecuteStreamCommand", "split_arguments"]

ARGS_PROPERTY = "Command Arguments Property"
ARGS_DYNAMIC = "Dynamic Property Arguments"
ARG_PREFIX = "command.argument."
CHUNK = 256 * 1024
STDERR_KEEP = 4000  # NiFi keeps at most 4000 characters of stderr in execution.error


def split_arguments(text: str, delimiter: str) -> list[str]:
    """Split ``text`` on ``delimiter`` outside double quotes; quotes are removed.

    This is NiFi's ArgumentUtils behaviour: ``a;"b;c";d`` is ``[a, b;c, d]``; empty
    pieces are dropped.
    """
    if not text:
        return []
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif not quoted and delimiter and text.startswith(delimiter, i):
            out.append("".join(cur))
            cur = []
            i += len(delimiter)
            continue
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return [a for a in out if a != ""]


class _Outcome:
    """What one run of the command produced."""

    __slots__ = ("error", "head", "head_limit", "out_bytes", "status", "stderr")

    def __init__(self) -> None:
        self.status: int = -1
        self.stderr = ""
        self.error: str | None = None  # set when the command could not run to the end
        self.out_bytes = 0
        self.head = b""  # the first bytes of stdout, for Output Destination Attribute
        self.head_limit = 0


class ExecuteStreamCommand(Processor):
    """Runs an external command with the FlowFile's content on stdin.

    Relationships as in NiFi: the incoming FlowFile (with the ``execution.*``
    attributes) goes to ``original``; a new FlowFile holding stdout goes to ``output
    stream`` when the exit code is 0 and to ``nonzero status`` otherwise. With Output
    Destination Attribute set, stdout (at most Max Attribute Length characters,
    truncated as NiFi does) is written to that attribute of the incoming FlowFile, which
    goes to ``original``. The command is never run through a shell.

    Beyond NiFi: NiFi has no timeout. ``Command Timeout`` (empty = none, as NiFi) kills
    a command that runs longer. A command that cannot be started (not found, not
    executable, bad working directory) or that is killed at the timeout sends the
    incoming FlowFile, unchanged content, to ``nonzero status`` with the reason in
    ``execution.error`` (NiFi would yield and log; it has no failure relationship).
    """

    tags = ("command", "process", "source", "external", "invoke", "script", "stream")
    input_requirement = InputRequirement.REQUIRED
    writes_attributes = {
        "execution.command": "the command path",
        "execution.command.args": "the arguments, joined by ';' ",
        "execution.status": "the exit code (-1 if it never ran; negative signal if killed)",
        "execution.error": "stderr (last 4000 characters) or why the command did not run",
        "mime.type": "Output MIME Type, on the output FlowFile when set",
    }
    example = """\
count-lines:
  type: ExecuteStreamCommand
  properties: {Command Path: wc, Command Arguments: "-l"}
"""

    STRATEGY = PropertyDescriptor(
        "command_arguments_strategy",
        "Where the arguments come from: the Command Arguments property split on the "
        "Argument Delimiter, or the dynamic properties named command.argument.N (in "
        "order of N).",
        display_name="Command Arguments Strategy",
        default=ARGS_PROPERTY,
        required=True,
        allowable_values=(AllowableValue(ARGS_PROPERTY), AllowableValue(ARGS_DYNAMIC)),
    )
    COMMAND_ARGUMENTS = PropertyDescriptor(
        "command_arguments",
        "The arguments, separated by the Argument Delimiter; double quotes keep a "
        "delimiter inside one argument.",
        display_name="Command Arguments",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("command_arguments_strategy", (ARGS_PROPERTY,)),
    )
    COMMAND_PATH = PropertyDescriptor(
        "command_path",
        "The program to run: a path, or a name looked up on PATH.",
        display_name="Command Path",
        required=True,
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    IGNORE_STDIN = PropertyDescriptor(
        "ignore_stdin",
        "If true, the content is not written to the command's stdin (stdin is empty).",
        display_name="Ignore STDIN",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    WORKING_DIRECTORY = PropertyDescriptor(
        "working_directory",
        "The directory to run the command in; default: the current directory.",
        display_name="Working Directory",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    ARGUMENT_DELIMITER = PropertyDescriptor(
        "argument_delimiter",
        "The delimiter between arguments in Command Arguments.",
        display_name="Argument Delimiter",
        default=";",
        required=True,
        validators=(validators.NON_EMPTY,),
        depends_on=("command_arguments_strategy", (ARGS_PROPERTY,)),
    )
    OUTPUT_ATTRIBUTE = PropertyDescriptor(
        "output_destination_attribute",
        "If set, stdout goes to this attribute of the incoming FlowFile instead of a "
        "new FlowFile; only 'original' is then used.",
        display_name="Output Destination Attribute",
    )
    MAX_ATTRIBUTE_LENGTH = PropertyDescriptor(
        "max_attribute_length",
        "With Output Destination Attribute: at most this many characters of stdout "
        "are kept (the rest is truncated, as in NiFi).",
        display_name="Max Attribute Length",
        default="256",
        validators=(validators.POSITIVE_INTEGER,),
    )
    OUTPUT_MIME_TYPE = PropertyDescriptor(
        "output_mime_type",
        "The mime.type of the output FlowFile (or of the original with Output "
        "Destination Attribute); default: unchanged.",
        display_name="Output MIME Type",
    )
    TIMEOUT = PropertyDescriptor(
        "command_timeout",
        "Not in NiFi. If set, a command still running after this long is killed and "
        "the FlowFile goes to 'nonzero status' with the reason.",
        display_name="Command Timeout",
        validators=(validators.TIME_PERIOD,),
    )
    dynamic_properties = DynamicProperties(
        "An environment variable for the command (added to the engine's "
        "environment); with Dynamic Property Arguments, command.argument.N is the "
        "N-th argument instead.",
        name="An environment variable name (or command.argument.N)",
        value="Its value (Expression Language)",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    ORIGINAL = Relationship(
        "original", "The incoming FlowFile, with the execution.* attributes"
    )
    OUTPUT_STREAM = Relationship(
        "output stream", "The command's stdout, when it exited with status 0"
    )
    NONZERO_STATUS = Relationship(
        "nonzero status",
        "The command's stdout when it exited non-zero; the incoming FlowFile when "
        "the command could not run or timed out",
    )

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        """Only 'original' when stdout goes to an attribute (as NiFi)."""
        if properties.get("output_destination_attribute"):
            return (cls.ORIGINAL,)
        return cls.relationships

    # -- one FlowFile ------------------------------------------------------------------
    def _argv(self, context: ProcessContext, ff: FlowFile) -> tuple[str, list[str]]:
        command = context.property(self.COMMAND_PATH).evaluate(ff).value or ""
        if context.property(self.STRATEGY).value == ARGS_DYNAMIC:
            numbered: list[tuple[int, str]] = []
            for name, pv in context.dynamic_properties.items():
                if name.startswith(ARG_PREFIX) and name[len(ARG_PREFIX) :].isdigit():
                    n = int(name[len(ARG_PREFIX) :])
                    numbered.append((n, pv.evaluate(ff).value or ""))
            return command, [v for _, v in sorted(numbered)]
        text = context.property(self.COMMAND_ARGUMENTS).evaluate(ff).value or ""
        delim = context.property(self.ARGUMENT_DELIMITER).value or ";"
        return command, split_arguments(text, delim)

    def _environment(self, context: ProcessContext, ff: FlowFile) -> dict[str, str]:
        env = dict(os.environ)
        dynamic_args = context.property(self.STRATEGY).value == ARGS_DYNAMIC
        for name, pv in context.dynamic_properties.items():
            if dynamic_args and name.startswith(ARG_PREFIX):
                continue
            env[name] = pv.evaluate(ff).value or ""
        return env

    async def on_trigger(
        self, context: ProcessContext, session: ProcessSession
    ) -> None:
        for ff in session.get(context.batch_size):
            await self._one(context, session, ff)

    async def _one(
        self, context: ProcessContext, session: ProcessSession, ff: FlowFile
    ) -> None:
        command, args = self._argv(context, ff)
        attrs = {
            "execution.command": command,
            "execution.command.args": ";".join(args),
        }
        cwd = context.property(self.WORKING_DIRECTORY).evaluate(ff).value or None
        timeout = context.property(self.TIMEOUT).as_duration()
        feed = not context.property(self.IGNORE_STDIN).as_bool()
        dest_attr = context.property(self.OUTPUT_ATTRIBUTE).value
        mime = context.property(self.OUTPUT_MIME_TYPE).value
        fd, spool = tempfile.mkstemp(prefix="flowengine-esc-")
        try:
            with os.fdopen(fd, "wb") as sink:
                outcome = await self._run(
                    session,
                    ff,
                    [command, *args],
                    cwd,
                    self._environment(context, ff),
                    feed,
                    sink,
                    math.inf if timeout is None else timeout,
                    4 * (context.property(self.MAX_ATTRIBUTE_LENGTH).as_int() or 256)
                    if dest_attr
                    else 0,
                )
            attrs["execution.status"] = str(outcome.status)
            if outcome.error is not None:
                attrs["execution.error"] = outcome.error
                context.logger.debug(
                    "command_failed", flowfile=ff.uuid, error=outcome.error
                )
                ff = session.put_attributes(ff, attrs)
                target = self.ORIGINAL if dest_attr else self.NONZERO_STATUS
                session.transfer(session.penalize(ff) if dest_attr else ff, target)
                return
            attrs["execution.error"] = outcome.stderr
            if dest_attr:
                limit = context.property(self.MAX_ATTRIBUTE_LENGTH).as_int() or 256
                head = outcome.head
                attrs[dest_attr] = head.decode("utf-8", "replace")[:limit]
                if mime:
                    attrs["mime.type"] = mime
                session.transfer(session.put_attributes(ff, attrs), self.ORIGINAL)
                return
            out = session.create(ff)
            out = session.import_from(spool, out, link=True)
            out_attrs = dict(attrs)
            if mime:
                out_attrs["mime.type"] = mime
            out = session.put_attributes(out, out_attrs)
            rel = self.OUTPUT_STREAM if outcome.status == 0 else self.NONZERO_STATUS
            session.transfer(out, rel)
            session.transfer(session.put_attributes(ff, attrs), self.ORIGINAL)
        finally:
            os.unlink(spool)

    async def _run(
        self,
        session: ProcessSession,
        ff: FlowFile,
        argv: list[str],
        cwd: str | None,
        env: dict[str, str],
        feed: bool,
        sink: BinaryIO,
        deadline_s: float,
        head_limit: int,
    ) -> _Outcome:
        outcome = _Outcome()
        outcome.head_limit = head_limit
        try:
            proc = await anyio.open_process(
                argv,
                stdin=-1 if feed else -3,  # PIPE / DEVNULL
                stdout=-1,
                stderr=-1,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            outcome.error = f"cannot run {argv[0]!r}: {exc.strerror or exc}"
            return outcome
        async with proc:
            with anyio.move_on_after(deadline_s) as scope:
                async with anyio.create_task_group() as tg:
                    if feed and proc.stdin is not None:
                        tg.start_soon(self._feed, session, ff, proc.stdin)
                    assert proc.stdout is not None
                    assert proc.stderr is not None
                    tg.start_soon(self._drain, proc.stdout, sink, outcome)
                    tg.start_soon(self._errors, proc.stderr, outcome)
                    await proc.wait()
            if scope.cancelled_caught:
                await self._kill(proc)
                outcome.error = (
                    f"command {argv[0]!r} still running after {deadline_s:g} s "
                    "(Command Timeout): killed"
                )
            outcome.status = proc.returncode if proc.returncode is not None else -1
        return outcome

    @staticmethod
    async def _kill(proc: Process) -> None:
        with anyio.CancelScope(shield=True):
            try:
                os.killpg(proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            with anyio.move_on_after(5):
                await proc.wait()

    @staticmethod
    async def _feed(
        session: ProcessSession, ff: FlowFile, stdin: ByteSendStream
    ) -> None:
        """Stream the content into stdin; a command that stops reading is fine."""
        try:
            with session.open(ff) as src:
                while chunk := src.read(CHUNK):
                    await stdin.send(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, BrokenPipeError):
            pass
        finally:
            with contextlib.suppress(anyio.BrokenResourceError, OSError):
                await stdin.aclose()

    @staticmethod
    async def _drain(
        stdout: ByteReceiveStream, sink: BinaryIO, outcome: _Outcome
    ) -> None:
        while True:
            try:
                chunk = await stdout.receive(CHUNK)
            except anyio.EndOfStream:
                break
            sink.write(chunk)
            if len(outcome.head) < outcome.head_limit:
                outcome.head += chunk[: outcome.head_limit - len(outcome.head)]
            outcome.out_bytes += len(chunk)

    @staticmethod
    async def _errors(stderr: ByteReceiveStream, outcome: _Outcome) -> None:
        tail = b""
        async for chunk in stderr:
            tail = (tail + chunk)[-STDERR_KEEP * 4 :]
        outcome.stderr = tail.decode("utf-8", "replace")[-STDERR_KEEP:]
