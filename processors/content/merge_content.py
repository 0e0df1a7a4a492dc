"""MergeContent: merges many FlowFiles into one (NiFi's MergeContent).

Bins hold FlowFiles in their own session across triggers (``context.new_session`` and
``session.migrate``), so until a bin is merged and committed its FlowFiles are still in
the source queue: a crash or a kill -9 of a durable run loses nothing, and the FlowFiles
are binned again after the restart. Memory is bounded by the bins' metadata (FlowFile
records): the merged content is written by streaming each input into the new claim.
"""

from __future__ import annotations

import shutil
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flowengine import (
    AllowableValue,
    ContentError,
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

from .._merging import unique_attributes
from ._archive import entry_path, parse_tar_time
from ._flowfile_stream import MIME_V2, MIME_V3, write_header

__all__ = ["MergeContent"]

BIN_PACKING = "Bin-Packing Algorithm"
DEFRAGMENT = "Defragment"
KEEP_COMMON = "Keep Only Common Attributes"
KEEP_UNIQUE = "Keep All Unique Attributes"
FORMAT_TAR = "TAR"
FORMAT_ZIP = "ZIP"
FORMAT_FF_V3 = "FlowFile Stream, v3"
FORMAT_FF_V2 = "FlowFile Stream, v2"
FORMAT_CONCAT = "Binary Concatenation"
DELIM_NONE = "Do Not Use Delimiters"
DELIM_FILENAME = "Filename"
DELIM_TEXT = "Text"

# merge.reason values (NiFi's EvictionReason)
MAX_BYTES = "MAX_BYTES_THRESHOLD_REACHED"
MAX_ENTRIES = "MAX_ENTRIES_THRESHOLD_REACHED"
MIN_THRESHOLDS = "MIN_THRESHOLDS_REACHED"
TIMEOUT = "TIMEOUT"
BIN_MANAGER_FULL = "BIN_MANAGER_FULL"
#: flowengine's own: the run drained (nothing more can arrive) below the minimums
DRAINED = "DRAINED"
#: a bin ended by Bin Termination Check (NiFi documents no value for this case)
BIN_TERMINATION = "BIN_TERMINATION_SIGNAL"

# FlowFile Insertion Strategy: where the FlowFile that terminates a bin goes
LAST_IN_BIN = "LAST_IN_BIN"
FIRST_IN_NEW_BIN = "FIRST_IN_NEW_BIN"
ISOLATED = "ISOLATED"

_CHUNK = 1 << 16
_MIME = {
    FORMAT_TAR: "application/tar",
    FORMAT_ZIP: "application/zip",
    FORMAT_FF_V3: MIME_V3,
    FORMAT_FF_V2: MIME_V2,
}
_EXTENSION = {
    FORMAT_TAR: ".tar",
    FORMAT_ZIP: ".zip",
    FORMAT_FF_V3: ".pkg",
    FORMAT_FF_V2: ".pkg",
}


@dataclass
class _Bin:
    """FlowFiles waiting to be merged, held in their own session across triggers."""

    key: str | None
    session: ProcessSession
    created: float
    flowfiles: list[FlowFile] = field(default_factory=list)
    size: int = 0
    expected: int | None = None  # fragment.count when defragmenting
    #: binned this trigger, still in the trigger's session: migrated in one call
    #: (``migrate`` scans the source session, so one call per FlowFile is quadratic)
    pending: list[FlowFile] = field(default_factory=list)


def _is_number(value: str | None) -> bool:
    return value is not None and value.isascii() and value.isdigit()


class MergeContent(Processor):
    """Merges a group of FlowFiles into one, by Bin-Packing or by Defragmenting.

    *Bin-Packing Algorithm* fills a bin per value of the Correlation Attribute; a bin is
    merged when it reaches Maximum Number of Entries or Maximum Group Size, when it meets
    both minimums in a trigger that found no new input, when it is older than Max Bin
    Age, or when a new bin needs room (Maximum number of Bins: the oldest is merged,
    ``BIN_MANAGER_FULL``), or when a FlowFile for which Bin Termination Check is true
    ends it (FlowFile Insertion Strategy: it is the bin's last entry, the first of the
    next bin, or merged alone). *Defragment* rebuilds the fragments of one input from
    ``fragment.identifier`` / ``fragment.index`` / ``fragment.count``, in index order; a
    bin still missing fragments after Max Bin Age (or when the flow drains) goes to
    failure, as do fragments with conflicting ``fragment.count`` values. When the flow
    drains (``--until-drained``) every bin is merged, and those below a minimum are
    reported in the run summary (``merge.reason`` ``DRAINED``).

    Idle, it yields until the next bin's Max Bin Age deadline (at most its yield
    duration) instead of re-triggering.

    Binned FlowFiles stay in the incoming queue until merged, so they count against its
    back pressure (as in NiFi): with Minimum Number of Entries above the connection's
    object threshold (10,000 by default) a bin cannot fill; raise the threshold or set
    Max Bin Age.
    """

    tags = ("merge", "content", "concatenation", "archive", "tar", "zip", "flowfile")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # copies content: worker threads
    trigger_when_empty = True
    trigger_serially = True
    reads_attributes = {
        "fragment.identifier": "Defragment: the FlowFiles to merge together",
        "fragment.index": "Defragment: the order of the fragments",
        "fragment.count": "Defragment: how many fragments make the whole",
        "segment.original.filename": "the merged filename (if several FlowFiles)",
        "tar.permissions": "TAR: the entry's mode (octal digits, e.g. 644)",
    }
    writes_attributes = {
        "filename": "one input: its filename; else segment.original.filename of the "
        "first, else a timestamp; plus .tar / .zip / .pkg",
        "mime.type": "application/tar, application/zip, application/flowfile-v3/-v2; "
        "Binary Concatenation: the inputs' common mime.type",
        "merge.count": "FlowFiles merged",
        "merge.bin.age": "milliseconds the bin waited",
        "merge.reason": "MAX_BYTES_THRESHOLD_REACHED, MAX_ENTRIES_THRESHOLD_REACHED, "
        "MIN_THRESHOLDS_REACHED, TIMEOUT, BIN_MANAGER_FULL, BIN_TERMINATION_SIGNAL (or "
        "DRAINED)",
        "merge.uuid": "(on originals) the uuid of the merged FlowFile",
        "error.message": "(on failure) why",
    }
    example = """\
merge:
  type: MergeContent
  properties:
    minimum_number_of_entries: 1000
    maximum_number_of_entries: 10000
    max_bin_age: 30 sec
    delimiter_strategy: Text
    demarcator: "\\n"
"""

    MERGE_STRATEGY = PropertyDescriptor(
        "merge_strategy",
        "Bin-Packing fills bins with any FlowFiles (by Correlation Attribute); "
        "Defragment rebuilds the fragments of one input.",
        display_name="Merge Strategy",
        required=True,
        default=BIN_PACKING,
        allowable_values=(
            AllowableValue(BIN_PACKING, BIN_PACKING, "Fill bins as full as possible"),
            AllowableValue(
                DEFRAGMENT,
                DEFRAGMENT,
                "Combine fragments (fragment.identifier/index/count) into one",
            ),
        ),
    )
    MERGE_FORMAT = PropertyDescriptor(
        "merge_format",
        "The format of the merged content.",
        display_name="Merge Format",
        required=True,
        default=FORMAT_CONCAT,
        allowable_values=(
            AllowableValue(FORMAT_TAR, FORMAT_TAR, "One TAR archive"),
            AllowableValue(FORMAT_ZIP, FORMAT_ZIP, "One ZIP archive"),
            AllowableValue(FORMAT_FF_V3, FORMAT_FF_V3, "NiFi's FlowFile Stream v3"),
            AllowableValue(FORMAT_FF_V2, FORMAT_FF_V2, "NiFi's FlowFile Stream v2"),
            AllowableValue(FORMAT_CONCAT, FORMAT_CONCAT, "The contents concatenated"),
        ),
    )
    ATTRIBUTE_STRATEGY = PropertyDescriptor(
        "attribute_strategy",
        "Which attributes the merged FlowFile gets.",
        display_name="Attribute Strategy",
        required=True,
        default=KEEP_COMMON,
        allowable_values=(
            AllowableValue(
                KEEP_COMMON,
                KEEP_COMMON,
                "Attributes with the same value in every input",
            ),
            AllowableValue(
                KEEP_UNIQUE,
                KEEP_UNIQUE,
                "Every attribute that does not have conflicting values",
            ),
        ),
    )
    CORRELATION = PropertyDescriptor(
        "correlation_attribute_name",
        "If set, only FlowFiles with the same value of this attribute share a bin.",
        display_name="Correlation Attribute Name",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("merge_strategy", (BIN_PACKING,)),
    )
    BIN_TERMINATION_CHECK = PropertyDescriptor(
        "bin_termination_check",
        "An expression evaluated against each FlowFile: when it is true, the "
        "FlowFile's bin is merged at once, even below its minimums. Where the "
        "FlowFile itself goes is FlowFile Insertion Strategy. Order matters: give the "
        "incoming connection a prioritizer if arrival order is not the order wanted.",
        display_name="Bin Termination Check",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("merge_strategy", (BIN_PACKING,)),
    )
    FLOWFILE_INSERTION_STRATEGY = PropertyDescriptor(
        "flowfile_insertion_strategy",
        "Where a FlowFile that terminates its bin (Bin Termination Check) goes.",
        display_name="FlowFile Insertion Strategy",
        required=True,
        default=LAST_IN_BIN,
        allowable_values=(
            AllowableValue(
                LAST_IN_BIN, "Last in Bin", "It is the last entry of the bin it ends"
            ),
            AllowableValue(
                FIRST_IN_NEW_BIN,
                "First in New Bin",
                "The bin is merged without it; it starts the next bin",
            ),
            AllowableValue(
                ISOLATED,
                "Isolated",
                "The bin is merged without it; it is merged alone",
            ),
        ),
        depends_on=("merge_strategy", (BIN_PACKING,)),
    )
    MIN_ENTRIES = PropertyDescriptor(
        "minimum_number_of_entries",
        "FlowFiles a bin needs before it is merged (unless it ages out).",
        display_name="Minimum Number of Entries",
        required=True,
        default="1",
        validators=(validators.POSITIVE_INTEGER,),
        depends_on=("merge_strategy", (BIN_PACKING,)),
    )
    MAX_ENTRIES = PropertyDescriptor(
        "maximum_number_of_entries",
        "A bin with this many FlowFiles is merged.",
        display_name="Maximum Number of Entries",
        default="1000",
        validators=(validators.POSITIVE_INTEGER,),
        depends_on=("merge_strategy", (BIN_PACKING,)),
    )
    MIN_SIZE = PropertyDescriptor(
        "minimum_group_size",
        "Content a bin needs before it is merged (unless it ages out).",
        display_name="Minimum Group Size",
        required=True,
        default="0 B",
        validators=(validators.DATA_SIZE,),
        depends_on=("merge_strategy", (BIN_PACKING,)),
    )
    MAX_SIZE = PropertyDescriptor(
        "maximum_group_size",
        "A bin with this much content is merged; a larger FlowFile is merged alone.",
        display_name="Maximum Group Size",
        validators=(validators.DATA_SIZE,),
        depends_on=("merge_strategy", (BIN_PACKING,)),
    )
    MAX_BIN_AGE = PropertyDescriptor(
        "max_bin_age",
        "A bin this old is merged whatever its size (Defragment: sent to failure if "
        "fragments are missing). Without it a bin below its minimums can wait forever.",
        display_name="Max Bin Age",
        validators=(validators.TIME_PERIOD,),
    )
    MAX_BINS = PropertyDescriptor(
        "maximum_number_of_bins",
        "Bins held at once; a FlowFile that needs a new bin when all are in use merges "
        "the oldest bin first.",
        display_name="Maximum number of Bins",
        required=True,
        default="5",
        validators=(validators.POSITIVE_INTEGER,),
    )
    DELIMITER_STRATEGY = PropertyDescriptor(
        "delimiter_strategy",
        "Whether Header, Footer and Demarcator are file names or the text itself.",
        display_name="Delimiter Strategy",
        required=True,
        default=DELIM_NONE,
        allowable_values=(
            AllowableValue(DELIM_NONE, DELIM_NONE, "No header, footer or demarcator"),
            AllowableValue(
                DELIM_FILENAME, DELIM_FILENAME, "The values name files to read"
            ),
            AllowableValue(DELIM_TEXT, DELIM_TEXT, "The values are the text"),
        ),
        depends_on=("merge_format", (FORMAT_CONCAT,)),
    )
    HEADER = PropertyDescriptor(
        "header",
        "Filename or text written before the merged content.",
        display_name="Header",
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("delimiter_strategy", (DELIM_FILENAME, DELIM_TEXT)),
    )
    FOOTER = PropertyDescriptor(
        "footer",
        "Filename or text written after the merged content.",
        display_name="Footer",
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("delimiter_strategy", (DELIM_FILENAME, DELIM_TEXT)),
    )
    DEMARCATOR = PropertyDescriptor(
        "demarcator",
        "Filename or text written between the merged contents.",
        display_name="Demarcator",
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("delimiter_strategy", (DELIM_FILENAME, DELIM_TEXT)),
    )
    COMPRESSION_LEVEL = PropertyDescriptor(
        "compression_level",
        "ZIP: the deflate compression level.",
        display_name="Compression Level",
        required=True,
        default="1",
        allowable_values=tuple(AllowableValue(str(i)) for i in range(10)),
        depends_on=("merge_format", (FORMAT_ZIP,)),
    )
    KEEP_PATH = PropertyDescriptor(
        "keep_path",
        "ZIP/TAR: prefix each entry name with the FlowFile's path attribute.",
        display_name="Keep Path",
        required=True,
        default="false",
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
        depends_on=("merge_format", (FORMAT_TAR, FORMAT_ZIP)),
    )
    TAR_MODIFIED_TIME = PropertyDescriptor(
        "tar_modified_time",
        "TAR: each entry's modified time, ISO 8601 (yyyy-MM-dd'T'HH:mm:ssZ); an "
        "unparseable value leaves the merge time.",
        display_name="Tar Modified Time",
        default="${file.lastModifiedTime}",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("merge_format", (FORMAT_TAR,)),
    )

    MERGED = Relationship("merged", "The FlowFile containing the merged content")
    ORIGINAL = Relationship("original", "The FlowFiles that were merged")
    FAILURE = Relationship(
        "failure",
        "FlowFiles that could not be merged (Defragment with missing or inconsistent "
        "fragments, unreadable content)",
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        p = context.property
        out: list[str] = []
        if p(self.MERGE_STRATEGY).value == BIN_PACKING:
            lo, hi = p(self.MIN_ENTRIES).as_int() or 1, p(self.MAX_ENTRIES).as_int()
            if hi is not None and lo > hi:
                out.append(
                    f"minimum_number_of_entries ({lo}) exceeds "
                    f"maximum_number_of_entries ({hi})"
                )
            lo_b, hi_b = p(self.MIN_SIZE).as_data_size() or 0, p(self.MAX_SIZE)
            if hi_b.is_set and lo_b > (hi_b.as_data_size() or 0):
                out.append(
                    f"minimum_group_size ({p(self.MIN_SIZE).value}) exceeds "
                    f"maximum_group_size ({hi_b.value})"
                )
        if (
            p(self.MERGE_FORMAT).value == FORMAT_CONCAT
            and p(self.DELIMITER_STRATEGY).value == DELIM_FILENAME
        ):
            for desc in (self.HEADER, self.FOOTER, self.DEMARCATOR):
                v = p(desc)
                if (
                    v.is_set
                    and not v.has_expressions
                    and not Path(v.value or "").is_file()
                ):
                    out.append(f"{desc.name}: file {v.value!r} does not exist")
        return out

    def on_scheduled(self, context: ProcessContext) -> None:
        self._bins: dict[str | None, _Bin] = {}
        self._lock = threading.Lock()
        p = context.property
        self._defrag = p(self.MERGE_STRATEGY).value == DEFRAGMENT
        self._format = p(self.MERGE_FORMAT).value or FORMAT_CONCAT
        self._unique = p(self.ATTRIBUTE_STRATEGY).value == KEEP_UNIQUE
        self._corr = None if self._defrag else p(self.CORRELATION)
        if self._corr is not None and not self._corr.is_set:
            self._corr = None
        self._min_entries = int(p(self.MIN_ENTRIES).as_int() or 1)
        self._max_entries = int(p(self.MAX_ENTRIES).as_int() or 1000)
        self._min_size = int(p(self.MIN_SIZE).as_data_size() or 0)
        self._min_size_text = p(self.MIN_SIZE).value or "0 B"
        self._max_size = (
            p(self.MAX_SIZE).as_data_size() if p(self.MAX_SIZE).is_set else None
        )
        self._max_age = (
            p(self.MAX_BIN_AGE).as_duration() if p(self.MAX_BIN_AGE).is_set else None
        )
        self._max_bins = int(p(self.MAX_BINS).as_int() or 5)
        self._delimiters = (
            p(self.DELIMITER_STRATEGY).value if self._format == FORMAT_CONCAT else None
        ) or DELIM_NONE
        self._level = int(p(self.COMPRESSION_LEVEL).value or "1")
        self._keep_path = bool(p(self.KEEP_PATH).as_bool())
        check = p(self.BIN_TERMINATION_CHECK)
        self._termination = check if check.is_set and not self._defrag else None
        self._insertion = p(self.FLOWFILE_INSERTION_STRATEGY).value or LAST_IN_BIN

    # -- binning -------------------------------------------------------------------------
    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        with self._lock:
            self._session = session
            flowfiles = session.get(context.batch_size)
            for ff in flowfiles:
                self._bin_one(context, session, ff)
            for b in self._bins.values():
                self._migrate(b)
            now = context.monotonic()
            drained = context.upstream_exhausted()
            for b in list(self._bins.values()):
                if drained:
                    self._merge(context, b, self._drain_reason(context, b))
                elif self._max_age is not None and now - b.created >= self._max_age:
                    self._merge(context, b, TIMEOUT)
                elif not flowfiles and not self._defrag and self._meets_minimums(b):
                    self._merge(context, b, MIN_THRESHOLDS)
            if not flowfiles and not drained:
                self._idle(context, now)

    def _idle(self, context: ProcessContext, now: float) -> None:
        """Nothing arrived: yield (NiFi's BinFiles does too) rather than re-trigger at
        once, but no longer than until the oldest bin's Max Bin Age deadline."""
        wait = context.schedule.yield_duration
        if self._max_age is not None and self._bins:
            due = min(b.created for b in self._bins.values()) + self._max_age
            wait = min(wait, max(due - now, 0.0))
        if wait > 0:
            context.yield_(wait)

    def _meets_minimums(self, b: _Bin) -> bool:
        return len(b.flowfiles) >= self._min_entries and b.size >= self._min_size

    def _drain_reason(self, context: ProcessContext, b: _Bin) -> str:
        """Nothing more can arrive: merge the bin, reporting it when below a minimum
        (the run summary lists it)."""
        n = len(b.flowfiles)
        if self._defrag:
            if b.expected is None or n < b.expected:
                context.report_drain_flush(
                    n, "fragments", f"fragment.count {b.expected or '(unknown)'}"
                )
            return DRAINED
        if n < self._min_entries:
            context.report_drain_flush(
                n, "FlowFiles", f"{self.MIN_ENTRIES.label} {self._min_entries}"
            )
            return DRAINED
        if b.size < self._min_size:
            context.report_drain_flush(
                b.size, "bytes", f"{self.MIN_SIZE.label} {self._min_size_text}"
            )
            return DRAINED
        return MIN_THRESHOLDS

    def _fail_one(self, session: ProcessSession, ff: FlowFile, message: str) -> None:
        session.transfer(
            session.put_attribute(ff, "error.message", message), self.FAILURE
        )

    def _bin_one(
        self, context: ProcessContext, session: ProcessSession, ff: FlowFile
    ) -> None:
        expected: int | None = None
        if self._defrag:
            key = ff.get("fragment.identifier")
            if key is None:
                self._fail_one(
                    session,
                    ff,
                    "Cannot Defragment: the FlowFile has no fragment.identifier attribute",
                )
                return
            if not _is_number(ff.get("fragment.index")):
                self._fail_one(
                    session,
                    ff,
                    "Cannot Defragment: the FlowFile does not have an integer value "
                    "for the fragment.index attribute",
                )
                return
            count = ff.get("fragment.count")
            if count is not None:
                if not _is_number(count):
                    self._fail_one(
                        session,
                        ff,
                        "Cannot Defragment: the FlowFile does not have an integer "
                        "value for the fragment.count attribute",
                    )
                    return
                expected = int(count)
        else:
            key = None
            if self._corr is not None:
                name = self._corr.evaluate(ff).value
                key = ff.get(name) if name else None
            if self._max_size is not None and ff.size > self._max_size:
                # NiFi: a FlowFile that fits no bin is merged alone.
                self._merge_alone(context, key, ff, MAX_BYTES)
                return
            if self._termination is not None and self._terminates(ff):
                self._terminate(context, key, ff)
                return
        self._add(context, key, ff, expected)

    def _terminates(self, ff: FlowFile) -> bool:
        assert self._termination is not None
        value = self._termination.evaluate(ff).value
        return (value or "").strip().lower() == "true"

    def _terminate(
        self, context: ProcessContext, key: str | None, ff: FlowFile
    ) -> None:
        """``ff`` ends its bin (NiFi's Bin Termination Check): merge the bin with it
        last, or without it and start the next bin with it, or without it and merge
        it alone."""
        if self._insertion == LAST_IN_BIN:
            b = self._add(context, key, ff, None)
            if b is not None:
                self._merge(context, b, BIN_TERMINATION)
            return
        current = self._bins.get(key)
        if current is not None:
            self._merge(context, current, BIN_TERMINATION)
        if self._insertion == FIRST_IN_NEW_BIN:
            self._add(context, key, ff, None)
            return
        self._merge_alone(context, key, ff, BIN_TERMINATION)

    def _merge_alone(
        self, context: ProcessContext, key: str | None, ff: FlowFile, reason: str
    ) -> None:
        """Merge ``ff`` in a bin of its own, leaving the key's open bin as it is."""
        alone = self._new_bin(context, key, register=False)
        alone.pending.append(ff)
        alone.flowfiles.append(ff)
        alone.size = ff.size
        self._merge(context, alone, reason)

    def _add(
        self,
        context: ProcessContext,
        key: str | None,
        ff: FlowFile,
        expected: int | None,
    ) -> _Bin | None:
        """Put ``ff`` into its bin (merging a full one first); the bin, or None when
        adding it made the bin full and it was merged."""
        b = self._bins.get(key)
        if b is not None and not self._defrag:
            if len(b.flowfiles) + 1 > self._max_entries:
                self._merge(context, b, MAX_ENTRIES)
                b = None
            elif self._max_size is not None and b.size + ff.size > self._max_size:
                self._merge(context, b, MAX_BYTES)
                b = None
        if b is None:
            if len(self._bins) >= self._max_bins:
                oldest = min(self._bins.values(), key=lambda x: x.created)
                self._merge(context, oldest, BIN_MANAGER_FULL)
            b = self._new_bin(context, key)
        b.pending.append(ff)
        b.flowfiles.append(ff)
        b.size += ff.size
        if self._defrag:
            if expected is not None:
                b.expected = expected  # NiFi: the latest fragment.count rules the bin
            if b.expected is not None and len(b.flowfiles) >= b.expected:
                self._merge(context, b, MAX_ENTRIES)
                return None
        elif len(b.flowfiles) >= self._max_entries:
            self._merge(context, b, MAX_ENTRIES)
            return None
        elif self._max_size is not None and b.size >= self._max_size:
            self._merge(context, b, MAX_BYTES)
            return None
        return b

    def _new_bin(
        self, context: ProcessContext, key: str | None, register: bool = True
    ) -> _Bin:
        b = _Bin(key, context.new_session(), context.monotonic())
        if register:
            self._bins[key] = b
        return b

    def _migrate(self, b: _Bin) -> None:
        """Hand the FlowFiles binned this trigger to the bin's own session."""
        if b.pending:
            self._session.migrate(b.session, b.pending)
            b.pending = []

    # -- merging -------------------------------------------------------------------------
    def _merge(self, context: ProcessContext, b: _Bin, reason: str) -> None:
        if self._bins.get(b.key) is b:
            del self._bins[b.key]
        self._migrate(b)
        s = b.session
        flowfiles = b.flowfiles
        if self._defrag:
            error = _defragment_error(flowfiles, b.key)
            if error is not None:
                context.logger.warning(
                    "defragment_failed", error=error, flowfiles=len(flowfiles)
                )
                for ff in flowfiles:
                    self._fail_one(s, ff, error)
                s.commit()
                return
            flowfiles = sorted(
                flowfiles, key=lambda f: int(f.get("fragment.index") or 0)
            )
        merged = s.create(flowfiles)
        mime: list[str | None] = [None]

        def write(out: BinaryIO) -> None:
            mime[0] = self._write(context, s, flowfiles, out)

        try:
            merged = s.write(merged, write)
        except (OSError, ContentError, ValueError, tarfile.TarError) as exc:
            s.remove(merged)
            message = f"{type(exc).__name__}: {exc}"
            context.logger.warning("merge_failed", error=message)
            for ff in flowfiles:
                self._fail_one(s, ff, message)
            s.commit()
            return
        attrs = unique_attributes(flowfiles) if self._unique else {}
        attrs.pop("uuid", None)
        name = _merged_filename(flowfiles) + _EXTENSION.get(self._format, "")
        attrs.update(
            {
                "filename": name,
                "mime.type": mime[0] or "application/octet-stream",
                "merge.count": str(len(flowfiles)),
                "merge.bin.age": str(int((context.monotonic() - b.created) * 1000)),
                "merge.reason": reason,
            }
        )
        merged = s.put_attributes(merged, attrs)
        uid = merged.get("uuid") or ""
        for ff in flowfiles:
            s.transfer(s.put_attribute(ff, "merge.uuid", uid), self.ORIGINAL)
        s.transfer(merged, self.MERGED)
        s.commit()

    def _write(
        self,
        context: ProcessContext,
        s: ProcessSession,
        flowfiles: list[FlowFile],
        out: BinaryIO,
    ) -> str | None:
        """Stream the bin's contents into ``out``; return the merged mime.type."""
        fmt = self._format
        if fmt == FORMAT_CONCAT:
            return self._concat(context, s, flowfiles, out)
        if fmt in (FORMAT_FF_V3, FORMAT_FF_V2):
            version = 3 if fmt == FORMAT_FF_V3 else 2
            for ff in flowfiles:
                write_header(out, dict(ff.attributes), ff.size, version=version)
                with s.open(ff) as src:
                    shutil.copyfileobj(src, out, _CHUNK)
        elif fmt == FORMAT_TAR:
            self._tar(context, s, flowfiles, out)
        else:
            self._zip(s, flowfiles, out)
        return _MIME[fmt]

    def _entry_name(self, ff: FlowFile) -> str:
        path = entry_path(ff.get("path")) if self._keep_path else ""
        return path + (ff.get("filename") or ff.get("uuid") or "")

    def _concat(
        self,
        context: ProcessContext,
        s: ProcessSession,
        flowfiles: list[FlowFile],
        out: BinaryIO,
    ) -> str | None:
        first = flowfiles[0]
        header, footer, demarcator = (
            self._delimiter(context, d, first)
            for d in (self.HEADER, self.FOOTER, self.DEMARCATOR)
        )
        if header:
            out.write(header)
        for i, ff in enumerate(flowfiles):
            if i and demarcator:
                out.write(demarcator)
            with s.open(ff) as src:
                shutil.copyfileobj(src, out, _CHUNK)
        if footer:
            out.write(footer)
        mimes = {ff.get("mime.type") for ff in flowfiles}
        return mimes.pop() if len(mimes) == 1 else None

    def _delimiter(
        self, context: ProcessContext, desc: PropertyDescriptor, first: FlowFile
    ) -> bytes | None:
        """Header/Footer/Demarcator, evaluated against the bin's first FlowFile."""
        if self._delimiters == DELIM_NONE:
            return None
        value = context.property(desc).evaluate(first).value
        if value is None:
            return None
        if self._delimiters == DELIM_FILENAME:
            return Path(value).read_bytes()
        return value.encode("utf-8")

    def _tar(
        self,
        context: ProcessContext,
        s: ProcessSession,
        flowfiles: list[FlowFile],
        out: BinaryIO,
    ) -> None:
        now = time.time()
        mtime_prop = context.property(self.TAR_MODIFIED_TIME)
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
            for ff in flowfiles:
                info = tarfile.TarInfo(self._entry_name(ff))
                info.size = ff.size
                perms = ff.get("tar.permissions")
                if (
                    perms is not None
                    and len(perms) == 3
                    and all(c in "01234567" for c in perms)
                ):
                    info.mode = int(perms, 8)
                mtime = parse_tar_time(mtime_prop.evaluate(ff).value)
                info.mtime = int(now if mtime is None else mtime)
                with s.open(ff) as src:
                    tar.addfile(info, src)

    def _zip(self, s: ProcessSession, flowfiles: list[FlowFile], out: BinaryIO) -> None:
        stamp = time.localtime()[:6]
        with zipfile.ZipFile(
            out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=self._level
        ) as zf:
            for ff in flowfiles:
                info = zipfile.ZipInfo(self._entry_name(ff), date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                # a ZipInfo does not inherit the archive's level (3.13 renames it)
                info._compresslevel = self._level  # type: ignore[attr-defined]
                if hasattr(info, "compress_level"):
                    info.compress_level = self._level
                info.file_size = ff.size
                with (
                    s.open(ff) as src,
                    zf.open(info, "w", force_zip64=ff.size >= 0x7FFFFFFF) as dst,
                ):
                    shutil.copyfileobj(src, dst, _CHUNK)

    def on_unscheduled(self, context: ProcessContext) -> None:
        """Held FlowFiles go back to the queue (nothing is lost; they merge next run)."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            for b in self._bins.values():
                b.session.rollback()
            self._bins = {}


def _defragment_error(flowfiles: list[FlowFile], fragment_id: str | None) -> str | None:
    """NiFi's Defragment checks of a bin about to be merged: one fragment.count for all,
    and exactly that many fragments."""
    decided: str | None = None
    for ff in flowfiles:
        count = ff.get("fragment.count")
        if count is None:
            continue
        if decided is None:
            decided = count
        elif decided != count:
            return (
                f"Cannot Defragment FlowFiles with Fragment Identifier {fragment_id} "
                f"because they have differing values for the fragment.count "
                f"attribute: {decided} and {count}"
            )
    if decided is None:
        return (
            f"Cannot Defragment FlowFiles with Fragment Identifier {fragment_id} "
            "because no FlowFile arrived with the fragment.count attribute and the "
            "expected number of fragments is unknown"
        )
    expected, n = int(decided), len(flowfiles)
    if n < expected:
        return (
            f"Cannot Defragment FlowFiles with Fragment Identifier {fragment_id} "
            f"because the expected number of fragments is {expected} but found only "
            f"{n} fragments"
        )
    if n > expected:
        return (
            f"Cannot Defragment FlowFiles with Fragment Identifier {fragment_id} "
            f"because the expected number of fragments is {expected} but found {n} "
            "fragments for this identifier"
        )
    return None


def _merged_filename(flowfiles: list[FlowFile]) -> str:
    """NiFi's createFilename: one input keeps its name; else the first input's
    segment.original.filename; else a nanosecond timestamp."""
    first = flowfiles[0]
    if len(flowfiles) == 1:
        return first.get("filename") or ""
    original = first.get("segment.original.filename")
    return original if original is not None else str(time.time_ns())
