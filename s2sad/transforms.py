"""The Python API of the modes beyond the gradient (see :mod:`s2sad.modes`): ``jvp``, ``vjp``, ``jacobian``,
each returning a callable built from the generated module, and ``<mode>_source`` returning the module's text.
They share :func:`s2sad.api._built` with ``grad``: the same checks that the file is what the function runs;
``specialise=True``, a module per signature of the arguments (see :mod:`s2sad.dispatch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .api import _built, _generate_live

__all__ = ["jvp", "jvp_source", "vjp", "vjp_source", "jacobian", "jacobian_source"]


def jvp(
    f: Callable[..., Any], wrt: Sequence[str] | str | None = None, *, specialise: bool = False
) -> Callable[..., Any]:
    """The Jacobian-vector product of ``f`` by forward mode: a function of ``f``'s parameters and then one
    tangent per differentiated parameter (in the order of ``wrt``; keyword-only when ``f`` has defaults or
    keyword-only parameters), returning ``(f(...), the derivative of f along the tangents)``."""
    return _built(f, wrt, False, "jvp", specialise)


def jvp_source(f: Callable[..., Any], wrt: Sequence[str] | str | None = None) -> str:
    """The text of the forward-mode module s2sad generates for ``f``."""
    return _generate_live(f, wrt, False, mode="jvp")[0].text


def vjp(
    f: Callable[..., Any], wrt: Sequence[str] | str | None = None, *, specialise: bool = False
) -> Callable[..., Any]:
    """The vector-Jacobian product of ``f`` by reverse mode: a function of ``f``'s parameters and then
    ``out_bar`` (shaped like ``f``'s result; a tuple of adjoints for a tuple result; keyword-only when ``f``
    has defaults or keyword-only parameters), returning the gradients of ``sum(out_bar * f(...))`` as
    :func:`grad` returns them."""
    return _built(f, wrt, False, "vjp", specialise)


def vjp_source(f: Callable[..., Any], wrt: Sequence[str] | str | None = None) -> str:
    """The text of the vector-Jacobian product module s2sad generates for ``f``."""
    return _generate_live(f, wrt, False, mode="vjp")[0].text


def jacobian(
    f: Callable[..., Any], wrt: Sequence[str] | str | None = None, *, specialise: bool = False
) -> Callable[..., Any]:
    """The Jacobian of ``f``: a function of ``f``'s parameters returning, per differentiated parameter, an
    array of shape ``np.shape(result) + np.shape(parameter)`` (a tuple in the order of ``wrt`` when there are
    several; for a tuple result, one such per value of the result)."""
    return _built(f, wrt, False, "jacobian", specialise)


def jacobian_source(f: Callable[..., Any], wrt: Sequence[str] | str | None = None) -> str:
    """The text of the Jacobian module s2sad generates for ``f``."""
    return _generate_live(f, wrt, False, mode="jacobian")[0].text
