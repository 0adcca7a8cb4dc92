"""Emit: IR -> Python source -> black -> ``compile()`` self-check.

Expressions are built as standard-library ``ast`` nodes and printed as ``ast.unparse`` prints them (which
parenthesises by precedence; :mod:`s2sad.unparse` writes the common nodes faster); statements and comments are
laid out here, then black formats the module. Qualified names are spelled the way the user's module imports
them (``exp`` after ``from math import exp``, ``m.exp`` after ``import math as m``); a name the rules need and
the user never imported follows the user's style for that module. The module imports exactly what its code uses.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Iterable, Sequence

from . import formatting, ir
from .diagnostics import InternalError
from .files import escape
from .names import BUILTINS, ModuleNames, Spelling, bound_names, identifiers, local_names
from .rules import OPERATOR_SYMBOLS, lookup
from .unparse import unparse
from .support_library import LIBRARY_SUPPORT

__all__ = ["emit", "format_source", "inert"]

_BINARY = {v: k for k, v in OPERATOR_SYMBOLS.items() if issubclass(k, ast.operator)}
_UNARY = {v: k for k, v in OPERATOR_SYMBOLS.items() if issubclass(k, ast.unaryop)}
_COMPARE = {v: k for k, v in OPERATOR_SYMBOLS.items() if issubclass(k, ast.cmpop)}
_INDENT = "    "


#: Helpers the generated code may call, defined in the module (once, only when used): it never imports s2sad.
SUPPORT = {
    "unbroadcast": '''def unbroadcast(g, x):
    """Sum the adjoint g over the axes along which x was broadcast, giving it x's shape."""
    if getattr(g, "shape", None) == getattr(x, "shape", False):  # two arrays alike
        return g
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    if np.ndim(g) > len(shape):
        g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape))))
        if np.shape(g) == shape:
            return g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    return np.reshape(np.sum(g, axis=axes, keepdims=True), shape)''',
    "scatter": '''def scatter(g, x, index):
    """The adjoint of x[index]: g in the entries read, zero elsewhere (summed where an index repeats)."""
    out = np.zeros(np.shape(x))
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, (int, np.integer, slice)) for i in parts):
        out[index] = g  # basic indexing reads each entry once
    else:
        np.add.at(out, index, g)
    return out''',
    "zeros_of": '''def zeros_of(x):
    """A zero adjoint for x: an array of its shape; for a tuple or a list, whose items may differ in shape (an
    array and a number), an array of objects holding one zero per item (0.0 for a number)."""
    if not isinstance(x, (tuple, list)) and getattr(x, "dtype", None) != object:
        return np.zeros(np.shape(x))
    out = np.empty(len(x), dtype=object)
    for i, item in enumerate(x):
        out[i] = zeros_of(item) if isinstance(item, (tuple, list, np.ndarray)) else 0.0
    return out''',
    "check_number": '''def check_number(x, name, function, item_of=None):
    """True for a number (a 0-d value, no list or tuple); else the TypeError of a value taken for one."""
    if getattr(x, "ndim", 0) == 0 and not isinstance(x, (list, tuple)):
        return True
    what = f"'{name}' (read from '{item_of}')" if item_of else f"'{name}'"
    raise TypeError(
        f"{what} must be a number, not an array, a list or a tuple: '{function}' uses it as scalar code does "
        f"and its derivative is written for numbers (annotate '{item_of or name}: np.ndarray' for array code)"
    )''',
    "shaped_as": '''def shaped_as(g, x):
    """The adjoint g of x in x's own kind: for a tuple (a list), a tuple (a list) of its items' adjoints."""
    if isinstance(x, (tuple, list)):
        items = [shaped_as(a, item) for a, item in zip(g, x)]
        return items if isinstance(x, list) else tuple(items)
    return g''',
    "bundle": '''def bundle(d, keys, *adjoints):
    """The adjoint of the dictionary d: the adjoint of each entry read, zero for the entries not read."""
    out = {k: np.zeros_like(v) for k, v in d.items()}
    out.update(zip(keys, adjoints))
    return out''',
    "setitem_adjoint_x": '''def setitem_adjoint_x(g, index):
    """The adjoint of x in x[index] = v: g, zero in the entries the write replaced."""
    out = np.array(g, dtype=float)
    out[index] = 0.0
    return out''',
    "setitem_adjoint_v": '''def setitem_adjoint_v(g, x, index, v):
    """The adjoint of v in x[index] = v: g in the entries written, summed back to v's shape."""
    if not np.issubdtype(np.asarray(x).dtype, np.inexact):
        raise ValueError(
            "x[index] = v into an array of integers truncates v, which s2sad does not differentiate: "
            "create the array with a float dtype"
        )
    parts = index if isinstance(index, tuple) else (index,)
    if not all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts):
        counts = np.zeros(np.shape(x))
        np.add.at(counts, index, 1.0)
        if np.any(counts > 1.0):
            raise ValueError(
                "x[index] = v writes an entry twice (an index repeats) and keeps one of the values, "
                "which s2sad does not differentiate: write each entry once"
            )
    out = np.array(g[index], dtype=float)
    shape = np.shape(v)
    if np.ndim(out) > len(shape):
        out = np.sum(out, axis=tuple(range(np.ndim(out) - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(out)[i] != 1)
    out = np.reshape(np.sum(out, axis=axes, keepdims=True), shape)
    return out if shape else out[()]''',
    "but_last": '''def but_last(g):
    """The adjoint of a list before its last append: the adjoints of every element but the last."""
    return g[:-1]''',
    "select": '''def select(index, *items):
    """items[index]: an element of a tuple, chosen at run time."""
    return items[index]''',
    "matmul_adjoint_a": '''def matmul_adjoint_a(g, a, b):
    """The adjoint of a in a @ b, as NumPy's matmul defines it: a 1-D operand is a row (a) or a column (b),
    and the adjoint is summed over the batch dimensions a was broadcast along."""
    if getattr(a, "ndim", None) == 2:  # a matrix: g b^T, or an outer product
        if getattr(b, "ndim", None) == 2:
            return g @ np.swapaxes(b, -1, -2)
        if getattr(b, "ndim", None) == 1:
            return np.outer(g, b)
    if np.ndim(b) == 1:
        g, b = np.expand_dims(g, -1), np.expand_dims(b, -1)
    if np.ndim(a) == 1:
        g = np.expand_dims(g, -2)
    out = g @ np.swapaxes(b, -1, -2)
    shape = np.shape(a) if np.ndim(a) > 1 else (1,) + np.shape(a)
    out = np.sum(out, axis=tuple(range(np.ndim(out) - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(out)[i] != 1)
    return np.reshape(np.sum(out, axis=axes, keepdims=True), np.shape(a))''',
    "matmul_adjoint_b": '''def matmul_adjoint_b(g, a, b):
    """The adjoint of b in a @ b, as NumPy's matmul defines it: a 1-D operand is a row (a) or a column (b),
    and the adjoint is summed over the batch dimensions b was broadcast along."""
    if getattr(a, "ndim", None) == 2 and getattr(b, "ndim", 0) > 0:  # a^T g
        return np.swapaxes(a, -1, -2) @ g
    if np.ndim(b) == 1:
        g = np.expand_dims(g, -1)
    if np.ndim(a) == 1:
        g, a = np.expand_dims(g, -2), np.expand_dims(a, -2)
    out = np.swapaxes(a, -1, -2) @ g
    shape = np.shape(b) if np.ndim(b) > 1 else np.shape(b) + (1,)
    out = np.sum(out, axis=tuple(range(np.ndim(out) - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(out)[i] != 1)
    return np.reshape(np.sum(out, axis=axes, keepdims=True), np.shape(b))''',
    "dot_adjoint_a": '''def dot_adjoint_a(g, a, b):
    """The adjoint of a in np.dot(a, b): a product when either is a scalar, else the sum over the last
    axis of a and the second-to-last of b (the only axis of a 1-D b)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return np.sum(g * b) if np.ndim(a) == 0 else g * b
    kept = [i for i in range(np.ndim(b)) if i != max(np.ndim(b) - 2, 0)]
    return np.tensordot(g, b, axes=(list(range(np.ndim(a) - 1, np.ndim(g))), kept))''',
    "dot_adjoint_b": '''def dot_adjoint_b(g, a, b):
    """The adjoint of b in np.dot(a, b): a product when either is a scalar, else the sum over the last
    axis of a and the second-to-last of b (the only axis of a 1-D b)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return np.sum(g * a) if np.ndim(b) == 0 else g * a
    batch = list(range(np.ndim(a) - 1))
    return np.moveaxis(np.tensordot(a, g, axes=(batch, batch)), 0, max(np.ndim(b) - 2, 0))''',
}


SUPPORT.update(LIBRARY_SUPPORT)


def inert(text: str) -> str:
    """``text`` made safe inside a ``#`` comment: every character that a tokenizer, an editor or a terminal
    may take for the end of a line (or that reorders text) is written as its escape, e.g. ``\\u2028``."""
    if text.isascii() and text.isprintable():  # ' ' to '~': nothing to escape (most comments: skip the scan)
        return text
    return escape(text, keep="\t")


def format_source(source: str, held: Sequence[Sequence[str]] = (), prefix: str = "") -> str:
    """Black's formatting of ``source`` (with ``held`` runs of lines put back: see :mod:`s2sad.formatting`)."""
    return formatting.format_module(source, held, prefix)


def emit(
    fn: ir.Function,
    header: Iterable[str],
    docstring: str,
    others: Sequence[tuple[ir.Function, str]] = (),
    verbatim: Sequence[tuple[str, Sequence[ir.Binding]]] = (),
    names: ModuleNames | None = None,
) -> str:
    """The module text for ``fn`` (then ``others``, then ``verbatim`` functions copied as written), formatted
    with black and checked by ``compile()``. ``names`` are the generated module's names (see
    :mod:`s2sad.names`); the gradient function stays the last top-level ``def`` named ``grad_...``."""
    if names is None:
        names = ModuleNames.of([fn, *(o for o, _ in others)], [(_def_name(t), t) for t, _ in verbatim])
    functions = [(fn, docstring), *others]
    # a module the support functions use must not be imported as one of their locals (``import numpy as g``)
    spelling = Spelling(_bound(functions, verbatim, names), set().union(*map(local_names, SUPPORT.values())))
    for _, bindings in verbatim:
        spelling.force(bindings)
    blocks: list[tuple[str, list[str]]] = []  # (text, and for a generated function its body's lines)
    constants: dict[str, str] = {}
    support: set[str] = set()
    for function, doc in functions:
        in_function = _Spelling(function, spelling, names, support)
        body_lines: list[str] = []
        for s in function.body:
            _statement(s, in_function, 1, body_lines)
        parts = [
            p.name if p.default is None else f"{p.name}={unparse(_expr(p.default, in_function))}"
            for p in function.params
        ]
        kwonly = [k for k, p in enumerate(function.params) if p.kwonly]
        if kwonly:  # keyword-only parameters keep their '*'
            parts.insert(kwonly[0], "*")
        params = ", ".join(parts)
        blocks.append((f'def {function.name}({params}):\n{_INDENT}"""{doc}"""', body_lines))
        constants.update((c.name, c.text) for c in function.constants)
    blocks.extend((text.rstrip(), []) for text, _ in verbatim)
    for name in sorted(support):
        blocks.append((_support(name, names.support(name), spelling), []))
    defined = [_def_name(b) for b, _ in blocks[1:]]
    if fn.name.startswith("grad_") and any(d.startswith("grad_") for d in defined):
        blocks.append(blocks.pop(0))  # the gradient is the last 'grad_' function, as tools expect
    lines = [f"# {inert(h)}" if h else "#" for h in header]
    lines.append("")
    lines.extend(spelling.lines())
    if constants:
        lines.append("")
        lines.extend(constants[k] for k in sorted(constants))
    text = _join(lines, blocks)
    prefix = formatting.placeholder_prefix(text)
    held: list[list[str]] = []
    blocks = [(head, formatting.hold_out(body, held, prefix)) for head, body in blocks]
    try:
        formatted = format_source(_join(lines, blocks) if held else text, held, prefix)
        compile(formatted, f"<generated {fn.name}>", "exec", dont_inherit=True)
    except Exception as err:  # black or compile rejected our own output
        raise InternalError(f"the generated code for '{fn.name}' does not compile: {err}\n{text}") from err
    return formatted


def _join(lines: list[str], blocks: Sequence[tuple[str, list[str]]]) -> str:
    parts = list(lines)
    for head, body in blocks:
        parts += ["", "", head, *body]
    return "\n".join(parts) + "\n"


def _def_name(text: str) -> str:
    return text.split("def ", 1)[1].split("(", 1)[0].strip()


def _bound(
    functions: Sequence[tuple[ir.Function, str]],
    verbatim: Sequence[tuple[str, Sequence[ir.Binding]]],
    names: ModuleNames,
) -> set[str]:
    """Every name the generated module binds other than by imports: its functions, their parameters and
    locals, its constants, and every identifier of the functions copied as written (but their imports)."""
    bound = {names.support(n) for n in SUPPORT}
    for function, _ in functions:
        bound |= {function.name} | bound_names(function)
        bound |= {c.name for c in function.constants}
    for text, bindings in verbatim:
        bound |= identifiers(text) - {b.local for b in bindings}
    return bound


def _support(name: str, spelled: str, spelling: Spelling) -> str:
    """The support function ``name``, defined as ``spelled``, its NumPy and builtins written as this module
    spells them."""
    text = SUPPORT[name]
    used = identifiers(text) - local_names(text)
    spellings = {n: spelling.name(f"builtins.{n}") for n in sorted(used) if n in BUILTINS}
    if "np" in used:  # a check of a number needs no NumPy
        spellings["np"] = spelling.module("numpy")
    spellings[name] = spelled
    return spelling.rewrite(text, spellings)


class _Spelling:
    """How each qualified name is written in one function of the generated module."""

    def __init__(self, fn: ir.Function, module: Spelling, names: ModuleNames, support: set[str]) -> None:
        self.fn = fn
        self.module = module
        self.names = names
        self.support = support  #: support functions the module's code uses

    def name(self, qualname: str) -> str:
        if qualname.startswith("s2sad."):  # a support function of the generated module's own
            self.support.add(qualname.split(".", 1)[1])
            return self.names.support(qualname.split(".", 1)[1])
        return self.module.name(qualname, self.fn.imports)


def _constant(value: ir.Value) -> ast.expr:
    if isinstance(value, tuple):
        return ast.Tuple([_constant(v) for v in value])
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _expr(e: ir.Expr, spelling: _Spelling) -> ast.expr:
    if isinstance(e, ir.Var):
        return ast.Name(e.name)
    if isinstance(e, ir.Const):
        return _constant(e.value)
    if isinstance(e, ir.Slice):  # outside brackets, a slice is a value: slice(start, stop, step)
        return ast.Call(
            ast.Name(spelling.name("builtins.slice")), [_expr(p, spelling) for p in (e.start, e.stop, e.step)], []
        )
    if isinstance(e, ir.Global):
        return _reference(spelling.name(e.qualname))
    if isinstance(e, ir.BoolOp):
        return ast.BoolOp(ast.And() if e.op == "and" else ast.Or(), [_expr(v, spelling) for v in e.values])
    if isinstance(e, ir.LibraryCall):  # as the user wrote it
        func = _reference(spelling.name(e.fn))
        keywords = [ast.keyword(k, _expr(v, spelling)) for k, v in e.keywords]
        return ast.Call(func, [_expr(a, spelling) for a in e.args], keywords)
    args = [_expr(a, spelling) for a in e.args]
    if e.fn in _BINARY and len(args) == 2:
        return ast.BinOp(args[0], _BINARY[e.fn](), args[1])
    if e.fn in _UNARY and len(args) == 1:
        return ast.UnaryOp(_UNARY[e.fn](), args[0])
    if e.fn in _COMPARE and len(args) == 2:
        return ast.Compare(args[0], [_COMPARE[e.fn]()], [args[1]])
    if e.fn == ir.TUPLE:
        return ast.Tuple(args)
    if e.fn == ir.LIST:  # an empty list (a stack), or a list display (an argument of a library call)
        return ast.List(args)
    if e.fn == ir.IFEXP:
        return ast.IfExp(args[0], args[1], args[2])
    if e.fn in (ir.GETITEM, ir.PART):
        return ast.Subscript(args[0], _index(e.args[1], spelling))
    if e.fn == ir.TRANSPOSED:
        return ast.Attribute(args[0], "T")
    if e.fn.startswith("s2sad."):  # a helper of the generated module's own: defined once, where used
        return ast.Call(ast.Name(spelling.name(e.fn)), args, [])
    return _call(e, args, spelling)


def _reference(text: str) -> ast.expr:
    """The expression ``text`` (a name as spelled in the generated module: ``np.sin``, ``sin``); a dotted name
    is built as ``ast.parse`` builds it, without parsing it (once per call of the generated code)."""
    parts = text.split(".")
    if not all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        return ast.parse(text, mode="eval").body
    out: ast.expr = ast.Name(parts[0])
    for part in parts[1:]:
        out = ast.Attribute(out, part)
    return out


def _index(e: ir.Expr, spelling: _Spelling) -> ast.expr:
    """An index inside brackets, where slices are written ``a:b``."""
    if isinstance(e, ir.Slice):
        parts = [
            None if isinstance(p, ir.Const) and p.value is None else _expr(p, spelling)
            for p in (e.start, e.stop, e.step)
        ]
        return ast.Slice(*parts)
    if isinstance(e, ir.Call) and e.fn == ir.TUPLE:
        return ast.Tuple([_index(a, spelling) for a in e.args])
    return _expr(e, spelling)


def _call(e: ir.Call, args: list[ast.expr], spelling: _Spelling) -> ast.expr:
    """A call; arguments of keyword parameters (``axis=0``) are written by keyword, defaults left out."""
    func = _reference(spelling.name(e.fn))
    if e.fn == "numpy.array":  # the IR's elements go back into the list the user wrote
        return ast.Call(func, [ast.List(args)], [])
    rule = lookup(e.fn, len(e.args))
    if rule is not None and rule.elements:  # np.concatenate([a, b], axis=1): the elements back into their list
        n = rule.elements
        named = zip(rule.params[n:], args[n:], e.args[n:])
        return ast.Call(func, [ast.List(args[:n])], [ast.keyword(p, a) for p, a, v in named if v != rule.defaults[p]])
    if rule is None or not rule.defaults:
        return ast.Call(func, args, [])
    positional = [a for p, a in zip(rule.params, args) if p not in rule.defaults]
    keywords = [
        ast.keyword(p, a)
        for p, a, value in zip(rule.params, args, e.args)
        if p in rule.defaults and value != rule.defaults[p]
    ]
    return ast.Call(func, positional, keywords)


_OPPOSITES = {
    "operator.eq": "operator.ne",
    "operator.ne": "operator.eq",
    "operator.lt": "operator.ge",
    "operator.ge": "operator.lt",
    "operator.gt": "operator.le",
    "operator.le": "operator.gt",
}


#: support functions that return True or raise an error of their own (see :func:`_raises`)
_RAISING = frozenset({"s2sad.check_number"})


def _raises(test: ir.Expr) -> bool:
    """Whether ``test`` is ``a or check(...)`` with ``check`` a support function that returns True or raises:
    written ``if not a: check(...)``, the same run time (``check`` runs only when ``a`` fails)."""
    return (
        type(test) is ir.BoolOp
        and test.op == "or"
        and type(test.values[-1]) is ir.Call
        and test.values[-1].fn in _RAISING  # type: ignore[union-attr]
    )


def _opposite(test: ir.Expr) -> ir.Expr | None:
    """``a != b`` for ``a == b``: a comparison's negation without ``not``; None for other tests."""
    if isinstance(test, ir.Call) and test.fn == "operator.not_":
        return test.args[0]
    if isinstance(test, ir.Call) and test.fn in _OPPOSITES:
        return ir.Call(_OPPOSITES[test.fn], test.args)
    return None


def _negated(e: ir.Expr) -> ir.Expr | None:
    """``a`` for ``-a``, ``a * b`` for ``-a * b`` or ``-2 * b``, ``a / b`` for ``-a / b``; else None."""
    if isinstance(e, ir.Call) and e.fn == "operator.neg":
        return e.args[0]
    if isinstance(e, ir.Call) and e.fn in ("operator.mul", "operator.truediv"):
        first = e.args[0]
        inner = _negated(first)
        value = first.value if isinstance(first, ir.Const) else None
        if inner is None and isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            inner = ir.Const(-value)
        if inner is not None:
            return ir.Call(e.fn, (inner, *e.args[1:]))
    return None


def _text(e: ir.Expr, spelling: _Spelling) -> str:
    if type(e) is ir.Var:  # a name is written as itself (as ast.unparse writes ast.Name)
        return e.name
    return unparse(_expr(e, spelling))


def _statement(s: ir.Stmt, spelling: _Spelling, depth: int, out: list[str]) -> None:
    pad = _INDENT * depth
    if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn == ir.SETITEM:
        array, index, value = s.value.args  # written in place (see s2sad.writes): the target is the same array
        store = ast.Subscript(_expr(array, spelling), _index(index, spelling))
        out.append(f"{pad}{unparse(store)} = {_text(value, spelling)}")
        if array != ir.Var(s.target):
            out.append(f"{pad}{s.target} = {_text(array, spelling)}")
    elif isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn == ir.APPEND:
        items, value = s.value.args  # appended in place (see s2sad.writes): the target is the same list
        out.append(f"{pad}{_text(items, spelling)}.append({_text(value, spelling)})")
        if items != ir.Var(s.target):
            out.append(f"{pad}{s.target} = {_text(items, spelling)}")
    elif isinstance(s, ir.Assign):
        out.append(f"{pad}{s.target} = {_text(s.value, spelling)}")
    elif isinstance(s, ir.Accumulate) and isinstance(s.value, ir.Call) and s.value.fn == ir.ADD_AT:
        index, value = s.value.args
        call = f"{spelling.name('numpy.add')}.at({s.target}, {_text(index, spelling)}, {_text(value, spelling)})"
        out.append(f"{pad}{call}")
    elif isinstance(s, ir.Accumulate) and isinstance(s.value, ir.Call) and s.value.fn == ir.INDEXED:
        index, value = s.value.args
        part = unparse(ast.Subscript(ast.Name(s.target), _index(index, spelling)))
        negated = _negated(value)
        if negated is not None:
            out.append(f"{pad}{part} -= {_text(negated, spelling)}")
        else:
            out.append(f"{pad}{part} += {_text(value, spelling)}")
    elif isinstance(s, ir.Accumulate):
        negated = _negated(s.value)
        if negated is not None:
            out.append(f"{pad}{s.target} -= {_text(negated, spelling)}")
        else:
            out.append(f"{pad}{s.target} += {_text(s.value, spelling)}")
    elif isinstance(s, ir.Unpack):
        out.append(f"{pad}{', '.join(s.targets)} = {_text(s.value, spelling)}")
    elif isinstance(s, ir.Push):
        out.append(f"{pad}{s.stack}.append({s.name})")
    elif isinstance(s, ir.Pop):
        out.append(f"{pad}{s.name} = {s.stack}.pop()")
    elif isinstance(s, ir.Require) and _raises(s.test):  # ``a or check(x)``: the check raises its own error
        *passes, check = s.test.values  # type: ignore[union-attr]
        test = passes[0] if len(passes) == 1 else ir.BoolOp("or", tuple(passes))
        failed = (
            ir.Call("operator.is_not", test.args)
            if type(test) is ir.Call and test.fn == "operator.is_"
            else _opposite(test)
        )
        shown = (
            _text(failed, spelling) if failed is not None else unparse(ast.UnaryOp(ast.Not(), _expr(test, spelling)))
        )
        out.append(f"{pad}if {shown}:")
        out.append(f"{pad}{_INDENT}{_text(check, spelling)}")
    elif isinstance(s, ir.Require):
        failed = _opposite(s.test)
        shown = (
            _text(failed, spelling) if failed is not None else unparse(ast.UnaryOp(ast.Not(), _expr(s.test, spelling)))
        )
        out.append(f"{pad}if {shown}:")
        out.append(f"{pad}{_INDENT}raise {spelling.name(s.error)}({s.message!r})")
    elif isinstance(s, ir.Comment):
        out.append(f"{pad}# {inert(s.text)}")
    elif isinstance(s, ir.Return):
        out.append(f"{pad}return {', '.join(_text(v, spelling) for v in s.values)}")
    elif isinstance(s, ir.For):
        args = ", ".join(_text(a, spelling) for a in s.range_args)
        iterator = f"{spelling.name('builtins.range')}({args})"
        if s.reverse:
            iterator = f"{spelling.name('builtins.reversed')}({iterator})"
        targets = [s.index] if s.range_args else []
        iterators = [iterator] if s.range_args else []
        for name, stack in s.stacks:  # the records, last first (see s2sad.records)
            targets.append(name)
            iterators.append(f"{spelling.name('builtins.reversed')}({stack})")
        if len(iterators) > 1:
            iterator = f"{spelling.name('builtins.zip')}({', '.join(iterators)})"
        else:
            iterator = iterators[0]
        out.append(f"{pad}for {', '.join(targets)} in {iterator}:")
        _block(s.body, spelling, depth + 1, out)
    elif isinstance(s, ir.If):
        _if(s, spelling, depth, out, "if")
    elif isinstance(s, ir.While):
        if s.counter is not None:
            out.append(f"{pad}{s.counter} = 0")
        if not s.setup:
            out.append(f"{pad}while {_text(s.test, spelling)}:")
            _block(s.body, spelling, depth + 1, out)
        else:
            out.append(f"{pad}while True:")
            _block(s.setup, spelling, depth + 1, out)
            exit_test = unparse(ast.UnaryOp(ast.Not(), _expr(s.test, spelling)))
            out.append(f"{pad}{_INDENT}if {exit_test}:")
            out.append(f"{pad}{_INDENT}{_INDENT}break")
            _block(s.body, spelling, depth + 1, out)
    else:  # pragma: no cover - the IR has no other statements
        raise InternalError(f"cannot emit {s!r}")


def _if(s: ir.If, spelling: _Spelling, depth: int, out: list[str], keyword: str) -> None:
    pad = _INDENT * depth
    body, orelse, test = s.body, s.orelse, _expr(s.test, spelling)
    if not body and orelse:
        body, orelse, test = orelse, (), ast.UnaryOp(ast.Not(), test)
    out.append(f"{pad}{keyword} {unparse(test)}:")
    _block(body, spelling, depth + 1, out)
    if len(orelse) == 1 and isinstance(orelse[0], ir.If) and orelse[0].body:
        _if(orelse[0], spelling, depth, out, "elif")
    elif orelse:
        out.append(f"{pad}else:")
        _block(orelse, spelling, depth + 1, out)


def _block(stmts: tuple[ir.Stmt, ...], spelling: _Spelling, depth: int, out: list[str]) -> None:
    start = len(out)
    for s in stmts:
        _statement(s, spelling, depth, out)
    if all(line.lstrip().startswith("#") for line in out[start:]):
        out.append(f"{_INDENT * depth}pass")
