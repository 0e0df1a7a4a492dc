"""flowengine: a NiFi-style flow-based data pipeline engine.

Flows are processors joined by bounded queues, passing FlowFiles (attributes plus content
by reference). Write a flow in YAML and run it with ``flowengine run``, embed it in a
Python job with :func:`load` and :meth:`Flow.run`, or write processors as plugins by
subclassing :class:`Processor` (or with the compact :func:`transform` decorator).

Names are imported lazily so ``flowengine --help`` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ALLOWABLE_BOOLEANS",
    "AllowableValue",
    "ConfigurationContext",
    "ConfigurationError",
    "ContentError",
    "ControllerService",
    "DynamicProperties",
    "ExpressionLanguageScope",
    "Flow",
    "FlowEngineError",
    "FlowFile",
    "InputRequirement",
    "ProcessContext",
    "ProcessException",
    "ProcessGroup",
    "ProcessSession",
    "Processor",
    "PropertyDescriptor",
    "Relationship",
    "RunResult",
    "TransformResult",
    "ValidationError",
    "choices",
    "load",
    "transform",
    "validators",
]

_LAZY = {
    "ALLOWABLE_BOOLEANS": "._properties",
    "AllowableValue": "._properties",
    "ConfigurationContext": "._service",
    "ConfigurationError": "._errors",
    "ContentError": "._errors",
    "ControllerService": "._service",
    "DynamicProperties": "._component",
    "ExpressionLanguageScope": "._properties",
    "Flow": "._flow",
    "FlowEngineError": "._errors",
    "FlowFile": "._flowfile",
    "InputRequirement": "._processor",
    "ProcessContext": "._context",
    "ProcessException": "._errors",
    "ProcessGroup": "._definition",
    "ProcessSession": "._session",
    "Processor": "._processor",
    "PropertyDescriptor": "._properties",
    "Relationship": "._relationship",
    "RunResult": "._flow",
    "TransformResult": "._transform",
    "ValidationError": "._errors",
    "load": "._loader",
    "transform": "._transform",
    "validators": "._properties",
    "choices": "._properties",
}

if TYPE_CHECKING:
    from ._component import DynamicProperties
    from ._context import ProcessContext
    from ._definition import ProcessGroup
    from ._errors import (
        ConfigurationError,
        ContentError,
        FlowEngineError,
        ProcessException,
        ValidationError,
    )
    from ._flow import Flow, RunResult
    from ._flowfile import FlowFile
    from ._loader import load
    from ._processor import InputRequirement, Processor
    from ._properties import (
        ALLOWABLE_BOOLEANS,
        AllowableValue,
        ExpressionLanguageScope,
        PropertyDescriptor,
        choices,
        validators,
    )
    from ._relationship import Relationship
    from ._service import ConfigurationContext, ControllerService
    from ._session import ProcessSession
    from ._transform import TransformResult, transform


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowengine' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
