"""The intermediate representation: plain frozen dataclasses, no LibCST, no black.

Grammar (after :mod:`s2sad.ssa`)::

    Function  ::= name, params, body: Block, imports, constants
    Block     ::= Stmt*
    Stmt      ::= Assign(target, Expr)          target = expr
                | Accumulate(target, Expr)      target += expr           (reverse pass only; with
                                                INDEXED/ADD_AT: into part of the target, in place)
                | Unpack(targets, Expr)         a, b = expr              (reverse pass only)
                | Push(stack, name) | Pop(name, stack)                   (reverse pass only)
                | For(index, range args, reverse, Block)
                | If(test: Expr, Block, Block)
                | While(test: Expr, Block, counter)
                | Return(Expr*) | Require(test, message, error) | Comment(text)
    Expr      ::= Var(name) | Const(number) | Global(qualname)
                | Call(qualname, Expr*)       operators too: ``operator.mul``, ``operator.lt`` ...;
                                              ``TUPLE``/``LIST`` build a tuple / an empty list;
                                              ``PART`` reads one value of a helper's tuple result
                | BoolOp("and" | "or", Expr*)
                | LibraryCall(qualname, Expr*, keywords)   a library call with no derivative rule, emitted
                                              as written; its result carries no derivative

Invariants of the forward program handed to the analyses:
- Every ``Assign`` holds one primitive: a ``Call`` (or ``LibraryCall``) whose arguments are atoms (``Var``/``Const``/``Global``), or
  an atom (a copy). Tests of ``If``/``While`` may be comparison trees over atoms.
- Single assignment: a name is assigned once, except a *carried* name of a loop (assigned once per iteration by
  the last definition in the body) and the *merge* name of an ``If`` (assigned once in each branch).
- Every statement that comes from user code has an ``origin``: the span and text of the user's statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeAlias

from .diagnostics import Diagnostic, Span

__all__ = [
    "Var",
    "Const",
    "Global",
    "Call",
    "BoolOp",
    "LibraryCall",
    "Slice",
    "Expr",
    "Origin",
    "Assign",
    "Accumulate",
    "Unpack",
    "Push",
    "Pop",
    "For",
    "If",
    "While",
    "Return",
    "Require",
    "Comment",
    "Stmt",
    "Param",
    "Binding",
    "Bundle",
    "ModuleConstant",
    "Function",
    "TEMP",
    "TUPLE",
    "LIST",
    "IFEXP",
    "GETITEM",
    "TRANSPOSED",
    "SETITEM",
    "APPEND",
    "PART",
    "INDEXED",
    "ADD_AT",
    "temp_base",
    "walk",
    "nested",
    "substitute",
    "expr_names",
    "assigned_names",
    "must_define",
    "COMPOUND",
]

Number: TypeAlias = int | float | bool
#: A constant: a number, ``None`` (a default such as ``axis=None``) or a tuple of them (a shape, axes); a
#: string only as an argument of an :class:`LibraryCall` (``dtype="float64"``).
Value: TypeAlias = "int | float | bool | str | None | tuple[Value, ...]"

#: Before SSA, an intermediate the frontend invented is named ``$<base>#<n>``: ``base`` describes the value
#: (``sin_x``), ``n`` makes the name unique. The SSA stage gives it its real name.
TEMP = "$"


#: Operations with syntax of their own: ``Call(TUPLE, items)`` is a tuple display, ``Call(LIST, items)`` a
#: list display (an empty list is a stack; one with items is an argument of a :class:`LibraryCall`), ``Call(IFEXP, (test, a, b))`` is ``a if test else b``, ``Call(GETITEM, (x, index))``
#: is ``x[index]``.
TUPLE = "builtins.tuple"
LIST = "builtins.list"
IFEXP = "s2sad.ifexp"
GETITEM = "operator.getitem"
#: ``Call(TRANSPOSED, (x,))`` is ``x.T``: written only for a value known to be an array (see s2sad.specialise)
TRANSPOSED = "numpy.ndarray.T"
#: ``Call(SETITEM, (x, index, v))``: the array ``x`` with ``x[index] = v`` written, a functional update in the
#: IR; the generated code writes it in place (see :mod:`s2sad.writes`).
SETITEM = "s2sad.setitem"
#: ``Call(APPEND, (xs, v))``: the list ``xs`` with ``v`` appended, a functional update in the IR; the generated
#: code appends in place and pops in the reverse pass (see :mod:`s2sad.writes`).
APPEND = "s2sad.append"
#: ``Call(PART, (t, Const(k)))`` is ``t[k]``, value ``k`` of what a helper returning several values returned:
#: ``t = h(x)`` then ``a = part(t, 0)``, ``b = part(t, 1)`` right after it, in the same block (the frontend
#: writes them so). The helper runs once; its adjoint takes the adjoints of the values its callers use, each
#: read from the part that names it (see :mod:`s2sad.reverse`), so ``t`` itself never has an adjoint variable.
PART = "s2sad.part"
#: ``Accumulate(x, Call(INDEXED, (index, v)))`` is ``x[index] += v``; ``Accumulate(x, Call(ADD_AT, (index, v)))``
#: is ``np.add.at(x, index, v)`` (unbuffered: an index that repeats adds every time). Written only into an
#: adjoint array s2sad owns (see s2sad.inplace); the index is inside the value so that every stage sees it read.
INDEXED = "<indexed>"
ADD_AT = "numpy.add.at"


def temp_base(name: str) -> str:
    return name[len(TEMP) :].split("#", 1)[0] if name.startswith(TEMP) else name


@dataclass(frozen=True, slots=True)
class Var:
    name: str


@dataclass(frozen=True, slots=True)
class Const:
    value: Value


@dataclass(frozen=True, slots=True)
class Global:
    """A name from outside the function: ``math.pi``, or a constant of the user's module (qualname ``K``)."""

    qualname: str


@dataclass(frozen=True, slots=True)
class Call:
    fn: str  #: qualified name of the primitive, e.g. ``math.sin`` or ``operator.add``
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class LibraryCall:
    """A call of a library function (NumPy, SciPy, math) that has no derivative rule for these arguments:
    ``np.arange(n)``, ``np.tril_indices(d)``, ``np.ones(3, dtype=int)``. It is copied into the forward pass as
    written, and its result is data: no derivative flows through it. :func:`s2sad.analysis.check` refuses one
    whose argument depends on a differentiated value, so that is also the truth."""

    fn: str  #: qualified name, e.g. ``numpy.arange``
    args: tuple[Expr, ...]  #: positional arguments: atoms
    keywords: tuple[tuple[str, Expr], ...] = ()  #: keyword arguments, in the order written: atoms

    def operands(self) -> tuple[Expr, ...]:
        return self.args + tuple(v for _, v in self.keywords)


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: Literal["and", "or"]
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Slice:
    """``start:stop:step`` inside an index; a missing part is ``Const(None)``."""

    start: Expr
    stop: Expr
    step: Expr


Expr: TypeAlias = Var | Const | Global | Call | LibraryCall | BoolOp | Slice


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a statement comes from in the user's file."""

    span: Span
    text: str  #: the user's statement, first line only, stripped
    line: str = ""  #: the whole source line, for a diagnostic's caret


def diagnostic(path: str, origin: Origin, message: str, code: str, help: str | None = None) -> Diagnostic:
    """A diagnostic at a statement, for the stages after the frontend."""
    return Diagnostic(path, origin.span, message, code, help, origin.line)


@dataclass(frozen=True, slots=True)
class Assign:
    target: str
    value: Expr
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class Accumulate:
    target: str
    value: Expr
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class Unpack:
    """``a, b = value``: the adjoints a helper's adjoint function returns (``_`` for one not needed)."""

    targets: tuple[str, ...]
    value: Expr


@dataclass(frozen=True, slots=True)
class Push:
    stack: str
    name: str


@dataclass(frozen=True, slots=True)
class Pop:
    name: str
    stack: str


@dataclass(frozen=True, slots=True)
class For:
    index: str
    range_args: tuple[Expr, ...]  #: the arguments of ``range``: one, two or three atoms
    reverse: bool  #: ``reversed(range(...))``
    body: tuple[Stmt, ...]
    origin: Origin | None = None
    checkpoint: int | None = None  #: ``# s2sad: checkpoint [N]`` above the loop: N snapshots (0: not given)
    #: (name, stack): each iteration binds ``name`` to the stack's next record, last first, instead of popping
    #: it (``for x in reversed(x_stack)``; see :mod:`s2sad.records`); with no ``range_args``, no counter
    stacks: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class If:
    test: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class While:
    """``while test: body``. ``setup`` computes the test's operands and runs before every test."""

    setup: tuple[Stmt, ...]
    test: Expr
    body: tuple[Stmt, ...]
    counter: str | None = None  #: set by the reverse stage: counts the iterations the forward pass ran
    origin: Origin | None = None
    fixed_point: bool = False  #: ``# s2sad: fixed-point`` above the loop: it iterates a state to convergence


@dataclass(frozen=True, slots=True)
class Return:
    values: tuple[Expr, ...]
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class Require:
    """``if not test: raise error(message)``: a condition the gradient needs and only run time can know."""

    test: Expr
    message: str
    error: str = "builtins.ValueError"  #: the exception raised: ``builtins.TypeError`` for a value of a wrong type


@dataclass(frozen=True, slots=True)
class Comment:
    text: str


Stmt: TypeAlias = Assign | Accumulate | Unpack | Push | Pop | For | If | While | Return | Require | Comment
#: The statements that hold blocks. The IR's classes are never subclassed: the hot walks test ``type(s)``.
COMPOUND = frozenset({For, If, While})


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: Expr | None = None
    kwonly: bool = False  #: after ``*``: passed by keyword only (not differentiated unless asked for)
    #: what the parameter's annotation says of its value, resolved through the module's bindings (see
    #: :func:`s2sad.values.annotated`): ``"float"``, ``"int"``, ``"bool"``, ``"ndarray"`` (any rank) or
    #: ``"ndarray:n m"`` (the dimensions, ``...`` for any number of them); None: no annotation s2sad reads
    annotation: str | None = None


#: A dictionary parameter read only at string-literal keys: the parameter, and each key with the parameter
#: that stands for its entry in ``Function.params`` (see ``frontend.bundles``)
Bundle: TypeAlias = "tuple[Param, tuple[tuple[str, str], ...]]"


@dataclass(frozen=True, slots=True)
class Binding:
    """A module-level import of the user's file: ``local`` names ``qualname`` (a module or an object)."""

    local: str
    qualname: str
    is_module: bool


@dataclass(frozen=True, slots=True)
class ModuleConstant:
    """A module-level constant the function reads; copied verbatim into the generated module."""

    name: str
    text: str  #: the user's assignment statement, e.g. ``K = 3.0``


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    path: str  #: the source file as the user named it
    imports: tuple[Binding, ...] = ()
    constants: tuple[ModuleConstant, ...] = ()
    origin: Origin | None = None
    user_names: frozenset[str] = field(default_factory=frozenset)  #: every name the user's code mentions
    invented: frozenset[str] = field(default_factory=frozenset)  #: intermediates s2sad named (each used once)
    bundles: tuple[Bundle, ...] = ()  #: dictionary parameters, each replaced in ``params`` by its entries
    decorators: tuple[str, ...] = ()  #: decorators looked through (``functools.cache``): noted in the output


def after_assignments(stmts: tuple[Stmt, ...], after: Callable[[Assign], Sequence[Stmt]]) -> tuple[Stmt, ...]:
    """``stmts`` with ``after(s)`` written right after each assignment ``s``, in loops and branches too (the
    run-time checks of :mod:`s2sad.list_guards` and :mod:`s2sad.number_guards` on a value just bound)."""
    out: list[Stmt] = []
    for s in stmts:
        if isinstance(s, For):
            s = replace(s, body=after_assignments(s.body, after))
        elif isinstance(s, If):
            s = replace(s, body=after_assignments(s.body, after), orelse=after_assignments(s.orelse, after))
        elif isinstance(s, While):
            s = replace(s, setup=after_assignments(s.setup, after), body=after_assignments(s.body, after))
        out.append(s)
        if isinstance(s, Assign):
            out.extend(after(s))
    return tuple(out)


def walk(stmts: tuple[Stmt, ...]) -> Iterator[Stmt]:
    """Every statement, depth first, in program order."""
    for s in stmts:
        yield s
        kind = type(s)  # the IR's classes are final: a type test is the cheapest on the analyses' hottest path
        if kind in COMPOUND:
            if kind is For:
                yield from walk(s.body)  # type: ignore[union-attr]
            elif kind is If:
                yield from walk(s.body)  # type: ignore[union-attr]
                yield from walk(s.orelse)  # type: ignore[union-attr]
            else:
                yield from walk(s.setup)  # type: ignore[union-attr]
                yield from walk(s.body)  # type: ignore[union-attr]


def nested(s: Stmt) -> tuple[Stmt, ...]:
    """The statements directly inside ``s``: a loop's body (and a ``while``'s setup), a branch's two blocks."""
    kind = type(s)
    if kind not in COMPOUND:
        return ()
    if kind is For:
        return s.body  # type: ignore[union-attr]
    if kind is If:
        return s.body + s.orelse  # type: ignore[union-attr,operator]
    return s.setup + s.body  # type: ignore[union-attr,operator]


def expr_names(e: Expr) -> list[str]:
    """The variable names an expression reads, in order, one per read."""
    kind = type(e)
    if kind is Var:
        return [e.name]  # type: ignore[union-attr]
    out: list[str] = []
    if kind is Call:  # the common case, a primitive on atoms, without a call per operand
        for a in e.args:  # type: ignore[union-attr]
            if type(a) is Var:
                out.append(a.name)  # type: ignore[union-attr]
            elif type(a) is not Const:
                _names_into(a, out)
    elif kind is not Const and kind is not Global:
        _names_into(e, out)
    return out


def _names_into(e: Expr, out: list[str]) -> None:
    # One list filled in place: a generator per level of every expression (as this was written before) was
    # the reverse pass's largest single cost at 10,000 statements. The same names in the same order.
    kind = type(e)
    if kind is Var:
        out.append(e.name)  # type: ignore[union-attr]
    elif kind is Call:
        for a in e.args:  # type: ignore[union-attr]
            _names_into(a, out)
    elif kind is LibraryCall:
        for a in e.operands():  # type: ignore[union-attr]
            _names_into(a, out)
    elif kind is BoolOp:
        for v in e.values:  # type: ignore[union-attr]
            _names_into(v, out)
    elif kind is Slice:
        _names_into(e.start, out)  # type: ignore[union-attr]
        _names_into(e.stop, out)  # type: ignore[union-attr]
        _names_into(e.step, out)  # type: ignore[union-attr]


def substitute(e: Expr, env: dict[str, Expr]) -> Expr:
    """``e`` with each variable named in ``env`` replaced by its expression."""
    kind = type(e)
    if kind is Var:
        return env.get(e.name, e)  # type: ignore[union-attr]
    if kind is Call:  # (an operand that is a variable is looked up here, without a call)
        return Call(
            e.fn,  # type: ignore[union-attr]
            tuple([env.get(a.name, a) if type(a) is Var else substitute(a, env) for a in e.args]),  # type: ignore
        )
    if kind is Const or kind is Global:
        return e
    if isinstance(e, LibraryCall):
        keywords = tuple((k, substitute(v, env)) for k, v in e.keywords)
        return LibraryCall(e.fn, tuple(substitute(a, env) for a in e.args), keywords)
    if isinstance(e, BoolOp):
        return BoolOp(e.op, tuple(substitute(v, env) for v in e.values))
    if isinstance(e, Slice):
        return Slice(substitute(e.start, env), substitute(e.stop, env), substitute(e.step, env))
    return e


def expressions(s: Stmt) -> tuple[Expr, ...]:
    """The expressions statement ``s`` itself evaluates, not those of the blocks it holds: an assignment's value,
    a test, a loop's range arguments, the values returned (a ``Push``/``Pop`` reads a name: see its fields)."""
    kind = type(s)
    if kind is Assign or kind is Accumulate or kind is Unpack:
        return (s.value,)  # type: ignore[union-attr]
    if kind is If or kind is While or kind is Require:
        return (s.test,)  # type: ignore[union-attr]
    if kind is For:
        return s.range_args  # type: ignore[union-attr]
    if kind is Return:
        return s.values  # type: ignore[union-attr]
    return ()


def assigned_names(stmts: tuple[Stmt, ...]) -> set[str]:
    """Every name some statement in ``stmts`` (at any depth) assigns, loop indices included."""
    out: set[str] = set()
    for s in walk(stmts):
        kind = type(s)
        if kind is Assign or kind is Accumulate:
            out.add(s.target)  # type: ignore[union-attr]
        elif kind is Unpack:
            out.update(t for t in s.targets if t != "_")  # type: ignore[union-attr]
        elif kind is For:
            out.add(s.index)  # type: ignore[union-attr]
            out.update(name for name, _ in s.stacks)  # type: ignore[union-attr]
        elif kind is Pop:
            out.add(s.name)  # type: ignore[union-attr]
    return out


def must_define(stmts: Sequence[Stmt]) -> set[str]:
    """Names every path through ``stmts`` assigns (loops may run zero times)."""
    out: set[str] = set()
    for s in stmts:
        if isinstance(s, Assign):
            out.add(s.target)
        elif isinstance(s, If):
            out |= must_define(s.body) & must_define(s.orelse)
    return out
