"""The CLI's commands (imported only once a command runs, keeping ``--help`` fast)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import structlog

from .._errors import (
    FlowEngineError,
    ServiceError,
    StateDirectoryError,
    ValidationError,
)
from .._exit_codes import (
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_FAILURES,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_STATE,
    EXIT_TIMEOUT,
)
from .._flow._registry import default_registry

__all__ = [
    "cmd_describe",
    "cmd_docs",
    "cmd_processors",
    "cmd_repair",
    "cmd_run",
    "cmd_schema",
    "cmd_validate",
]

log = structlog.get_logger("flowengine.cli")


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _parameters(args: argparse.Namespace) -> dict[str, str] | None:
    """--param-file then --param (later wins); None (and a message) on a bad argument."""
    out: dict[str, str] = {}
    for pf in args.param_file:
        try:
            text = Path(pf).read_text(encoding="utf-8")
        except OSError as exc:
            _err(f"--param-file {pf}: {exc}")
            return None
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
        if isinstance(data, dict):
            out.update(
                {
                    str(k): ("true" if v is True else "false" if v is False else str(v))
                    for k, v in data.items()
                }
            )
            continue
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                _err(f"{pf}:{n}: expected KEY=VALUE")
                return None
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    for p in args.param:
        if "=" not in p:
            _err(f"--param {p!r}: expected KEY=VALUE")
            return None
        k, _, v = p.partition("=")
        out[k.strip()] = v
    return out


def _load(path: str, params: dict[str, str]) -> tuple[Any, list[str]]:
    from .._flow._loader import read_flow

    flow, problems = read_flow(path)
    if flow is not None:
        problems += flow.validate(params)
    return flow, [str(p) for p in problems]


def cmd_validate(args: argparse.Namespace) -> int:
    params = _parameters(args)
    if params is None:
        return EXIT_INVALID
    bad = 0
    for path in args.flows:
        _, problems = _load(path, params)
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            bad += 1
            print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        else:
            print(f"{path}: valid", file=sys.stderr)
    return EXIT_INVALID if bad else EXIT_OK


def _durable_available() -> bool:
    try:
        import flowengine._repository._durable  # noqa: F401
    except ImportError:
        return False
    return True


def cmd_run(args: argparse.Namespace) -> int:
    params = _parameters(args)
    if params is None:
        return EXIT_INVALID
    flow, problems = _load(args.flow, params)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        return EXIT_INVALID
    durable = not args.in_memory
    if durable and not _durable_available():
        log.warning("durable_repositories_unavailable", hint="running in memory")
        durable = False
    state_dir = args.state_dir or str(Path(".flowengine") / flow.name)
    live = sys.stderr.isatty() and not args.no_live
    shown = {
        k: (
            "********"
            if p.sensitive
            else (p.value if p.env is None else f"${{{p.env}}}")
        )
        for k, p in flow.parameters.items()
    }
    for k in params:
        if k in flow.parameters and flow.parameters[k].sensitive:
            shown[k] = "********"
        else:
            shown[k] = params[k]
    log.info(
        "flow_starting",
        flow=flow.name,
        file=args.flow,
        durable=durable,
        state_dir=state_dir if durable else None,
        until_drained=args.until_drained,
        parameters=shown,
    )
    try:
        result, signals = anyio.run(
            _run, flow, args, params, durable, state_dir, live, backend="asyncio"
        )
    except ValidationError as exc:
        for p in exc.problems:
            print(f"{args.flow}: {p}", file=sys.stderr)
        return EXIT_INVALID
    except ServiceError as exc:
        log.error("flow_failed", error=str(exc))
        return EXIT_ERROR
    except StateDirectoryError as exc:
        log.error("state_directory_unusable", state_dir=state_dir, error=str(exc))
        print(f"flowengine run: {exc}", file=sys.stderr)
        return EXIT_STATE
    except FlowEngineError as exc:
        log.error("flow_failed", error=str(exc))
        return EXIT_ERROR
    with result:
        from ._live import background_line, drain_flush_lines, print_summary

        if args.until_drained or live:
            print_summary(result.status, result.failures, sys.stderr)
        _report_halts(result.halted)
        for stuck in result.abandoned:
            # Also without the table: the one thing a user must learn from this stop.
            print(f"flowengine run: {stuck}", file=sys.stderr)
        code = _run_exit_code(args, result, signals)
        extra: dict[str, Any] = {}
        if flushed := drain_flush_lines(result.status):
            extra["flushed_at_drain"] = flushed
        if troubled := [t for t in result.status.background if t.failures]:
            extra["background"] = [background_line(t) for t in troubled]
        log.info(
            "flow_finished",
            flow=flow.name,
            drained=result.drained,
            timed_out=result.timed_out,
            seconds=round(result.seconds, 3),
            failures=[str(f) for f in result.failures],
            halted=[str(h) for h in result.halted],
            abandoned=[str(a) for a in result.abandoned],
            exit_code=code,
            **extra,
        )
    return _exit_leaving_abandoned_threads(code, bool(result.abandoned))


def _run_exit_code(args: argparse.Namespace, result: Any, signals: list[int]) -> int:
    """The exit code of ``run`` (docs/flow-format.md, "Exit codes"). A stop forced by a
    signal — the second one, or one whose grace period ended with triggers abandoned —
    is 128 + that signal (130 SIGINT, 143 SIGTERM) as shells expect; a clean stop after
    one signal keeps 0 (service) or 4 (an ``--until-drained`` run that had not drained);
    a processor that could not work as configured ended the run: 5; ``--timeout`` is 4
    whatever was abandoned."""
    if signals and (result.stopped_at_once or result.abandoned):
        return EXIT_SIGINT if signals[-1] == signal.SIGINT else EXIT_SIGTERM
    if result.halted:
        return EXIT_CONFIG
    if result.timed_out:
        return EXIT_TIMEOUT
    if args.until_drained:
        if not result.drained:
            return EXIT_TIMEOUT  # interrupted: state is kept, a rerun continues
        return EXIT_FAILURES if result.failures else EXIT_OK
    return EXIT_OK


def _exit_leaving_abandoned_threads(code: int, abandoned: bool) -> int:
    """Return ``code``; but when triggers were abandoned and their worker threads are
    still blocked, end the process now: the interpreter would otherwise wait for them
    at exit, perhaps forever. The repositories are closed by then (the run is over and
    its fenced sessions cannot commit), so nothing is lost by not waiting."""
    if abandoned and any(
        t.is_alive() and not t.daemon and t is not threading.main_thread()
        for t in threading.enumerate()
    ):
        log.info("exiting_without_waiting_for_abandoned_threads", exit_code=code)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    return code


def _report_halts(halts: list[Any]) -> None:
    """Say (stderr, after the summary) which processor ended the run and what to check:
    the reason of exit code 5."""
    for h in halts:
        print(
            f"stopped: processor {h.processor!r} cannot work as configured",
            file=sys.stderr,
        )
        print(f"  error: {h.code + ': ' if h.code else ''}{h.message}", file=sys.stderr)
        if h.resource:
            print(f"  where: {h.resource}", file=sys.stderr)
        if h.hint:
            print(f"  check: {h.hint}", file=sys.stderr)
    if halts:
        print(
            "  its FlowFiles are still queued: fix the configuration and run again "
            "(a durable run continues where this one stopped)",
            file=sys.stderr,
        )


async def _run(
    flow: Any,
    args: argparse.Namespace,
    params: dict[str, str],
    durable: bool,
    state_dir: str,
    live: bool,
) -> tuple[Any, list[int]]:
    holder: dict[str, Any] = {}
    signals: list[int] = []

    def on_start(runtime: Any) -> None:
        holder["runtime"] = runtime
        if signals:  # received while the flow was being opened
            runtime.request_stop(immediately=len(signals) > 1)

    async with anyio.create_task_group() as tg:

        async def watch_signals() -> None:
            # The first signal stops gracefully (the grace period); a second one stops
            # at once: triggers still running are abandoned, their sessions rolled back.
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as received:
                async for signum in received:
                    signals.append(signum)
                    name = signal.Signals(signum).name
                    rt = holder.get("runtime")
                    if len(signals) == 1:
                        log.info(
                            "stop_requested",
                            signal=name,
                            grace_period=None if rt is None else rt.grace_period,
                            hint="a second SIGINT/SIGTERM stops at once",
                        )
                    else:
                        log.warning("stop_requested_at_once", signal=name)
                    if rt is not None:
                        rt.request_stop(immediately=len(signals) > 1)

        tg.start_soon(watch_signals)
        if live:
            from ._live import live_status

            tg.start_soon(live_status, holder)
        elif args.status_interval > 0:
            from ._live import status_lines

            tg.start_soon(status_lines, holder, log, args.status_interval)
        failed: FlowEngineError | None = None
        try:
            migrate = {}
            for m in args.migrate:
                old, sep, new = m.partition("=")
                if not sep or not old or not new:
                    raise ValidationError(f"--migrate {m!r}: expected OLD=NEW")
                migrate[old] = new
            result = await flow.run_async(
                until_drained=args.until_drained,
                timeout=args.timeout,
                parameters=params,
                durable=durable,
                state_dir=state_dir,
                provenance=False if args.no_provenance else None,
                collect_outputs=False,
                on_start=on_start,
                migrate=migrate,
                drop_orphans=args.drop_orphans,
                grace_period=args.grace_period,
            )
        except FlowEngineError as exc:
            # Raised below, outside the task group, which would wrap it in an
            # ExceptionGroup that cmd_run's handlers (exit 2 / exit 1) never see.
            failed = exc
        tg.cancel_scope.cancel()
    if failed is not None:
        raise failed
    return result, signals


def cmd_processors(args: argparse.Namespace) -> int:
    from .._flow._describe import type_listing

    listing = type_listing(default_registry())
    if args.json:
        print(json.dumps(listing, indent=2))
    else:
        for title, key in (
            ("Processors", "processors"),
            ("Controller services", "controller_services"),
        ):
            print(f"{title}:")
            width = max((len(t["type"]) for t in listing[key]), default=10)
            for t in listing[key]:
                print(f"  {t['type']:<{width}}  {t['summary']}")
            print()
    for e in listing["errors"]:
        log.error("plugin_load_failed", type=e["type"], error=e["error"])
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    from .._errors import PluginError
    from .._flow._describe import describe_type, render_text

    if args.type.endswith((".yaml", ".yml")) or Path(args.type).is_file():
        return _describe_flow(args)
    reg = default_registry()
    cls = None
    error = None
    for kind in ("processor", "service"):
        try:
            cls = reg.resolve(kind, args.type)
            break
        except PluginError as exc:
            error = error or str(exc)
    if cls is None:
        _err(error or f"unknown type {args.type!r}")
        return EXIT_INVALID
    info = describe_type(cls)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        sys.stdout.write(render_text(info))
    return EXIT_OK


def _describe_flow(args: argparse.Namespace) -> int:
    """Describe a flow file: its components and resolved configuration, secrets masked."""
    from .._flow._loader import read_flow

    flow, problems = read_flow(args.type)
    if flow is None or problems:
        for p in problems:
            _err(str(p))
        return EXIT_INVALID
    try:
        plan = flow.plan()
    except ValidationError as exc:
        for message in exc.problems:
            _err(message)
        return EXIT_INVALID
    data: dict[str, Any] = {
        "flow": plan.name,
        "parameters": {},
        "processors": {},
        "services": {},
        "connections": [],
    }
    for k, param in flow.parameters.items():
        data["parameters"][k] = (
            "********"
            if param.sensitive
            else (f"env:{param.env}" if param.env else param.value)
        )
    for nid, node in plan.nodes.items():
        if node.kind != "processor":
            continue
        props = {}
        for d in node.cls.property_descriptors:
            v = node.declared.get(d.name)
            if v is not None:
                props[d.name] = "********" if d.sensitive else v
        props.update(node.dynamic)
        data["processors"][nid] = {
            "type": node.cls.type_name(),
            "properties": props,
            "relationships": [r.name for r in node.relationships],
            "auto_terminated": sorted(node.auto_terminated),
        }
    for sid, svc in plan.services.items():
        props = {}
        for d in svc.cls.property_descriptors:
            v = svc.declared.get(d.name)
            if v is not None:
                props[d.name] = "********" if d.sensitive else v
        data["services"][sid] = {"type": svc.cls.type_name(), "properties": props}
    for c in plan.connections:
        data["connections"].append(
            {
                "from": c.source,
                "relationships": list(c.relationships),
                "to": c.destination,
            }
        )
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from .._flow._schema import flow_schema

    print(json.dumps(flow_schema(default_registry()), indent=2, sort_keys=False))
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from .._flow._describe import processors_markdown

    text = processors_markdown(default_registry())
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_repair(args: argparse.Namespace) -> int:
    """Salvage a damaged state directory; exit 0 repaired, 6 in use or not a state dir."""
    from .._repository._durable import _lock
    from .._repository._durable._manifest import repair

    root = Path(args.state_dir)
    if not root.is_dir():
        print(f"flowengine repair: {root} is not a directory", file=sys.stderr)
        return EXIT_STATE
    try:
        fd = _lock(root)
    except FlowEngineError as exc:
        print(f"flowengine repair: {exc}", file=sys.stderr)
        return EXIT_STATE
    try:
        done = repair(root)
    finally:
        import os

        os.close(fd)
    log.info("state_directory_repaired", state_dir=str(root), **done)
    print(
        f"repaired {root}: {done['flowfiles']} FlowFiles in {done['queues']} queues "
        f"and {done['state']} component states salvaged "
        f"({done['unreadable_ranges']} unreadable ranges skipped); "
        f"{len(done['quarantined_database_files'])} database files and "
        f"{done['quarantined_content_files']} unreferenced content files moved to "
        f"{done['quarantine']}",
        file=sys.stderr,
    )
    return EXIT_OK
