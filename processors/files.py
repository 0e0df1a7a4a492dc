"""Local files: ListFile, FetchFile, GetFile, PutFile (NiFi semantics, §9.2).

ListFile remembers what it listed (timestamp tracking, as NiFi) in state committed with
its FlowFiles, so a restart neither misses nor repeats files. PutFile writes to a hidden
temporary name and renames, and never writes outside its directory whatever the
``filename`` attribute says.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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

__all__ = ["FetchFile", "GetFile", "ListFile", "PutFile"]

_TS = "%Y-%m-%dT%H:%M:%S%z"
#: NiFi holds back files this recent: they may still be being written (ms precision)
LISTING_LAG = 0.1


def _fmt_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(_TS)


def _file_attributes(
    path: Path, root: Path, st: os.stat_result, detailed: bool
) -> dict[str, str]:
    rel_dir = path.parent.relative_to(root).as_posix()
    attrs = {
        "filename": path.name,
        "path": "./" if rel_dir in ("", ".") else rel_dir + "/",
        "absolute.path": str(path.parent) + os.sep,
        "file.size": str(st.st_size),
    }
    if detailed:
        attrs.update(
            {
                "file.lastModifiedTime": _fmt_time(st.st_mtime),
                "file.lastAccessTime": _fmt_time(st.st_atime),
                "file.creationTime": _fmt_time(
                    getattr(st, "st_birthtime", st.st_ctime)
                ),
                "file.permissions": stat.filemode(st.st_mode)[1:],
            }
        )
        try:
            import grp
            import pwd

            attrs["file.owner"] = pwd.getpwuid(st.st_uid).pw_name
            attrs["file.group"] = grp.getgrgid(st.st_gid).gr_name
        except (ImportError, KeyError):
            attrs["file.owner"] = str(st.st_uid)
            attrs["file.group"] = str(st.st_gid)
    return attrs


INPUT_DIRECTORY = PropertyDescriptor(
    "input_directory",
    "The directory to read files from.",
    display_name="Input Directory",
    required=True,
    validators=(validators.NON_EMPTY,),
    expression_language=ExpressionLanguageScope.ENVIRONMENT,
)
RECURSE = PropertyDescriptor(
    "recurse_subdirectories",
    "Also read files in subdirectories.",
    display_name="Recurse Subdirectories",
    default="true",
    required=True,
    allowable_values=("true", "false"),
)
FILE_FILTER = PropertyDescriptor(
    "file_filter",
    "Only files whose names fully match this regular expression.",
    display_name="File Filter",
    default=r"[^\.].*",
    required=True,
    validators=(validators.REGEX,),
)
PATH_FILTER = PropertyDescriptor(
    "path_filter",
    "When recursing, only subdirectories whose relative path fully matches this regex.",
    display_name="Path Filter",
    validators=(validators.REGEX,),
)
MIN_AGE = PropertyDescriptor(
    "minimum_file_age",
    "Files younger than this (by last modification) are left for later.",
    display_name="Minimum File Age",
    default="0 sec",
    required=True,
    validators=(validators.TIME_PERIOD,),
)
MAX_AGE = PropertyDescriptor(
    "maximum_file_age",
    "Files older than this are ignored.",
    display_name="Maximum File Age",
    validators=(validators.TIME_PERIOD,),
)
MIN_SIZE = PropertyDescriptor(
    "minimum_file_size",
    "Smaller files are ignored.",
    display_name="Minimum File Size",
    default="0 B",
    required=True,
    validators=(validators.DATA_SIZE,),
)
MAX_SIZE = PropertyDescriptor(
    "maximum_file_size",
    "Larger files are ignored.",
    display_name="Maximum File Size",
    validators=(validators.DATA_SIZE,),
)
IGNORE_HIDDEN = PropertyDescriptor(
    "ignore_hidden_files",
    "Ignore files and directories whose names start with a dot.",
    display_name="Ignore Hidden Files",
    default="true",
    required=True,
    allowable_values=("true", "false"),
)
IMPORT_STRATEGY = PropertyDescriptor(
    "import_strategy",
    "How a file's content enters the content repository.",
    display_name="Import Strategy",
    default="copy",
    required=True,
    allowable_values=(
        AllowableValue(
            "copy",
            description="Copy the bytes (in the kernel; a free clone on "
            "copy-on-write filesystems such as btrfs or XFS).",
        ),
        AllowableValue(
            "link",
            description="Hard-link the file into the durable content repository when "
            "both are on one filesystem: nothing is copied. Only for files nobody "
            "modifies in place afterwards (files renamed into the directory when "
            "complete, or removed by the Completion Strategy); otherwise, and with the "
            "in-memory repository, the bytes are copied.",
        ),
    ),
)


class _Scanner:
    """Walks a directory with the filters shared by ListFile and GetFile."""

    def __init__(self, context: ProcessContext) -> None:
        self.root = (
            Path(context.property(INPUT_DIRECTORY).evaluate().value or ".")
            .expanduser()
            .absolute()
        )
        self.recurse = bool(context.property(RECURSE).as_bool())
        self.file_filter = re.compile(context.property(FILE_FILTER).value or ".*")
        pf = context.property(PATH_FILTER).value
        self.path_filter = re.compile(pf) if pf else None
        self.min_age = context.property(MIN_AGE).as_duration() or 0.0
        self.max_age = context.property(MAX_AGE).as_duration()
        self.min_size = context.property(MIN_SIZE).as_data_size() or 0
        self.max_size = context.property(MAX_SIZE).as_data_size()
        self.ignore_hidden = bool(context.property(IGNORE_HIDDEN).as_bool())

    def scan(self, now: float) -> Iterator[tuple[Path, os.stat_result]]:
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            d = Path(dirpath)
            if self.ignore_hidden:
                dirnames[:] = [n for n in dirnames if not n.startswith(".")]
            if not self.recurse:
                dirnames[:] = []
            rel = d.relative_to(self.root).as_posix()
            if (
                self.path_filter is not None
                and rel not in ("", ".")
                and not self.path_filter.fullmatch(rel)
            ):
                continue
            for name in sorted(filenames):
                if self.ignore_hidden and name.startswith("."):
                    continue
                if not self.file_filter.fullmatch(name):
                    continue
                p = d / name
                try:
                    st = p.stat()
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                age = now - st.st_mtime
                if age < self.min_age or (
                    self.max_age is not None and age > self.max_age
                ):
                    continue
                if st.st_size < self.min_size or (
                    self.max_size is not None and st.st_size > self.max_size
                ):
                    continue
                yield p, st


class ListFile(Processor):
    """Lists files in a directory (one attribute-only FlowFile per file) for FetchFile.

    Remembers what it listed by modification time (NiFi's timestamp tracking): files
    newer than the last listing, or at the same timestamp but not listed yet, are
    emitted. Files modified within the last 100 ms are held back to the next listing
    because they may still be written. When the flow runs until drained it lists
    everything present at start and stops, waiting out that lag and the minimum age
    first only if a file was modified that recently.
    """

    tags = ("file", "get", "list", "ingest", "source", "filesystem")
    input_requirement = InputRequirement.FORBIDDEN
    run_inline = False  # file and directory I/O of any size: worker threads
    trigger_serially = True
    stateful = True
    default_schedule = {"period": 60.0}
    example = """\
list:
  type: ListFile
  properties: {input_directory: ./in, file_filter: '.*\\.csv'}
  schedule: {period: 10 sec}
"""
    INPUT_DIRECTORY = INPUT_DIRECTORY
    RECURSE = RECURSE
    FILE_FILTER = FILE_FILTER
    PATH_FILTER = PATH_FILTER
    INCLUDE_FILE_ATTRIBUTES = PropertyDescriptor(
        "include_file_attributes",
        "Add owner, group, permissions and times as attributes.",
        display_name="Include File Attributes",
        default="true",
        required=True,
        allowable_values=("true", "false"),
    )
    MIN_AGE = MIN_AGE
    MAX_AGE = MAX_AGE
    MIN_SIZE = MIN_SIZE
    MAX_SIZE = MAX_SIZE
    IGNORE_HIDDEN = IGNORE_HIDDEN
    writes_attributes = {
        "filename": "the file's name",
        "path": "directory relative to the input directory, ending in /",
        "absolute.path": "absolute directory, ending in /",
        "file.size": "size in bytes",
        "file.lastModifiedTime": "yyyy-MM-dd'T'HH:mm:ssZ",
        "file.owner": "owner (with Include File Attributes)",
        "file.permissions": "e.g. rw-r--r--",
    }
    SUCCESS = Relationship("success", "One FlowFile per listed file")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._started = time.time()

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        scanner = _Scanner(context)
        if context.is_draining:
            # List what was there at start, but only once files modified just before
            # start (maybe still being written) or younger than the minimum age have
            # settled. Waiting is needed only when such a file exists: a batch job over
            # old files starts at once.
            settled = self._started + LISTING_LAG + scanner.min_age
            wait = settled - time.time()
            recent = self._started - LISTING_LAG - scanner.min_age
            if wait > 0 and any(
                st.st_mtime > recent for _, st in scanner.scan(settled)
            ):
                context.yield_(wait)
                return
        now = time.time()
        state = session.get_state()
        last = float(state.get("listing.timestamp", "-1"))
        seen_at_last = {v for k, v in state.items() if k.startswith("id.")}
        horizon = self._started if context.is_draining else now - LISTING_LAG
        detailed = bool(context.property(self.INCLUDE_FILE_ATTRIBUTES).as_bool())
        new: list[tuple[float, str, Path, os.stat_result]] = []
        for p, st in scanner.scan(now):
            mt = st.st_mtime
            if mt > horizon:
                continue  # maybe still being written; next listing takes it
            key = str(p)
            if mt > last or (mt == last and key not in seen_at_last):
                new.append((mt, key, p, st))
        if not new:
            if context.is_draining:
                context.exhausted()
            else:
                context.yield_()
            return
        new.sort()
        for _mt, _key, p, st in new:
            ff = session.create()
            ff = session.put_attributes(
                ff, _file_attributes(p, scanner.root, st, detailed)
            )
            session.transfer(ff, self.SUCCESS)
        newest = new[-1][0]
        ids = [k for mt, k, _, _ in new if mt == newest]
        if newest == last:
            ids = sorted(seen_at_last | set(ids))
        new_state = {
            "listing.timestamp": repr(newest),
            "processed.timestamp": repr(now),
        }
        new_state.update({f"id.{i}": k for i, k in enumerate(ids)})
        session.set_state(new_state)
        if context.is_draining:
            context.exhausted()


class FetchFile(Processor):
    """Reads the content of the file a FlowFile names (from ListFile) into the FlowFile.

    After the session commits, the source file is left, moved or deleted (Completion
    Strategy); a crash in between means the file is fetched again, never lost.
    """

    tags = ("local", "files", "filesystem", "ingest", "fetch", "source", "input")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # file and directory I/O of any size: worker threads
    default_schedule = {"batch_size": 50}
    FILE_TO_FETCH = PropertyDescriptor(
        "file_to_fetch",
        "The full path of the file to read.",
        display_name="File to Fetch",
        default="${absolute.path}/${filename}",
        required=True,
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    COMPLETION_STRATEGY = PropertyDescriptor(
        "completion_strategy",
        "What to do with the source file once its content is safely in the flow.",
        display_name="Completion Strategy",
        default="None",
        required=True,
        allowable_values=(
            AllowableValue("None"),
            AllowableValue("Move File"),
            AllowableValue("Delete File"),
        ),
    )
    MOVE_DESTINATION = PropertyDescriptor(
        "move_destination_directory",
        "Where Move File puts the source file.",
        display_name="Move Destination Directory",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
        depends_on=("completion_strategy", ("Move File",)),
        required=True,
    )
    MOVE_CONFLICT = PropertyDescriptor(
        "move_conflict_strategy",
        "When the destination already has a file of that name.",
        display_name="Move Conflict Strategy",
        default="Rename",
        required=True,
        allowable_values=(
            AllowableValue("Rename"),
            AllowableValue("Replace File"),
            AllowableValue("Keep Existing"),
            AllowableValue("Fail"),
        ),
    )
    IMPORT_STRATEGY = IMPORT_STRATEGY
    SUCCESS = Relationship("success", "The file was read")
    NOT_FOUND = Relationship("not.found", "The file does not exist")
    PERMISSION_DENIED = Relationship(
        "permission.denied", "The file could not be read for lack of permission"
    )
    FAILURE = Relationship("failure", "Any other error reading the file")
    writes_attributes = {
        "fetch.failure.reason": "why a FlowFile went to a failure relationship"
    }

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if (
            context.property(self.COMPLETION_STRATEGY).value == "Move File"
            and not context.property(self.MOVE_DESTINATION).is_set
        ):
            return [
                "move_destination_directory is required with Completion Strategy 'Move File'"
            ]
        return []

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        done: list[tuple[Path, FlowFile]] = []
        link = context.property(self.IMPORT_STRATEGY).value == "link"
        for ff in session.get(context.batch_size):
            path = Path(context.property(self.FILE_TO_FETCH).evaluate(ff).value or "")
            try:
                ff = session.import_from(path, ff, link=link)
            except FileNotFoundError:
                context.logger.error(
                    "file_not_found", flowfile=ff.get("uuid"), path=str(path)
                )
                ff = session.put_attribute(
                    ff, "fetch.failure.reason", f"file not found: {path}"
                )
                session.transfer(session.penalize(ff), self.NOT_FOUND)
                continue
            except PermissionError:
                context.logger.error(
                    "file_permission_denied", flowfile=ff.get("uuid"), path=str(path)
                )
                ff = session.put_attribute(
                    ff, "fetch.failure.reason", f"permission denied: {path}"
                )
                session.transfer(session.penalize(ff), self.PERMISSION_DENIED)
                continue
            except OSError as exc:
                ff = session.put_attribute(
                    ff, "fetch.failure.reason", f"{type(exc).__name__}: {exc}"
                )
                session.transfer(session.penalize(ff), self.FAILURE)
                continue
            session.provenance.fetch(ff, path.absolute().as_uri())
            session.transfer(ff, self.SUCCESS)
            done.append((path, ff))
        strategy = context.property(self.COMPLETION_STRATEGY).value
        if strategy == "None" or not done:
            return
        session.commit()  # the content is safe in the flow: now the source may go
        for path, ff in done:
            try:
                if strategy == "Delete File":
                    path.unlink(missing_ok=True)
                else:
                    self._move(context, path, ff)
            except OSError as exc:
                context.bulletin(
                    "warning", f"could not complete {strategy} of {path}: {exc}", ff
                )

    def _move(self, context: ProcessContext, path: Path, ff: FlowFile) -> None:
        dest_dir = Path(
            context.property(self.MOVE_DESTINATION).evaluate(ff).value or ""
        )
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / path.name
        if dest.exists():
            conflict = context.property(self.MOVE_CONFLICT).value
            if conflict == "Keep Existing":
                path.unlink(missing_ok=True)
                return
            if conflict == "Fail":
                context.bulletin(
                    "warning", f"{dest} exists; source {path} left in place", ff
                )
                return
            if conflict == "Rename":
                dest = dest_dir / f"{int(time.time() * 1000)}-{path.name}"
        os.replace(path, dest)


class GetFile(Processor):
    """Picks up files from a directory into FlowFiles, deleting them unless kept.

    Prefer ListFile + FetchFile (restartable, parallelizable). With Keep Source File the
    same files are picked up again on every poll, as in NiFi.
    """

    tags = ("local", "files", "filesystem", "ingest", "source", "input", "get")
    input_requirement = InputRequirement.FORBIDDEN
    run_inline = False  # file and directory I/O of any size: worker threads
    trigger_when_empty = True
    INPUT_DIRECTORY = INPUT_DIRECTORY
    RECURSE = RECURSE
    KEEP_SOURCE = PropertyDescriptor(
        "keep_source_file",
        "Leave the source file in place (it will be picked up again).",
        display_name="Keep Source File",
        default="false",
        required=True,
        allowable_values=("true", "false"),
    )
    FILE_FILTER = FILE_FILTER
    PATH_FILTER = PATH_FILTER
    MIN_AGE = MIN_AGE
    MAX_AGE = MAX_AGE
    MIN_SIZE = MIN_SIZE
    MAX_SIZE = MAX_SIZE
    IGNORE_HIDDEN = IGNORE_HIDDEN
    POLLING_INTERVAL = PropertyDescriptor(
        "polling_interval",
        "How long to wait between directory listings when nothing was found.",
        display_name="Polling Interval",
        default="30 sec",
        required=True,
        validators=(validators.TIME_PERIOD,),
    )
    BATCH_SIZE = PropertyDescriptor(
        "batch_size",
        "Maximum files picked up per trigger.",
        display_name="Batch Size",
        default="10",
        required=True,
        validators=(validators.POSITIVE_INTEGER,),
    )
    IMPORT_STRATEGY = IMPORT_STRATEGY
    SUCCESS = Relationship("success", "Files picked up")
    writes_attributes = ListFile.writes_attributes

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        scanner = _Scanner(context)
        limit = context.property(self.BATCH_SIZE).as_int() or 10
        keep = bool(context.property(self.KEEP_SOURCE).as_bool())
        link = context.property(self.IMPORT_STRATEGY).value == "link"
        picked: list[Path] = []
        for p, st in scanner.scan(time.time()):
            if len(picked) >= limit:
                break
            ff = session.create()
            try:
                ff = session.import_from(p, ff, link=link)
            except OSError as exc:
                session.remove(ff)
                context.bulletin("warning", f"could not read {p}: {exc}")
                continue
            ff = session.put_attributes(ff, _file_attributes(p, scanner.root, st, True))
            session.provenance.receive(ff, p.as_uri())
            session.transfer(ff, self.SUCCESS)
            picked.append(p)
        if not picked:
            if context.is_draining:
                context.exhausted()
            else:
                context.yield_(context.property(self.POLLING_INTERVAL).as_duration())
            return
        if keep:
            if context.is_draining:
                context.exhausted()
            return
        session.commit()
        for p in picked:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


class PutFile(Processor):
    """Writes FlowFile content to files in a directory.

    The file is written under a hidden temporary name (``.<filename>.<pid>.tmp``) and
    renamed, so readers never see half a file. The ``filename`` attribute may name a
    subdirectory, but a name that would land outside the directory (absolute, ``..``, or
    through a symlink pointing out) goes to ``failure`` with ``putfile.failure.reason``.

    A process killed mid-write (kill -9, power loss) leaves its temporary behind. Once
    per scheduling, the first time PutFile writes into a directory it deletes the
    temporaries there whose PID is no longer a running process (never its own, never a
    live process's): a killed run's partials disappear when the processor runs again.
    """

    tags = ("put", "local", "copy", "archive", "files", "filesystem")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # file and directory I/O of any size: worker threads
    default_schedule = {"batch_size": 100}
    DIRECTORY = PropertyDescriptor(
        "directory",
        "The directory to write files to.",
        display_name="Directory",
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    CONFLICT = PropertyDescriptor(
        "conflict_resolution_strategy",
        "When a file of that name exists: replace it, ignore the FlowFile (success), or fail.",
        display_name="Conflict Resolution Strategy",
        default="fail",
        required=True,
        allowable_values=(
            AllowableValue("replace"),
            AllowableValue("ignore"),
            AllowableValue("fail"),
        ),
    )
    CREATE_DIRS = PropertyDescriptor(
        "create_missing_directories",
        "Create the directory (and subdirectories) when missing.",
        display_name="Create Missing Directories",
        default="true",
        required=True,
        allowable_values=("true", "false"),
    )
    MAX_FILES = PropertyDescriptor(
        "maximum_file_count",
        "Stop writing (FlowFiles wait, penalized) while the directory holds this many files.",
        display_name="Maximum File Count",
        validators=(validators.POSITIVE_INTEGER,),
    )
    LAST_MODIFIED = PropertyDescriptor(
        "last_modified_time",
        "Set the file's modification time (yyyy-MM-dd'T'HH:mm:ssZ).",
        display_name="Last Modified Time",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    PERMISSIONS = PropertyDescriptor(
        "permissions",
        "Permissions of the written file, e.g. rw-r----- or 0640.",
        display_name="Permissions",
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    SUCCESS = Relationship("success", "Files written (or ignored as conflicts)")
    FAILURE = Relationship(
        "failure", "Files that could not be written; see putfile.failure.reason"
    )
    reads_attributes = {"filename": "the name of the file to write"}
    writes_attributes = {"putfile.failure.reason": "why the FlowFile went to failure"}

    def on_scheduled(self, context: ProcessContext) -> None:
        self._swept: set[Path] = set()  # directories whose stale temporaries are gone

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            directory = context.property(self.DIRECTORY).evaluate(ff).value or ""
            try:
                target = _safe_target(Path(directory), ff.get("filename") or ff.uuid)
                outcome = self._write(context, session, ff, target)
            except _Refused as exc:
                ff = session.put_attribute(ff, "putfile.failure.reason", str(exc))
                context.logger.warning(
                    "putfile_refused", flowfile=ff.get("uuid"), reason=str(exc)
                )
                session.transfer(session.penalize(ff), self.FAILURE)
                continue
            except OSError as exc:
                ff = session.put_attribute(
                    ff, "putfile.failure.reason", f"{type(exc).__name__}: {exc}"
                )
                session.transfer(session.penalize(ff), self.FAILURE)
                continue
            except ContentError as exc:
                # This FlowFile's content is missing or short (issue 23.3): it alone
                # goes to failure; the files written for the rest of the batch stay
                # written and commit once (a rollback would write them again).
                reason = f"{type(exc).__name__}: {exc}"
                ff = session.put_attributes(
                    ff, {"putfile.failure.reason": reason, "error.message": str(exc)}
                )
                context.logger.warning(
                    "putfile_content_missing", flowfile=ff.get("uuid"), reason=reason
                )
                session.transfer(session.penalize(ff), self.FAILURE)
                continue
            if outcome == "wait":
                session.transfer(session.penalize(ff))
                continue
            if outcome == "written":
                session.provenance.send(ff, target.as_uri())
            session.transfer(ff, self.SUCCESS)

    def _write(
        self,
        context: ProcessContext,
        session: ProcessSession,
        ff: FlowFile,
        target: Path,
    ) -> str:
        root = target.parent
        if not root.exists():
            if not context.property(self.CREATE_DIRS).as_bool():
                raise _Refused(f"directory {root} does not exist")
            root.mkdir(parents=True, exist_ok=True)
        swept = getattr(self, "_swept", None)
        if swept is None:
            swept = self._swept = set()
        if root not in swept:
            swept.add(root)
            removed = _remove_stale_temporaries(root)
            if removed:
                context.logger.info(
                    "putfile_stale_temporaries_removed",
                    directory=str(root),
                    count=removed,
                )
        limit = context.property(self.MAX_FILES).as_int()
        if limit is not None and sum(1 for _ in root.iterdir()) >= limit:
            return "wait"
        if target.exists() or target.is_symlink():
            conflict = context.property(self.CONFLICT).value
            if conflict == "ignore":
                return "ignored"
            if conflict == "fail":
                raise _Refused(f"{target} already exists (conflict resolution 'fail')")
            if target.is_symlink():
                raise _Refused(f"{target} is a symbolic link; not replacing it")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "xb") as out:
                session.export_to(ff, out)
            perms = context.property(self.PERMISSIONS).evaluate(ff).value
            if perms:
                os.chmod(tmp, _parse_permissions(perms))
            mtime = context.property(self.LAST_MODIFIED).evaluate(ff).value
            if mtime:
                t = datetime.strptime(mtime, _TS).timestamp()
                os.utime(tmp, (t, t))
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return "written"


_TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    return True


def _remove_stale_temporaries(directory: Path) -> int:
    """Delete PutFile temporaries in ``directory`` left by processes no longer running."""
    removed = 0
    me = os.getpid()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        m = _TEMPORARY.match(entry.name)
        if m is None:
            continue
        pid = int(m.group(1))
        if pid == me or _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed += 1
    return removed


class _Refused(Exception):
    """PutFile refuses to write this FlowFile (reason in the message)."""


def _safe_target(directory: Path, filename: str) -> Path:
    """The file to write, proven to be inside ``directory`` (symlinks resolved)."""
    if not filename or "\x00" in filename:
        raise _Refused(f"invalid filename {filename!r}")
    name = Path(filename)
    if name.is_absolute() or filename.startswith(("/", "\\")):
        raise _Refused(
            f"filename {filename!r} is an absolute path; PutFile writes only inside {directory}"
        )
    if any(part == ".." for part in name.parts):
        raise _Refused(
            f"filename {filename!r} contains '..'; PutFile writes only inside {directory}"
        )
    root = directory.expanduser().absolute()
    target = root / name
    real_root = Path(os.path.realpath(root))
    real_parent = Path(os.path.realpath(target.parent))
    if real_parent != real_root and real_root not in real_parent.parents:
        raise _Refused(
            f"filename {filename!r} resolves outside {directory} (through a symbolic link)"
        )
    return target


def _parse_permissions(text: str) -> int:
    text = text.strip()
    if re.fullmatch(r"0?[0-7]{3}", text):
        return int(text, 8)
    if re.fullmatch(r"[r-][w-][x-][r-][w-][x-][r-][w-][x-]", text):
        mode = 0
        for i, ch in enumerate(text):
            if ch != "-":
                mode |= 1 << (8 - i)
        return mode
    raise ValueError(
        f"permissions {text!r}: use rwxr-x--- or an octal number like 0750"
    )
