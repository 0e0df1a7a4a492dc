"""CompressContent: compresses or decompresses content, streamed both ways."""

from __future__ import annotations

from typing import BinaryIO

from flowengine import (
    AllowableValue,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

from ._codecs import EXTENSIONS, FORMATS, MIME_TO_FORMAT, MIME_TYPES, CodecError
from ._codecs import compress as _compress
from ._codecs import decompress as _decompress

__all__ = ["CompressContent"]

USE_MIME_TYPE = "use mime.type attribute"
COMPRESS = "compress"
DECOMPRESS = "decompress"


class CompressContent(Processor):
    """Compresses or decompresses the contents of FlowFiles and updates ``mime.type``.

    As in NiFi, a common idiom is IdentifyMimeType followed by CompressContent with
    Mode ``decompress`` and Compression Format ``use mime.type attribute``: compressed
    content is decompressed, anything else passes to ``success`` unchanged. Content is
    streamed in 1 MiB chunks both ways, so memory stays flat for any size (except
    ``snappy`` input without snappy-java's header, which is one raw block as in NiFi and
    is bounded to 64 MiB). Compressing
    sets ``mime.type`` to the format's type; decompressing removes it. A corrupt or
    truncated stream goes to ``failure`` with ``error.message`` and its content
    unchanged. Unlike NiFi (which rejects the combination at validation) snappy-hadoop
    can also be decompressed; and compressing with deflate sets ``application/deflate``
    where NiFi writes ``application/gzip``, which its own mime.type mode cannot undo.
    """

    tags = (
        "content",
        "compress",
        "decompress",
        "gzip",
        "bzip2",
        "lzma",
        "xz-lzma2",
        "snappy",
        "snappy-hadoop",
        "snappy framed",
        "lz4-framed",
        "deflate",
        "zstd",
        "brotli",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False  # CPU-bound on large contents: worker threads
    reads_attributes = {
        "mime.type": "with Compression Format 'use mime.type attribute', the format",
    }
    writes_attributes = {
        "mime.type": "set on compress; removed on decompress",
        "filename": "with Update Filename: the format's extension added or removed",
        "error.message": "why the FlowFile went to failure",
    }
    example = """\
decompress:
  type: CompressContent
  properties: {mode: decompress, compression_format: use mime.type attribute}
"""

    MODE = PropertyDescriptor(
        "mode",
        "Whether to compress or decompress the content.",
        display_name="Mode",
        default=COMPRESS,
        required=True,
        allowable_values=(AllowableValue(COMPRESS), AllowableValue(DECOMPRESS)),
    )
    COMPRESSION_FORMAT = PropertyDescriptor(
        "compression_format",
        "The compression format; 'use mime.type attribute' takes it from the "
        "FlowFile's mime.type (a FlowFile without one goes to failure, one whose type "
        "names no format passes to success unchanged).",
        display_name="Compression Format",
        default=USE_MIME_TYPE,
        required=True,
        allowable_values=tuple(AllowableValue(v) for v in (USE_MIME_TYPE, *FORMATS)),
    )
    COMPRESSION_LEVEL = PropertyDescriptor(
        "compression_level",
        "0 (fastest; no compression for gzip) to 9 (smallest). Used by gzip, deflate, "
        "xz-lzma2, zstd (as level x 2, as NiFi does) and brotli (quality).",
        display_name="Compression Level",
        default="1",
        required=True,
        allowable_values=tuple(AllowableValue(str(i)) for i in range(10)),
        depends_on=("mode", (COMPRESS,)),
    )
    UPDATE_FILENAME = PropertyDescriptor(
        "update_filename",
        "If true, compressing appends the format's extension to the filename (.gz, "
        ".zlib, .bz2, .xz, .lzma, .snappy, .sz, .lz4, .zst, .br) and decompressing "
        "removes it when the filename ends with it.",
        display_name="Update Filename",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    SUCCESS = Relationship(
        "success", "FlowFiles compressed or decompressed (or passed through)"
    )
    FAILURE = Relationship("failure", "FlowFiles that could not be (de)compressed")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        decompressing = context.property(self.MODE).value == DECOMPRESS
        configured = context.property(self.COMPRESSION_FORMAT).value or USE_MIME_TYPE
        level = context.property(self.COMPRESSION_LEVEL).as_int() or 0
        update_name = bool(context.property(self.UPDATE_FILENAME).as_bool())
        for ff in session.get(context.batch_size):
            fmt = configured
            if fmt == USE_MIME_TYPE:
                mime = ff.get("mime.type")
                if mime is None:
                    ff = session.put_attribute(
                        ff,
                        "error.message",
                        "no mime.type attribute to take the format from",
                    )
                    session.transfer(ff, self.FAILURE)
                    continue
                found = MIME_TO_FORMAT.get(mime)
                if found is None:  # not compressed (as far as mime.type says): pass
                    session.transfer(ff, self.SUCCESS)
                    continue
                fmt = found
            try:
                ff = self._convert(session, ff, fmt, level, decompressing)
            except CodecError as exc:
                action = "decompress" if decompressing else "compress"
                context.logger.debug("codec_failed", flowfile=ff.uuid, error=str(exc))
                ff = session.put_attribute(
                    ff, "error.message", f"cannot {action} as {fmt}: {exc}"
                )
                session.transfer(ff, self.FAILURE)
                continue
            ff = self._update_attributes(session, ff, fmt, decompressing, update_name)
            session.provenance.modify_content(
                ff, f"{'de' if decompressing else ''}compressed {fmt}"
            )
            session.transfer(ff, self.SUCCESS)

    @staticmethod
    def _convert(
        session: ProcessSession, ff: FlowFile, fmt: str, level: int, decompressing: bool
    ) -> FlowFile:
        def run(src: BinaryIO, out: BinaryIO) -> None:
            if decompressing:
                _decompress(fmt, src, out)
            else:
                _compress(fmt, level, src, out)

        return session.rewrite(ff, run)

    @staticmethod
    def _update_attributes(
        session: ProcessSession,
        ff: FlowFile,
        fmt: str,
        decompressing: bool,
        update_name: bool,
    ) -> FlowFile:
        ext = EXTENSIONS[fmt]
        name = ff.filename
        if decompressing:
            ff = session.remove_attribute(ff, "mime.type")
            if update_name and name.lower().endswith(ext):
                ff = session.put_attribute(ff, "filename", name[: -len(ext)])
            return ff
        ff = session.put_attribute(ff, "mime.type", MIME_TYPES[fmt])
        if update_name:
            ff = session.put_attribute(ff, "filename", name + ext)
        return ff
