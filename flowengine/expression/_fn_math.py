"""Mathematical functions (NiFi guide §Mathematical Operations).

Owns: plus minus multiply divide mod toRadix fromRadix random math. Whole numbers
are Java ``long`` values (results wrap on overflow, division truncates toward zero,
``mod`` is Java's ``%`` with the sign of the dividend, division by zero is an
error); if either operand is a Decimal the operation is done in ``double``.
Non-numeric operands give null, as in NiFi.
"""

from __future__ import annotations

import math as _math
import random as _random
from collections.abc import Callable
from typing import Final

from flowengine.expression._errors import ExpressionEvaluationError
from flowengine.expression._registry import register
from flowengine.expression._values import java_long, wrap64

__all__: list[str] = []

N, W, S = "NUMBER", "WHOLE", "STRING"
Num = int | float


def _arith(
    name: str, whole: Callable[[int, int], int], dec: Callable[[float, float], float]
) -> None:
    def impl(a: Num | None, b: Num | None) -> Num | None:
        if a is None or b is None:
            return None
        if isinstance(a, float) or isinstance(b, float):
            return dec(float(a), float(b))
        return whole(a, b)

    register(
        name, min_args=1, max_args=1, subject=N, arg_types=(N,), result=N, null="maybe"
    )(impl)


def _java_div(a: int, b: int) -> int:
    if b == 0:
        raise ExpressionEvaluationError("/ by zero")
    q = abs(a) // abs(b)
    return wrap64(q if (a >= 0) == (b >= 0) else -q)


def _java_mod(a: int, b: int) -> int:
    if b == 0:
        raise ExpressionEvaluationError("/ by zero")
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def _fdiv(a: float, b: float) -> float:
    if b == 0.0:
        if a == 0.0 or a != a:
            return _math.nan
        return _math.copysign(_math.inf, a) * _math.copysign(1.0, b)
    return a / b


def _fmod(a: float, b: float) -> float:
    if b == 0.0 or _math.isinf(a):
        return _math.nan
    return _math.fmod(a, b)


_arith("plus", lambda a, b: wrap64(a + b), lambda a, b: a + b)
_arith("minus", lambda a, b: wrap64(a - b), lambda a, b: a - b)
_arith("multiply", lambda a, b: wrap64(a * b), lambda a, b: a * b)
_arith("divide", _java_div, _fdiv)
_arith("mod", _java_mod, _fmod)

_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"


@register("toRadix", min_args=1, max_args=2, subject=W, arg_types=(W, W))
def _to_radix(n: int | None, radix: int | None, pad: int | None = None) -> str | None:
    if n is None or radix is None:
        return None
    base = radix if 2 <= radix <= 36 else 10  # Long.toString falls back to radix 10
    value = abs(n)
    digits = []
    while True:
        value, rem = divmod(value, base)
        digits.append(_DIGITS[rem])
        if value == 0:
            break
    text = "".join(reversed(digits))
    if pad is not None and len(text) < pad:
        text = text.rjust(pad, "0")
    return ("-" if n < 0 else "") + text


@register("fromRadix", min_args=1, max_args=1, arg_types=(W,), result=W)
def _from_radix(s: str | None, radix: int | None) -> int | None:
    if s is None or radix is None:
        return None
    try:
        if not 2 <= radix <= 36 or not s or s.strip() != s or "_" in s:
            raise ValueError(s)
        value = int(s, radix)
    except ValueError as exc:
        raise ExpressionEvaluationError(
            f'For input string: "{s}" under radix {radix}'
        ) from exc
    if not -(2**63) <= value < 2**63:
        raise ExpressionEvaluationError(f'For input string: "{s}" under radix {radix}')
    return value


@register("random", subject="NONE", result=W, null="never")
def _random_long() -> int:
    return _random.getrandbits(63)


def _exact(fn: Callable[..., int]) -> Callable[..., int]:
    def impl(*args: int) -> int:
        result = fn(*args)
        if not -(2**63) <= result < 2**63:
            raise ExpressionEvaluationError("long overflow")
        return result

    return impl


def _round(x: float) -> int:
    if x != x:
        return 0
    return java_long(_math.floor(x + 0.5))


def _signum(x: float) -> float:
    return x if x == 0 or x != x else _math.copysign(1.0, x)


def _ulp(x: float) -> float:
    return _math.ulp(x)


# java.lang.Math methods by signature: L = long, D = double, I = int.
_MATH: Final[dict[str, dict[str, Callable[..., Num]]]] = {
    "abs": {"L": lambda a: wrap64(abs(a)), "D": abs},
    "max": {"LL": max, "DD": max},
    "min": {"LL": min, "DD": min},
    "negateExact": {"L": _exact(lambda a: -a)},
    "incrementExact": {"L": _exact(lambda a: a + 1)},
    "decrementExact": {"L": _exact(lambda a: a - 1)},
    "addExact": {"LL": _exact(lambda a, b: a + b)},
    "subtractExact": {"LL": _exact(lambda a, b: a - b)},
    "multiplyExact": {"LL": _exact(lambda a, b: a * b)},
    "floorDiv": {"LL": lambda a, b: a // b if b else _java_div(a, b)},
    "floorMod": {"LL": lambda a, b: a % b if b else _java_mod(a, b)},
    "round": {"D": _round},
    "signum": {"D": _signum},
    "ulp": {"D": _ulp},
    "copySign": {"DD": _math.copysign},
    "atan2": {"DD": _math.atan2},
    "hypot": {"DD": _math.hypot},
    "pow": {
        "DD": lambda a, b: _math.pow(a, b) if not (a == 0 and b < 0) else _math.inf
    },
    "IEEEremainder": {"DD": _math.remainder},
    "nextAfter": {"DD": _math.nextafter},
    "scalb": {"DI": lambda a, b: _math.ldexp(a, int(b))},
    "random": {"": _random.random},
}
for _name, _fn in {
    "acos": _math.acos,
    "asin": _math.asin,
    "atan": _math.atan,
    "cbrt": _math.cbrt,
    "ceil": _math.ceil,
    "cos": _math.cos,
    "cosh": _math.cosh,
    "exp": _math.exp,
    "expm1": _math.expm1,
    "floor": _math.floor,
    "log": _math.log,
    "log10": _math.log10,
    "log1p": _math.log1p,
    "rint": lambda x: float(round(x)),
    "sin": _math.sin,
    "sinh": _math.sinh,
    "sqrt": _math.sqrt,
    "tan": _math.tan,
    "tanh": _math.tanh,
    "toDegrees": _math.degrees,
    "toRadians": _math.radians,
    "nextUp": lambda x: _math.nextafter(x, _math.inf),
    "nextDown": lambda x: _math.nextafter(x, -_math.inf),
}.items():
    _MATH[_name] = {"D": (lambda f: lambda x: float(f(x)))(_fn)}


def _kind(v: Num) -> str:
    return "D" if isinstance(v, float) else "L"


@register(
    "math",
    min_args=1,
    max_args=2,
    subject="OPTIONAL",
    arg_types=(S, N),
    null="maybe",
    result=N,
)
def _math_call(
    subject: Num | None, method: str | None, arg: Num | None = None
) -> Num | None:
    if method is None:
        raise ExpressionEvaluationError("math() needs a method name")
    overloads = _MATH.get(method)
    values = [v for v in (subject, arg) if v is not None]
    if overloads is None:
        raise ExpressionEvaluationError(f"Cannot invoke method java.lang.Math.{method}")
    sig = "".join(_kind(v) for v in values)
    fn = overloads.get(sig) or overloads.get(
        sig[:-1] + "I" if sig.endswith("L") else ""
    )
    if fn is None:
        raise ExpressionEvaluationError(
            f"Cannot find method java.lang.Math.{method} with parameter types "
            f"{sig or 'none'}"
        )
    try:
        result = fn(*values)
    except (ValueError, OverflowError):
        return _math.nan
    return result
