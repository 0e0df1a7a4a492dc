"""What a trigger sees of its configuration: ProcessContext and PropertyValue.

Property values are resolved once when the flow is built (parameters substituted, allowable
values normalized, defaults applied); Expression Language is compiled once per value and
evaluated per FlowFile. Sensitive values are masked in every ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import ServiceError
from .._units import parse_data_size, parse_duration
from ._properties import ExpressionLanguageScope, PropertyDescriptor

if TYPE_CHECKING:
    import structlog

    from ._flowfile import FlowFile
    from ._relationship import Relationship
    from ._schedule import Schedule
    from ._session import ProcessSession

__all__ = ["ProcessContext", "PropertyValue", "ServiceLookup", "StateManager"]

T = TypeVar("T")
MASK = "********"
ServiceLookup = Callable[[str], Any]


class PropertyValue:
    """One configured property value with typed access and EL evaluation."""

    __slots__ = ("_expression", "_services", "descriptor", "value")

    def __init__(
        self,
        descriptor: PropertyDescriptor,
        value: str | None,
        services: ServiceLookup | None = None,
    ) -> None:
        self.descriptor = descriptor
        self.value = value
        self._services = services
        self._expression: Any = None

    def __repr__(self) -> str:
        shown = (
            MASK if self.descriptor.sensitive and self.value is not None else self.value
        )
        return f"PropertyValue({self.descriptor.name}={shown!r})"

    def __str__(self) -> str:
        return self.value or ""

    @property
    def is_set(self) -> bool:
        return self.value is not None

    # -- typed access --------------------------------------------------------------------
    def as_str(self, default: str | None = None) -> str | None:
        return self.value if self.value is not None else default

    def as_int(self) -> int | None:
        return None if self.value is None else int(self.value.strip())

    def as_float(self) -> float | None:
        return None if self.value is None else float(self.value.strip())

    def as_bool(self) -> bool | None:
        return None if self.value is None else self.value.strip().lower() == "true"

    def as_duration(self) -> float | None:
        """Seconds."""
        return None if self.value is None else parse_duration(self.value)

    def as_data_size(self) -> int | None:
        """Bytes."""
        return None if self.value is None else parse_data_size(self.value)

    def as_service(self, interface: type[T] | None = None) -> T:
        """The enabled controller service this property names."""
        if self.value is None:
            raise ServiceError(f"property {self.descriptor.name!r} names no service")
        if self._services is None:
            raise ServiceError("no controller services are available here")
        service = self._services(self.value)
        iface = interface or self.descriptor.service
        if iface is not None and not isinstance(service, iface):
            raise ServiceError(
                f"service {self.value!r} is a {type(service).__name__}, "
                f"not a {iface.__name__}"
            )
        return service  # type: ignore[no-any-return]

    # -- Expression Language -------------------------------------------------------------
    @property
    def expression(self) -> Any:
        """The compiled :class:`flowengine.expression.Expression` of the value."""
        if self._expression is None:
            from .. import expression

            self._expression = expression.compile(self.value or "")
        return self._expression

    @property
    def has_expressions(self) -> bool:
        return (
            self.value is not None
            and self.descriptor.supports_expressions
            and not self.expression.is_literal
        )

    def evaluate(
        self,
        flowfile: FlowFile | None = None,
        *,
        attributes: Mapping[str, str] | None = None,
        extras: Mapping[str, str] | None = None,
    ) -> PropertyValue:
        """The value with Expression Language evaluated against ``flowfile`` (or
        ``attributes``); unchanged for properties without EL support."""
        if self.value is None or not self.descriptor.supports_expressions:
            return self
        expr = self.expression
        if expr.is_literal:
            return PropertyValue(self.descriptor, expr.literal_value, self._services)
        if self.descriptor.expression_language is ExpressionLanguageScope.ENVIRONMENT:
            flowfile, attributes = None, {}
        value = expr.evaluate(flowfile, attributes=attributes, extras=extras)
        return PropertyValue(self.descriptor, value, self._services)


class StateManager:
    """A component's local key/value state (NiFi StateManager, LOCAL scope).

    ``get`` returns a snapshot; ``set`` replaces the whole map immediately. Prefer
    ``session.set_state`` so state changes commit atomically with the FlowFiles.
    """

    def __init__(
        self,
        load: Callable[[], dict[str, str]],
        store: Callable[[dict[str, str]], None],
    ) -> None:
        self._load = load
        self._store = store

    def get(self) -> dict[str, str]:
        return self._load()

    def set(self, state: Mapping[str, str]) -> None:
        self._store({str(k): str(v) for k, v in state.items()})

    def clear(self) -> None:
        self._store({})


class ProcessContext:
    """The configured processor as its trigger sees it.

    Attributes:
        name: the processor's name in the flow.
        id: a stable identifier (qualified by its group path).
        properties: declared properties (defaults applied) by snake_case name.
        dynamic_properties: user-named properties by name.
        schedule: the scheduling settings in force.
        logger: structlog logger bound to the flow, group and processor.
        state: the processor's state manager.
        is_draining: the flow runs until drained, so sources list once and stop.
    """

    def __init__(
        self,
        *,
        name: str,
        id: str,
        properties: Mapping[str, PropertyValue],
        dynamic_properties: Mapping[str, PropertyValue],
        relationships: tuple[Relationship, ...],
        schedule: Schedule,
        logger: structlog.typing.FilteringBoundLogger,
        state: StateManager,
        services: ServiceLookup,
        yield_fn: Callable[[float | None], None],
        exhaust_fn: Callable[[], None],
        bulletin_fn: Callable[[str, str, str | None], None],
        session_factory: Callable[[], ProcessSession],
        is_draining: bool = False,
        monotonic: Callable[[], float] | None = None,
        upstream_exhausted: Callable[[], bool] | None = None,
        drain_flush_fn: Callable[[int, str, str], None] | None = None,
    ) -> None:
        self.name = name
        self.id = id
        self.properties = properties
        self.dynamic_properties = dynamic_properties
        self.relationships = relationships
        self.schedule = schedule
        self.logger = logger
        self.state = state
        self._services = services
        self._yield = yield_fn
        self._exhaust = exhaust_fn
        self._bulletin = bulletin_fn
        self._session_factory = session_factory
        self.is_draining = is_draining
        self.monotonic = monotonic or (lambda: 0.0)
        self._upstream_exhausted = upstream_exhausted
        self._drain_flush = drain_flush_fn

    @property
    def batch_size(self) -> int:
        """How many FlowFiles to take per trigger (``session.get(context.batch_size)``)."""
        return self.schedule.batch_size

    def service(self, name: str, interface: type[T] | None = None) -> T:
        """Look up an enabled controller service visible to this processor by name."""
        service = self._services(name)
        if interface is not None and not isinstance(service, interface):
            raise ServiceError(f"service {name!r} is not a {interface.__name__}")
        return service  # type: ignore[no-any-return]

    def yield_(self, seconds: float | None = None) -> None:
        """Don't trigger this processor again for its yield duration (or ``seconds``):
        the remote system is down, or a source has nothing to do."""
        self._yield(seconds)

    def exhausted(self) -> None:
        """Declare that this source will produce nothing more in this run (a one-shot
        listing finished); run-until-drained can then end."""
        self._exhaust()

    def bulletin(
        self, level: str, message: str, flowfile: FlowFile | None = None
    ) -> None:
        """Post a bulletin (``warning`` or ``error``) on this processor."""
        self._bulletin(
            level, message, None if flowfile is None else flowfile.get("uuid")
        )

    def upstream_exhausted(self) -> bool:
        """True when the flow runs until drained and nothing more can reach this
        processor: the moment to flush what it holds (bins of a merge)."""
        return self._upstream_exhausted() if self._upstream_exhausted else False

    def report_drain_flush(self, items: int, unit: str, minimum: str) -> None:
        """Report one bin flushed *below* one of its minimums because the flow drained
        (:meth:`upstream_exhausted`), so the run summary, the ``flow_finished`` log line
        and :attr:`FlowStatus.drain_flushes` say what was merged short.

        Args:
            items: what the bin held, in ``unit`` (``2``).
            unit: what ``items`` counts (``"records"``, ``"FlowFiles"``, ``"bytes"``).
            minimum: the threshold it fell short of, with its value, as the user
                configured it (``"Minimum Number of Records 500"``).

        Reports are summed per processor, unit and minimum: ``merge_a: 2 bins of 7
        records flushed below Minimum Number of Records 500 at drain``. Report only
        bins that were short: a bin that met its minimums is an ordinary merge.
        """
        if self._drain_flush is not None:
            self._drain_flush(items, unit, minimum)

    def new_session(self) -> ProcessSession:
        """A session the processor commits itself, e.g. to hold FlowFiles across
        triggers in bins (MergeContent-style)."""
        return self._session_factory()

    # Defined last: inside the class body the name shadows the builtin ``property``.
    def property(self, descriptor: PropertyDescriptor | str) -> PropertyValue:
        """The value of a declared or dynamic property (unset properties have value None)."""
        name = (
            descriptor.name
            if isinstance(descriptor, PropertyDescriptor)
            else descriptor
        )
        pv = self.properties.get(name)
        if pv is None:
            pv = self.dynamic_properties.get(name)
        if pv is None:
            d = (
                descriptor
                if isinstance(descriptor, PropertyDescriptor)
                else PropertyDescriptor(name, dynamic=True)
            )
            pv = PropertyValue(d, None, self._services)
        return pv
