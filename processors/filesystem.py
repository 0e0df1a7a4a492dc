"""ListFileSystem, FetchFileSystem, PutFileSystem: files on any fsspec filesystem.

One URL names the place (``file:///data/in``, ``memory://x``, ``s3://bucket/prefix``,
``gcs://``, ``abfs://``, ``sftp://host/dir`` …), so one flow can move data between
stores. Dynamic properties are passed to the filesystem as storage options (e.g.
``anon: true``); for ``s3://`` URLs an AWSCredentialsProviderControllerService may be
named instead, and its filesystem (credentials, endpoint) is used.

These processors are synchronous (fsspec's blocking API in worker threads): content is
streamed in 1 MB chunks both ways, so memory stays bounded. PutFileSystem writes to a
hidden temporary name and renames on filesystems where renaming is atomic (local, SFTP);
on object stores a write only becomes visible when it completes, so it writes in place.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from flowengine.controller_services.aws import AWSCredentialsProvider
from flowengine.processors.aws._tracking import ListingEntry, TimestampTracker

from flowengine import (
    ALLOWABLE_BOOLEANS,
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
    choices,
    validators,
)

__all__ = ["FetchFileSystem", "ListFileSystem", "PutFileSystem"]

CHUNK = 1 << 20
_RENAME_ATOMIC = frozenset({"file", "local", "sftp", "ssh"})
_STORAGE_OPTIONS = DynamicProperties(
    "A storage option passed to the fsspec filesystem (e.g. anon=true).",
    name="An fsspec storage option",
    value="Its value (true/false/integers are converted)",
    expression_language=ExpressionLanguageScope.ENVIRONMENT,
)
_AWS = PropertyDescriptor(
    "aws_credentials_provider",
    "For s3:// URLs: the AWS service whose credentials and endpoint to use.",
    display_name="AWS Credentials Provider Service",
    service=AWSCredentialsProvider,
)


def _option(value: str) -> Any:
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(value)
    except ValueError:
        return value


def filesystem(context: ProcessContext, url: str) -> tuple[Any, str]:
    """(fsspec filesystem, path within it) for ``url``."""
    import fsspec

    if url.startswith(("s3://", "s3a://")) and context.property(_AWS).is_set:
        service = context.property(_AWS).as_service(AWSCredentialsProvider)
        return service.filesystem(), url.split("://", 1)[1]
    opts = {
        k: _option(v.evaluate().value or "")
        for k, v in context.dynamic_properties.items()
    }
    fs, path = fsspec.core.url_to_fs(url, **opts)
    return fs, path


def _protocol(fs: Any) -> str:
    proto = fs.protocol
    return str(proto[0] if isinstance(proto, tuple | list) else proto)


def _mtime_ms(info: dict[str, Any]) -> int:
    """Last modification of a file from an fsspec info dict (names differ per store)."""
    for key in (
        "mtime",
        "LastModified",
        "last_modified",
        "modified",
        "updated",
        "created",
    ):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return int(value.timestamp() * 1000)
        try:
            return int(float(value) * 1000)
        except (TypeError, ValueError):
            continue
    return 0


def _url(fs: Any, path: str) -> str:
    return str(fs.unstrip_protocol(path))


class ListFileSystem(Processor):
    """Lists the files under a URL on any fsspec filesystem, one FlowFile per new file.

    Tracks timestamps like ListS3/ListFile (newest modification time plus the files at
    it), committed with the FlowFiles. In run-until-drained mode it lists once.
    """

    input_requirement = InputRequirement.FORBIDDEN
    run_inline = False  # file and directory I/O of any size: worker threads
    trigger_serially = True
    stateful = True
    tags = ("fsspec", "list", "files", "s3", "gcs", "azure", "sftp")
    default_schedule = {"period": 60.0}
    dynamic_properties = _STORAGE_OPTIONS
    example = """\
list:
  type: ListFileSystem
  properties: {url: "file:///data/in", file_filter: ".*\\\\.csv"}
"""
    writes_attributes = {
        "filename": "the file's name",
        "path": "directory relative to the listed URL (./ at the top)",
        "absolute.path": "the file's directory within the filesystem",
        "fs.url": "the file's full URL (FetchFileSystem's default)",
        "file.size": "size in bytes",
        "file.lastModifiedTime": "last modification, ms since the epoch",
    }

    URL = PropertyDescriptor(
        "url",
        "The directory to list, as an fsspec URL.",
        display_name="Directory URL",
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.ENVIRONMENT,
    )
    RECURSE = PropertyDescriptor(
        "recurse",
        "List subdirectories too.",
        display_name="Recurse Subdirectories",
        default="true",
        allowable_values=ALLOWABLE_BOOLEANS,
    )
    FILE_FILTER = PropertyDescriptor(
        "file_filter",
        "Only file names matching this regular expression.",
        display_name="File Filter",
        default=r"[^\.].*",
        validators=(validators.REGEX,),
    )
    MIN_AGE = PropertyDescriptor(
        "minimum_file_age",
        "Files modified more recently than this wait for a later listing.",
        display_name="Minimum File Age",
        default="0 sec",
        validators=(validators.TIME_PERIOD,),
    )
    AWS = _AWS
    SUCCESS = Relationship("success", "One FlowFile per new file")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        url = (context.property(self.URL).evaluate().value or "").rstrip("/")
        fs, root = filesystem(context, url)
        root = root.rstrip("/")
        pattern = re.compile(context.property(self.FILE_FILTER).value or ".*")
        min_age = context.property(self.MIN_AGE).as_duration() or 0.0
        if context.is_draining and min_age:
            time.sleep(min_age)  # files present at start must become old enough
        newest = int((time.time() - min_age) * 1000)
        state = session.get_state()
        if state.get("listing.config") != url:
            state = {}
        tracker = TimestampTracker.load(state)
        if context.property(self.RECURSE).as_bool():
            infos = fs.find(root, detail=True, withdirs=False)
        else:
            infos = {
                i["name"]: i
                for i in fs.ls(root, detail=True)
                if i.get("type") != "directory"
            }
        count = 0
        for path in sorted(infos):
            info = infos[path]
            name = path.rstrip("/").rsplit("/", 1)[-1]
            if not pattern.fullmatch(name):
                continue
            entry = ListingEntry(path, _mtime_ms(info), int(info.get("size") or 0), "")
            if entry.last_modified_ms > newest or not tracker.is_new(entry):
                continue
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            rel = parent[len(root) :].strip("/")
            ff = session.create()
            ff = session.put_attributes(
                ff,
                {
                    "filename": name,
                    "path": f"{rel}/" if rel else "./",
                    "absolute.path": f"{parent}/",
                    "fs.url": _url(fs, path),
                    "file.size": str(entry.size),
                    "file.lastModifiedTime": str(entry.last_modified_ms),
                },
            )
            session.transfer(ff, self.SUCCESS)
            tracker.emitted(entry)
            count += 1
        session.set_state(tracker.finish({"listing.config": url}))
        if context.is_draining:
            context.exhausted()
        elif not count:
            context.yield_()


class FetchFileSystem(Processor):
    """Replaces a FlowFile's content with a file from any fsspec filesystem (streamed)."""

    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # file and directory I/O of any size: worker threads
    tags = ("fsspec", "fetch", "files", "s3", "gcs", "azure", "sftp")
    dynamic_properties = _STORAGE_OPTIONS
    default_schedule = {"batch_size": 10}
    writes_attributes = {
        "fs.exception": "on failure: the error's class",
        "fs.errorMessage": "on failure: the error message",
    }

    URL = PropertyDescriptor(
        "url",
        "The file to fetch.",
        display_name="File URL",
        default="${fs.url}",
        required=True,
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    COMPLETION = PropertyDescriptor(
        "completion_strategy",
        "What to do with the source file once fetched.",
        display_name="Completion Strategy",
        default="None",
        allowable_values=(AllowableValue("None"), AllowableValue("Delete File")),
    )
    AWS = _AWS
    SUCCESS = Relationship("success", "The content was fetched")
    NOT_FOUND = Relationship("not.found", "No such file")
    FAILURE = Relationship("failure", "The file could not be read")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            url = context.property(self.URL).evaluate(ff).value or ""
            try:
                fs, path = filesystem(context, url)
                started = time.monotonic()
                with fs.open(path, "rb") as f:
                    ff = session.write(ff, _chunks(f))
                session.provenance.fetch(
                    ff, url, duration_ms=int((time.monotonic() - started) * 1000)
                )
                if context.property(self.COMPLETION).value == "Delete File":
                    fs.rm(path)
                session.transfer(ff, self.SUCCESS)
            except FileNotFoundError as exc:
                _fail(context, session, ff, exc, self.NOT_FOUND)
            except Exception as exc:
                _fail(context, session, ff, exc, self.FAILURE)


class PutFileSystem(Processor):
    """Writes a FlowFile's content to a directory on any fsspec filesystem.

    The file becomes visible complete or not at all: a hidden temporary file renamed
    into place where renames are atomic, a direct write on object stores.
    """

    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # file and directory I/O of any size: worker threads
    tags = ("fsspec", "put", "files", "s3", "gcs", "azure", "sftp")
    dynamic_properties = _STORAGE_OPTIONS
    default_schedule = {"batch_size": 10}
    writes_attributes = {
        "fs.url": "the written file's URL",
        **FetchFileSystem.writes_attributes,
    }

    DIRECTORY = PropertyDescriptor(
        "directory_url",
        "The directory to write to, as an fsspec URL.",
        display_name="Directory URL",
        required=True,
        validators=(validators.NON_EMPTY,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    FILENAME = PropertyDescriptor(
        "filename",
        "The file's name (may contain subdirectories).",
        display_name="Filename",
        default="${filename}",
        required=True,
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    CONFLICT = PropertyDescriptor(
        "conflict_resolution",
        "What to do when the file exists.",
        display_name="Conflict Resolution Strategy",
        default="fail",
        allowable_values=choices("fail", "replace", "ignore"),
    )
    AWS = _AWS
    SUCCESS = Relationship("success", "The file was written (or existed, with ignore)")
    FAILURE = Relationship("failure", "The file could not be written")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            try:
                self._put(context, session, ff)
            except Exception as exc:
                _fail(context, session, ff, exc, self.FAILURE)

    def _put(
        self, context: ProcessContext, session: ProcessSession, ff: FlowFile
    ) -> None:
        directory = (context.property(self.DIRECTORY).evaluate(ff).value or "").rstrip(
            "/"
        )
        name = (context.property(self.FILENAME).evaluate(ff).value or "").lstrip("/")
        if not name:
            raise ValueError("the filename evaluated to an empty string")
        fs, root = filesystem(context, directory)
        target = f"{root.rstrip('/')}/{name}"
        if fs.exists(target):
            conflict = context.property(self.CONFLICT).value
            if conflict == "ignore":
                session.transfer(ff, self.SUCCESS)
                return
            if conflict == "fail":
                raise FileExistsError(
                    f"{_url(fs, target)} exists (conflict_resolution is fail)"
                )
        parent = target.rsplit("/", 1)[0]
        started = time.monotonic()
        if _protocol(fs) in _RENAME_ATOMIC:
            fs.makedirs(parent, exist_ok=True)
            temp = f"{parent}/.{target.rsplit('/', 1)[-1]}.{uuid.uuid4().hex}.partial"
            try:
                with fs.open(temp, "wb") as out:
                    session.export_to(ff, out)
                fs.mv(temp, target)
            except BaseException:
                if fs.exists(temp):
                    fs.rm(temp)
                raise
        else:
            with fs.open(target, "wb") as out:
                session.export_to(ff, out)
        url = _url(fs, target)
        ff = session.put_attribute(ff, "fs.url", url)
        session.provenance.send(
            ff, url, duration_ms=int((time.monotonic() - started) * 1000)
        )
        session.transfer(ff, self.SUCCESS)


def _chunks(f: Any) -> Iterator[bytes]:
    while chunk := f.read(CHUNK):
        yield bytes(chunk)


def _fail(
    context: ProcessContext,
    session: ProcessSession,
    ff: FlowFile,
    exc: Exception,
    rel: Relationship,
) -> None:
    context.logger.warning(
        "fs_operation_failed",
        flowfile=ff.get("uuid"),
        error=type(exc).__name__,
        message=str(exc),
    )
    ff = session.put_attributes(
        ff, {"fs.exception": type(exc).__name__, "fs.errorMessage": str(exc)}
    )
    ff = session.penalize(ff)
    session.transfer(ff, rel)
