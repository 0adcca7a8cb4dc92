"""Argument signatures: the kinds of the values a call passes, as a source of the value analysis.

``s2sad.grad(f, specialise=True)`` (see :mod:`s2sad.dispatch`) generates one module per signature of the
arguments, as ``jax.jit`` traces once per abstract signature. A signature gives each parameter a *kind*, read
cheaply from the value passed: ``"float"``, ``"int"``, ``"bool"`` (Python's, or NumPy's scalar types), an
``int`` (an ``np.ndarray``, exactly, of that many dimensions, at least one), a tuple of kinds (a ``tuple``,
exactly), or None (anything else, a 0-d array included, or a parameter left to its default: nothing is known,
as without a signature). :func:`values_of` turns the kinds into the lattice of :mod:`s2sad.shapes`: an array's rank only,
each dimension a symbol of its own (``x.shape[0]``: no annotation can spell it, so it equals no other
parameter's dimension), so one module serves every size, and ``x[1:]`` and ``x[:-1]`` are still known to be
alike.

The analysis ranks the kinds with the annotations (:func:`ranked`): the two must agree, and the more precise
wins (an annotation's dimension names over a rank alone; the value's own scalar type over the annotation's,
since the dispatch checks it on every call). A contradiction (``x: float`` called with a matrix) is refused
with a located error: s2sad does not guess which of the two is meant.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Union

from . import ir
from .diagnostics import S2sadError
from .shapes import BOOL, FLOAT, INT, UNKNOWN, Array, Scalar, Tuple, Unknown, Value

__all__ = ["Kind", "values_of", "describe", "giving", "current", "ranked"]

#: The kind of one argument (see the module docstring).
Kind = Union[None, str, int, tuple["Kind", ...]]

_SCALARS: dict[str, Value] = {"float": FLOAT, "int": INT, "bool": BOOL}


def value_of(kind: Kind, path: str) -> Value:
    """The value of an argument of this kind; ``path`` spells its dimensions' symbols (``x``, ``p[0]``)."""
    if isinstance(kind, str):
        return _SCALARS.get(kind, UNKNOWN)
    if isinstance(kind, bool) or kind is None:
        return UNKNOWN
    if isinstance(kind, int):  # an ndarray of that rank
        return Array(kind, tuple(f"{path}.shape[{i}]" for i in range(kind))) if kind > 0 else UNKNOWN
    return Tuple(tuple(value_of(k, f"{path}[{i}]") for i, k in enumerate(kind)))


def values_of(names: Sequence[str], kinds: Sequence[Kind]) -> dict[str, Value]:
    """Each parameter's value from its kind; parameters of unknown kind left out (nothing is given)."""
    out = {}
    for name, kind in zip(names, kinds):
        v = value_of(kind, name)
        if not isinstance(v, Unknown):
            out[name] = v
    return out


def _spelled(v: Value) -> str:
    if isinstance(v, Scalar):
        return v.dtype or "a number"
    if isinstance(v, Array):
        return f"an array of rank {v.rank}" if v.rank is not None else "an array"
    if isinstance(v, Tuple):
        return f"({', '.join(_spelled(x) for x in v.items)}{',' if len(v.items) == 1 else ''})"
    return "anything"


def describe(given: Mapping[str, Value]) -> str:
    """The signature in words (``x: an array of rank 1, y: float``): the module's header, the cache key."""
    return ", ".join(f"{name}: {_spelled(v)}" for name, v in given.items())


# --------------------------------------------------------------------------------------------------------------
# The source the analysis reads
# --------------------------------------------------------------------------------------------------------------
#: The function being generated for a signature, and its parameters' values (set by :func:`giving`).
_GIVEN: ContextVar[tuple[str, Mapping[str, Value]] | None] = ContextVar("s2sad_given", default=None)


@contextlib.contextmanager
def giving(function: str, given: Mapping[str, Value]) -> Iterator[None]:
    """While generating ``function``'s module: its parameters hold ``given`` (read by :func:`current`)."""
    token = _GIVEN.set((function, dict(given)))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def current(function: str) -> Mapping[str, Value]:
    """What the signature being generated gives ``function``'s parameters (nothing outside :func:`giving`)."""
    found = _GIVEN.get()
    return found[1] if found is not None and found[0] == function else {}


def _agreed(stated: Value, given: Value) -> Value | None:
    """The more precise of an annotation's value and a signature's, or None where they contradict."""
    if isinstance(given, Unknown):
        return stated
    if isinstance(stated, Unknown):
        return given
    if isinstance(given, Scalar):  # the value's own type: checked on every call
        agree = isinstance(stated, Scalar) or (isinstance(stated, Array) and stated.rank is None)
        return given if agree else None
    if isinstance(given, Array) and isinstance(stated, Array) and stated.rank in (None, given.rank):
        return stated if stated.rank == given.rank and stated.dims is not None else given
    if isinstance(given, Tuple) and isinstance(stated, Tuple) and len(given.items) == len(stated.items):
        items = [_agreed(s, g) for s, g in zip(stated.items, given.items)]
        return None if any(i is None for i in items) else Tuple(tuple(i or UNKNOWN for i in items))
    return None


def ranked(fn: ir.Function, stated: Sequence[Value], given: Mapping[str, Value]) -> list[Value]:
    """``fn``'s parameters' values from their annotations (``stated``) and a signature (``given``): see the
    module docstring. Every contradiction is reported, at the function."""
    out: list[Value] = []
    problems = []
    for p, s in zip(fn.params, stated):
        g = given.get(p.name, UNKNOWN)
        agreed = _agreed(s, g)
        if agreed is None:
            assert fn.origin is not None
            problems.append(
                ir.diagnostic(
                    fn.path,
                    fn.origin,
                    f"'{p.name}' is annotated as {_spelled(s)}, but this call passes {_spelled(g)}",
                    "annotation-contradicted",
                    f"pass '{p.name}' as annotated, or correct its annotation",
                )
            )
            agreed = s
        out.append(agreed)
    if problems:
        raise S2sadError(problems)
    return out
