"""Per-signature modules: ``s2sad.grad(f, specialise=True)``, ``s2sad.<mode>(f, specialise=True)`` and
``@s2sad.gradient(specialise=True)``, as ``jax.jit`` compiles once per abstract signature.

A :class:`Specialised` function reads, on every call, the kind of each of ``f``'s arguments (see
:mod:`s2sad.signatures`: a Python or NumPy scalar's type, an ``np.ndarray``'s number of dimensions, a
tuple's items; anything else, or a parameter left to its default, is unknown), generates the module for that
signature the first time it is seen (the value analysis then knows what an annotation would have told it, so the
module can drop the run-time checks of the generic one: ``unbroadcast``, ``matmul_adjoint_a``), keeps it
(in memory; with the decorator's cache, on disk too, keyed by the signature), and calls it with the arguments
unchanged. A module is only ever called with arguments of its own signature: the kinds are read again on every
call. An argument of a kind no signature expresses is unknown to the module, as in the generic one; when every
argument is, the module is the generic one.

Nothing is generated until the first call; the text of each module is ``source(*args)`` for arguments of its
signature, and ``sources`` holds every one generated so far.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import modes, signatures
from .signatures import Kind

__all__ = ["Specialised", "kind"]

_MISSING = object()
#: the kind of the values of a type (filled on first sight: NumPy's scalar types, and types of no kind)
_TYPES: dict[type, Kind] = {float: "float", int: "int", bool: "bool"}
_NUMPY_SCALARS = {"f": "float", "i": "int", "u": "int", "b": "bool"}


def kind(x: Any) -> Kind:
    """The kind of one argument (see :mod:`s2sad.signatures`). Exact types only: a subclass of ``ndarray``
    (``np.matrix``, whose ``*`` is a product of matrices) or of ``tuple`` has no kind, nor a 0-d array (the
    analysis takes numbers to be immutable)."""
    t = type(x)
    if t is np.ndarray:
        return x.ndim or None  # a 0-d array is a number the function may change in place: no kind
    found = _TYPES.get(t, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
    if t is tuple:
        return tuple(map(kind, x))
    return _TYPES.setdefault(t, _NUMPY_SCALARS.get(np.dtype(t).kind) if issubclass(t, np.generic) else None)


_DEFAULT = "default"  #: the kind of a parameter left to its default: unknown (the module's default is the text's)


class Specialised:
    """``f``'s module of one mode, generated per signature of the arguments (see the module docstring)."""

    def __init__(
        self,
        f: Callable[..., Any],
        wrt: Sequence[str] | str | None,
        mode: str = "grad",
        *,
        with_value: bool = False,
        cached: bool = False,
    ) -> None:
        self._f, self._wrt, self._mode, self._with_value, self._cached = f, wrt, mode, with_value, cached
        params = list(inspect.signature(f).parameters.values())
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self._positional = [p.name for p in params if p.kind in positional]
        self._names = self._positional + [p.name for p in params if p.kind == inspect.Parameter.KEYWORD_ONLY]
        self._by_position = not any(p.kind == inspect.Parameter.KEYWORD_ONLY for p in params)
        self._modules: dict[tuple[Kind, ...], Callable[..., Any]] = {}  #: by the arguments' kinds
        self._by_signature: dict[str, tuple[Callable[..., Any], str]] = {}  #: by the values they give
        found = modes.get(mode)
        self.__name__ = f"{found.prefix if found is not None else ''}{getattr(f, '__name__', 'f')}"
        self.__doc__ = f"'{self.__name__}' specialised to each signature of its arguments (see s2sad.dispatch)."

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kinds = self._kinds(args, kwargs)
        found = self._modules.get(kinds)
        if found is None:
            found = self._modules[kinds] = self._generate(kinds)[0]
        return found(*args, **kwargs)

    def _kinds(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Kind, ...]:
        """The kinds of ``f``'s arguments in this call (the mode's own arguments, a tangent or ``out_bar``,
        come after them or by keyword, and are not read)."""
        n = len(self._positional)
        if not kwargs and self._by_position and len(args) >= n:
            return tuple(map(kind, args[:n]))
        bound = dict(zip(self._positional, args))
        bound.update((k, v) for k, v in kwargs.items() if k in self._names)
        return tuple(kind(bound[p]) if p in bound else _DEFAULT for p in self._names)

    def _generate(self, kinds: tuple[Kind, ...]) -> tuple[Callable[..., Any], str]:
        from . import api  # the API imports this module

        given = signatures.values_of(self._names, kinds)
        signature = signatures.describe(given)
        if signature not in self._by_signature:
            generated, path, line = api._generate_live(
                self._f, self._wrt, self._with_value, False, self._cached, self._mode, given
            )
            fname = generated.function
            label = f"{fname} from {path}:{line}" + (f" for {signature}" if signature else "")
            compiled = api._compile(generated.text, label, fname)
            setattr(compiled, "__s2sad_wrt__", list(generated.wrt))
            self.__s2sad_wrt__ = list(generated.wrt)
            self._by_signature[signature] = (compiled, generated.text)
        return self._by_signature[signature]

    def source(self, *args: Any, **kwargs: Any) -> str:
        """The text of the module these arguments are passed to (generated if it is not yet)."""
        kinds = self._kinds(args, kwargs)
        compiled, text = self._generate(kinds)
        self._modules.setdefault(kinds, compiled)
        return text

    @property
    def sources(self) -> dict[str, str]:
        """The text of every module generated so far, by signature (``""``: the generic module)."""
        return {signature: text for signature, (_, text) in self._by_signature.items()}
