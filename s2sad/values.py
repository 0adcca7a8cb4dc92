"""Values: what each name of a function holds, as far as the program text proves it (an analysis stage, like
activity). A value is a number, an array of some rank with symbolic dimensions, a tuple, or unknown: the
lattice and the rule table's ``shape`` column are :mod:`s2sad.shapes`.

Sources: literals and module constants; ``math.*`` (scalars in, scalars out: NumPy refuses to convert an array
with ``ndim > 0`` into a Python number, so a parameter passed to ``math.sin`` or ``range`` by a statement that
surely runs is a scalar); parameter annotations (``float``, ``int``, ``bool``, ``np.ndarray``,
``Annotated[np.ndarray, "n m"]``, jaxtyping's ``Float[np.ndarray, "n m"]``: see
:func:`s2sad.shapes.annotated`); for a helper, the values its callers pass; and every rule of the table. A
parameter's default proves nothing (a caller may pass an array).

A function that performs no array operation (no NumPy or SciPy call, no ``@``, no indexing, no call to a
function with the user's own rule, and no helper that does) and has no parameter annotated as an array keeps
the contract of a module without NumPy: its parameters are numbers (*scalar code*). Elsewhere the contract is
per value: a parameter of unknown kind, or an item of one (``observed[i][0]``), whose uses and whose derived
values' uses are all scalar code's is taken for a number though another parameter is indexed or iterated
(:mod:`s2sad.scalar_uses` says which, and why that is safe). Either way what is taken for a number, not
proved one, is listed in :attr:`Values.assumed`, and the generated code checks it where it enters the
function (:mod:`s2sad.number_guards`). Loop-carried names and the two definitions
of a branch's merge name are joined to a fixed point. Unknown keeps the generic code the reverse pass writes
for any value: only what is proved here lets it write less. Where dimensions are unknown, shape keys
(:mod:`s2sad.shape_keys`) still prove values alike (``x[1:]`` and ``x[:-1]``): ask :meth:`Values.alike`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from . import ir, scalar_uses, signatures
from .rules import lookup
from .shape_keys import ShapeKeys
from .shapes import (
    BOOL,
    Dim,
    FLOAT,
    INT,
    SHAPE_RULES,
    UNKNOWN,
    Array,
    Scalar,
    Tuple,
    Unknown,
    Value,
    annotated,
    apply_shape,
    dims,
    join,
    rank,
    same_shape,
)

__all__ = [
    "Unknown",
    "Scalar",
    "Array",
    "Tuple",
    "Value",
    "UNKNOWN",
    "join",
    "annotated",
    "SHAPE_RULES",
    "apply_shape",
    "Values",
    "analyse",
    "program",
    "array_free",
    "rank",
    "dims",
    "same_shape",
]

# --------------------------------------------------------------------------------------------------------------
# The analysis
# --------------------------------------------------------------------------------------------------------------
#: Calls a function may make and still be free of array operations (helpers are checked themselves).
_SCALAR_MODULES = ("math.", "operator.", "builtins.")
_ARRAY_CALLS = {"operator.matmul", ir.GETITEM, ir.LIST}


def array_free(fn: ir.Function, helpers: Mapping[str, ir.Function] = {}) -> bool:
    """Whether ``fn`` (and every helper it calls) performs no array operation: it is scalar code, as in a
    module without NumPy, and its parameters are numbers."""
    seen: set[str] = set()

    def free(f: ir.Function) -> bool:
        seen.add(f.name)
        if _sums_arithmetic(f):
            return False
        for e in _calls(f.body):
            if e.fn in helpers:
                if e.fn not in seen and not free(helpers[e.fn]):
                    return False
            elif e.fn in _ARRAY_CALLS or not (
                e.fn.startswith(_SCALAR_MODULES) or e.fn in _TUPLE_CALLS or e.fn == NUMBER_CHECK
            ):
                return False
        return True

    return free(fn)


_TUPLE_CALLS = {ir.TUPLE, ir.IFEXP, "s2sad.select", ir.PART}
#: the support function checking a value taken for a number (:mod:`s2sad.number_guards`): it reads the value's
#: type only, so scalar code checked stays scalar code
NUMBER_CHECK = "s2sad.check_number"


def _sums_arithmetic(fn: ir.Function) -> bool:
    """Whether ``fn`` passes the result of arithmetic to ``sum()``: ``sum(x * s)``. ``sum`` of a number raises,
    so that arithmetic was on arrays (or lists), whatever else the function does: it is no scalar code."""
    defined: dict[str, list[ir.Expr]] = {}
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign):
            defined.setdefault(s.target, []).append(s.value)

    def arithmetic(e: ir.Expr) -> bool:
        return isinstance(e, ir.Call) and e.fn.startswith("operator.")

    for e in _calls(fn.body):
        if e.fn == "builtins.sum" and e.args:
            a = e.args[0]
            if arithmetic(a) or (isinstance(a, ir.Var) and any(map(arithmetic, defined.get(a.name, ())))):
                return True
    return False


def _calls(stmts: tuple[ir.Stmt, ...]) -> list[ir.Call | ir.LibraryCall]:
    """Every call ``stmts`` make: primitives, helpers, and library calls on data (``np.linspace(0, 1, 3)``
    makes an array as surely as a rule of the table does)."""
    out: list[ir.Call | ir.LibraryCall] = []
    for s in ir.walk(stmts):
        for e in ir.expressions(s):
            _visit_calls(e, out)
    return out


def _visit_calls(e: ir.Expr, out: list[ir.Call | ir.LibraryCall]) -> None:
    kind = type(e)  # the IR's classes are final (see ir.walk)
    if kind is ir.Call or kind is ir.LibraryCall:
        out.append(e)  # type: ignore[arg-type]
        for a in e.args:  # type: ignore[union-attr]
            if type(a) is not ir.Var and type(a) is not ir.Const:  # an atom holds no call
                _visit_calls(a, out)
    elif kind is ir.BoolOp:
        for v in e.values:
            _visit_calls(v, out)


@dataclass(frozen=True)
class Values:
    """The value of every name of one function."""

    env: Mapping[str, Value]
    scalar_code: bool  #: the function performs no array operation: every number in it is a scalar
    result: Value = UNKNOWN
    sized: frozenset[str] = frozenset()  #: names passed to len(): not numbers, even in scalar code
    #: which names provably have one shape though their dimensions are unknown (None in scalar code)
    keys: ShapeKeys | None = field(default=None, compare=False)
    #: names taken for numbers though nothing proves it (see :mod:`s2sad.scalar_uses`): the generated code
    #: checks them where they enter the function (:mod:`s2sad.number_guards`)
    assumed: frozenset[str] = frozenset()

    def of(self, e: ir.Expr | str) -> Value:
        if isinstance(e, str):
            e = ir.Var(e)
        if isinstance(e, ir.Var) and e.name in self.sized:
            return UNKNOWN
        if self.scalar_code:  # numbers, and the tuples the function builds of them
            found = self.env.get(e.name) if isinstance(e, ir.Var) else None
            return found if isinstance(found, Tuple) else FLOAT
        if isinstance(e, ir.Var):
            return self.env.get(e.name, UNKNOWN)
        return _atom(e, self.env, {}) or UNKNOWN

    def scalar(self, e: ir.Expr | str) -> bool:
        return isinstance(self.of(e), Scalar)

    def alike(self, a: ir.Expr | str, b: ir.Expr | str) -> bool:
        """Whether ``a`` and ``b`` provably have one shape: the same known dimensions, or one shape key
        (``x[1:]`` and ``x[:-1]``, whatever ``x``'s rank: see :mod:`s2sad.shape_keys`)."""
        a, b = (ir.Var(e) if isinstance(e, str) else e for e in (a, b))
        if same_shape(self.of(a), self.of(b)):
            return True
        return self.keys is not None and self.keys.alike(a, b)


def _constant(value: ir.Value) -> Value:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, tuple):
        return Tuple(tuple(_constant(v) for v in value))
    return UNKNOWN


def _module_constant(text: str) -> Value:
    """``K = 3.0`` (a numeric literal expression, as the frontend accepts them): a scalar."""
    try:
        tree = ast.parse(text).body[0]
    except SyntaxError:
        return UNKNOWN
    if not isinstance(tree, ast.Assign):
        return UNKNOWN
    ok = all(
        isinstance(n, (ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop, ast.expr_context))
        or (isinstance(n, ast.Constant) and isinstance(n.value, (int, float)))
        for n in ast.walk(tree.value)
    )
    return Scalar() if ok else UNKNOWN


_GLOBALS: dict[str, Value] = {"numpy.newaxis": UNKNOWN}


def _atom(e: ir.Expr, env: Mapping[str, Value | None], constants: Mapping[str, Value]) -> Value | None:
    if isinstance(e, ir.Var):
        return env.get(e.name)
    if isinstance(e, ir.Const):
        return _constant(e.value)
    if isinstance(e, ir.Global):
        if e.qualname in _GLOBALS:
            return _GLOBALS[e.qualname]
        return FLOAT if "." in e.qualname else constants.get(e.qualname, UNKNOWN)
    return UNKNOWN


HelperResult = Callable[[str, tuple[Value, ...]], Value]


class _Analysis:
    def __init__(
        self, fn: ir.Function, helper_result: HelperResult | None, numbers: frozenset[str] = frozenset()
    ) -> None:
        self.fn = fn
        self.numbers = numbers  #: names taken for numbers whatever their definition (items: see scalar_uses)
        self.helper_result = helper_result
        self.constants = {c.name: _module_constant(c.text) for c in fn.constants}
        self.env: dict[str, Value | None] = {}
        self.shapes = _shape_tuples(fn)

    def value(self, e: ir.Expr) -> Value | None:
        if isinstance(e, ir.Call):
            args = [self.value(a) for a in e.args]
            if any(a is None for a in args):
                return None  # an operand not reached yet (a loop-carried name): the next round
            known = [a or UNKNOWN for a in args]
            if e.fn == ir.TUPLE:
                return Tuple(tuple(known))
            if e.fn == ir.IFEXP:
                return join(known[1], known[2])
            if e.fn == ir.GETITEM and isinstance(e.args[0], ir.Var) and e.args[0].name in self.shapes:
                if known[1] == INT or isinstance(e.args[1], ir.Const) and type(e.args[1].value) is int:
                    return INT  # n, d = x.shape: a dimension is an int, whatever x's rank
            rule = lookup(e.fn, len(e.args))
            if rule is None:
                return UNKNOWN
            if rule.kind == "helper":
                return self.helper_result(e.fn, tuple(known)) if self.helper_result is not None else UNKNOWN
            return apply_shape(rule, known, e.args)
        if isinstance(e, ir.BoolOp):
            out: Value | None = None
            for v in e.values:
                out = join(out, self.value(v))
            return out
        if isinstance(e, ir.Slice):
            return UNKNOWN
        return _atom(e, self.env, self.constants)

    def run(self, params: Mapping[str, Value]) -> dict[str, Value]:
        self.env = dict(params)
        while True:
            before = dict(self.env)
            self.block(self.fn.body)
            if self.env == before or _one_pass(self.fn, params):
                return {k: v for k, v in self.env.items() if v is not None}

    def set(self, name: str, v: Value | None) -> None:
        self.env[name] = Scalar() if name in self.numbers else join(self.env.get(name), v)

    def block(self, stmts: tuple[ir.Stmt, ...]) -> None:
        for s in stmts:
            if isinstance(s, ir.Assign):
                self.set(s.target, self.value(s.value))
            elif isinstance(s, ir.For):
                self.set(s.index, INT)
                self.block(s.body)
            elif isinstance(s, ir.While):
                self.block(s.setup)
                self.block(s.body)
            elif isinstance(s, ir.If):
                self.block(s.body)
                self.block(s.orelse)


def _shape_tuples(fn: ir.Function) -> set[str]:
    """Names every definition of which is ``np.shape(x)`` (``x.shape``): tuples of ints, of a length unknown
    where ``x``'s rank is."""
    shapes: set[str] = set()
    other: set[str] = set()
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn == "numpy.shape":
            shapes.add(s.target)
        else:
            other |= ir.assigned_names((s,)) - ir.assigned_names(ir.nested(s))
    return shapes - other - {p.name for p in fn.params}


def _one_pass(fn: ir.Function, params: Mapping[str, Value]) -> bool:
    """Whether one pass over ``fn`` reaches the fixed point: no loop, and no name (parameters included) assigned
    twice, so every read comes after the one definition it can see, whose value the next pass would compute
    again from the same operands."""
    seen = set(params)
    for s in ir.walk(fn.body):
        if isinstance(s, (ir.For, ir.While)):
            return False
        if isinstance(s, ir.Assign):
            if s.target in seen:
                return False
            seen.add(s.target)
    return True


def scalar_operands(fn: ir.Function) -> set[str]:
    """Names passed straight to a function that accepts only numbers (``math.sin(x)``, ``range(n)``) by a
    statement that surely runs: NumPy refuses to convert an array with ``ndim > 0`` there, so they are
    scalars. Only the straight-line code at the top of the body counts, up to the first branch or loop
    (a call on one path only, or in a loop that may not run, proves nothing of the other paths)."""
    out: set[str] = set()
    for s in fn.body:
        if isinstance(s, ir.For):
            out.update(a.name for a in s.range_args if isinstance(a, ir.Var))
        if not isinstance(s, ir.Assign):
            break
        # a rule of the table: math.fsum and math.prod, called on data, take any iterable
        calls: list[ir.Call | ir.LibraryCall] = []
        _visit_calls(s.value, calls)  # the calls of the assignment s (as _calls((s,)) lists them)
        math = [e for e in calls if isinstance(e, ir.Call) and e.fn.startswith("math.")]
        out.update(a.name for e in math for a in e.args if isinstance(a, ir.Var))
    return out


def _dims_renamed(v: Value, rename: Callable[[str], Dim]) -> Value:
    """``v`` with every symbolic dimension ``d`` replaced by ``rename(d)``."""
    if isinstance(v, Array) and v.dims is not None:
        return Array(v.rank, tuple(rename(d) if isinstance(d, str) else d for d in v.dims))
    if isinstance(v, Tuple):
        return Tuple(tuple(_dims_renamed(x, rename) for x in v.items))
    return v


def _numbers(v: Value) -> bool:
    """Nothing known, a number, or a tuple of such: what scalar code's parameters may be."""
    return isinstance(v, (Unknown, Scalar)) or (isinstance(v, Tuple) and all(map(_numbers, v.items)))


def analyse(
    fn: ir.Function,
    params: Mapping[str, Value] | None = None,
    helpers: Mapping[str, ir.Function] = {},
    helper_result: HelperResult | None = None,
    given: Mapping[str, Value] = {},
    checked: bool = False,
) -> Values:
    """The values of ``fn``'s names. ``checked``: the generated code checks at run time that the
    parameters whose slices shape keys compare are no lists (the function differentiated: see
    :meth:`ShapeKeys.sliced_parameters`). ``params``: what the callers pass (a helper); None for the function
    being differentiated, whose parameters are numbers when it is scalar code. ``given``: the values a call's
    arguments have (see :mod:`s2sad.signatures`), ranked with the annotations; a contradiction is refused.

    A dimension symbol belongs to the function whose annotations name it, and is bound anew by each call, as
    in jaxtyping: a helper's ``n`` is written ``h:n`` (never equal to its caller's ``n``), and its result
    forgets it (two calls may bind it to two lengths)."""
    scope = f"{fn.name}:"
    stated = [annotated(p.annotation) for p in fn.params]
    if given:
        stated = signatures.ranked(fn, stated, given)
    if params is not None:
        stated = [_dims_renamed(v, lambda d: scope + d) for v in stated]
    if params is None:  # the function differentiated: scalar code unless it says otherwise
        scalar_code = array_free(fn, helpers) and all(map(_numbers, stated))
    else:  # a helper: scalar code when every caller passes numbers
        given = [v if not isinstance(v, Unknown) else params.get(p.name, UNKNOWN) for p, v in zip(fn.params, stated)]
        scalar_code = bool(params) and array_free(fn, helpers) and all(isinstance(v, Scalar) for v in given)
    sure = scalar_operands(fn)
    assumed: set[str] = set()
    if params is None:  # the function differentiated: what it uses as a number is taken for one, and checked
        unknown = {p.name for p, v in zip(fn.params, stated) if isinstance(v, Unknown)} - sure
        assumed = scalar_uses.numbers(fn, unknown, helpers)  # and an item of the others, sum(xs) in scalar code
        assumed |= scalar_uses.numbers(fn, scalar_uses.items(fn, unknown - assumed), helpers)
    start: dict[str, Value] = {}
    for p, given in zip(fn.params, stated):
        if isinstance(given, Unknown) and params is not None:
            given = params.get(p.name, UNKNOWN)
        if isinstance(given, Unknown) and (scalar_code or p.name in sure or p.name in assumed):
            given = Scalar()
        start[p.name] = given
    analysis = _Analysis(fn, helper_result, frozenset(assumed - set(start)))
    env = analysis.run(start)
    returned = next((s for s in fn.body if isinstance(s, ir.Return)), None)
    result = (analysis.value(returned.values[0]) if returned is not None and returned.values else None) or UNKNOWN
    several = params is not None and returned is not None and len(returned.values) > 1
    if several:  # a helper returning several values: its callers read them with ir.PART
        assert returned is not None
        result = Tuple(tuple(FLOAT if scalar_code else analysis.value(v) or UNKNOWN for v in returned.values))
    if params is not None:
        result = _dims_renamed(result, lambda d: None if d.startswith(scope) else d)
    # a zero adjoint of a sized value needs NumPy's zeros_like: only where the module already uses NumPy
    numpy = any(b.qualname.split(".")[0] == "numpy" for b in fn.imports)
    sized = {a.name for e in _calls(fn.body) if e.fn == "builtins.len" for a in e.args if isinstance(a, ir.Var)}
    sized = sized if numpy else set()
    result = FLOAT if scalar_code and not several else result
    out = Values(env, scalar_code, result, frozenset(sized), assumed=frozenset(assumed))
    return out if scalar_code else replace(out, keys=ShapeKeys(fn, out.of, (p.name for p in fn.params), checked))


def program(
    main: ir.Function, helpers: Sequence[ir.Function], given: Mapping[str, Value] | None = None
) -> dict[str, Values]:
    """The values of every function of a program: the main function's from its own parameters (and
    ``given``, a call's signature: by default the one being generated for, see :func:`signatures.giving`); a
    helper's from what every call passes it (joined), each call's result from the helper analysed for that
    call."""
    if given is None:
        given = signatures.current(main.name)
    by_name = {h.name: h for h in helpers}
    passed: dict[str, tuple[Value, ...]] = {}
    memo: dict[tuple[str, tuple[Value, ...]], Value] = {}

    def result(name: str, args: tuple[Value, ...]) -> Value:
        if name not in by_name:
            return UNKNOWN
        before = passed.get(name)
        passed[name] = args if before is None else tuple(join(a, b) or UNKNOWN for a, b in zip(before, args))
        key = (name, args)
        if key not in memo:
            memo[key] = UNKNOWN  # a recursive call (refused elsewhere) stays unknown
            h = by_name[name]
            memo[key] = analyse(h, dict(zip((p.name for p in h.params), args)), by_name, result).result
        return memo[key]

    out = {main.name: analyse(main, None, by_name, result, given, checked=True)}
    for h in reversed(list(helpers)):  # callers before callees: every call is seen before its callee's turn
        args = passed.get(h.name, (UNKNOWN,) * len(h.params))
        out[h.name] = analyse(h, dict(zip((p.name for p in h.params), args)), by_name, result)
    return out
