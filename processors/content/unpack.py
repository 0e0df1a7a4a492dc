"""UnpackContent: one FlowFile per entry of a TAR, ZIP or FlowFile Stream package."""

from __future__ import annotations

import re
import shutil
import tarfile
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from flowengine import (
    AllowableValue,
    ContentError,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._archive import (
    ArchiveError,
    check_entry_name,
    iso_time,
    open_tar_reader,
    open_zip_reader,
    permissions_text,
)
from ._flowfile_stream import MIME_V2, MIME_V3, PackageError, iter_packages

__all__ = ["UnpackContent"]

AUTO = "use mime.type attribute"
TAR = "tar"
ZIP = "zip"
FF_V3 = "flowfile-stream-v3"
FF_V2 = "flowfile-stream-v2"

#: NiFi's PackageFormat: mime.type → format
_BY_MIME = {
    "application/tar": TAR,
    "application/x-tar": TAR,
    "application/zip": ZIP,
    "application/x-zip-compressed": ZIP,
    MIME_V3: FF_V3,
    MIME_V2: FF_V2,
}
_CHUNK = 1 << 16
#: the compression method WinZip's AES encryption (APPNOTE appendix E) writes
_AES_COMPRESSION = 99
_OCTET = "application/octet-stream"


class UnpackContent(Processor):
    """Unpacks a TAR or ZIP archive, or a FlowFile Stream (v3, v2) package, into one
    FlowFile per entry.

    Archive entries become FlowFiles named after the entry (``filename`` its last part,
    ``path`` its directory), filtered by File Filter; package entries get back the
    attributes they were packaged with (but a new ``uuid``). Every output gets
    ``fragment.identifier``, ``fragment.index`` (from 1), ``fragment.count`` and
    ``segment.original.filename`` (the input's name without ``.tar``/``.zip``/``.pkg``),
    so MergeContent's Defragment can rebuild the input. An entry whose name would escape
    the archive (``../x``, an absolute path), or a corrupt archive, sends the input to
    failure with ``error.message`` and emits nothing. With ``use mime.type attribute``,
    an input without ``mime.type`` goes to failure, one with a type that is not a
    package goes to success unchanged (NiFi). Content is streamed; ZIP input that cannot
    seek is spooled to a temporary file first.
    """

    tags = ("unpack", "un-merge", "tar", "zip", "archive", "flowfile-stream", "split")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False
    reads_attributes = {"mime.type": "the package format, with use mime.type attribute"}
    writes_attributes = {
        "mime.type": "application/octet-stream for archive entries",
        "filename": "the entry's file name",
        "path": "the entry's directory (``/`` for the root)",
        "fragment.identifier": "one value for all entries of an input",
        "fragment.index": "the entry's position, from 1",
        "fragment.count": "entries unpacked",
        "segment.original.filename": "the input's filename without its extension",
        "file.lastModifiedTime": "TAR/ZIP: the entry's time, yyyy-MM-dd'T'HH:mm:ssZ",
        "file.creationTime": "TAR: as file.lastModifiedTime",
        "file.permissions": "TAR: the entry's mode (rw-r--r--)",
        "file.owner": "TAR: the entry's user name",
        "file.group": "TAR: the entry's group name",
        "error.message": "(on failure) why",
    }
    example = """\
unpack:
  type: UnpackContent
  properties:
    packaging_format: zip
    file_filter: ".*\\\\.csv"
"""

    PACKAGING_FORMAT = PropertyDescriptor(
        "packaging_format",
        "The format of the input; use mime.type attribute decides per FlowFile.",
        display_name="Packaging Format",
        required=True,
        default=AUTO,
        allowable_values=(
            AllowableValue(AUTO, AUTO, "By the FlowFile's mime.type"),
            AllowableValue(TAR, TAR, "A TAR archive"),
            AllowableValue(ZIP, ZIP, "A ZIP archive"),
            AllowableValue(FF_V3, FF_V3, "NiFi's FlowFile Stream v3"),
            AllowableValue(FF_V2, FF_V2, "NiFi's FlowFile Stream v2"),
        ),
    )
    FILENAME_CHARACTER_SET = PropertyDescriptor(
        "filename_character_set",
        "ZIP: the character set of entry names not flagged as UTF-8 in the archive "
        "(an archive written with a platform's code page, such as Shift_JIS or CP866).",
        display_name="Filename Character Set",
        required=True,
        default="UTF-8",
        validators=(validators.CHARACTER_SET,),
        depends_on=("packaging_format", (ZIP, AUTO)),
    )
    FILE_FILTER = PropertyDescriptor(
        "file_filter",
        "TAR/ZIP only: extract only entries whose full name matches this regex.",
        display_name="File Filter",
        required=True,
        default=".*",
        validators=(validators.REGEX,),
    )

    PASSWORD = PropertyDescriptor(
        "password",
        "ZIP: the password of entries encrypted with ZipCrypto (traditional PKWARE "
        "encryption). AES-encrypted entries send the input to failure with the reason.",
        display_name="Password",
        sensitive=True,
        depends_on=("packaging_format", (ZIP, AUTO)),
    )
    ALLOW_STORED_ENTRIES_WDD = PropertyDescriptor(
        "allow_stored_entries_wdd",
        "ZIP: read STORED (uncompressed) entries that are followed by a data "
        "descriptor, which the ZIP specification does not allow; when false such an "
        "archive goes to failure, as in NiFi.",
        display_name="Allow Stored Entries With Data Descriptor",
        required=True,
        default="false",
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
        depends_on=("packaging_format", (ZIP, AUTO)),
    )

    SUCCESS = Relationship("success", "The unpacked FlowFiles")
    ORIGINAL = Relationship("original", "The input, once unpacked")
    FAILURE = Relationship(
        "failure", "Inputs that could not be unpacked (corrupt, unsafe entry names)"
    )

    def on_scheduled(self, context: ProcessContext) -> None:
        self._format = context.property(self.PACKAGING_FORMAT).value or AUTO
        self._filter = re.compile(context.property(self.FILE_FILTER).value or ".*")
        self._names_charset = (
            context.property(self.FILENAME_CHARACTER_SET).value or "UTF-8"
        )
        password = context.property(self.PASSWORD).value
        self._password = password.encode() if password else None
        self._allow_stored_wdd = (
            context.property(self.ALLOW_STORED_ENTRIES_WDD).value == "true"
        )

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            self._unpack(context, session, ff)

    def _fail(self, session: ProcessSession, ff: FlowFile, message: str) -> None:
        ff = session.put_attribute(ff, "error.message", message)
        session.transfer(session.penalize(ff), self.FAILURE)

    def _unpack(
        self, context: ProcessContext, session: ProcessSession, ff: FlowFile
    ) -> None:
        fmt = self._format
        if fmt == AUTO:
            mime = ff.get("mime.type")
            if mime is None:
                self._fail(
                    session,
                    ff,
                    "No mime.type attribute: the packaging format is unknown",
                )
                return
            found = _BY_MIME.get(mime.split(";")[0].strip().lower())
            if found is None:
                context.logger.debug("not_a_package", mime_type=mime)
                session.transfer(ff, self.SUCCESS)
                return
            fmt = found
        outputs: list[FlowFile] = []
        try:
            with session.open(ff) as src:
                if fmt == TAR:
                    self._tar(session, ff, src, outputs)
                elif fmt == ZIP:
                    self._zip(session, ff, src, outputs)
                else:
                    self._packages(session, ff, src, outputs, 3 if fmt == FF_V3 else 2)
        except (
            ArchiveError,
            PackageError,
            ContentError,
            OSError,
            EOFError,
            tarfile.TarError,
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            ValueError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            session.remove(outputs)
            message = (
                str(exc)
                if isinstance(exc, (ArchiveError, PackageError))
                else (f"{type(exc).__name__}: {exc}")
            )
            context.logger.warning("unpack_failed", format=fmt, error=message)
            self._fail(session, ff, message)
            return
        fragment_id = str(uuid.uuid4())
        original = ff.get("filename") or ""
        if original.endswith((".tar", ".zip", ".pkg")):
            original = original[:-4]
        count = str(len(outputs))
        for i, out in enumerate(outputs, 1):
            out = session.put_attributes(
                out,
                {
                    "fragment.identifier": fragment_id,
                    "fragment.index": str(i),
                    "fragment.count": count,
                    "segment.original.filename": original,
                },
            )
            session.transfer(out, self.SUCCESS)
        session.transfer(ff, self.ORIGINAL)

    def _emit(
        self,
        session: ProcessSession,
        parent: FlowFile,
        outputs: list[FlowFile],
        attributes: dict[str, str],
        copy: Any,
    ) -> None:
        child = session.create(parent)
        outputs.append(child)
        child = session.write(child, copy)
        outputs[-1] = session.put_attributes(child, attributes)

    def _entry_attributes(self, name: str) -> dict[str, str]:
        safe = check_entry_name(name)
        head, _, tail = safe.rpartition("/")
        return {
            "filename": tail,
            "path": head + "/" if head else "/",
            "mime.type": _OCTET,
        }

    def _tar(
        self,
        session: ProcessSession,
        parent: FlowFile,
        src: BinaryIO,
        outputs: list[FlowFile],
    ) -> None:
        tar = open_tar_reader(src)
        with tar:
            for member in tar:
                if member.isdir():
                    continue
                attrs = self._entry_attributes(member.name)  # checks every name
                if not member.isfile() or not self._filter.fullmatch(member.name):
                    continue
                stamp = iso_time(member.mtime)
                attrs.update(
                    {
                        "file.permissions": permissions_text(member.mode),
                        "file.owner": member.uname,
                        "file.group": member.gname,
                        "file.lastModifiedTime": stamp,
                        "file.creationTime": stamp,
                    }
                )
                fobj = tar.extractfile(member)
                if fobj is None:
                    continue

                def copy(out: BinaryIO, f: Any = fobj) -> None:
                    shutil.copyfileobj(f, out, _CHUNK)

                self._emit(session, parent, outputs, attrs, copy)

    def _zip(
        self,
        session: ProcessSession,
        parent: FlowFile,
        src: BinaryIO,
        outputs: list[FlowFile],
    ) -> None:
        with _seekable(src) as seekable, open_zip_reader(seekable) as zf:
            if self._password is not None:
                zf.setpassword(self._password)
            infos = zf.infolist()
            names = [self._zip_name(info) for info in infos]
            for info, name in zip(infos, names, strict=True):
                self._entry_attributes(name)  # any unsafe name fails the input
                self._check_zip_entry(info, name)
            for info, name in zip(infos, names, strict=True):
                if info.is_dir() or not self._filter.fullmatch(name):
                    continue
                attrs = self._entry_attributes(name)
                try:
                    import datetime as dt

                    stamp = dt.datetime(*info.date_time, tzinfo=dt.UTC).timestamp()
                    attrs["file.lastModifiedTime"] = iso_time(stamp)
                except ValueError:
                    pass

                def copy(out: BinaryIO, i: zipfile.ZipInfo = info) -> None:
                    with zf.open(i) as entry:
                        shutil.copyfileobj(entry, out, _CHUNK)

                self._emit(session, parent, outputs, attrs, copy)

    def _zip_name(self, info: zipfile.ZipInfo) -> str:
        """The entry's name: UTF-8 when the archive flags it so (bit 11), else the
        archive's bytes decoded with Filename Character Set (zipfile decoded them as
        CP437, the ZIP specification's default, which gives those bytes back)."""
        if info.flag_bits & 0x800 or self._names_charset.upper() in ("CP437", "IBM437"):
            return info.filename
        raw = info.orig_filename.encode("cp437")
        try:
            return raw.decode(self._names_charset)
        except UnicodeDecodeError as exc:
            raise ArchiveError(
                f"entry name {info.orig_filename!r} is not valid "
                f"{self._names_charset}: {exc.reason} (set Filename Character Set)"
            ) from None

    def _check_zip_entry(self, info: zipfile.ZipInfo, name: str) -> None:
        """NiFi's rules for entries it cannot read: AES encryption, a missing password,
        and STORED entries with a data descriptor unless allowed."""
        if info.compress_type == _AES_COMPRESSION:
            raise ArchiveError(
                f"entry {name!r} is AES-encrypted; only ZipCrypto (traditional) "
                "encryption can be read"
            )
        if info.flag_bits & 0x1 and self._password is None:
            raise ArchiveError(f"entry {name!r} is encrypted and no Password is set")
        if (
            info.compress_type == zipfile.ZIP_STORED
            and info.flag_bits & 0x8
            and not self._allow_stored_wdd
        ):
            raise ArchiveError(
                f"entry {name!r} is STORED with a data descriptor; set Allow Stored "
                "Entries With Data Descriptor to read it"
            )

    def _packages(
        self,
        session: ProcessSession,
        parent: FlowFile,
        src: BinaryIO,
        outputs: list[FlowFile],
        version: int,
    ) -> None:
        for entry in iter_packages(src, version=version):
            attrs = dict(entry.attributes)
            attrs.pop("uuid", None)

            def copy(out: BinaryIO, e: Any = entry) -> None:
                e.copy_to(out)

            self._emit(session, parent, outputs, attrs, copy)


@contextmanager
def _seekable(src: BinaryIO) -> Iterator[BinaryIO]:
    """ZIP needs to seek (its directory is at the end): use the stream when it can,
    else spool it to a temporary file (disk, not memory)."""
    try:
        ok = src.seekable()
    except (AttributeError, OSError):
        ok = False
    if ok:
        yield src
        return
    with tempfile.TemporaryFile() as tmp:
        shutil.copyfileobj(src, tmp, _CHUNK)
        tmp.seek(0)
        yield tmp  # type: ignore[misc]
