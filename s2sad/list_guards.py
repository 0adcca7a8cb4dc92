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

Through helpers: each helper (callees first) is summarised by which items of its parameters reach such an
operation (itself or in its callees) and which of them each of its results may be (``return a[1:]``, several
values read with ``ir.PART``); a call then counts as that operation on its arguments, and the check is made in
the function generated, where the caller's value enters (once, not in the helper). A tuple's item a helper
reaches (``a, b = p``) is checked as ``p[0]``; an item at an index the program computes, as every item of ``p``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

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


#: where an outside value is: a name of the function (a parameter, or a name bound to an item of an outside
#: value) and the path of item indices into it (``None``: any item), ``("p", (0,))`` being ``p[0]``
Origin: TypeAlias = "tuple[str, tuple[int | None, ...]]"
#: what a helper's callers must know of it: the items of its parameters (index, path) that need the check,
#: and for each of its results, the items of its parameters it may be (a slice, a copy, the parameter itself)
Summary: TypeAlias = (
    "tuple[frozenset[tuple[int, tuple[int | None, ...]]], tuple[frozenset[tuple[int, tuple[int | None, ...]]], ...]]"
)


def guarded(
    fn: ir.Function, known: Values, helpers: Sequence[ir.Function] = (), by_helper: Mapping[str, Values] = {}
) -> ir.Function:
    """``fn`` with a check at its top for each parameter that needs one, and after the statement binding each
    element of one that needs one (``fn`` itself when none does). ``helpers`` (callees first, with their
    values ``by_helper``): a parameter reaching ``+`` or ``*`` inside a helper needs the check too, made here
    where the caller's value enters, not inside the helper."""
    summaries: dict[str, Summary] = {}
    for h in helpers:
        if h.name in by_helper:
            summaries[h.name] = _summary(h, by_helper[h.name], summaries)
    found = _needing(fn, known, summaries)
    # an item checked at any index (p[i]) needs no check at one index (p[0])
    found = {
        (n, path)
        for n, path in found
        if not any((n, path[:j] + (None,)) in found for j, k in enumerate(path) if k is not None)
    }
    if not found:
        return fn
    params = [p.name for p in fn.params]
    top = [
        _check(name, path=path) for p in params for name, path in sorted((o for o in found if o[0] == p), key=_order)
    ]
    elements = {o for o in found if o[0] not in params}
    body = (*top, *_checked(fn.body, elements))
    return ir.Function(**{**{f: getattr(fn, f) for f in fn.__dataclass_fields__}, "body": body})


def _order(o: Origin) -> tuple[int, tuple[int, ...]]:
    return len(o[1]), tuple(-1 if k is None else k for k in o[1])


def _check(name: str, item_of: str | None = None, path: tuple[int | None, ...] = ()) -> ir.Require:
    """The check that ``name`` (at ``path``: its item there, where it is a list or a tuple) is no list."""
    sequence = ir.Call(ir.TUPLE, (ir.Global("builtins.list"), ir.Global("builtins.tuple")))

    def sequence_test(e: ir.Expr) -> ir.Expr:
        return ir.Call("builtins.isinstance", (e, sequence))

    if not path:
        test: ir.Expr = ir.Call("operator.not_", (sequence_test(ir.Var(name)),))
        return ir.Require(test, message(name, item_of), "builtins.TypeError")
    # x[0][1] only where x and x[0] are lists or tuples (an array's items are no lists; and where the function
    # would fail to index x, it fails itself); any item: none of them a list or a tuple
    tests: list[ir.Expr] = []
    e: ir.Expr = ir.Var(name)
    text = name
    for k in path:
        tests.append(sequence_test(e))
        if k is None:
            kinds = ir.Call("operator.mul", (ir.Call(ir.TUPLE, (sequence,)), ir.Call("builtins.len", (e,))))
            tests.append(
                ir.Call("builtins.any", (ir.Call("builtins.map", (ir.Global("builtins.isinstance"), e, kinds)),))
            )
            text += "[i]"
            break
        e = ir.Call(ir.GETITEM, (e, ir.Const(k)))
        text += f"[{k}]"
    else:
        tests.append(sequence_test(e))
    test = ir.Call("operator.not_", (ir.BoolOp("and", tuple(tests)),))
    return ir.Require(test, message(text, item_of or name), "builtins.TypeError")


def _checked(stmts: tuple[ir.Stmt, ...], elements: set[Origin]) -> tuple[ir.Stmt, ...]:
    """``stmts`` with the check of each of ``elements`` after the statement that binds its name."""
    if not elements:
        return stmts
    names = {name for name, _ in elements}

    def checks(s: ir.Assign) -> list[ir.Stmt]:
        if s.target not in names:
            return []
        base = s.value.args[0] if _element(s.value) else None  # see _element
        item_of = ir.temp_base(base.name) if isinstance(base, ir.Var) else None
        return [
            _check(s.target, item_of, path) for _, path in sorted((o for o in elements if o[0] == s.target), key=_order)
        ]

    return ir.after_assignments(stmts, checks)


def _summary(h: ir.Function, known: Values, summaries: Mapping[str, Summary]) -> Summary:
    """What ``h``'s callers must know of it (see :data:`Summary`). Any parameter not proven a number or an array
    may be an outside value: a tuple's items may be lists."""
    index = {p.name: i for i, p in enumerate(h.params)}
    outside = {
        p.name for p in h.params if not known.scalar_code and not isinstance(known.env.get(p.name), (Scalar, Array))
    }
    source, needed = _flow(h, known, summaries, outside, items=True)

    def of(origins: set[Origin]) -> frozenset[tuple[int, tuple[int | None, ...]]]:
        return frozenset((index[name], path) for name, path in origins if name in index)

    returned = next((s for s in h.body if isinstance(s, ir.Return)), None)
    values = returned.values if returned is not None else ()
    results = tuple(of(source.get(v.name, set())) if isinstance(v, ir.Var) else frozenset() for v in values)
    return of(needed), results


def _needing(fn: ir.Function, known: Values, summaries: Mapping[str, Summary] = {}) -> set[Origin]:
    """The parameters, and the names bound to an element of one (``p[0]``, ``a, b = p``), that need the check
    (with the path of the item that needs it: an element of a tuple or a list parameter may be a list itself)."""
    if known.scalar_code:
        return set()
    outside = {p.name for p in fn.params if isinstance(known.env.get(p.name), Unknown)}
    if not outside:
        return set()
    _, needed = _flow(fn, known, summaries, outside, items=False)
    # slices of a parameter the shape keys compare (xs[1:] and xs[:-1]: one shape for an array, not for a list
    # of arrays of different shapes)
    if known.keys is not None:
        needed |= {(p, ()) for p in known.keys.sliced_parameters() & outside}
    return needed


def _flow(
    fn: ir.Function, known: Values, summaries: Mapping[str, Summary], outside: set[str], *, items: bool
) -> tuple[dict[str, set[Origin]], set[Origin]]:
    """Which outside values each name of ``fn`` may be (kept in kind: itself, a slice, a copy, a helper's result
    that is one), and which of them reach ``+``/``*`` as a list would not. ``items``: an item of an outside value
    is that value's item (a helper's: its callers check it); else the name bound to it (the function
    differentiated checks it after binding it)."""
    stmts = list(ir.walk(fn.body))
    arrays = {  # names bound to a result that is never a list: NumPy's, math's, an operator other than + * []
        s.target
        for s in stmts
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and _never_a_list(s.value.fn)
    }
    # and a sum with a number or an array operand, a product with one that is no int: on a list they raise
    arithmetic = [
        (s.target, s.value)
        for s in stmts
        if isinstance(s, ir.Assign)
        and isinstance(s.value, ir.Call)
        and s.value.fn in ("operator.add", "operator.mul")
        and len(s.value.args) == 2
    ]
    grown = True
    while grown:
        grown = False
        for target, call in arithmetic:
            if target in arrays:
                continue
            if call.fn == "operator.add":
                proof = any(_number_or_array(a, known, arrays) for a in call.args)
            else:
                proof = any(not _may_be_int(a, known, arrays) for a in call.args)
            if proof:
                arrays.add(target)
                grown = True
    bound = {s.target: s.value for s in stmts if isinstance(s, ir.Assign)}
    source: dict[str, set[Origin]] = {p: {(p, ())} for p in outside}  # name -> the outside values it may be

    def at(e: ir.Expr, path: tuple[int | None, ...]) -> set[Origin]:
        """The outside values ``e``'s item at ``path`` may be: through the tuples ``fn`` builds, then ``e``'s."""
        if not isinstance(e, ir.Var):
            return set()
        value = bound.get(e.name)
        if path and isinstance(value, ir.Call) and value.fn == ir.TUPLE:
            k = path[0]
            if k is None:
                return {o for item in value.args for o in at(item, path[1:])}
            return at(value.args[k], path[1:]) if -len(value.args) <= k < len(value.args) else set()
        return {(name, p + path) for name, p in source.get(e.name, set())}

    def helper_result(e: ir.Expr) -> set[Origin]:
        """The outside values a helper's result (or one of its several, read by PART) may be."""
        part = 0
        if isinstance(e, ir.Call) and e.fn == ir.PART and isinstance(e.args[0], ir.Var):
            k = e.args[1]
            part = k.value if isinstance(k, ir.Const) and isinstance(k.value, int) else -1
            e = bound.get(e.args[0].name, e)
        if not (isinstance(e, ir.Call) and e.fn in summaries):
            return set()
        results = summaries[e.fn][1]
        if not 0 <= part < len(results):
            return set()
        return {o for i, path in results[part] if i < len(e.args) for o in at(e.args[i], path)}

    changed = True
    while changed:
        changed = False
        for s in stmts:
            if not isinstance(s, ir.Assign):
                continue
            found: set[Origin] = set()
            if _element(s.value, source) and isinstance(known.of(s.target), Unknown):
                if items:  # an element of an outside value comes from outside too
                    assert isinstance(s.value, ir.Call)
                    index = s.value.args[1]
                    k = index.value if isinstance(index, ir.Const) and type(index.value) is int else None
                    found = at(s.value.args[0], (k,))
                else:
                    found = {(s.target, ())}
            for e in _passed_on(s.value):
                found |= at(e, ())
            found |= helper_result(s.value)
            if found - source.get(s.target, set()):
                source.setdefault(s.target, set()).update(found)
                changed = True
    needed: set[Origin] = set()
    for s in stmts:
        for e in ir.expressions(s):
            for call in _calls(e):
                if call.fn in summaries:  # what the helper needs checked, at this call's arguments
                    for i, path in summaries[call.fn][0]:
                        if i < len(call.args):
                            needed |= at(call.args[i], path)
                    continue
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
    return source, needed


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
