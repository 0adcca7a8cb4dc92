"""The Lagrangian view: the program as equality constraints, its Lagrangian, and the multiplier equations
that the reverse pass solves by back-substitution.

Each statement ``z_i = f_i(z_α(i))`` is a constraint; the adjoints are the Lagrange multipliers λ, and ∇L = 0
gives ``λ_j = Σ_{i ∈ β(j)} λ_i ∂f_i/∂z_j`` with ``λ_n = 1``. Constraints are the user's statements (the
intermediates s2sad invents are written back into them), and every local partial ∂f_i/∂z_j comes from the
rule table, composed over the statement's expression. With a point (``--at``), the forward pass is evaluated
by interpreting the IR (the user's file is never run), the linear system is printed, solved by
back-substitution and compared with the gradient the generated code returns.

A loop is explained once, its body indexed by the iteration; a branch shows both sides. The numeric system is
printed for straight-line functions, whose system is small and exact; for the others the gradient is compared.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from . import ir, point
from .analysis import Activity
from .algebra import simplify
from .rules import CONSTANTS, OPERATOR_SYMBOLS, lookup

__all__ = ["Constraint", "Explanation", "explain", "evaluate", "Numeric", "solve", "text", "latex", "subtrahend"]


@dataclass(frozen=True)
class Constraint:
    number: int
    target: str  #: the variable the constraint defines (as displayed, e.g. ``x[i]``)
    name: str  #: the SSA name
    expr: ir.Expr
    partials: Mapping[str, ir.Expr]  #: operand (SSA name) -> ∂expr/∂operand
    depth: int = 0  #: nesting inside loops and branches
    index: Mapping[str, str] = field(default_factory=dict)  #: SSA name -> displayed name inside loops
    guard: str = ""  #: the branch conditions under which the constraint holds, e.g. ``z[t] > 0``
    loop: str = ""  #: the innermost loop's iteration index, if any


@dataclass(frozen=True)
class Header:
    text: str  #: ``for i in range(n):`` / ``if x > 0:`` / ``else:``
    depth: int


@dataclass
class Explanation:
    fn: ir.Function
    inputs: tuple[str, ...]
    output: str
    lines: list[Constraint | Header]
    straight: bool  #: no loops or branches: the numeric system applies
    fixed: bool = False  #: a fixed-point loop: its constraints are cyclic, x* = g(x*, p) (see s2sad.fixed_point)

    @property
    def constraints(self) -> list[Constraint]:
        return [c for c in self.lines if isinstance(c, Constraint)]

    def users(self, name: str) -> list[tuple[Constraint, ir.Expr]]:
        """The constraints that read ``name``, with their partial derivatives with respect to it."""
        return [(c, c.partials[name]) for c in self.constraints if name in c.partials]

    def readers(self) -> dict[str, list[tuple[Constraint, ir.Expr]]]:
        """Each variable as displayed (``h[t-1]`` and ``h[last]`` are different variables) -> the
        constraints that read it, with their partials, in program order."""
        out: dict[str, list[tuple[Constraint, ir.Expr]]] = {}
        for c in self.constraints:
            for name, partial in c.partials.items():
                out.setdefault(c.index.get(name, name), []).append((c, partial))
        return out


# ----------------------------------------------------------------------------------------------------------
# Building the constraints
# ----------------------------------------------------------------------------------------------------------
def explain(fn: ir.Function, wrt: tuple[str, ...], act: Activity) -> Explanation:
    ret = next(s for s in fn.body if isinstance(s, ir.Return))
    returned = ret.values[0]
    output = returned.name if isinstance(returned, ir.Var) else fn.name
    counts: dict[str, int] = {}
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign):
            counts[s.target] = counts.get(s.target, 0) + 1
    inline = {n for n in fn.invented if counts.get(n) == 1 and n != output}
    builder = _Builder(act, inline)
    builder.block(fn.body, depth=0, loop_defs=set(), indices=())
    straight = all(isinstance(s, (ir.Assign, ir.Return)) for s in fn.body)
    fixed = any(isinstance(s, ir.While) and s.fixed_point for s in ir.walk(fn.body))
    return Explanation(fn, wrt, output, builder.lines, straight, fixed)


_FIXED = "*"  #: the "index" of a fixed-point loop's body: its converged values, x*


class _Builder:
    def __init__(self, act: Activity, inline: set[str]) -> None:
        self.act = act
        self.inline = inline
        self.pending: dict[str, ir.Expr] = {}
        self.lines: list[Constraint | Header] = []
        self.number = 0
        self.after_loop: set[str] = set()  # names some loop at the top level assigned
        self.after_fixed: set[str] = set()  # names a fixed-point loop assigned: their converged values, x*

    def block(
        self,
        stmts: Sequence[ir.Stmt],
        depth: int,
        loop_defs: set[str],
        indices: tuple[str, ...],
        defined: set[str] | None = None,
        guard: str = "",
    ) -> None:
        """``loop_defs``: names the innermost loop assigns; ``defined``: those already assigned in this
        iteration (shared with the branches of this body)."""
        defined = set() if defined is None else defined
        for s in stmts:
            if isinstance(s, ir.Assign):
                value = ir.substitute(s.value, self.pending)
                if s.target in self.inline:
                    self.pending[s.target] = value
                    continue
                shown_names = self._index(value, loop_defs, defined, indices)
                defined.add(s.target)
                if indices:
                    i = indices[-1]
                    shown_names[s.target] = f"{s.target}*" if i == _FIXED else f"{s.target}[{i}]"
                self.number += 1
                shown = shown_names.get(s.target, s.target)
                loop = indices[-1] if indices and indices[-1] != _FIXED else ""
                partials = self.partials(value)
                self.lines.append(
                    Constraint(self.number, shown, s.target, value, partials, depth, shown_names, guard, loop)
                )
            elif isinstance(s, ir.While) and s.fixed_point:
                # one cyclic constraint x* = g(x*, p), not an unrolled loop: every value is the converged one
                body_defs = ir.assigned_names(s.body)
                written = s.origin.text if s.origin is not None else f"while {text(s.test)}:"
                self.lines.append(Header(f"fixed point of '{written}': x* = g(x*, p), a cyclic constraint", depth))
                self.block(s.body, depth + 1, body_defs, indices + (_FIXED,), None, guard)
                if not indices:
                    self.after_fixed |= body_defs
            elif isinstance(s, (ir.For, ir.While)):
                body_defs = ir.assigned_names(s.body)
                if isinstance(s, ir.For):
                    iteration = s.index if s.index != "_" else "i"
                    args = ", ".join(text(a) for a in s.range_args)
                    iterator = f"reversed(range({args}))" if s.reverse else f"range({args})"
                    self.lines.append(Header(f"for {iteration} in {iterator}:", depth))
                else:
                    iteration = "k"
                    test = ir.substitute(s.test, self.pending)
                    self.lines.append(Header(f"while {text(test)}:  (iteration k)", depth))
                self.block(s.body, depth + 1, body_defs, indices + (iteration,), None, guard)
                if not indices:
                    self.after_loop |= body_defs
            elif isinstance(s, ir.If):
                test = ir.substitute(s.test, self.pending)
                names = self._index(test, loop_defs, defined, indices)
                shown_test = text(test, names)
                self.lines.append(Header(f"if {shown_test}:", depth))
                both = f"{guard} and " if guard else ""
                self.block(s.body, depth + 1, loop_defs, indices, set(defined), f"{both}{shown_test}")
                if s.orelse:
                    self.lines.append(Header("else:", depth))
                    self.block(s.orelse, depth + 1, loop_defs, indices, set(defined), f"{both}not ({shown_test})")
                defined |= ir.assigned_names(s.body) & ir.assigned_names(s.orelse)

    def _index(
        self, value: ir.Expr, loop_defs: set[str], defined: set[str], indices: tuple[str, ...]
    ) -> dict[str, str]:
        """Inside a loop, a value of this iteration is ``x[i]``; a carried value read before this iteration
        redefines it is the previous iteration's, ``x[i-1]``. After a loop, its final value is ``x[last]``."""
        shown: dict[str, str] = {}
        for n in ir.expr_names(value):
            if indices and n in loop_defs:
                i = indices[-1]
                if i == _FIXED:  # at the fixed point, a value before and after an iteration is the same
                    shown[n] = f"{n}*"
                else:
                    shown[n] = f"{n}[{i}]" if n in defined else f"{n}[{i}-1]"
            elif not indices and n in self.after_fixed:
                shown[n] = f"{n}*"
            elif not indices and n in self.after_loop:
                shown[n] = f"{n}[last]"
        return shown

    def partials(self, value: ir.Expr) -> dict[str, ir.Expr]:
        out: dict[str, ir.Expr] = {}
        for n in dict.fromkeys(ir.expr_names(value)):
            if self.act.active(n):
                d = derivative(value, n)
                if d is not None:
                    out[n] = d
        return out


def derivative(e: ir.Expr, z: str) -> ir.Expr | None:
    """∂e/∂z by composing the rule table's local partials over ``e``; None when it is zero."""
    if isinstance(e, ir.Var):
        return ir.Const(1) if e.name == z else None
    if not isinstance(e, ir.Call):
        return None
    rule = lookup(e.fn, len(e.args))
    if rule is None:
        return None
    env: dict[str, ir.Expr] = dict(zip(rule.params, e.args))
    env.update(g=ir.Const(1), ans=e)
    total: ir.Expr | None = None
    for p, arg in zip(rule.params, e.args):
        inner = derivative(arg, z)
        if inner is None or p not in rule.adjoints:
            continue
        term = simplify(ir.Call("operator.mul", (ir.substitute(rule.adjoints[p], env), inner)))
        total = term if total is None else ir.Call("operator.add", (total, term))
    return simplify(total) if total is not None else None


# ----------------------------------------------------------------------------------------------------------
# Numbers: interpret the IR at a point, build and solve the system
# ----------------------------------------------------------------------------------------------------------
_MODULES: dict[str, object] = {"math": math, "operator": operator, "builtins": builtins}
#: What the interpreter may call: math's functions, the operators, and a few numeric builtins. Nothing else
#: is ever looked up, so an explanation cannot run anything but arithmetic.
_ALLOWED = {
    "builtins": {"abs", "float", "min", "max", "pow", "int", "round", "len", "bool"},
    "operator": set(OPERATOR_SYMBOLS.values()) - {"operator.is_", "operator.is_not"},
}


def _function(qualname: str) -> Callable[..., object]:
    module, name = qualname.rsplit(".", 1)
    allowed = (
        module in _MODULES
        and not name.startswith("_")
        and (qualname in _ALLOWED["operator"] if module == "operator" else name in _ALLOWED.get(module, {name}))
    )
    if not allowed or not callable(getattr(_MODULES[module], name, None)):
        raise ValueError(f"explain --at does not evaluate '{qualname}'")
    found: Callable[..., object] = getattr(_MODULES[module], name)
    return found


def foreign_import(module: str) -> str | None:
    """The first module a generated module imports besides ``math``, or None: ``explain --at`` runs the
    generated gradient, and importing anything else could run the user's code."""
    for node in ast.parse(module).body:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or "."]
        else:
            continue
        other = next((n for n in names if n != "math"), None)
        if other is not None:
            return other
    return None


def constant_value(text: str) -> float:
    """The value of a module constant ``K = <numeric literal expression>``, by the ``--at`` grammar's
    evaluator (numbers and arithmetic; never ``eval``)."""
    value = text.split("=", 1)[1].strip()
    return float(point.evaluate(point.parse("constant", value, calls=False), "constant", value, {}))


def evaluate(e: ir.Expr, values: Mapping[str, float], constants: Mapping[str, float]) -> float:
    if isinstance(e, ir.Var):
        return values[e.name]
    if isinstance(e, ir.Const):
        assert isinstance(e.value, (int, float)), e  # explain works on scalar programs
        return float(e.value)
    if isinstance(e, ir.Slice):
        raise ValueError("explain works on scalar programs")
    if isinstance(e, ir.Global):
        if e.qualname in constants:
            return constants[e.qualname]
        if e.qualname not in CONSTANTS:
            raise ValueError(f"explain --at does not evaluate '{e.qualname}'")
        return float(getattr(math, e.qualname.split(".")[-1]))
    if isinstance(e, ir.BoolOp):
        results = [evaluate(v, values, constants) for v in e.values]
        return float(all(results) if e.op == "and" else any(results))
    if isinstance(e, ir.LibraryCall):  # math.factorial(3): a literal keeps its type (an int stays one)

        def raw(a: ir.Expr) -> object:
            return a.value if isinstance(a, ir.Const) else evaluate(a, values, constants)

        function = _function(e.fn)
        try:
            result = function(*map(raw, e.args), **{k: raw(v) for k, v in e.keywords})
            return float(result)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError) as err:
            raise ValueError(f"explain --at cannot evaluate '{e.fn}' here ({err})") from err
    result = _function(e.fn)(*(evaluate(a, values, constants) for a in e.args))
    assert isinstance(result, (int, float))
    return float(result)


@dataclass
class Numeric:
    names: list[str]  #: z_1 .. z_n: the inputs, then each constraint's variable
    values: dict[str, float]
    partial: dict[tuple[int, int], float]  #: (i, j) -> ∂f_i/∂z_j, i > j
    matrix: list[list[float]]  #: unit diagonal, -∂f_i/∂z_j in row j, column i: upper-triangular
    multipliers: list[float]  #: λ by back-substitution
    residual: float  #: max |A λ - e_n|


def solve(ex: Explanation, point: Mapping[str, float], constants: Mapping[str, float]) -> Numeric:
    """Evaluate the constraints at ``point`` and solve A λ = e_n by back-substitution."""
    values: dict[str, float] = {p.name: point[p.name] for p in ex.fn.params}
    names = list(ex.inputs) + [c.name for c in ex.constraints]
    for c in ex.constraints:
        values[c.name] = evaluate(c.expr, values, constants)
    position = {n: k for k, n in enumerate(names)}
    n = len(names)
    partial: dict[tuple[int, int], float] = {}
    for c in ex.constraints:
        i = position[c.name]
        for operand, d in c.partials.items():
            if operand in position:
                partial[(i, position[operand])] = evaluate(d, values, constants)
    matrix = [[0.0] * n for _ in range(n)]
    for j in range(n):
        matrix[j][j] = 1.0
    for (i, j), v in partial.items():
        matrix[j][i] = -v
    out = position[ex.output] if ex.output in position else n - 1
    lam = [0.0] * n
    for j in reversed(range(n)):  # back-substitution: row j only involves λ_i with i > j
        lam[j] = (1.0 if j == out else 0.0) + sum(partial.get((i, j), 0.0) * lam[i] for i in range(j + 1, n))
    residual = max(abs(sum(matrix[j][i] * lam[i] for i in range(n)) - (1.0 if j == out else 0.0)) for j in range(n))
    return Numeric(names, values, partial, matrix, lam, residual)


# ----------------------------------------------------------------------------------------------------------
# Printing expressions
# ----------------------------------------------------------------------------------------------------------
_PRECEDENCE = {
    "operator.add": 10,
    "operator.sub": 10,
    "operator.mul": 20,
    "operator.truediv": 20,
    "operator.mod": 20,
    "operator.floordiv": 20,
    "operator.neg": 30,
    "operator.pow": 40,
}
_TEXT_OPS = {
    "operator.add": " + ",
    "operator.sub": " - ",
    "operator.mul": " * ",
    "operator.truediv": " / ",
    "operator.mod": " % ",
    "operator.floordiv": " // ",
    "operator.pow": "**",
    "operator.lt": " < ",
    "operator.le": " <= ",
    "operator.gt": " > ",
    "operator.ge": " >= ",
    "operator.eq": " == ",
    "operator.ne": " != ",
}


def text(e: ir.Expr, names: Mapping[str, str] | None = None) -> str:
    """An expression in Python notation with short function names: ``exp(c)``, ``2 * a``."""
    return _print(e, names or {}, latex=False)[0]


def latex(e: ir.Expr, names: Mapping[str, str] | None = None) -> str:
    return _print(e, names or {}, latex=True)[0]


def subtrahend(e: ir.Expr, names: Mapping[str, str] | None = None, *, as_latex: bool = False) -> str:
    """``e`` printed to stand after a minus sign: parenthesised when it is a sum or a difference."""
    shown, precedence = _print(e, names or {}, latex=as_latex)
    if precedence > 10:
        return shown
    return f"\\left({shown}\\right)" if as_latex else f"({shown})"


def latex_name(name: str) -> str:
    """``x`` -> ``x``, ``b1`` -> ``b_{1}``, ``x_2`` -> ``x_{2}``, ``x[i-1]`` -> ``x_{i-1}``, ``sin_x`` -> ``\\mathit{sin\\_x}``."""
    base, _, index = name.partition("[")
    index = index.rstrip("]")
    stem = base.rstrip("0123456789")
    digits = base[len(stem) :]
    if stem.endswith("_") and digits:
        stem = stem[:-1]
    body = stem if len(stem) == 1 else r"\mathit{" + stem.replace("_", r"\_") + "}"
    subscripts = [s for s in (digits, index) if s]
    return body + ("_{" + ",".join(subscripts) + "}" if subscripts else "")


def _print(e: ir.Expr, names: Mapping[str, str], latex: bool) -> tuple[str, int]:
    if isinstance(e, ir.Var):
        shown = names.get(e.name, e.name)
        return (latex_name(shown) if latex else shown), 100
    if isinstance(e, ir.Const):
        value = e.value
        shown = repr(value) if not isinstance(value, bool) else str(value)
        negative = isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0
        return shown, (30 if negative else 100)
    if isinstance(e, ir.Slice):
        return (
            ":".join(
                "" if isinstance(p, ir.Const) and p.value is None else _print(p, names, latex)[0]
                for p in (e.start, e.stop, e.step)
            ),
            100,
        )
    if isinstance(e, ir.Global):
        short = e.qualname.split(".")[-1]
        return (("\\" + short) if latex and short in ("pi", "tau") else short), 100
    if isinstance(e, ir.BoolOp):
        joiner = (r" \wedge " if e.op == "and" else r" \vee ") if latex else f" {e.op} "
        return joiner.join(_print(v, names, latex)[0] for v in e.values), 5
    args = [_print(a, names, latex) for a in e.args]
    if isinstance(e, ir.LibraryCall):  # as written: no operator of its own
        args += [(f"{k}={_print(v, names, latex)[0]}", 100) for k, v in e.keywords]
    prec = _PRECEDENCE.get(e.fn, 100)

    def wrap(k: int, minimum: int) -> str:
        s, p = args[k]
        if p >= minimum:
            return s
        return f"\\left({s}\\right)" if latex else f"({s})"

    if e.fn == "operator.neg":
        return f"-{wrap(0, 31)}", 30
    if e.fn in _TEXT_OPS and len(args) == 2:
        if latex:
            if e.fn == "operator.truediv":
                return f"\\frac{{{args[0][0]}}}{{{args[1][0]}}}", 100
            if e.fn == "operator.pow":
                return f"{{{wrap(0, 41)}}}^{{{args[1][0]}}}", 40
            symbol = {
                "operator.mul": r" \cdot ",
                "operator.le": r" \leq ",
                "operator.ge": r" \geq ",
                "operator.ne": r" \neq ",
                "operator.eq": " = ",
            }.get(e.fn, _TEXT_OPS[e.fn])
        else:
            symbol = _TEXT_OPS[e.fn]
        right_min = prec + 1 if e.fn in ("operator.sub", "operator.truediv", "operator.mod") else prec
        if e.fn == "operator.pow":
            return f"{wrap(0, 41)}{symbol}{wrap(1, 40)}", 40
        return f"{wrap(0, prec)}{symbol}{wrap(1, right_min)}", (prec if prec != 100 else 6)
    short = e.fn.split(".")[-1]
    inner = ", ".join(a[0] for a in args)
    if latex:
        if short == "sqrt":
            return f"\\sqrt{{{inner}}}", 100
        known = {"exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan"}
        head = f"\\{short}" if short in known else f"\\operatorname{{{short}}}"
        return f"{head}\\left({inner}\\right)", 100
    return f"{short}({inner})", 100
