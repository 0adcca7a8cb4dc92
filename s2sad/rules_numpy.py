"""Derivative rules of NumPy: arithmetic and ufuncs, reductions, construction and shapes (one line each; see
:mod:`s2sad.rule_templates` for how a line reads and :mod:`s2sad.rules` for the merged table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .ir import BoolOp, Call, Const, Expr, Var
from .rule_templates import _ABS_NOTE, Rule, _expanded, _signature, discrete, nondiff, parse_template, vjp, zero

_MATMUL_A = "s2sad.matmul_adjoint_a(g, a, b)"
_MATMUL_B = "s2sad.matmul_adjoint_b(g, a, b)"


def _elements(n: int) -> Rule:
    """``np.array([x0, ..., x(n-1)])``: element k's adjoint is ``g[k]``."""
    templates: dict[str, str] = {f"x{k}": f"g[{k}]" for k in range(n)}
    fn, params, defaults = _signature(f"numpy.array({', '.join(templates)})")
    return Rule(fn, params, {p: _ELEMENTS[k] for k, p in enumerate(templates)}, "linear", shape="array")


def _joined(fn: str, n: int, adjoint: str, keywords: str = "") -> Rule:
    """``np.concatenate([x0, ..., x(n-1)], axis=0)`` and kin: element k's adjoint is ``adjoint`` with ``{k}``
    and ``{xs}`` (the elements) filled in, a support function that cuts element k's part out of ``g``."""
    xs = ", ".join(f"x{k}" for k in range(n))
    fn, params, defaults = _signature(f"{fn}({xs}{keywords})")
    form = _FORMS.get(adjoint) or _FORMS.setdefault(adjoint, _Form(adjoint, ("axis",)))
    templates = {f"x{k}": form(k=k, xs=tuple(Var(f"x{j}") for j in range(n))) for k in range(n)}
    note = "of a list or tuple display, or a tuple, of 1 to 16 arrays (a list that grows: np.stack(xs) only)"
    return Rule(fn, params, templates, "linear", note, defaults, positional=n + 1, shape="joined", elements=n)


def _select(n: int) -> Rule:
    """``t[i]`` for a tuple of ``n`` elements and an index known only at run time: ``s2sad.select(i, *t)``
    (the generated module's ``select``, which is ``t[i]``); the selected element gets the adjoint, the others
    zero with their own shape (``0.0 * x``)."""
    templates = {f"x{k}": f"g if index == {k} or index == {k - n} else 0.0 * x{k}" for k in range(n)}
    fn, params, defaults = _signature(f"s2sad.select(index, {', '.join(templates)})")
    adjoints = {f"x{k}": _SELECTED(k=k, negative=n - k, x=Var(f"x{k}")) for k in range(n)}
    note = "the element the index selects gets the adjoint"
    return Rule(fn, params, adjoints, "piecewise", note, defaults, shape="select")


class _Form:
    """A template of the families above parsed once, its placeholders filled in for each element: what
    :func:`parse_template` gives for the filled-in text (``tests/test_rules.py`` checks every entry), without
    parsing some 900 texts each time s2sad is imported. ``{k}`` is a number, ``{xs}`` the elements, each
    argument of a call; ``{negative}`` the number ``-negative``; ``{x}`` a name."""

    def __init__(self, template: str, params: Sequence[str] = ()) -> None:
        text = template.format(k="_k_", xs="_xs_", negative="_negative_", x="_x_")
        allowed = frozenset(params) | {"g", "ans"} | _PLACEHOLDERS
        self.expr = parse_template(text, allowed)

    def __call__(self, **values: object) -> Expr:
        return _filled(self.expr, values)


def _filled(e: Expr, values: Mapping[str, object]) -> Expr:
    if isinstance(e, Var) and e.name in _PLACEHOLDERS:
        value = values[e.name.strip("_")]
        if e.name == "_k_":
            return Const(value)
        if e.name == "_negative_":
            return Call("operator.neg", (Const(value),))
        assert isinstance(value, Var), e
        return value
    if isinstance(e, Call):
        args: list[Expr] = []
        for a in e.args:
            if a == Var("_xs_"):
                args.extend(values["xs"])  # type: ignore[call-overload]
            else:
                args.append(_filled(a, values))
        return Call(e.fn, tuple(args))
    if isinstance(e, BoolOp):
        return BoolOp(e.op, tuple(_filled(v, values) for v in e.values))
    return e


_PLACEHOLDERS = frozenset({"_k_", "_xs_", "_negative_", "_x_"})
_FORMS: dict[str, _Form] = {}  #: the templates of _joined, parsed
_ELEMENTS = [parse_template(f"g[{k}]", frozenset({"g"})) for k in range(16)]
_SELECTED = _Form("g if index == {k} or index == {negative} else 0.0 * {x}", ("index",))

_N = range(1, 17)  # lists of 1 to 16 elements, as np.array's

TUPLES = [
    *(_select(n) for n in range(1, 17)),
    # value k of a helper's tuple result (ir.PART): the reverse pass hands ``g`` to the helper's adjoint as the
    # adjoint of that value (s2sad.reverse), never as an adjoint of the tuple
    vjp("s2sad.part(t, k)", t="g", kind="linear", shape="getitem"),
]

NUMPY = [
    vjp("operator.matmul(a, b)", a=_MATMUL_A, b=_MATMUL_B, shape="matmul"),
    vjp("numpy.matmul(a, b)", a=_MATMUL_A, b=_MATMUL_B, shape="matmul"),
    vjp("numpy.dot(a, b)", a="s2sad.dot_adjoint_a(g, a, b)", b="s2sad.dot_adjoint_b(g, a, b)", shape="dot"),
    # np.outer flattens its operands
    vjp(
        "numpy.outer(a, b)",
        a="numpy.reshape(g @ numpy.ravel(b), numpy.shape(a))",
        b="numpy.reshape(numpy.ravel(a) @ g, numpy.shape(b))",
        shape="outer",
    ),
    vjp("numpy.exp(x)", x="g * ans", shape="elementwise"),
    vjp("numpy.log(x)", x="g / x", shape="elementwise"),
    vjp("numpy.log1p(x)", x="g / (1 + x)", shape="elementwise"),
    vjp("numpy.sqrt(x)", x="0.5 * g / ans", shape="elementwise"),
    vjp("numpy.sin(x)", x="g * numpy.cos(x)", shape="elementwise"),
    vjp("numpy.cos(x)", x="-g * numpy.sin(x)", shape="elementwise"),
    vjp("numpy.tan(x)", x="g * (1 + ans ** 2)", shape="elementwise"),
    vjp("numpy.tanh(x)", x="g * (1 - ans ** 2)", shape="elementwise"),
    vjp("numpy.abs(x)", x="g * numpy.sign(x)", kind="piecewise", note=_ABS_NOTE, shape="elementwise"),
    vjp("numpy.absolute(x)", x="g * numpy.sign(x)", kind="piecewise", note=_ABS_NOTE, shape="elementwise"),
    vjp("numpy.square(x)", x="2 * g * x", shape="elementwise"),
    vjp("numpy.negative(x)", x="-g", kind="linear", shape="elementwise"),
    vjp("numpy.power(a, b)", a="g * b * a ** (b - 1)", b="g * ans * numpy.log(a)", broadcasts=True),
    vjp("numpy.maximum(a, b)", a="g * (a >= b)", b="g * (a < b)", kind="piecewise", broadcasts=True),
    vjp("numpy.minimum(a, b)", a="g * (a <= b)", b="g * (a > b)", kind="piecewise", broadcasts=True),
    vjp(
        "numpy.where(condition, x, y)",
        x="numpy.where(condition, g, 0.0)",
        y="numpy.where(condition, 0.0, g)",
        kind="piecewise",
        broadcasts=True,
    ),
    vjp(  # a None bound: no constraint on that side
        "numpy.clip(a, a_min, a_max)",
        a="g * numpy.logical_and(True if a_min is None else a >= a_min, True if a_max is None else a <= a_max)",
        kind="piecewise",
        broadcasts=True,  # a is broadcast against the bounds
    ),
    vjp(
        "numpy.sum(a, axis=None, *, keepdims=False)",
        a=f"numpy.broadcast_to({_expanded('g')}, numpy.shape(a))",
        kind="linear",
        shape="reduce",
    ),
    vjp(
        "numpy.mean(a, axis=None, *, keepdims=False)",
        a=f"numpy.broadcast_to({_expanded('g')}, numpy.shape(a)) * (numpy.size(ans) / numpy.size(a))",
        kind="linear",
        shape="reduce",
    ),
    vjp(
        "numpy.max(a, axis=None, *, keepdims=False)",
        a=f"numpy.where(a == {_expanded('ans')}, {_expanded('g')}, 0.0) / numpy.sum(a == {_expanded('ans')}, axis, True)",
        kind="piecewise",
        note="a tie shares the adjoint equally among the maximal entries, as autograd does",
        shape="reduce",
    ),
    vjp("numpy.transpose(a)", a="numpy.transpose(g)", kind="linear", shape="transpose"),
    vjp("numpy.reshape(a, shape)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="reshape"),
    vjp("operator.getitem(a, index)", a="s2sad.scatter(g, a, index)", kind="linear", shape="getitem"),
    # x[index] = v, a functional update in the IR (s2sad.writes): the entries written take v's adjoint, the
    # entries they replaced get none; both support functions are the generated module's (s2sad.emit.SUPPORT)
    vjp(
        "s2sad.setitem(x, index, v)",
        x="s2sad.setitem_adjoint_x(g, index)",
        v="s2sad.setitem_adjoint_v(g, x, index, v)",
        kind="linear",
        shape="like",
    ),
    vjp("numpy.copy(a)", a="g", kind="linear", shape="like"),
    # lists (s2sad.frontend.writes): the adjoint of a list of n values of one shape is an array of n adjoints
    vjp("s2sad.append(xs, v)", xs="s2sad.but_last(g)", v="g[-1]", kind="linear"),
    vjp("numpy.stack(arrays)", arrays="g", kind="linear", shape="stack_of"),
    vjp("builtins.sum(xs)", xs="numpy.broadcast_to(g, numpy.shape(xs))", kind="linear"),
    nondiff("builtins.list()"),  # [] (ir.LIST): an empty list, before its appends
    # np.array([a, b, c]) of scalars: one entry per length; element k's adjoint is g[k]
    *(_elements(n) for n in range(1, 17)),
    nondiff("numpy.shape(a)", shape="shape"),
    nondiff("numpy.size(a)", shape="number"),
    nondiff("numpy.ndim(a)", shape="number"),
    nondiff("numpy.sign(x)", shape="elementwise"),
    nondiff("numpy.zeros(shape)", shape="new"),
    nondiff("numpy.ones(shape)", shape="new"),
    nondiff("numpy.zeros_like(a)", shape="like"),
    nondiff("numpy.ones_like(a)", shape="like"),
    nondiff("numpy.arange(stop)", shape="range"),
    nondiff("numpy.eye(n)", shape="eye"),
    nondiff("numpy.argmax(a, axis=None)", shape="reduce"),  # an index: data, like a comparison
    discrete("numpy.round(a)", shape="elementwise"),
    zero("numpy.floor(a)"),
]


# ----------------------------------------------------------------------------------------------------------
# NumPy, part 2 (issue 14): the ufuncs, reductions, shapes; scipy.special; linear algebra; einsum
# ----------------------------------------------------------------------------------------------------------
def _gathered(index: str) -> str:
    """The adjoint of a function that only moves or copies entries of ``a`` (``np.repeat``, ``np.tile``): the
    same function applied to the entries' positions says where each entry of the result comes from."""
    positions = "numpy.reshape(numpy.arange(numpy.size(a)), numpy.shape(a))"
    return f"s2sad.gathered(g, a, {index.format(positions)})"


_EXTREMUM = (
    f"numpy.where(a == {_expanded('ans')}, {_expanded('g')}, 0.0) / numpy.sum(a == {_expanded('ans')}, axis, True)"
)
_EXTREMUM_NOTE = "a tie shares the adjoint equally among the extremal entries, as autograd does"
_REDUCED = "(numpy.size(a) / numpy.size(ans))"  # how many entries each result entry reduces
_CENTRED = "(a - numpy.mean(a, axis, True))"

NUMPY_UFUNCS = [
    vjp("numpy.sinh(x)", x="g * numpy.cosh(x)", shape="elementwise"),
    vjp("numpy.cosh(x)", x="g * numpy.sinh(x)", shape="elementwise"),
    vjp("numpy.arcsin(x)", x="g / numpy.sqrt(1 - x ** 2)", shape="elementwise"),
    vjp("numpy.arccos(x)", x="-g / numpy.sqrt(1 - x ** 2)", shape="elementwise"),
    vjp("numpy.arctan(x)", x="g / (1 + x ** 2)", shape="elementwise"),
    vjp("numpy.arcsinh(x)", x="g / numpy.sqrt(x ** 2 + 1)", shape="elementwise"),
    vjp("numpy.arccosh(x)", x="g / numpy.sqrt(x ** 2 - 1)", shape="elementwise"),
    vjp("numpy.arctanh(x)", x="g / (1 - x ** 2)", shape="elementwise"),
    vjp("numpy.exp2(x)", x="g * ans * math.log(2)", shape="elementwise"),
    vjp("numpy.expm1(x)", x="g * (ans + 1)", shape="elementwise"),
    vjp("numpy.log2(x)", x="g / (x * math.log(2))", shape="elementwise"),
    vjp("numpy.log10(x)", x="g / (x * math.log(10))", shape="elementwise"),
    vjp("numpy.cbrt(x)", x="g / (3 * ans ** 2)", shape="elementwise"),
    vjp("numpy.reciprocal(x)", x="-g * ans ** 2", shape="elementwise"),
    vjp("numpy.positive(x)", x="g", kind="linear", shape="elementwise"),
    vjp(
        "numpy.arctan2(x1, x2)", x1="g * x2 / (x1 ** 2 + x2 ** 2)", x2="-g * x1 / (x1 ** 2 + x2 ** 2)", broadcasts=True
    ),
    vjp("numpy.hypot(x1, x2)", x1="g * x1 / ans", x2="g * x2 / ans", broadcasts=True),
    vjp("numpy.logaddexp(x1, x2)", x1="g * numpy.exp(x1 - ans)", x2="g * numpy.exp(x2 - ans)", broadcasts=True),
    vjp("numpy.logaddexp2(x1, x2)", x1="g * numpy.exp2(x1 - ans)", x2="g * numpy.exp2(x2 - ans)", broadcasts=True),
    vjp("numpy.fmax(x1, x2)", x1="g * (x1 >= x2)", x2="g * (x1 < x2)", kind="piecewise", broadcasts=True),
    vjp("numpy.fmin(x1, x2)", x1="g * (x1 <= x2)", x2="g * (x1 > x2)", kind="piecewise", broadcasts=True),
    vjp("numpy.add(x1, x2)", x1="g", x2="g", kind="linear", broadcasts=True),
    vjp("numpy.subtract(x1, x2)", x1="g", x2="-g", kind="linear", broadcasts=True),
    vjp("numpy.multiply(x1, x2)", x1="g * x2", x2="g * x1", broadcasts=True),
    vjp("numpy.divide(x1, x2)", x1="g / x2", x2="-g * ans / x2", broadcasts=True),
    vjp("numpy.true_divide(x1, x2)", x1="g / x2", x2="-g * ans / x2", broadcasts=True),
    zero("numpy.ceil(x)"),
    zero("numpy.rint(x)"),
    zero("numpy.trunc(x)"),
    nondiff("numpy.isnan(x)", shape="comparison"),
    nondiff("numpy.isfinite(x)", shape="comparison"),
    nondiff("numpy.isinf(x)", shape="comparison"),
    nondiff("numpy.logical_not(x)", shape="comparison"),
]

NUMPY_REDUCTIONS = [
    vjp(
        "numpy.min(a, axis=None, *, keepdims=False)", a=_EXTREMUM, kind="piecewise", note=_EXTREMUM_NOTE, shape="reduce"
    ),
    vjp(
        "numpy.amin(a, axis=None, *, keepdims=False)",
        a=_EXTREMUM,
        kind="piecewise",
        note=_EXTREMUM_NOTE,
        shape="reduce",
    ),
    vjp(
        "numpy.amax(a, axis=None, *, keepdims=False)",
        a=_EXTREMUM,
        kind="piecewise",
        note=_EXTREMUM_NOTE,
        shape="reduce",
    ),
    vjp(  # the product of the others: ans / a, where no entry is zero
        "numpy.prod(a, axis=None, *, keepdims=False)",
        shape="reduce",
        a=f"{_expanded('g')} * {_expanded('ans')} / a",
        note="undefined where an entry is 0 (the adjoint divides by it), as autograd",
    ),
    vjp("numpy.cumsum(a, axis=None)", a="s2sad.cumsum_adjoint(g, a, axis)", kind="linear", shape="cumulative"),
    vjp(
        "numpy.cumprod(a, axis=None)",
        a="s2sad.cumsum_adjoint(g * ans, a, axis) / a",
        note="undefined where an entry is 0 (the adjoint divides by it), as autograd",
        shape="cumulative",
    ),
    vjp(
        "numpy.var(a, axis=None, *, ddof=0, keepdims=False)",
        a=f"2 * {_CENTRED} * {_expanded('g')} / ({_REDUCED} - ddof)",
        shape="reduce_ddof",
    ),
    vjp(
        "numpy.std(a, axis=None, *, ddof=0, keepdims=False)",
        a=f"{_CENTRED} * {_expanded('g')} / (({_REDUCED} - ddof) * {_expanded('ans')})",
        note="undefined where the deviation is 0",
        shape="reduce_ddof",
    ),
    vjp(
        "numpy.linalg.norm(x, *, axis=None, keepdims=False)",
        x=f"x * {_expanded('g / ans')}",
        note="the 2-norm of a vector, the Frobenius norm of a matrix (ord not given); undefined at 0",
        shape="reduce",
    ),
    vjp(
        "numpy.average(a, axis=None, weights=None)",
        a="s2sad.average_adjoint(g, a, axis, weights)",
        kind="linear",
        shape="reduce_no_keepdims",
    ),
    vjp("numpy.trace(a)", a="s2sad.trace_adjoint(g, a)", kind="linear", shape="trace"),
    vjp(
        "numpy.nansum(a, axis=None, *, keepdims=False)",
        shape="reduce",
        a=f"numpy.where(numpy.isnan(a), 0.0, numpy.broadcast_to({_expanded('g')}, numpy.shape(a)))",
        kind="linear",
    ),
    vjp(
        "numpy.nanmean(a, axis=None, *, keepdims=False)",
        shape="reduce",
        a=f"numpy.where(numpy.isnan(a), 0.0, numpy.broadcast_to({_expanded('g')}, numpy.shape(a)))"
        " / numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, True)",
        kind="linear",
    ),
    nondiff("numpy.argmin(a, axis=None)", shape="reduce"),
    nondiff("numpy.argsort(a, axis=-1)", shape="cumulative"),
]

NUMPY_SHAPES = [
    vjp("numpy.squeeze(a, axis=None)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="squeeze"),
    vjp("numpy.expand_dims(a, axis)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="expand_dims"),
    vjp("numpy.ravel(a)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="ravel"),
    vjp("numpy.atleast_1d(a)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="atleast_1d"),
    vjp("numpy.atleast_2d(a)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="atleast_2d"),
    vjp("numpy.swapaxes(a, axis1, axis2)", a="numpy.swapaxes(g, axis1, axis2)", kind="linear", shape="swapaxes"),
    vjp(
        "numpy.moveaxis(a, source, destination)",
        a="numpy.moveaxis(g, destination, source)",
        kind="linear",
        shape="moveaxis",
    ),
    vjp("numpy.flip(m, axis=None)", m="numpy.flip(g, axis)", kind="linear", shape="like"),
    vjp("numpy.roll(a, shift, axis=None)", a="numpy.roll(g, numpy.negative(shift), axis)", kind="linear", shape="like"),
    vjp("numpy.broadcast_to(array, shape)", array="s2sad.unbroadcast(g, array)", kind="linear", shape="broadcast_to"),
    vjp("numpy.full(shape, fill_value)", fill_value="s2sad.unbroadcast(g, fill_value)", kind="linear", shape="new"),
    vjp("numpy.full_like(a, fill_value)", fill_value="s2sad.unbroadcast(g, fill_value)", kind="linear", shape="like"),
    vjp("numpy.diag(v, k=0)", v="s2sad.diag_adjoint(g, v, k)", kind="linear", shape="diag"),
    vjp(
        "numpy.diagonal(a, offset=0, axis1=0, axis2=1)",
        a=_gathered("numpy.diagonal({}, offset, axis1, axis2)"),
        kind="linear",
        shape="diagonal",
    ),
    vjp("numpy.tril(m, k=0)", m="numpy.tril(g, k)", kind="linear", shape="triangle"),
    vjp("numpy.triu(m, k=0)", m="numpy.triu(g, k)", kind="linear", shape="triangle"),
    vjp(
        "numpy.repeat(a, repeats, axis=None)",
        a=_gathered("numpy.repeat({}, repeats, axis)"),
        kind="linear",
        shape="repeat",
    ),
    vjp("numpy.tile(a, reps)", a=_gathered("numpy.tile({}, reps)"), kind="linear", shape="tile"),
    vjp("numpy.atleast_3d(a)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="atleast_3d"),
    vjp("numpy.asarray(a)", a="g", kind="linear", shape="like"),
    # x.flatten(): a copy (np.ravel may be a view, which a later write to the result would change)
    vjp("numpy.ndarray.flatten(a)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="ravel"),
    # a list display or a tuple of arrays, joined: one entry per length (see rule_templates.Rule.elements)
    *(_joined("numpy.concatenate", n, "s2sad.concatenate_adjoint(g, {k}, axis, {xs})", ", axis=0") for n in _N),
    *(_joined("numpy.stack", n, "numpy.take(g, {k}, axis)", ", axis=0") for n in _N),
    *(_joined("numpy.hstack", n, "s2sad.hstack_adjoint(g, {k}, {xs})") for n in _N),
    *(_joined("numpy.vstack", n, "s2sad.vstack_adjoint(g, {k}, {xs})") for n in _N),
    *(_joined("numpy.column_stack", n, "s2sad.column_stack_adjoint(g, {k}, {xs})") for n in _N),
]
