"""The messages every implementation processes, and the output check they share.

Pure Python with no dependencies: it is imported by our workloads and by the peer
programs inside their own virtual environments. Both modes yield 100-byte lines (99
characters and a newline) so that one output file is comparable byte for byte.

* ``flowfiles`` (workload 1): message ``i`` is the fixed payload with the attributes
  ``seq = i`` and ``stage = bench``; keep it when ``seq`` is even; write the payload.
* ``records`` (workload 1b): line ``i`` of an input file is ``f"{i:09d} "`` plus
  lower-case filler; upper-case it; keep it when ``i`` is even; write it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

#: 99 characters; every writer adds the newline (GenerateFlowFile's content has it).
PAYLOAD_TEXT = ("flowengine small-flowfiles benchmark payload " * 3)[:99]
PAYLOAD = PAYLOAD_TEXT.encode() + b"\n"
FILLER = ("the quick brown fox jumps over the lazy dog " * 3)[: 99 - 10]


# -- flowfiles mode --------------------------------------------------------------------
def flowfile_messages(n: int) -> Iterator[tuple[str, dict[str, str]]]:
    """Generated messages: (content, attributes)."""
    for i in range(n):
        yield PAYLOAD_TEXT, {"i": str(i)}


def flowfile_map(msg: tuple[str, dict[str, str]]) -> tuple[str, dict[str, str]]:
    """UpdateAttribute's work: two attributes, a sequence number and a literal."""
    content, attrs = msg
    return content, {**attrs, "seq": attrs["i"], "stage": "bench"}


def flowfile_keep(msg: tuple[str, dict[str, str]]) -> bool:
    """RouteOnAttribute's condition: ``seq`` is even."""
    return int(msg[1]["seq"]) % 2 == 0


def flowfile_content(msg: tuple[str, dict[str, str]]) -> str:
    return msg[0]


# -- records mode ----------------------------------------------------------------------
def record_line(i: int) -> str:
    """Line ``i`` of the records input (99 characters, no newline)."""
    return f"{i:09d} {FILLER}"


def write_records_input(path: str, n: int) -> None:
    """The records input file: ``n`` lines of 100 bytes."""
    with open(path, "w", buffering=1 << 20) as f:
        for start in range(0, n, 10_000):
            f.write(
                "".join(
                    record_line(i) + "\n" for i in range(start, min(n, start + 10_000))
                )
            )


def record_map(line: str) -> str:
    return line.upper()


def record_keep(line: str) -> bool:
    return int(line[:9]) % 2 == 0


# -- the check -------------------------------------------------------------------------
def digest(path: str) -> tuple[int, str]:
    """(line count, order-independent checksum) of a file, in constant memory.

    The checksum is the sum modulo 2**64 of each line's 8-byte BLAKE2b: independent of
    order (Beam does not promise one), sensitive to duplicates, and streamed, so that
    checking the output does not raise the peak RSS of the variant being measured.
    """
    count = total = 0
    with open(path, "rb") as f:
        for line in f:
            digest = hashlib.blake2b(line.rstrip(b"\n"), digest_size=8).digest()
            total += int.from_bytes(digest, "little")
            count += 1
    return count, f"{total % (1 << 64):016x}"


def result(seconds: float, out: str, **extra: Any) -> dict[str, Any]:
    count, checksum = digest(out)
    return {"seconds": seconds, "count": count, "checksum": checksum, **extra}
