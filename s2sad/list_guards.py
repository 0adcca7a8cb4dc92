"""Run-time checks that a parameter is not a Python list or tuple where the program would read its ``+`` or
``*`` as NumPy arithmetic (an analysis stage of the target, shared by every mode).

On a list, ``x[1:] + x[:-1]`` concatenates and ``2 * x`` repeats: the function computes something else than the
array arithmetic the generated code differentiates. Lists the function builds itself are refused by the
frontend; a parameter's value only run time can see. A parameter whose value :mod:`s2sad.values` leaves
unknown (not proven a number, an array or a tuple) and which reaches, itself or through slices, copies and
``if``-expressions, an operand of ``+`` whose other operand is not proven a number or an array, or of ``*``
whose other operand may be an ``int``, gets one check at the top of the function: the gradient raises
rather than return the derivative of arithmetic the function did not do. ``-``, ``/`` and ``**`` raise on a
list by themselves, and an array operand makes NumPy do arithmetic: those need none. A parameter whose slices
:mod:`s2sad.shape_keys` compares (``x[1:]`` and ``x[:-1]`` have one shape) gets the check too: on a list of
arrays of different shapes they differ.
"""

from __future__ import annotations

import dataclasses

from . import ir
from .shapes import Array, Scalar, Unknown
from .values import Values

__all__ = ["guarded", "message"]

#: what passes a parameter's value on unchanged in kind: a list's slice or copy is a list (``x.copy()`` is read
#: as ``numpy.copy``, but a list's own method returns a list)
_COPIES = frozenset({"copy.copy", "copy.deepcopy", "numpy.copy"})


def message(name: str, item_of: str | None = None) -> str:
    """The run-time error of the check of ``name`` (``item_of``: the parameter it is an item of)."""
    what = f"'{name}' (an item of '{item_of}')" if item_of else f"'{name}'"
    return (
        f"{what} must be a NumPy array, not a list or tuple: on a list '+' concatenates, '*' repeats and "
        f"slices of arrays of different shapes differ in shape, and the derivative is of array arithmetic. "
        f"Pass np.asarray({name})"
    )


def guarded(fn: ir.Function, known: Values) -> ir.Function:
    """``fn`` with a check at its top for each parameter that needs one, and after the statement binding each
    element of one that needs one (``fn`` itself when none does)."""
    names = _needing(fn, known)
    if not names:
        return fn
    params = [p.name for p in fn.params if p.name in names]
    body = (*(_check(name) for name in params), *_checked(fn.body, names - set(params)))
    return ir.Function(**{**{f: getattr(fn, f) for f in fn.__dataclass_fields__}, "body": body})


def _check(name: str, item_of: str | None = None) -> ir.Require:
    sequence = ir.Call(ir.TUPLE, (ir.Global("builtins.list"), ir.Global("builtins.tuple")))
    test = ir.Call("operator.not_", (ir.Call("builtins.isinstance", (ir.Var(name), sequence)),))
    return ir.Require(test, message(name, item_of), "builtins.TypeError")


def _checked(stmts: tuple[ir.Stmt, ...], elements: set[str]) -> tuple[ir.Stmt, ...]:
    """``stmts`` with the check of each of ``elements`` after the statement that binds it."""
    if not elements:
        return stmts
    out: list[ir.Stmt] = []
    for s in stmts:
        if isinstance(s, ir.For):
            s = dataclasses.replace(s, body=_checked(s.body, elements))
        elif isinstance(s, ir.If):
            s = dataclasses.replace(s, body=_checked(s.body, elements), orelse=_checked(s.orelse, elements))
        elif isinstance(s, ir.While):
            s = dataclasses.replace(s, setup=_checked(s.setup, elements), body=_checked(s.body, elements))
        out.append(s)
        if isinstance(s, ir.Assign) and s.target in elements and _element(s.value):
            assert isinstance(s.value, ir.Call) and isinstance(s.value.args[0], ir.Var)  # see _element
            out.append(_check(s.target, ir.temp_base(s.value.args[0].name)))
    return tuple(out)


def _needing(fn: ir.Function, known: Values) -> set[str]:
    """The parameters, and the names bound to an element of one (``p[0]``, ``a, b = p``), that need the check:
    an element of a tuple or a list parameter may be a list itself."""
    if known.scalar_code:
        return set()
    outside = {p.name for p in fn.params if isinstance(known.env.get(p.name), Unknown)}
    if not outside:
        return set()
    stmts = list(ir.walk(fn.body))
    arrays = {  # names bound to a result that is never a list: NumPy's, math's, an operator other than + * []
        s.target
        for s in stmts
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and _never_a_list(s.value.fn)
    }
    source: dict[str, set[str]] = {p: {p} for p in outside}  # name -> the outside values it may be
    changed = True
    while changed:
        changed = False
        for s in stmts:
            if not isinstance(s, ir.Assign):
                continue
            found: set[str] = set()
            if _element(s.value, source) and isinstance(known.of(s.target), Unknown):
                found = {s.target}  # an element of an outside value comes from outside too
            for e in _passed_on(s.value):
                if isinstance(e, ir.Var):
                    found |= source.get(e.name, set())
            if found - source.get(s.target, set()):
                source.setdefault(s.target, set()).update(found)
                changed = True
    # slices of a parameter the shape keys compare (xs[1:] and xs[:-1]: one shape for an array, not for a list
    # of arrays of different shapes)
    needed: set[str] = known.keys.sliced_parameters() & outside if known.keys is not None else set()
    for s in stmts:
        for e in ir.expressions(s):
            for call in _calls(e):
                if call.fn not in ("operator.add", "operator.mul") or len(call.args) != 2:
                    continue
                for mine, other in (call.args, call.args[::-1]):
                    if not isinstance(mine, ir.Var) or mine.name not in source:
                        continue
                    if call.fn == "operator.mul" and other == mine:
                        continue  # x * x: on a list it raises (list * list), as on numbers and arrays it does not
                    if call.fn == "operator.add" and not _number_or_array(other, known, arrays):
                        needed |= source[mine.name]
                    if call.fn == "operator.mul" and _may_be_int(other, known, arrays):
                        needed |= source[mine.name]
    return needed


def _element(e: ir.Expr, source: dict[str, set[str]] | None = None) -> bool:
    """Whether ``e`` is an item of a name (of an outside value, when ``source`` is given) at an index that is
    no slice."""
    return (
        isinstance(e, ir.Call)
        and e.fn == ir.GETITEM
        and len(e.args) == 2
        and isinstance(e.args[0], ir.Var)
        and (source is None or e.args[0].name in source)
        and not isinstance(e.args[1], ir.Slice)
    )


def _never_a_list(fn: str) -> bool:
    if fn in ("operator.add", "operator.mul", ir.GETITEM):
        return False
    return fn.split(".")[0] in ("numpy", "scipy", "math", "operator")


def _passed_on(e: ir.Expr) -> list[ir.Expr]:
    """The operands whose kind (list, tuple) ``e`` keeps: ``e`` itself, a slice's base, a copy's argument,
    either branch of an ``if``-expression."""
    if isinstance(e, ir.Var):
        return [e]
    if isinstance(e, ir.Call) and e.fn == ir.GETITEM and len(e.args) == 2 and isinstance(e.args[1], ir.Slice):
        return [e.args[0]]
    if isinstance(e, ir.Call) and e.fn in _COPIES and len(e.args) == 1:
        return [e.args[0]]
    if isinstance(e, ir.Call) and e.fn == ir.IFEXP and len(e.args) == 3:
        return [e.args[1], e.args[2]]
    return []


def _calls(e: ir.Expr) -> list[ir.Call]:
    out: list[ir.Call] = []
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, ir.Call):
            out.append(x)
            stack.extend(x.args)
    return out


def _number_or_array(e: ir.Expr, known: Values, arrays: set[str]) -> bool:
    if isinstance(e, ir.Const):
        return isinstance(e.value, (int, float))
    if isinstance(e, ir.Var) and e.name in arrays:
        return True
    return isinstance(known.of(e), (Scalar, Array))


def _may_be_int(e: ir.Expr, known: Values, arrays: set[str]) -> bool:
    if isinstance(e, ir.Const):
        return isinstance(e.value, int)  # bool too: [a] * True is [a]
    if isinstance(e, ir.Var) and e.name in arrays:
        return False
    v = known.of(e)
    if isinstance(v, Array):
        return False
    return not (isinstance(v, Scalar) and v.dtype == "float")  # a bool repeats a list too
