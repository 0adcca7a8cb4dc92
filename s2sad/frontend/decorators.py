"""Decorators: the few that do not change what a function computes are looked through; the rest are refused.

Looked through (the generated code calls the undecorated function, and its docstring says so):
``functools.cache`` and ``functools.lru_cache`` (a cache returns what the function returned for the same
arguments), ``numba.njit`` / ``numba.jit`` and ``jax.jit`` (compilers of the same arithmetic), with only the
options listed in :data:`LOOKED_THROUGH`: an option that changes results (``fastmath=True``, a numba type
signature that converts the arguments) is refused like any other decorator, by name.
"""

from __future__ import annotations

import libcst as cst

__all__ = ["LOOKED_THROUGH", "looked_through", "decorator_label"]

#: Decorators looked through, by qualified name, with the keyword options allowed (positional ones: see below).
LOOKED_THROUGH: dict[str, frozenset[str]] = {
    "functools.cache": frozenset(),
    "functools.lru_cache": frozenset({"maxsize", "typed"}),
    "numba.njit": frozenset({"cache", "nogil", "boundscheck", "inline"}),
    "numba.jit": frozenset({"nopython", "cache", "nogil", "boundscheck", "inline"}),
    "numba.core.decorators.njit": frozenset({"cache", "nogil", "boundscheck", "inline"}),
    "numba.core.decorators.jit": frozenset({"nopython", "cache", "nogil", "boundscheck", "inline"}),
    "jax.jit": frozenset({"static_argnums", "static_argnames", "donate_argnums", "donate_argnames", "inline"}),
}
_POSITIONAL = {"functools.lru_cache": 1}  #: lru_cache(128): the cache's size


def looked_through(decorator: cst.Decorator, qualified: set[str]) -> tuple[str | None, str | None]:
    """(the decorator's name, None) when it is looked through; (None, why not) when it is one of those
    decorators with an option that changes the result; (None, None) when it is none of them."""
    known = sorted(q for q in qualified if q in LOOKED_THROUGH)
    if not known:
        return None, None
    name = known[0]
    node = decorator.decorator
    if not isinstance(node, cst.Call):
        return name, None
    positional = [a for a in node.args if a.keyword is None]
    if any(a.star for a in node.args) or len(positional) > _POSITIONAL.get(name, 0):
        return None, f"'@{name}' with positional arguments (a type signature converts the arguments)"
    for a in node.args:
        if a.keyword is not None and a.keyword.value not in LOOKED_THROUGH[name]:
            return None, f"'@{name}' with '{a.keyword.value}=' (it may change the results)"
    return name, None


def decorator_label(module: cst.Module, decorator: cst.Decorator) -> str:
    """The decorator as written, without its arguments: ``functools.wraps``, ``my_decorator``."""
    node = decorator.decorator
    return module.code_for_node(node.func if isinstance(node, cst.Call) else node).strip()
