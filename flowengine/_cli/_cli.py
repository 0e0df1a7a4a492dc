"""The ``flowengine`` command line.

Imports are deferred into each command so ``flowengine --help`` starts fast. Logs always
go to stderr (console renderer on a TTY, JSON lines otherwise); stdout carries only data
(``schema``, ``processors --json``, ``describe --json``, ``el``).

Exit codes: 0 ok; 1 unexpected error; 2 invalid flow or usage; 3 drained, but FlowFiles
reached an auto-terminated failure relationship; 4 ``--timeout`` expired (or the run was
interrupted) before the flow drained — state is kept, a rerun continues; 5 a processor
cannot work as configured (missing bucket, rejected credentials: a ``ConfigurationError``
its retries did not cure) and ended an ``--until-drained`` run — its FlowFiles stay
queued, fix the configuration and rerun; 6 the state
directory cannot be used as it is (damaged FlowFile repository, FlowFiles queued for
connections the flow no longer has, no space left): nothing was changed, the message
says what to do (docs/durability.md, "What happens when…"); 130 / 143 stopped by SIGINT /
SIGTERM without a clean finish: a second signal stopped it at once, or triggers still
running when the grace period ended were abandoned (their sessions rolled back), 128 plus
the signal's number as shells report it. One signal and a clean stop keeps 0 (a
service) or 4 (an ``--until-drained`` run that had not drained).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._exit_codes import EXIT_INVALID, EXIT_OK, EXIT_SIGINT

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors exit 2, as documented
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds >= 0, not {text!r}"
        )
    return value


def _logging_options(p: argparse.ArgumentParser, default: Any) -> None:
    # Accepted before or after the command (flowengine run x.yaml --log-level debug).
    p.add_argument(
        "--log-level",
        default=default,
        choices=["debug", "info", "warning", "error"],
        help="log level (default info)",
    )
    p.add_argument(
        "--log-format",
        default=default,
        choices=["auto", "console", "json"],
        help="console on a TTY, JSON lines otherwise (default auto)",
    )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="flowengine",
        description="Run NiFi-style data flows written in YAML.",
        epilog="exit codes: 0 ok, 1 error, 2 invalid flow/usage, 3 failures, "
        "4 timed out, 5 a processor cannot work as configured, "
        "6 state directory needs attention, "
        "130 stopped by SIGINT / 143 by SIGTERM without a clean finish",
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    _logging_options(p, argparse.SUPPRESS)
    common = _Parser(add_help=False)
    _logging_options(common, argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add = sub.add_parser

    def sub_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
        return add(name, parents=[common], **kw)

    sub.add_parser = sub_parser  # type: ignore[assignment]

    run = sub.add_parser(
        "run",
        help="run a flow (a service until stopped, or a batch job with --until-drained)",
    )
    run.add_argument("flow", help="flow file (YAML)")
    run.add_argument(
        "--until-drained",
        action="store_true",
        help="stop once sources are finished and every queue is empty",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="give up after S seconds (exit 4)",
    )
    run.add_argument(
        "--grace-period",
        type=_seconds,
        default=None,
        metavar="S",
        help="on a stop (signal, --timeout, drained), let running triggers finish "
        "for up to S seconds, then abandon them and roll their sessions back "
        "(default 10; a second SIGINT/SIGTERM skips the rest of it)",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        help="set parameter #{K} (repeatable)",
    )
    run.add_argument(
        "--param-file",
        action="append",
        default=[],
        metavar="FILE",
        help="parameters from a YAML mapping or KEY=VALUE lines",
    )
    run.add_argument(
        "--state-dir",
        default=None,
        metavar="DIR",
        help="where durable repositories live (default .flowengine/<flow>)",
    )
    run.add_argument(
        "--in-memory",
        action="store_true",
        help="no durability: faster, for batch jobs that can simply be rerun",
    )
    run.add_argument(
        "--no-provenance", action="store_true", help="do not record provenance events"
    )
    run.add_argument(
        "--no-live", action="store_true", help="no live status table on a TTY"
    )
    run.add_argument(
        "--status-interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="without the live table (not a TTY, or --no-live), log a flow_status line "
        "(processors' in/out, queued totals, errors) this often; 0 turns it off "
        "(default: 30)",
    )
    run.add_argument(
        "--migrate",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="move FlowFiles queued for connection OLD (no longer in the flow) to NEW",
    )
    run.add_argument(
        "--drop-orphans",
        action="store_true",
        help="drop FlowFiles queued for connections no longer in the flow (DROP events)",
    )

    val = sub.add_parser(
        "validate", help="check flow files; errors as file:line:col: message"
    )
    val.add_argument("flows", nargs="+", help="flow files")
    val.add_argument("--param", action="append", default=[], metavar="K=V")
    val.add_argument("--param-file", action="append", default=[], metavar="FILE")

    procs = sub.add_parser(
        "processors", help="list processor and controller-service types"
    )
    procs.add_argument(
        "--json", action="store_true", help="machine-readable output on stdout"
    )

    desc = sub.add_parser(
        "describe",
        help="properties, relationships, attributes and an example of a type",
    )
    desc.add_argument("type", help="processor or controller-service type")
    desc.add_argument("--json", action="store_true")

    sub.add_parser("schema", help="print the JSON Schema of the flow file format")

    el = sub.add_parser(
        "el", help="evaluate an Expression Language expression", add_help=False
    )
    el.add_argument("rest", nargs=argparse.REMAINDER)

    prov = sub.add_parser(
        "provenance", help="query the provenance of a durable run", add_help=False
    )
    prov.add_argument("rest", nargs=argparse.REMAINDER)

    rep = sub.add_parser(
        "repair",
        help="salvage a damaged state directory (damaged files are moved aside)",
    )
    rep.add_argument("state_dir", metavar="STATE_DIR", help="the run's --state-dir")

    docs = sub.add_parser(
        "docs", help="write the generated processor reference (docs/processors.md)"
    )
    docs.add_argument(
        "--output", default=None, metavar="FILE", help="file to write (default: stdout)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["el"]:
        from ..expression import main as el_main

        return el_main(argv[1:])
    if argv[:1] == ["provenance"]:
        from ._cli_provenance import main as prov_main

        return prov_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from .. import __version__

        print(f"flowengine {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_INVALID
    from ._cli_logging import configure_logging

    configure_logging(
        getattr(args, "log_level", "info"), getattr(args, "log_format", "auto")
    )
    try:
        from . import _cli_commands as commands

        handler = getattr(commands, f"cmd_{args.command}")
        return int(handler(args))
    except KeyboardInterrupt:  # SIGINT before the run watches for signals
        return EXIT_SIGINT
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
