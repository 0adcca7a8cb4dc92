"""Run-time checks that a value taken for a number is one (an analysis stage of the target, shared by every
mode, beside :mod:`s2sad.list_guards`).

:mod:`s2sad.values` takes a value of unknown kind for a number where the function uses it only as scalar code
does (see :mod:`s2sad.scalar_uses`): a parameter, or an item of one (``obs = observed[i][0]``). The code then
written for it is right for numbers only: called with an array, the adjoint of a number broadcast against it
would not be summed (``s_bar`` of ``x * s + s`` an array where a number is due). So each value taken for a
number gets one check where it enters the function, a parameter at the top, an item after the statement that
binds it, and the generated code raises ``TypeError`` rather than return the derivative of other arithmetic.

A number is what ``np.ndim`` calls 0-dimensional and no list or tuple: a Python ``float`` (tested first, by its
type: the common case costs one comparison), an ``int`` or ``bool``, a NumPy scalar of any type (``np.float32``
is no ``float`` subclass, ``np.float64`` is), a 0-d array. An array of one element is no number. The test reads
the value's ``ndim`` attribute, so the module imports nothing for it. Past the inline test of a float, the check
is one call of a support function the module defines once (``check_number``), so each check is two lines.
"""

from __future__ import annotations


from . import ir
from .values import NUMBER_CHECK, Values

__all__ = ["CHECK", "guarded", "message"]

#: The support function that checks a value other than a float (see :func:`_check`).
CHECK = NUMBER_CHECK


def message(name: str, function: str, item_of: str | None = None) -> str:
    """The run-time error of the check of ``name`` (``item_of``: the parameter it is an item of)."""
    what = f"'{name}' (read from '{item_of}')" if item_of else f"'{name}'"
    annotate = item_of or name
    return (
        f"{what} must be a number, not an array, a list or a tuple: '{function}' uses it as scalar code does "
        f"and its derivative is written for numbers (annotate '{annotate}: np.ndarray' for array code)"
    )


def guarded(fn: ir.Function, known: Values) -> ir.Function:
    """``fn`` with a check at its top for each parameter taken for a number, and after the statement binding
    each item taken for one (``fn`` itself when none is)."""
    if not known.assumed:
        return fn
    params = [p.name for p in fn.params if p.name in known.assumed]
    items = set(known.assumed) - set(params)
    roots: dict[str, str] = {}  # an item -> the parameter it is an item of
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.args:
            base = s.value.args[0]
            if isinstance(base, ir.Var):
                roots[s.target] = roots.get(base.name, base.name)
    body = (*(_check(fn.name, name) for name in params), *_checked(fn.name, fn.body, items, roots))
    return ir.Function(**{**{f: getattr(fn, f) for f in fn.__dataclass_fields__}, "body": body})


def _check(function: str, name: str, item_of: str | None = None) -> ir.Require:
    """``type(x) is float or check_number(x, ...)``: a float passes by one comparison, inline; any other value
    goes to the module's support function (:data:`s2sad.emit.SUPPORT`), which raises :func:`message`'s error for
    no number and returns True for one. The module writes it ``if type(x) is not float: check_number(...)``."""
    x = ir.Var(name)
    is_float = ir.Call("operator.is_", (ir.Call("builtins.type", (x,)), ir.Global("builtins.float")))
    named = (ir.Const(name), ir.Const(function), *((ir.Const(item_of),) if item_of else ()))
    test = ir.BoolOp("or", (is_float, ir.Call(CHECK, (x, *named))))
    return ir.Require(test, message(name, function, item_of), "builtins.TypeError")


def _checked(function: str, stmts: tuple[ir.Stmt, ...], items: set[str], roots: dict[str, str]) -> tuple[ir.Stmt, ...]:
    """``stmts`` with the check of each of ``items`` after the statement that binds it."""
    if not items:
        return stmts
    return ir.after_assignments(
        stmts, lambda s: (_check(function, s.target, roots.get(s.target)),) if s.target in items else ()
    )
