"""The compact way to write a processor: one function per FlowFile.

Most plugins map one FlowFile to one FlowFile. :func:`transform` turns such a function into
a full :class:`~flowengine.Processor` (properties, relationships, validation, docs), so a
plugin is a few lines::

    @flowengine.transform
    def upper(flowfile, content: bytes) -> bytes:
        \"\"\"Upper-cases the content.\"\"\"
        return content.upper()

The function receives the FlowFile and, if it has a parameter named ``content``, the
content as bytes; a parameter named ``context`` gets the ProcessContext. It returns:

* ``None`` — unchanged, to ``success``;
* ``bytes`` or ``str`` — the new content, to ``success``;
* a ``dict`` — attributes to set, to ``success``;
* a :class:`TransformResult` — any combination, and the relationship.

An exception routes that FlowFile to ``failure`` with ``error.message`` and
``error.type`` attributes; the others in the batch carry on. ``async def`` works too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._context import ProcessContext
from ._flowfile import FlowFile
from ._processor import InputRequirement, Processor
from ._properties import PropertyDescriptor
from ._relationship import Relationship
from ._session import ProcessSession

__all__ = ["TransformProcessor", "TransformResult", "transform"]

SUCCESS = Relationship("success", "FlowFiles transformed without error")
FAILURE = Relationship("failure", "FlowFiles whose transform raised; see error.message")


@dataclass(frozen=True)
class TransformResult:
    """What a transform function may return: new content, attributes, relationship."""

    content: bytes | str | None = None
    attributes: Mapping[str, str] | None = None
    relationship: str = "success"


class TransformProcessor(Processor):
    """A processor that applies :meth:`transform_one` to each FlowFile of a batch."""

    input_requirement = InputRequirement.REQUIRED
    wants_content: bool = True
    wants_context: bool = False

    def transform_one(
        self, context: ProcessContext, flowfile: FlowFile, content: bytes | None
    ) -> Any:
        raise NotImplementedError

    def _apply(self, session: ProcessSession, ff: FlowFile, result: Any) -> None:
        rel = SUCCESS.name
        if result is None:
            pass
        elif isinstance(result, bytes | bytearray | str):
            ff = session.write(ff, result)
        elif isinstance(result, TransformResult):
            if result.content is not None:
                ff = session.write(ff, result.content)
            if result.attributes:
                ff = session.put_attributes(
                    ff, {str(k): str(v) for k, v in result.attributes.items()}
                )
            rel = result.relationship
        elif isinstance(result, Mapping):
            ff = session.put_attributes(ff, {str(k): str(v) for k, v in result.items()})
        else:
            raise TypeError(
                f"a transform must return None, bytes, str, dict or TransformResult, not {type(result).__name__}"
            )
        session.transfer(ff, rel)

    def _fail(
        self,
        context: ProcessContext,
        session: ProcessSession,
        ff: FlowFile,
        exc: Exception,
    ) -> None:
        ff = session.put_attributes(
            ff, {"error.message": str(exc), "error.type": type(exc).__name__}
        )
        context.logger.debug(
            "transform_failed", flowfile=ff.get("uuid"), error=str(exc)
        )
        session.transfer(ff, FAILURE)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            try:
                content = session.read(ff) if self.wants_content else None
                result = self.transform_one(context, ff, content)
                self._apply(session, ff, result)
            except Exception as exc:
                self._fail(context, session, ff, exc)


class _AsyncTransformProcessor(TransformProcessor):
    async def transform_one_async(
        self, context: ProcessContext, flowfile: FlowFile, content: bytes | None
    ) -> Any:
        raise NotImplementedError

    async def on_trigger(  # type: ignore[override]
        self, context: ProcessContext, session: ProcessSession
    ) -> None:
        for ff in session.get(context.batch_size):
            try:
                content = session.read(ff) if self.wants_content else None
                result = await self.transform_one_async(context, ff, content)
                self._apply(session, ff, result)
            except Exception as exc:
                self._fail(context, session, ff, exc)


def transform(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    properties: Sequence[PropertyDescriptor] = (),
    relationships: Sequence[Relationship] = (),
    description: str | None = None,
    tags: Sequence[str] = (),
    batch_size: int | None = None,
) -> Any:
    """Make a processor class from a per-FlowFile function (see the module docstring).

    Args:
        name: the type name (default: the function name in CamelCase).
        properties: declared properties, read with ``context.property(...)``.
        relationships: extra relationships a :class:`TransformResult` may name
            (``success`` and ``failure`` always exist).
        description: defaults to the function's docstring.
        batch_size: default FlowFiles per trigger.
    """

    def build(func: Callable[..., Any]) -> type[Processor]:
        params = inspect.signature(func).parameters
        wants_content = "content" in params
        wants_context = "context" in params
        is_async = inspect.iscoroutinefunction(func)
        type_name = name or "".join(
            p[:1].upper() + p[1:] for p in func.__name__.split("_")
        )
        ns: dict[str, Any] = {
            "__doc__": description
            or func.__doc__
            or f"Applies {func.__name__} to each FlowFile.",
            "__module__": func.__module__,
            "__qualname__": type_name,
            "wants_content": wants_content,
            "wants_context": wants_context,
            "tags": tuple(tags),
            "SUCCESS": SUCCESS,
            "FAILURE": FAILURE,
            "_function": staticmethod(func),
        }
        if batch_size is not None:
            ns["default_schedule"] = {"batch_size": batch_size}
        for i, p in enumerate(properties):
            ns[f"_PROPERTY_{i}"] = p
        for i, r in enumerate(relationships):
            ns[f"_RELATIONSHIP_{i}"] = r

        def call_args(
            self: Any, context: ProcessContext, ff: FlowFile, content: bytes | None
        ) -> dict[str, Any]:
            kwargs: dict[str, Any] = {}
            if wants_content:
                kwargs["content"] = content
            if wants_context:
                kwargs["context"] = context
            return kwargs

        if is_async:

            async def transform_one_async(
                self: Any, context: ProcessContext, ff: FlowFile, content: bytes | None
            ) -> Any:
                return await func(ff, **call_args(self, context, ff, content))

            ns["transform_one_async"] = transform_one_async
            base: type[TransformProcessor] = _AsyncTransformProcessor
        else:

            def transform_one(
                self: Any, context: ProcessContext, ff: FlowFile, content: bytes | None
            ) -> Any:
                return func(ff, **call_args(self, context, ff, content))

            ns["transform_one"] = transform_one
            base = TransformProcessor
        return type(type_name, (base,), ns)

    if fn is not None:
        return build(fn)
    return build
