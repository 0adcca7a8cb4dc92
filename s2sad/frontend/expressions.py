"""Expressions: LibCST expressions -> IR atoms and primitives, flattened into named intermediates."""

from __future__ import annotations

import ast
import functools
from typing import TYPE_CHECKING

import libcst as cst

from .. import ir
from ..bindings import Meaning, ModuleScope
from ..diagnostics import Diagnostic, Span
from ..rules import CONSTANTS, OPERATOR_SYMBOLS
from ..source import original_column
from .names import Context, Scope, Signature
from .positions import Positions
from .tuple_results import library_result
from .syntax import (
    _ARRAY_ATTRIBUTES,
    _BINARY_WORDS,
    _CST_BINARY,
    _MAX_DESCRIPTIVE,
    TEMP,
    _code,
)

_BITWISE: dict[type[cst.CSTNode], str] = {
    cst.BitAnd: "&",
    cst.BitOr: "|",
    cst.BitXor: "^",
    cst.LeftShift: "<<",
    cst.RightShift: ">>",
    cst.BitInvert: "~",
}


#: A number literal's value: ``ast.literal_eval`` of its text (a parse each), once per text (a long function
#: repeats its few constants thousands of times).
_number = functools.lru_cache(maxsize=4096)(ast.literal_eval)


class _Expressions:
    """The expression half of the lowering; ``_Lowerer`` (statements) derives from it and sets the state."""

    context: Context
    module: cst.Module
    path: str
    source: str  #: the user's whole file
    lines: list[str]  #: its lines, as CPython counts them
    line_numbers: list[int]  #: the original line of each line LibCST sees
    shifts: dict[int, list[tuple[int, int]]]  #: column shifts of the identifiers NFKC changed, by line
    positions: Positions
    bindings: ModuleScope
    diagnostics: list[Diagnostic]
    scope: Scope
    user_names: set[str]
    constants_used: dict[str, ir.ModuleConstant]
    function_name: str
    _stmt_target: str
    _stmt_temps: int
    _temp_count: int
    _decided: dict[int, bool]  #: conditional expressions a call site decides (see .callsites)
    _tuple_calls: dict[int, Signature | None]  #: calls to helpers returning several values (see tuple_helper)
    _inline: dict[str, ir.Expr]  #: the parameters of the lambda being inlined (see .nested)
    _comprehension_names: dict[str, str]  #: comprehension variables in scope (see .writes)

    def span(self, node: cst.CSTNode) -> Span:
        (line, column), (end, end_column) = self.positions.points(node)
        return Span(
            self.line_numbers[line - 1],
            original_column(self.shifts, line, column),
            self.line_numbers[end - 1],
            original_column(self.shifts, end, end_column),
        )

    def line_of(self, node: cst.CSTNode) -> int:
        """``self.span(node).line``, without the rest of the span."""
        return self.line_numbers[self.positions.points(node)[0][0] - 1]

    def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None:
        span = self.span(node)
        if any(d.span is not None and (d.span.line, d.span.col) == (span.line, span.col) for d in self.diagnostics):
            return  # one diagnostic per place: the first says what is wrong there
        text = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else None
        self.diagnostics.append(Diagnostic(self.path, span, message, code, help, text))

    if TYPE_CHECKING:  # s2sad.frontend.containers

        def container_value(
            self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin
        ) -> ir.Expr | None: ...

        def container_call(self, node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr | None: ...

        def arrays_from_tuples(self, value: ir.Expr, out: list[ir.Stmt]) -> ir.Expr: ...

        def list_index(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr | None: ...

        def nested_call(self, node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr | None: ...

        def nested_value(self, node: cst.Name) -> bool: ...

        def bundle_entry(self, node: cst.BaseExpression) -> ir.Expr | None: ...

        def comprehension(  # s2sad.frontend.writes
            self, node: cst.ListComp | cst.GeneratorExp, out: list[ir.Stmt], origin: ir.Origin, target: str | None
        ) -> ir.Expr: ...

    if TYPE_CHECKING:  # s2sad.frontend.library

        def library(self, qualified: set[str]) -> str | None: ...

        def library_call(self, node: cst.Call, fn: str, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...

        def _no_rule(self, node: cst.Call, label: str, qualified: set[str]) -> None: ...

    if TYPE_CHECKING:  # s2sad.frontend.calls

        def call(self, node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...

        def _method(self, func: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None: ...

    if TYPE_CHECKING:  # s2sad.frontend.conditions

        def test(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...

        def if_expression(
            self, node: cst.IfExp, out: list[ir.Stmt], origin: ir.Origin, target: str | None, into: str | None = None
        ) -> ir.Expr: ...

    def _begin_statement(self, target: str) -> None:
        self._stmt_target = target
        self._stmt_temps = 0

    def _temp_name(self, node: cst.BaseExpression) -> str:
        desc = self.describe(node)
        if desc is None or len(desc) > _MAX_DESCRIPTIVE:
            self._stmt_temps += 1
            desc = f"{self._stmt_target}_t{self._stmt_temps}"
        if desc[0].isdigit():
            desc = "_" + desc
        self._temp_count += 1  # identity only: the SSA stage drops everything from '#'
        return f"{TEMP}{desc}#{self._temp_count}"

    def describe(self, node: cst.BaseExpression) -> str | None:
        """A readable name for the value of ``node``: ``sin_x``, ``a_times_b``; None when there is none."""
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Integer):
            return node.value.replace("_", "")
        if isinstance(node, cst.Float):
            text = node.value.replace("_", "").lower()
            return text.replace(".", "p").replace("+", "") if "e" not in text else None
        if isinstance(node, cst.Call):
            fn = self._qualified(node.func)
            method = self._method(node.func)
            short = sorted(fn)[0].split(".")[-1] if fn else (method[1].split(".")[-1] if method else None)
            parts = [self.describe(a.value) for a in node.args if a.keyword is None]
            if method is not None:
                parts.insert(0, self.describe(method[0]))
            if short is None or any(p is None for p in parts):
                return None
            return "_".join([short] + [p for p in parts if p is not None])
        if isinstance(node, cst.BinaryOperation) and type(node.operator) in _CST_BINARY:
            word = _BINARY_WORDS[OPERATOR_SYMBOLS[_CST_BINARY[type(node.operator)]]]
            left, right = self.describe(node.left), self.describe(node.right)
            if left is None or right is None:
                return None
            return f"{left}_{word}_{right}"
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            inner = self.describe(node.expression)
            return None if inner is None else f"neg_{inner}"
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:  # x[i] -> x_at_i, x[1:] -> x_1_to_end
            base, item = self.describe(node.value), node.slice[0].slice
            if base is None:
                return None
            if isinstance(item, cst.Index):
                index = self.describe(item.value)
                return None if index is None else f"{base}_at_{index}"
            assert isinstance(item, cst.Slice)
            if item.step is not None:
                return None
            lower = self.describe(item.lower) if item.lower is not None else "start"
            upper = self.describe(item.upper) if item.upper is not None else "end"
            return None if lower is None or upper is None else f"{base}_{lower}_to_{upper}"
        return None

    def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """Lower ``node`` to an atom, flattening it into named intermediates."""
        value = self.value(node, out, origin, None)
        if isinstance(value, (ir.Var, ir.Const, ir.Global)):
            return value
        name = self._temp_name(node)
        out.append(ir.Assign(name, value, origin))
        return ir.Var(name)

    def value(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin, target: str | None) -> ir.Expr:
        """Lower ``node`` to an atom or one primitive applied to atoms."""
        entry = self.bundle_entry(node)  # params["W1"] of a dictionary parameter
        if entry is not None:
            return entry
        if isinstance(node, (cst.Name, cst.Tuple, cst.List, cst.Subscript)):
            built = self.container_value(node, out, origin)  # a tuple, or an element of one
            if built is not None:
                return built
        if isinstance(node, cst.Name):
            return self.name(node)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)):  # a fresh list, appended in a loop (see .writes)
            return self.comprehension(node, out, origin, target)
        if isinstance(node, (cst.Integer, cst.Float)):
            return ir.Const(_number(node.value))
        if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation)) and _BITWISE.get(type(node.operator)):
            self.error(
                node,
                f"the bitwise operator '{_BITWISE[type(node.operator)]}' is not supported",
                "unsupported-syntax",
                "bitwise operators act on the bits of integers and have no derivative",
            )
            return ir.Const(0)
        if isinstance(node, cst.BinaryOperation):
            op = OPERATOR_SYMBOLS[_CST_BINARY[type(node.operator)]]
            return ir.Call(op, (self.atom(node.left, out, origin), self.atom(node.right, out, origin)))
        if isinstance(node, cst.UnaryOperation):
            if isinstance(node.operator, cst.Minus):
                if isinstance(node.expression, (cst.Integer, cst.Float)):
                    return ir.Const(-_number(node.expression.value))
                return ir.Call("operator.neg", (self.atom(node.expression, out, origin),))
            if isinstance(node.operator, cst.Plus):
                return self.value(node.expression, out, origin, target)
            if isinstance(node.operator, cst.Not):
                return ir.Call("operator.not_", (self.atom(node.expression, out, origin),))
        if isinstance(node, cst.Call):
            special = self.container_call(node, out, origin)  # max(t), sum(t), np.array(t) ...
            if special is not None:
                return special
            return self.arrays_from_tuples(self.call(node, out, origin), out)
        if isinstance(node, cst.Attribute):
            qualified = self._qualified(node) & CONSTANTS
            if qualified:
                return ir.Global(sorted(qualified)[0])
            if node.attr.value in _ARRAY_ATTRIBUTES and self._method(cst.Attribute(node.value, cst.Name("sum"))):
                return ir.Call(_ARRAY_ATTRIBUTES[node.attr.value], (self.atom(node.value, out, origin),))
            self.error(
                node, f"reading the attribute '{_code(self.module, node)}' is not supported", "unsupported-syntax"
            )
            return ir.Const(0)
        if isinstance(node, cst.Comparison):
            return self.test(node, out, origin)
        if isinstance(node, cst.Subscript):
            picked = library_result(self, node, out, origin)  # np.linalg.slogdet(a)[1]
            if picked is not None:
                return picked
            return ir.Call(ir.GETITEM, (self.atom(node.value, out, origin), self.index(node, out, origin)))
        if isinstance(node, cst.IfExp):
            return self.if_expression(node, out, origin, target)
        self.unsupported_expression(node)
        return ir.Const(0)

    def index(self, node: cst.Subscript, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """``x[0]``, ``x[1:]``, ``x[:, j]``: the index as an expression of atoms and slices."""
        parts: list[ir.Expr] = []
        for element in node.slice:
            item = element.slice
            if isinstance(item, cst.Index) and isinstance(item.value, (cst.SimpleString, cst.ConcatenatedString)):
                self.error(
                    item.value,
                    f"a string key ('{_code(self.module, node)}') is supported only on a dictionary parameter of the "
                    "function differentiated",
                    "unsupported-syntax",
                    'read the dictionary only at literal keys (params["W1"]); do not write into it, pass it on or '
                    "iterate over it: pass the entries a helper needs as arguments",
                )
                parts.append(ir.Const(0))
            elif isinstance(item, cst.Index):
                listed = self.list_index(item.value, out, origin)  # a[[0, 2]]: along the first axis
                parts.append(listed if listed is not None else self.atom(item.value, out, origin))
            else:
                assert isinstance(item, cst.Slice)
                bounds = [
                    self.atom(b, out, origin) if b is not None else ir.Const(None)
                    for b in (item.lower, item.upper, item.step)
                ]
                parts.append(ir.Slice(*bounds))
        return parts[0] if len(parts) == 1 else ir.Call(ir.TUPLE, tuple(parts))

    def unsupported_expression(self, node: cst.BaseExpression) -> None:
        kinds: dict[type[cst.CSTNode], tuple[str, str | None]] = {
            cst.Lambda: (
                "a 'lambda' is supported only bound to a name in the function's body and called",
                "write 'g = lambda a: ...' in the function, then call 'g(...)'",
            ),
            cst.SimpleString: ("strings are not supported", None),
            cst.FormattedString: ("strings are not supported", None),
            cst.Imaginary: ("complex numbers are not supported", None),
            cst.BooleanOperation: ("'and'/'or' are supported only in 'if' and 'while' conditions", None),
        }
        message, hint = kinds.get(type(node), (f"this expression ({type(node).__name__}) is not supported", None))
        self.error(node, message, "unsupported-syntax", hint)

    def name(self, node: cst.Name) -> ir.Expr:
        n = node.value
        if n in self._inline:  # a parameter of the lambda being inlined
            return self._inline[n]
        if n in self._comprehension_names:  # a comprehension's variable (see .writes)
            return ir.Var(self._comprehension_names[n])
        if self.nested_value(node):
            return ir.Const(0)
        self.user_names.add(n)
        if n in self.scope.assigned or n in self.scope.params:
            return ir.Var(n)
        if n in ("True", "False", "None"):
            return ir.Const({"True": True, "False": False, "None": None}[n])
        if n in self.scope.free:
            self.error(node, f"'{n}' comes from an enclosing function", "unsupported-global", "pass it as a parameter")
            return ir.Const(0)
        meaning = self._meaning(node)
        qualified = meaning.qualname
        if qualified is not None and qualified in CONSTANTS:
            return ir.Global(qualified)
        if meaning.kind == "constant":
            return self._module_constant(meaning)
        if meaning.kind == "ambiguous":
            pass  # reported
        elif meaning.kind in ("def", "other"):
            self.error(
                node,
                f"reading the global '{n}' is not supported",
                "unsupported-global",
                "only module-level numeric constants ('K = 3.0') can be read; pass other values as parameters",
            )
        elif meaning.kind == "undefined":
            self.error(node, f"'{n}' is not defined", "undefined-name")
        else:
            self.error(node, f"'{n}' is used as a value, which is not supported", "unsupported-syntax")
        return ir.Const(0)

    def _meaning(self, node: cst.Name) -> Meaning:
        """What the module-level name ``node`` refers to; a name with no single binding is reported here."""
        meaning = self.bindings.resolve(node.value)
        self.user_names.add(node.value)
        if meaning.site is not None:  # bound here: the program checks no other module rebinds it
            self._note_read(self.path, node.value, node)
        if meaning.kind == "ambiguous":
            sites = "; ".join(s.describe() for s in meaning.competing[:6])
            self.error(
                node,
                f"cannot tell which definition of '{node.value}' this is: {meaning.reason} ({sites})",
                "ambiguous-binding",
                "bind the name exactly once, at the top level of the module, or pass the value as a parameter",
            )
        return meaning

    def _note_read(self, path: str, name: str, node: cst.CSTNode) -> None:
        """``node`` reads ``name`` from the namespace of the file ``path``: no other module may rebind it
        (where it is, for a diagnostic, is worked out if one is made)."""
        self.context.note_read(path, name, functools.partial(self._read_at, node))

    def _read_at(self, node: cst.CSTNode) -> Diagnostic:
        span = self.span(node)
        text = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else None
        help = "bind the name exactly once, in its own module, or pass the value as a parameter"
        return Diagnostic(self.path, span, "", "ambiguous-binding", help, text)

    def _module_constant(self, meaning: Meaning) -> ir.Expr:
        """A module-level ``NAME = <numeric literal expression>`` the function reads, copied into the output
        (renamed if the generated module already has that name for something else)."""
        assert meaning.site is not None and meaning.site.value is not None
        text = ast.unparse(meaning.site.value)
        taken = set(self.scope.params) | self.scope.assigned | set(self.bindings.sites)
        name = self.context.claim(meaning.name, f"constant {text}", taken)
        self.constants_used[name] = ir.ModuleConstant(name, f"{name} = {text}")
        return ir.Global(name)

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        """What ``node`` (a name, ``module.attr``, or a call's function) refers to, as qualified names:
        ``numpy.sum``, ``builtins.abs``, ``K`` (a module-level binding), ``f.<locals>.x`` (a local)."""
        if isinstance(node, cst.Call):
            return self._qualified(node.func)
        if isinstance(node, cst.Attribute):
            return {f"{base}.{node.attr.value}" for base in self._qualified(node.value)}
        if not isinstance(node, cst.Name):
            return set()
        n = node.value
        if n in self._inline:
            return set()
        if n in self.scope.assigned or n in self.scope.params:
            return {f"{self.function_name}.<locals>.{n}"}
        if n in self.scope.free:
            return {f"<enclosing>.<locals>.{n}"}
        qualified = self._meaning(node).qualname
        return {qualified} if qualified is not None else set()
