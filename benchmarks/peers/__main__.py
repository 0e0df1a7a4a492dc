"""``python -m benchmarks.peers setup [PEER...]``: create the peers' environments."""

from __future__ import annotations

import argparse
import sys

from benchmarks.peers import PEERS, cache_dir, peer_python, setup


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run ``setup`` or ``status``."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.peers")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup", help="create one virtual environment per peer")
    s.add_argument(
        "peers", nargs="*", metavar="PEER", help=f"default: all of {list(PEERS)}"
    )
    sub.add_parser("status", help="which peers are ready")
    args = ap.parse_args(argv)
    if args.cmd == "status":
        for peer in PEERS:
            print(f"{peer}: {peer_python(peer) or 'not set up'}")
        print(f"cache: {cache_dir()}")
        return 0
    unknown = [p for p in args.peers if p not in PEERS]
    if unknown:
        ap.error(f"unknown peer(s) {unknown}; known: {list(PEERS)}")
    return 1 if setup(args.peers or None) else 0


if __name__ == "__main__":
    sys.exit(main())
