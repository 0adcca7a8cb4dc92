"""Expressions: LibCST expressions -> IR atoms and primitives, flattened into named intermediates."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import libcst as cst
from libcst.metadata import CodeRange

from .. import ir
from ..bindings import Meaning, ModuleScope
from ..diagnostics import Diagnostic, Span
from ..rules import CONSTANTS, OPERATOR_SYMBOLS, Rule, known_arities
from ..source import original_column
from .finder import NotFollowed, find_module
from .library import _parameter_lists
from .names import Context, Scope, Signature
from .syntax import (
    _ARRAY_ATTRIBUTES,
    _ARRAY_METHODS,
    _BINARY_WORDS,
    _CST_BINARY,
    _CST_COMPARE,
    _MAX_DESCRIPTIVE,
    TEMP,
    _code,
    _tuple,
)

_BITWISE: dict[type[cst.CSTNode], str] = {
    cst.BitAnd: "&",
    cst.BitOr: "|",
    cst.BitXor: "^",
    cst.LeftShift: "<<",
    cst.RightShift: ">>",
    cst.BitInvert: "~",
}


class _Expressions:
    """The expression half of the lowering; ``_Lowerer`` (statements) derives from it and sets the state."""

    context: Context
    module: cst.Module
    path: str
    source: str  #: the user's whole file
    lines: list[str]  #: its lines, as CPython counts them
    line_numbers: list[int]  #: the original line of each line LibCST sees
    shifts: dict[int, list[tuple[int, int]]]  #: column shifts of the identifiers NFKC changed, by line
    positions: Mapping[cst.CSTNode, object]
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
        r = self.positions[node]
        assert isinstance(r, CodeRange)
        line, end = r.start.line, r.end.line
        return Span(
            self.line_numbers[line - 1],
            original_column(self.shifts, line, r.start.column),
            self.line_numbers[end - 1],
            original_column(self.shifts, end, r.end.column),
        )

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
            return ir.Const(ast.literal_eval(node.value))
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
                    return ir.Const(-ast.literal_eval(node.expression.value))
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
        """``node`` reads ``name`` from the namespace of the file ``path``: no other module may rebind it."""
        span = self.span(node)
        text = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else None
        help = "bind the name exactly once, in its own module, or pass the value as a parameter"
        self.context.note_read(path, name, Diagnostic(self.path, span, "", "ambiguous-binding", help, text))

    def _module_constant(self, meaning: Meaning) -> ir.Expr:
        """A module-level ``NAME = <numeric literal expression>`` the function reads, copied into the output
        (renamed if the generated module already has that name for something else)."""
        assert meaning.site is not None and meaning.site.value is not None
        text = ast.unparse(meaning.site.value)
        taken = set(self.scope.params) | self.scope.assigned | set(self.bindings.sites)
        name = self.context.claim(meaning.name, f"constant {text}", taken)
        self.constants_used[name] = ir.ModuleConstant(name, f"{name} = {text}")
        return ir.Global(name)

    def call(self, node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        method = self._method(node.func)
        if method is not None:
            return self._method_call(node, method, out, origin)
        nested = self.nested_call(node, out, origin)  # a nested function or a lambda (see .nested)
        if nested is not None:
            return nested
        qualified = self._qualified(node.func)
        label = _code(self.module, node.func)
        if "numpy.array" in qualified:  # np.array([a, b, c]): an array of scalars, element by element
            if len(node.args) != 1 or not isinstance(node.args[0].value, cst.List) or node.args[0].keyword:
                return self.library_call(node, "numpy.array", out, origin)  # data, or refused if differentiated
            elements = [self.atom(e.value, out, origin) for e in node.args[0].value.elements]
            if self.context.lookup("numpy.array", len(elements)) is None:
                self.error(node, f"'np.array' of {len(elements)} values is not supported (at most 16)", "no-rule")
                return ir.Const(0)
            return ir.Call("numpy.array", tuple(elements))
        if any(arg.star for arg in node.args):
            self.error(node, "starred arguments are not supported", "unsupported-syntax")
            return ir.Const(0)
        positional = [a for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: a for a in node.args if a.keyword is not None}
        for q in sorted(qualified):
            rule = self._signature_for(q, len(positional), set(keywords))
            if rule is not None:
                return ir.Call(q, self._arguments(rule, positional, keywords, out, origin))
        if self.context.allow_helpers and not any(self.context.lookup(q, len(node.args)) for q in qualified):
            reported, failures = len(self.diagnostics), self.context.failures
            signature = self._helper(node, qualified)
            if signature is not None and signature.results:
                n = len(signature.results)
                self.error(
                    node,
                    f"'{label}' returns {n} values; here its result is used as one value",
                    "unsupported-syntax",
                    f"unpack it ({', '.join('abcdefgh'[:n] if n <= 8 else 'ab')} = {label}(...)), or read one value "
                    f"({label}(...)[0])",
                )
                return ir.Const(0)
            if signature is not None:
                self.user_names.add(signature.name)  # an intermediate must not take the helper's name
                return ir.Call(signature.name, self._bind(node, signature, out, origin))
            if len(self.diagnostics) > reported or self.context.failures > failures:
                return ir.Const(0)  # reported (in the helper, or here)
        candidates = sorted(
            q
            for q in qualified
            if (found := self.context.lookup(q, len(node.args))) is not None and found.takes_positional(len(node.args))
        )
        library = self.library(qualified)
        if library is not None and (keywords or not candidates):
            return self.library_call(node, library, out, origin)  # data, or refused if differentiated
        if keywords and any(known_arities(q) or any(f == q for f, _ in self.context.rules) for q in qualified):
            fn = sorted(qualified, key=lambda q: not known_arities(q))[0]
            self.error(
                node,
                f"no derivative rule for '{label}' with the keyword argument '{next(iter(keywords))}'",
                "no-rule",
                (
                    f"its rule{'s' * (len(known_arities(fn)) > 1)} take{'s' * (len(known_arities(fn)) == 1)} "
                    f"{_parameter_lists(fn)}; pass those arguments positionally"
                    if known_arities(fn)
                    else "pass the arguments of your rule positionally"
                ),
            )
            return ir.Const(0)
        if keywords or not candidates:
            self._no_rule(node, label, qualified)
            self._arguments_checked(node, origin)
            return ir.Const(0)
        args = tuple(self._rule_argument(a.value, out, origin) for a in node.args)
        return ir.Call(candidates[0], args)

    def _rule_argument(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """An argument of a call with a rule: an atom, or a string (``np.einsum("ij,jk->ik", a, b)``)."""
        if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
            return ir.Const(node.evaluated_value)
        return self.atom(node, out, origin)

    def _arguments_checked(self, node: cst.Call, origin: ir.Origin) -> None:
        """The arguments of a call that is refused, lowered only for what is wrong inside them: every problem
        of an expression is reported, not only the outermost."""
        scratch: list[ir.Stmt] = []
        for arg in node.args:
            self.atom(arg.value, scratch, origin)

    def _bind(self, node: cst.Call, sig: Signature, out: list[ir.Stmt], origin: ir.Origin) -> tuple[ir.Expr, ...]:
        """The arguments of a call to a helper, bound to its parameters as Python binds them: positional ones
        in order, keyword ones by name, then the defaults; a missing, duplicate or unknown argument is an error."""
        label = f"{sig.label}()"
        reported = len(self.diagnostics)
        names = list(sig.positional)
        given: dict[str, cst.Arg] = {}
        positional = [a for a in node.args if a.keyword is None]
        if len(positional) > len(names):
            self.error(
                positional[len(names)],
                f"{label} takes {len(names)} positional argument(s) but {len(positional)} were given",
                "bad-call",
            )
            return ()
        given.update(zip(names, positional))
        for arg in node.args:
            if arg.keyword is None:
                continue
            key = arg.keyword.value
            if key in names[: sig.posonly]:
                self.error(arg, f"{label} got the positional-only parameter '{key}' as a keyword", "bad-call")
            elif key not in names and key not in sig.kwonly:
                self.error(arg, f"{label} got an unexpected keyword argument '{key}'", "bad-call")
            elif key in given:
                self.error(arg, f"{label} got multiple values for argument '{key}'", "bad-call")
            else:
                given[key] = arg
        params = names + list(sig.kwonly)
        missing = [p for p in params if p not in given and p not in sig.defaults]
        if len(self.diagnostics) > reported:
            return ()
        if missing:
            listing = ", ".join(f"'{p}'" for p in missing)
            self.error(node, f"{label} is missing the argument(s) {listing}", "bad-call")
            return ()
        tuples = dict(sig.tuples)  # a tuple passed to a version of the helper: its elements (see .callsites)
        values: dict[str, tuple[ir.Expr, ...]] = {}
        for p in sorted(given, key=lambda p: node.args.index(given[p])):
            if p in tuples:
                values[p] = tuple(self.elements(given[p].value, out, origin))  # type: ignore[attr-defined]
                assert len(values[p]) == tuples[p], "a version of a helper for another length"
            else:
                values[p] = (self.atom(given[p].value, out, origin),)
        return tuple(v for p in params for v in (values[p] if p in values else (sig.defaults[p],)))

    def _signature_for(self, fn: str, npositional: int, keywords: set[str]) -> Rule | None:
        """The rule of ``fn`` that accepts these arguments (keyword parameters may be left out)."""
        for arity in known_arities(fn) + [n for (f, n) in self.context.rules if f == fn]:
            rule = self.context.lookup(fn, arity)
            if rule is None or npositional > len(rule.params) or not rule.takes_positional(npositional):
                continue
            named = set(rule.params[npositional:])
            required = {p for p in rule.params[npositional:] if p not in rule.defaults}
            if keywords <= named and required <= keywords and (keywords or rule.defaults or npositional == arity):
                if keywords or npositional < arity:
                    return rule
        return None

    def _arguments(
        self,
        rule: Rule,
        positional: list[cst.Arg],
        keywords: dict[str, cst.Arg],
        out: list[ir.Stmt],
        origin: ir.Origin,
        first: ir.Expr | None = None,
    ) -> tuple[ir.Expr, ...]:
        """Every parameter's argument, in order: ``first`` (a method's array), the positional ones, keyword
        ones, then the defaults."""
        args: list[ir.Expr] = [] if first is None else [first]
        given = len(args) + len(positional)
        for k, p in enumerate(rule.params[len(args) :], start=len(args)):
            if k < given:
                args.append(self._rule_argument(positional[k - given + len(positional)].value, out, origin))
            elif p in keywords:
                args.append(self._rule_argument(keywords[p].value, out, origin))
            else:
                args.append(rule.defaults[p])
        return tuple(args)

    def _method(self, func: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
        """``x.sum`` (an array method): the object and the NumPy function; None for module attributes."""
        if not isinstance(func, cst.Attribute) or func.attr.value not in _ARRAY_METHODS:
            return None
        values = self.scope.assigned | set(self.scope.params) | set(self._inline)
        if isinstance(func.value, cst.Name) and func.value.value not in values:
            return None  # np.sum, math.exp: a module's function
        return func.value, _ARRAY_METHODS[func.attr.value]

    def _method_call(
        self, node: cst.Call, method: tuple[cst.BaseExpression, str], out: list[ir.Stmt], origin: ir.Origin
    ) -> ir.Expr:
        obj, fn = method
        positional = [a for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: a for a in node.args if a.keyword is not None}
        this = self.atom(obj, out, origin)
        if fn == "numpy.reshape":  # x.reshape(3, 4) and x.reshape((3, 4))
            if keywords or not positional:  # order='F' reads the elements in another order; shape= is np's
                self.error(
                    node,
                    "'.reshape()' is supported with the shape alone, as positional arguments",
                    "unsupported-syntax",
                    "write 'x.reshape(3, 4)' (C order); for another order, transpose explicitly",
                )
                return ir.Const(0)
            parts = [self.atom(a.value, out, origin) for a in positional]
            shape = parts[0] if len(parts) == 1 else _tuple(parts)
            return ir.Call(fn, (this, shape))
        rule = self._signature_for(fn, len(positional) + 1, set(keywords))
        if rule is None and not keywords:  # every argument given: x.dot(y), x.transpose()
            rule = self.context.lookup(fn, len(positional) + 1)
            rule = rule if rule is not None and rule.takes_positional(len(positional) + 1) else None
        if rule is None:
            self.error(node, f"unsupported arguments to '.{fn.split('.')[-1]}()'", "unsupported-syntax")
            return ir.Const(0)
        return ir.Call(fn, self._arguments(rule, positional, keywords, out, origin, first=this))

    def _helper(self, node: cst.Call, qualified: set[str]) -> Signature | None:
        """A call to the user's own function: in this file, or in a module file next to it."""
        local = sorted(q for q in qualified if "." not in q and q in self._module_functions())
        if local:
            return self.context.helper(self, node, local[0], self.path)
        for q in sorted(qualified):
            module, _, name = q.rpartition(".")
            if not module or module.split(".")[0] in ("math", "builtins", "numpy", "operator") or "<" in module:
                continue
            try:
                found = find_module(self.path, module)
            except NotFollowed as err:
                self.error(
                    node.func,
                    f"cannot look into '{q}': {err}",
                    "helper-not-found",
                    f"s2sad follows imports of your own modules next to the source; for other libraries, give '{q}' "
                    "a rule in [tool.s2sad.rules]",
                )
                return None
            if found is None:
                continue  # a library, not one of the user's modules: no rule for it (reported by the caller)
            self._note_read(str(found), name, node.func)
            return self.context.helper(self, node, name, str(found))
        return None

    def _module_functions(self) -> set[str]:
        return {name for name, sites in self.bindings.sites.items() if self.bindings.resolve(name).kind == "def"}

    def test(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """A condition: comparisons, 'and', 'or' and 'not' over atoms, kept as one expression."""
        if isinstance(node, cst.Comparison):
            return self._comparisons(self.atom(node.left, out, origin), node.comparisons, out, origin)
        if isinstance(node, cst.BooleanOperation):
            kind: Literal["and", "or"] = "and" if isinstance(node.operator, cst.And) else "or"
            left = self.test(node.left, out, origin)
            later: list[ir.Stmt] = []  # what the right operand computes runs only if Python reaches it
            right = self.test(node.right, later, origin)
            if later:
                return self._short_circuit(kind, left, later, right, out, origin)
            values = (left, right)
            flat: list[ir.Expr] = []
            for v in values:
                flat.extend(v.values if isinstance(v, ir.BoolOp) and v.op == kind else (v,))
            return ir.BoolOp(kind, tuple(flat))
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return ir.Call("operator.not_", (self.test(node.expression, out, origin),))
        return self.atom(node, out, origin)

    def _comparisons(
        self, left: ir.Expr, comparisons: Sequence[cst.ComparisonTarget], out: list[ir.Stmt], origin: ir.Origin
    ) -> ir.Expr:
        """``left < b < c``: ``c`` is computed only if ``left < b`` holds, as Python does."""
        op = _CST_COMPARE.get(type(comparisons[0].operator))
        right = self.atom(comparisons[0].comparator, out, origin)
        if isinstance(comparisons[0].operator, (cst.Is, cst.IsNot)):
            # identity is the same in the generated code only for None: other objects may be copies there
            if ir.Const(None) in (left, right):
                op = ast.Is if isinstance(comparisons[0].operator, cst.Is) else ast.IsNot
            else:
                self.error(
                    comparisons[0].operator,
                    "'is' and 'is not' are supported only with None",
                    "unsupported-syntax",
                    "compare values with == or !=",
                )
                return ir.Const(False)
        if op is None:
            self.error(
                comparisons[0].operator,
                "only < <= > >= == != comparisons (and 'is None') are supported",
                "unsupported-syntax",
            )
            return ir.Const(False)
        first = ir.Call(OPERATOR_SYMBOLS[op], (left, right))
        if len(comparisons) == 1:
            return first
        later: list[ir.Stmt] = []
        rest = self._comparisons(right, comparisons[1:], later, origin)
        if later:
            return self._short_circuit("and", first, later, rest, out, origin)
        return ir.BoolOp("and", (first, *(rest.values if isinstance(rest, ir.BoolOp) else (rest,))))

    def _short_circuit(
        self, kind: str, left: ir.Expr, later: list[ir.Stmt], right: ir.Expr, out: list[ir.Stmt], origin: ir.Origin
    ) -> ir.Expr:
        """``left and right`` when computing ``right`` takes statements: they run only if Python reaches them."""
        self._temp_count += 1
        cond = f"{TEMP}cond#{self._temp_count}"
        out.append(ir.Assign(cond, left, origin))
        reached = ir.Var(cond) if kind == "and" else ir.Call("operator.not_", (ir.Var(cond),))
        out.append(ir.If(reached, (*later, ir.Assign(cond, right, origin)), (), origin))
        return ir.Var(cond)

    def if_expression(
        self, node: cst.IfExp, out: list[ir.Stmt], origin: ir.Origin, target: str | None, into: str | None = None
    ) -> ir.Expr:
        if id(node) in self._decided:  # decided by the call site (see .callsites)
            taken = node.body if self._decided[id(node)] else node.orelse
            if into is None:
                return self.value(taken, out, origin, target)
            out.append(ir.Assign(into, self.value(taken, out, origin, into), origin))
            return ir.Var(into)
        self._temp_count += 1
        owner = target or self._stmt_target
        base = "choice" if owner == self.function_name else f"{owner}_choice"
        name = into or f"{TEMP}{base}#{self._temp_count}"
        test = self.test(node.test, out, origin)
        body: list[ir.Stmt] = []
        orelse: list[ir.Stmt] = []
        body.append(ir.Assign(name, self.value(node.body, body, origin, None), origin))
        orelse.append(ir.Assign(name, self.value(node.orelse, orelse, origin, None), origin))
        out.append(ir.If(test, tuple(body), tuple(orelse), origin))
        return ir.Var(name)

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
