"""Frontend: source text -> IR, with diagnostics. The only module that imports LibCST.

It guarantees: the file is read as UTF-8 (a BOM and CRLF line endings are fine), CPython accepts it (its
``SyntaxError`` is reported as is), the named function exists, every name the function calls is resolved
through the module's own imports to a qualified name with a rule, and every construct outside the supported
subset is reported, all of them, with positions. The result is three-address IR in the user's names:
nested expressions are flattened into named intermediates whose names start with :data:`TEMP` (the SSA
stage gives every definition its final name). Nothing here executes the user's code.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider, QualifiedName, QualifiedNameProvider

from . import ir
from .diagnostics import Diagnostic, S2sadError, Span
from .rules import CONSTANTS, OPERATOR_SYMBOLS, Rule, TemplateError, known_arities, lookup, user_rule
from .source import check_syntax, function_names, read_source, reduce

__all__ = ["read_source", "parse_function", "parse_program", "Program", "Opaque", "function_names"]

TEMP = ir.TEMP

_DECORATORS = {"s2sad.gradient", "s2sad.api.gradient"}
_RULE_DECORATORS = {"s2sad.rule", "s2sad.api.rule"}
#: Array methods and attributes, as the NumPy functions they stand for (the array is the first argument).
_ARRAY_METHODS = {
    "sum": "numpy.sum",
    "mean": "numpy.mean",
    "max": "numpy.max",
    "reshape": "numpy.reshape",
    "dot": "numpy.dot",
    "transpose": "numpy.transpose",
}
_ARRAY_ATTRIBUTES = {"T": "numpy.transpose", "shape": "numpy.shape", "size": "numpy.size", "ndim": "numpy.ndim"}
_BINARY_WORDS = {
    "operator.add": "plus",
    "operator.sub": "minus",
    "operator.mul": "times",
    "operator.truediv": "over",
    "operator.floordiv": "floordiv",
    "operator.mod": "mod",
    "operator.pow": "pow",
    "operator.matmul": "matmul",
    "operator.lt": "lt",
    "operator.le": "le",
    "operator.gt": "gt",
    "operator.ge": "ge",
    "operator.eq": "eq",
    "operator.ne": "ne",
}
_CST_BINARY = {
    cst.Add: ast.Add,
    cst.Subtract: ast.Sub,
    cst.Multiply: ast.Mult,
    cst.Divide: ast.Div,
    cst.FloorDivide: ast.FloorDiv,
    cst.Modulo: ast.Mod,
    cst.Power: ast.Pow,
    cst.MatrixMultiply: ast.MatMult,
}
_CST_AUGMENTED = {
    cst.AddAssign: ast.Add,
    cst.SubtractAssign: ast.Sub,
    cst.MultiplyAssign: ast.Mult,
    cst.DivideAssign: ast.Div,
    cst.FloorDivideAssign: ast.FloorDiv,
    cst.ModuloAssign: ast.Mod,
    cst.PowerAssign: ast.Pow,
    cst.MatrixMultiplyAssign: ast.MatMult,
}
_CST_COMPARE = {
    cst.LessThan: ast.Lt,
    cst.LessThanEqual: ast.LtE,
    cst.GreaterThan: ast.Gt,
    cst.GreaterThanEqual: ast.GtE,
    cst.Equal: ast.Eq,
    cst.NotEqual: ast.NotEq,
}
_MAX_DESCRIPTIVE = 24  # longer descriptive names fall back to "<target>_t<k>"


@dataclass(frozen=True)
class Opaque:
    """A helper with the user's own rule (``@s2sad.rule``): not looked into, copied as written."""

    name: str
    text: str  #: the function's source without its decorators
    imports: tuple[ir.Binding, ...]  #: the module-level imports its text uses


@dataclass
class Program:
    """The function, the helpers it reaches (callees before callers) and the rules for calls to them."""

    main: ir.Function
    helpers: list[ir.Function] = field(default_factory=list)
    opaque: list[Opaque] = field(default_factory=list)
    rules: dict[tuple[str, int], Rule] = field(default_factory=dict)  #: the user's rules, by (name, arity)


def parse_function(source: str, path: str, name: str, line: int | None = None) -> ir.Function:
    """Lower the function ``name`` of ``source`` into IR (helpers it calls are an error: see parse_program)."""
    return parse_program(source, path, name, line, helpers=False).main


def parse_program(
    source: str,
    path: str,
    name: str,
    line: int | None = None,
    *,
    rules: dict[tuple[str, int], Rule] | None = None,
    helpers: bool = True,
) -> Program:
    """Lower the function ``name`` of ``source``, and every helper it calls, into IR.

    ``line`` (the function's first line, decorators included) selects a nested function, as the Python API
    needs for functions defined inside other functions; without it the function must be at the top level.
    ``rules`` are the user's rules from ``[tool.s2sad.rules]``.
    """
    context = _Context(dict(rules or {}), helpers)
    context.chain.append(name)
    main = context.lower(source, path, name, line)
    return Program(main, context.done, context.opaque, context.rules)


class _Context:
    """What the lowering of one program shares: the helpers lowered so far and the call chain."""

    def __init__(self, rules: dict[tuple[str, int], Rule], helpers: bool) -> None:
        self.rules = rules
        self.allow_helpers = helpers
        self.done: list[ir.Function] = []
        self.opaque: list[Opaque] = []
        self.chain: list[str] = []  #: helpers being lowered, outermost first
        self.sources: dict[str, str] = {}

    def lookup(self, fn: str, nargs: int) -> Rule | None:
        return self.rules.get((fn, nargs)) or lookup(fn, nargs)

    def lower(self, source: str, path: str, name: str, line: int | None) -> ir.Function:
        tree = check_syntax(source, path)
        reduced, line_numbers = reduce(source, tree, name, line)
        wrapper = MetadataWrapper(cst.parse_module(reduced), unsafe_skip_copy=True)
        lowerer = _Lowerer(wrapper, source, path, line_numbers, self)
        return lowerer.lower(lowerer.find(name, line))

    def helper(self, caller: _Lowerer, node: cst.Call, name: str, path: str) -> str | None:
        """Lower the helper ``name`` of the file ``path`` (once), for a call at ``node``; its rule's key."""
        known = {f.name for f in self.done} | {o.name for o in self.opaque}
        if name in self.chain:
            cycle = " → ".join(self.chain[self.chain.index(name) :])
            caller.error(
                node,
                f"recursive call to '{name}' ({cycle} → {name}) is not supported",
                "recursion",
                "write the recursion as a loop with a known trip count",
            )
            return None
        if name in known:
            return name
        if path not in self.sources:
            self.sources[path] = read_source(path)
        self.chain.append(name)
        try:
            fn = self.lower(self.sources[path], path, name, None)
        finally:
            self.chain.pop()
        if name not in {o.name for o in self.opaque}:
            self.done.append(fn)
        return name


@dataclass
class _Scope:
    params: list[str]
    assigned: set[str]  #: every name the function body assigns


class _Lowerer:
    def __init__(
        self, wrapper: MetadataWrapper, source: str, path: str, line_numbers: list[int], context: _Context
    ) -> None:
        self.context = context
        self.module = wrapper.module
        self.line_numbers = line_numbers  #: original line of each line LibCST sees
        self.path = path
        self.lines = source.splitlines()
        resolved = wrapper.resolve_many([QualifiedNameProvider, PositionProvider])
        self.qnames = resolved[QualifiedNameProvider]
        self.positions = resolved[PositionProvider]
        self.diagnostics: list[Diagnostic] = []
        self.imports = self._module_imports()
        self.constants_used: dict[str, ir.ModuleConstant] = {}
        self.user_names: set[str] = set()
        self.scope = _Scope([], set())
        self._stmt_target = ""  # the name the statement being lowered assigns, for naming intermediates
        self._stmt_temps = 0
        self._temp_count = 0
        self.function_name = ""

    # ------------------------------------------------------------------------------------------------------
    # Positions and errors
    # ------------------------------------------------------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        r = self.positions[node]
        assert isinstance(r, CodeRange)
        original = self.line_numbers
        return Span(original[r.start.line - 1], r.start.column, original[r.end.line - 1], r.end.column)

    def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None:
        span = self.span(node)
        text = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else None
        self.diagnostics.append(Diagnostic(self.path, span, message, code, help, text))

    def origin(self, node: cst.CSTNode) -> ir.Origin:
        span = self.span(node)
        line = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else ""
        return ir.Origin(span, line.strip(), line)

    # ------------------------------------------------------------------------------------------------------
    # Module level
    # ------------------------------------------------------------------------------------------------------
    def find(self, name: str, line: int | None) -> cst.FunctionDef:
        if line is not None:
            for node in _all_function_defs(self.module):
                if node.name.value == name and line in self._def_lines(node):
                    return node
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name and stmt.body.body:
                if not _is_stub(stmt):
                    return stmt
        names = [s.name.value for s in self.module.body if isinstance(s, cst.FunctionDef)]
        listing = ", ".join(f"'{n}'" for n in names) if names else "none"
        raise S2sadError(
            [
                Diagnostic(
                    self.path,
                    None,
                    f"no function '{name}' at the top level of the file",
                    "function-not-found",
                    f"functions defined here: {listing}",
                )
            ]
        )

    def _def_lines(self, node: cst.FunctionDef) -> set[int]:
        return {self.span(n).line for n in (node, node.name, *node.decorators)}

    def _module_imports(self) -> list[ir.Binding]:
        out: list[ir.Binding] = []
        for stmt in self.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        dotted = _dotted_name(alias.name)
                        if alias.asname is not None:
                            out.append(ir.Binding(_asname(alias), dotted, True))
                        else:
                            top = dotted.split(".")[0]
                            out.append(ir.Binding(top, top, True))
                elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                    module = _dotted_name(small.module)
                    if isinstance(small.names, cst.ImportStar):
                        continue
                    for alias in small.names:
                        imported = _dotted_name(alias.name)
                        local = _asname(alias) if alias.asname is not None else imported
                        out.append(ir.Binding(local, f"{module}.{imported}", False))
        return out

    def _module_constant(self, name: str) -> ir.Expr | None:
        """A module-level ``NAME = <numeric literal expression>`` the function reads, copied into the output."""
        found: list[cst.BaseSmallStatement] = []
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and any(_target_is(t.target, name) for t in small.targets):
                        found.append(small)
                    elif isinstance(small, (cst.AugAssign, cst.AnnAssign)) and _target_is(small.target, name):
                        found.append(small)
        if len(found) != 1 or not isinstance(found[0], cst.Assign) or len(found[0].targets) != 1:
            return None
        if not _is_numeric_literal(found[0].value):
            return None
        text = self.module.code_for_node(found[0].value).strip()
        self.constants_used[name] = ir.ModuleConstant(name, f"{name} = {text}")
        return ir.Global(name)

    # ------------------------------------------------------------------------------------------------------
    # The function
    # ------------------------------------------------------------------------------------------------------
    def lower(self, node: cst.FunctionDef) -> ir.Function:
        rule_decorators = [d for d in node.decorators if self._qualified(d.decorator) & _RULE_DECORATORS]
        if rule_decorators and self.context.chain:
            return self.opaque(node, rule_decorators[0])
        if node.asynchronous is not None:
            self.error(node, "'async def' functions are not supported", "unsupported-syntax")
        for decorator in node.decorators:
            if not (self._qualified(decorator.decorator) & (_DECORATORS | _RULE_DECORATORS)):
                self.error(
                    decorator,
                    "decorators other than '@s2sad.gradient' (and '@s2sad.rule' on a helper) are not supported",
                    "unsupported-decorator",
                    "decorators change what the function computes; differentiate the undecorated function",
                )
        self.function_name = node.name.value
        params = self._params(node.params)
        assigned = _assigned_names(node.body)
        self.scope = _Scope([p.name for p in params], assigned)
        self.user_names = set(self.scope.params) | assigned | {b.local for b in self.imports}
        if isinstance(node.body, cst.SimpleStatementSuite):  # def f(x): return x * x
            origin = self.origin(node.body)
            smalls = list(node.body.body)
            if smalls and isinstance(smalls[-1], cst.Return):
                lowered: list[ir.Stmt] = []
                for small in smalls[:-1]:
                    self.small_statement(small, lowered, origin)
                lowered += self.final_return(smalls[-1], origin, node.name.value)
                return self._function(node, params, lowered)
            body: list[cst.BaseStatement] = []
        else:
            assert isinstance(node.body, cst.IndentedBlock)
            body = list(node.body.body)
        if body and _is_docstring(body[0]):
            body = body[1:]
        if not body or not _is_return(body[-1]):
            self.error(
                node.name,
                f"function '{node.name.value}' does not end with a 'return' statement",
                "no-return",
                "s2sad differentiates the value of a final 'return <expression>'",
            )
            self.block(body)
            return self._function(node, params, [])
        last = body[-1]
        assert isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Return)
        stmts = self.block(body[:-1])
        ret = self.final_return(last.body[0], self.origin(last), node.name.value)
        return self._function(node, params, stmts + ret)

    def _function(self, node: cst.FunctionDef, params: list[ir.Param], body: list[ir.Stmt]) -> ir.Function:
        if self.diagnostics:
            raise S2sadError(self.diagnostics)
        return ir.Function(
            name=node.name.value,
            params=tuple(params),
            body=tuple(body),
            path=self.path,
            imports=tuple(self.imports),
            constants=tuple(self.constants_used[k] for k in sorted(self.constants_used)),
            origin=self.origin(node),
            user_names=frozenset(self.user_names | set(self.constants_used)),
            arrays=any(b.qualname.split(".")[0] == "numpy" for b in self.imports),
        )

    def _params(self, params: cst.Parameters) -> list[ir.Param]:
        out: list[ir.Param] = []
        for bad in (params.star_arg, params.star_kwarg):
            if isinstance(bad, cst.Param):
                self.error(bad, "'*args' and '**kwargs' are not supported", "unsupported-syntax")
        for p in params.kwonly_params:
            self.error(p, "keyword-only parameters are not supported", "unsupported-syntax")
        for p in list(params.posonly_params) + list(params.params):
            default: ir.Expr | None = None
            if p.default is not None:
                if _is_numeric_literal(p.default):
                    default = ir.Const(ast.literal_eval(self.module.code_for_node(p.default).strip()))
                else:
                    self.error(p.default, "parameter defaults must be numbers", "unsupported-syntax")
            out.append(ir.Param(p.name.value, default))
        return out

    def final_return(self, ret: cst.Return, origin: ir.Origin, fname: str) -> list[ir.Stmt]:
        if ret.value is None or isinstance(ret.value, (cst.Tuple, cst.List, cst.Dict, cst.Set)):
            self.error(
                ret,
                "the function must return a single scalar",
                "non-scalar-return",
                "return one number (a loss); differentiate each output separately",
            )
            return []
        out: list[ir.Stmt] = []
        self._begin_statement(fname)
        value = self.value(ret.value, out, origin, target=fname)
        if not isinstance(value, (ir.Var, ir.Const, ir.Global)):
            out.append(ir.Assign(f"{TEMP}{fname}#0", value, origin))
            value = ir.Var(f"{TEMP}{fname}#0")
        out.append(ir.Return((value,), origin))
        return out

    # ------------------------------------------------------------------------------------------------------
    # Statements
    # ------------------------------------------------------------------------------------------------------
    def suite(self, suite: cst.BaseSuite) -> list[ir.Stmt]:
        """An indented block, or the statements after the colon of a one-line ``if c: x = 1``."""
        if isinstance(suite, cst.IndentedBlock):
            return self.block(suite.body)
        assert isinstance(suite, cst.SimpleStatementSuite)
        out: list[ir.Stmt] = []
        for small in suite.body:
            self.small_statement(small, out, self.origin(suite))
        return out

    def block(self, stmts: Sequence[cst.BaseStatement]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in stmts:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self.small_statement(small, out, self.origin(stmt))
            elif isinstance(stmt, cst.If):
                self.if_statement(stmt, out)
            elif isinstance(stmt, cst.For):
                self.for_statement(stmt, out)
            elif isinstance(stmt, cst.While):
                out.append(self.while_statement(stmt))
            else:
                self.unsupported_statement(stmt)
        return out

    def unsupported_statement(self, stmt: cst.CSTNode) -> None:
        kind = {
            cst.Try: "'try'",
            cst.With: "'with'",
            cst.FunctionDef: "nested function definitions",
            cst.ClassDef: "class definitions",
            cst.Match: "'match'",
            cst.Return: "'return' before the end of the function",
            cst.Break: "'break'",
            cst.Continue: "'continue'",
            cst.Raise: "'raise'",
            cst.Assert: "'assert'",
            cst.Del: "'del'",
            cst.Global: "'global'",
            cst.Nonlocal: "'nonlocal'",
            cst.Import: "'import' inside the function",
            cst.ImportFrom: "'import' inside the function",
        }.get(type(stmt), f"this statement ({type(stmt).__name__})")
        hint = {
            cst.Return: "compute the result into a variable and return it once, at the end of the function",
            cst.Break: "use a loop whose trip count is known, or a flag in an 'if'",
            cst.Continue: "put the rest of the loop body in an 'if'",
        }.get(type(stmt))
        self.error(stmt, f"{kind} is not supported", "unsupported-syntax", hint)

    def small_statement(self, small: cst.BaseSmallStatement, out: list[ir.Stmt], origin: ir.Origin) -> None:
        if isinstance(small, cst.Assign):
            if len(small.targets) != 1:
                self.error(small, "chained assignment 'a = b = ...' is not supported", "unsupported-syntax")
                return
            self.assign(small.targets[0].target, small.value, out, origin)
        elif isinstance(small, cst.AnnAssign):
            if small.value is None:
                return  # a bare annotation assigns nothing
            self.assign(small.target, small.value, out, origin)
        elif isinstance(small, cst.AugAssign):
            if not isinstance(small.target, cst.Name):
                self.unsupported_target(small.target)
                return
            op = OPERATOR_SYMBOLS[_CST_AUGMENTED[type(small.operator)]]
            name = small.target.value
            self._begin_statement(name)
            right = self.atom(small.value, out, origin)
            out.append(ir.Assign(name, ir.Call(op, (self.name(small.target), right)), origin))
        elif isinstance(small, cst.Pass):
            return
        elif isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.Ellipsis)):
            return
        elif isinstance(small, cst.Expr):
            self.error(
                small,
                "an expression statement has no effect on the result",
                "unsupported-syntax",
                "s2sad supports pure functions: assign the value or remove the statement",
            )
        else:
            self.unsupported_statement(small)

    def unsupported_target(self, target: cst.CSTNode) -> None:
        if isinstance(target, (cst.Subscript, cst.Attribute)):
            self.error(
                target,
                "assignment to an attribute or subscript is not supported",
                "unsupported-syntax",
                "s2sad differentiates pure functions: build a new value instead of mutating one",
            )
        else:
            self.error(target, "unsupported assignment target", "unsupported-syntax")

    def assign(
        self, target: cst.BaseExpression, value: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin
    ) -> None:
        if isinstance(target, cst.Name):
            self._begin_statement(target.value)
            if isinstance(value, cst.IfExp):  # y = a if c else b: an 'if' that assigns y in both branches
                self.if_expression(value, out, origin, target.value, into=target.value)
                return
            out.append(ir.Assign(target.value, self.value(value, out, origin, target.value), origin))
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            names = [e.value for e in target.elements]
            if not all(isinstance(n, cst.Name) for n in names):
                for n in names:
                    if not isinstance(n, cst.Name):
                        self.unsupported_target(n)
                return
            if not isinstance(value, (cst.Tuple, cst.List)) or len(value.elements) != len(names):
                self.error(
                    value,
                    "tuple assignment needs a tuple of the same length on the right",
                    "unsupported-syntax",
                    "unpacking the result of a call is not supported; assign each value separately",
                )
                return
            # Evaluate the whole right-hand side before assigning anything (``x, y = y, x * 2``): a target
            # that a later value reads is first copied into an intermediate (the SSA stage propagates the copy).
            values: list[ir.Expr] = []
            for n, element in zip(names, value.elements):
                assert isinstance(n, cst.Name)
                self._begin_statement(n.value)
                values.append(self.value(element.value, out, origin, n.value))
            for i, n in enumerate(names):
                assert isinstance(n, cst.Name)
                if any(n.value in ir.expr_names(v) for v in values[i + 1 :]):
                    self._temp_count += 1
                    snapshot = f"{TEMP}{n.value}#{self._temp_count}"
                    out.append(ir.Assign(snapshot, ir.Var(n.value), origin))
                    values[i + 1 :] = [ir.substitute(v, {n.value: ir.Var(snapshot)}) for v in values[i + 1 :]]
                out.append(ir.Assign(n.value, values[i], origin))
            return
        self.unsupported_target(target)

    def if_statement(self, stmt: cst.If, out: list[ir.Stmt]) -> None:
        """The test's operands are computed into ``out`` just before the ``If``; ``elif`` nests."""
        origin = self.origin(stmt)
        self._begin_statement("cond")
        test = self.test(stmt.test, out, origin)
        body = self.suite(stmt.body)
        orelse: list[ir.Stmt] = []
        if isinstance(stmt.orelse, cst.If):
            self.if_statement(stmt.orelse, orelse)
        elif isinstance(stmt.orelse, cst.Else):
            orelse = self.suite(stmt.orelse.body)
        out.append(ir.If(test, tuple(body), tuple(orelse), origin))

    def for_statement(self, stmt: cst.For, out: list[ir.Stmt]) -> None:
        origin = self.origin(stmt)
        if stmt.orelse is not None:
            self.error(stmt.orelse, "'for ... else' is not supported", "unsupported-syntax")
        if stmt.asynchronous is not None:
            self.error(stmt, "'async for' is not supported", "unsupported-syntax")
        if not isinstance(stmt.target, cst.Name):
            self.error(stmt.target, "the loop variable must be a single name", "unsupported-syntax")
            return
        index = stmt.target.value
        iterator = stmt.iter
        reverse = False
        if isinstance(iterator, cst.Call) and "builtins.reversed" in self._qualified(iterator.func):
            if len(iterator.args) == 1:
                iterator = iterator.args[0].value
                reverse = True
        if not (
            isinstance(iterator, cst.Call)
            and "builtins.range" in self._qualified(iterator.func)
            and 1 <= len(iterator.args) <= 3
            and all(a.keyword is None and not a.star for a in iterator.args)
        ):
            self.error(
                stmt.iter,
                "only 'for ... in range(...)' and 'reversed(range(...))' loops are supported",
                "unsupported-loop",
                "loop over indices: 'for i in range(len(xs))'",
            )
            return
        self._begin_statement(index)
        args = tuple(self.atom(a.value, out, origin) for a in iterator.args)
        body = self.suite(stmt.body)
        out.append(ir.For(index, args, reverse, tuple(body), origin))

    def while_statement(self, stmt: cst.While) -> ir.While:
        origin = self.origin(stmt)
        if stmt.orelse is not None:
            self.error(stmt.orelse, "'while ... else' is not supported", "unsupported-syntax")
        setup: list[ir.Stmt] = []
        self._begin_statement("cond")
        test = self.test(stmt.test, setup, origin)
        body = self.suite(stmt.body)
        return ir.While(tuple(setup), test, tuple(body), None, origin)

    # ------------------------------------------------------------------------------------------------------
    # Expressions
    # ------------------------------------------------------------------------------------------------------
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
        if isinstance(node, cst.BinaryOperation):
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
        if isinstance(node, cst.Name):
            return self.name(node)
        if isinstance(node, (cst.Integer, cst.Float)):
            return ir.Const(ast.literal_eval(node.value))
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
            return self.call(node, out, origin)
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
        if isinstance(node, cst.Tuple):
            return _tuple([self.atom(e.value, out, origin) for e in node.elements])
        if isinstance(node, cst.IfExp):
            return self.if_expression(node, out, origin, target)
        self.unsupported_expression(node)
        return ir.Const(0)

    def index(self, node: cst.Subscript, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """``x[0]``, ``x[1:]``, ``x[:, j]``: the index as an expression of atoms and slices."""
        parts: list[ir.Expr] = []
        for element in node.slice:
            item = element.slice
            if isinstance(item, cst.Index):
                parts.append(self.atom(item.value, out, origin))
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
            cst.Lambda: ("'lambda' is not supported", "define the function at the top level"),
            cst.SimpleString: ("strings are not supported", None),
            cst.FormattedString: ("strings are not supported", None),
            cst.Imaginary: ("complex numbers are not supported", None),
            cst.BooleanOperation: ("'and'/'or' are supported only in 'if' and 'while' conditions", None),
        }
        message, hint = kinds.get(type(node), (f"this expression ({type(node).__name__}) is not supported", None))
        self.error(node, message, "unsupported-syntax", hint)

    def name(self, node: cst.Name) -> ir.Expr:
        n = node.value
        self.user_names.add(n)
        if n in self.scope.assigned or n in self.scope.params:
            return ir.Var(n)
        if n in ("True", "False", "None"):
            return ir.Const({"True": True, "False": False, "None": None}[n])
        qualified = self._qualified(node)
        if qualified & CONSTANTS:
            return ir.Global(sorted(qualified & CONSTANTS)[0])
        if qualified == {n}:
            constant = self._module_constant(n)
            if constant is not None:
                return constant
            self.error(
                node,
                f"reading the global '{n}' is not supported",
                "unsupported-global",
                "only module-level numeric constants ('K = 3.0') can be read; pass other values as parameters",
            )
        elif any(".<locals>." in q for q in qualified):
            self.error(node, f"'{n}' comes from an enclosing function", "unsupported-global", "pass it as a parameter")
        elif not qualified:
            self.error(node, f"'{n}' is not defined", "undefined-name")
        else:
            self.error(node, f"'{n}' is used as a value, which is not supported", "unsupported-syntax")
        return ir.Const(0)

    def call(self, node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        method = self._method(node.func)
        if method is not None:
            return self._method_call(node, method, out, origin)
        qualified = self._qualified(node.func)
        label = _code(self.module, node.func)
        if "numpy.array" in qualified:  # np.array([a, b, c]): an array of scalars, element by element
            if len(node.args) != 1 or not isinstance(node.args[0].value, cst.List) or node.args[0].keyword:
                self.error(
                    node, "'np.array' is supported on a list of values: np.array([a, b, c])", "unsupported-syntax"
                )
                return ir.Const(0)
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
        if keywords:
            self.error(node, f"'{label}' takes no keyword argument '{next(iter(keywords))}' here", "unsupported-syntax")
            return ir.Const(0)
        candidates = sorted(q for q in qualified if self.context.lookup(q, len(node.args)) is not None)
        if not candidates:
            reported = len(self.diagnostics)
            key = self._helper(node, qualified) if self.context.allow_helpers else None
            if key is None:
                if len(self.diagnostics) == reported:
                    self._no_rule(node, label, qualified)
                return ir.Const(0)
            candidates = [key]
        args = tuple(self.atom(a.value, out, origin) for a in node.args)
        return ir.Call(candidates[0], args)

    def _signature_for(self, fn: str, npositional: int, keywords: set[str]) -> Rule | None:
        """The rule of ``fn`` that accepts these arguments (keyword parameters may be left out)."""
        for arity in known_arities(fn) + [n for (f, n) in self.context.rules if f == fn]:
            rule = self.context.lookup(fn, arity)
            if rule is None or npositional > len(rule.params):
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
                args.append(self.atom(positional[k - given + len(positional)].value, out, origin))
            elif p in keywords:
                args.append(self.atom(keywords[p].value, out, origin))
            else:
                args.append(rule.defaults[p])
        return tuple(args)

    def _method(self, func: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
        """``x.sum`` (an array method): the object and the NumPy function; None for module attributes."""
        if not isinstance(func, cst.Attribute) or func.attr.value not in _ARRAY_METHODS:
            return None
        if isinstance(func.value, cst.Name) and func.value.value not in self.scope.assigned | set(self.scope.params):
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
            parts = [self.atom(a.value, out, origin) for a in positional]
            shape = parts[0] if len(parts) == 1 else _tuple(parts)
            return ir.Call(fn, (this, shape))
        rule = self._signature_for(fn, len(positional) + 1, set(keywords))
        if rule is None:
            self.error(node, f"unsupported arguments to '.{fn.split('.')[-1]}()'", "unsupported-syntax")
            return ir.Const(0)
        return ir.Call(fn, self._arguments(rule, positional, keywords, out, origin, first=this))

    def _helper(self, node: cst.Call, qualified: set[str]) -> str | None:
        """A call to the user's own function: in this file, or in a module file next to it."""
        local = sorted(q for q in qualified if "." not in q and q in self._module_functions())
        if local:
            return self.context.helper(self, node, local[0], self.path)
        for q in sorted(qualified):
            module, _, name = q.rpartition(".")
            if not module or module.split(".")[0] in ("math", "builtins", "numpy", "operator"):
                continue
            folder = Path(self.path).parent
            for candidate in (
                folder / (module.replace(".", "/") + ".py"),
                folder / module.replace(".", "/") / "__init__.py",
            ):
                if candidate.is_file():
                    return self.context.helper(self, node, name, str(candidate))
            if not (folder / module.split(".")[0]).is_dir():
                continue  # a library, not one of the user's modules: no rule for it (reported by the caller)
            self.error(
                node.func,
                f"cannot look into '{q}': no file '{module.replace('.', '/')}.py' next to {self.path}",
                "helper-not-found",
                f"s2sad follows imports of your own modules next to the source; for other libraries, give '{q}' a "
                "rule in [tool.s2sad.rules]",
            )
            return None
        return None

    def _module_functions(self) -> set[str]:
        return {s.name.value for s in self.module.body if isinstance(s, cst.FunctionDef)}

    def opaque(self, node: cst.FunctionDef, decorator: cst.Decorator) -> ir.Function:
        """A helper with ``@s2sad.rule(x="...")``: its rule comes from the decorator; it is copied as written."""
        params = tuple(p.name.value for p in list(node.params.posonly_params) + list(node.params.params))
        call = decorator.decorator
        templates: dict[str, str] = {}
        if not isinstance(call, cst.Call) or not call.args:
            self.error(decorator, "'@s2sad.rule' needs one template per argument, e.g. x=\"g * ans\"", "bad-rule")
        else:
            for arg in call.args:
                if arg.keyword is None or not isinstance(arg.value, cst.SimpleString):
                    self.error(arg, 'write each rule as name="template" with a plain string', "bad-rule")
                    continue
                templates[arg.keyword.value] = str(arg.value.evaluated_value)
                try:
                    rule = user_rule(node.name.value, params, {arg.keyword.value: templates[arg.keyword.value]})
                except TemplateError as err:
                    self.error(
                        arg,
                        str(err),
                        "bad-rule",
                        "a template is a Python expression in g, ans (or out) "
                        "and the arguments; call functions by qualified name, e.g. math.exp",
                    )
        if self.diagnostics:
            raise S2sadError(self.diagnostics)
        rule = user_rule(node.name.value, params, templates)
        self.context.rules[(node.name.value, len(params))] = rule
        text = self.module.code_for_node(node.with_changes(decorators=[])).strip() + "\n"
        used = {n.value for n in _names_in(node.with_changes(decorators=[]))}
        self.context.opaque.append(Opaque(node.name.value, text, tuple(b for b in self.imports if b.local in used)))
        return ir.Function(node.name.value, tuple(ir.Param(p) for p in params), (), self.path)

    def _no_rule(self, node: cst.Call, label: str, qualified: set[str]) -> None:
        if not qualified:
            self.error(node.func, f"'{label}' is not defined", "undefined-name")
            return
        fn = sorted(qualified)[0]
        arities = known_arities(fn)
        if arities:
            counts = " or ".join(str(a) for a in arities)
            self.error(node, f"'{label}' is supported with {counts} argument(s), not {len(node.args)}", "no-rule")
        elif "." not in fn:
            self.error(
                node.func,
                f"'{label}' is a helper function; 's2sad explain' does not look into helpers yet",
                "unsupported-call",
                "explain the helper on its own: s2sad explain PATH::" + label,
            )
        elif fn in ("builtins.range", "builtins.reversed"):
            self.error(node, f"'{label}' is supported only as the iterable of a 'for' loop", "unsupported-syntax")
        else:
            self.error(
                node.func,
                f"no derivative rule for '{fn}'",
                "no-rule",
                "s2sad has rules for arithmetic, most of the math module, abs, pow, min and max; give other "
                "functions a rule in [tool.s2sad.rules] (see the README)",
            )

    def test(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """A condition: comparisons, 'and', 'or' and 'not' over atoms, kept as one expression."""
        if isinstance(node, cst.Comparison):
            parts: list[ir.Expr] = []
            left = self.atom(node.left, out, origin)
            for target in node.comparisons:
                op = _CST_COMPARE.get(type(target.operator))
                if op is None:
                    self.error(target.operator, "only < <= > >= == != comparisons are supported", "unsupported-syntax")
                    return ir.Const(False)
                right = self.atom(target.comparator, out, origin)
                parts.append(ir.Call(OPERATOR_SYMBOLS[op], (left, right)))
                left = right
            return parts[0] if len(parts) == 1 else ir.BoolOp("and", tuple(parts))
        if isinstance(node, cst.BooleanOperation):
            kind: Literal["and", "or"] = "and" if isinstance(node.operator, cst.And) else "or"
            values = (self.test(node.left, out, origin), self.test(node.right, out, origin))
            flat: list[ir.Expr] = []
            for v in values:
                flat.extend(v.values if isinstance(v, ir.BoolOp) and v.op == kind else (v,))
            return ir.BoolOp(kind, tuple(flat))
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return ir.Call("operator.not_", (self.test(node.expression, out, origin),))
        return self.atom(node, out, origin)

    def if_expression(
        self, node: cst.IfExp, out: list[ir.Stmt], origin: ir.Origin, target: str | None, into: str | None = None
    ) -> ir.Expr:
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

    # ------------------------------------------------------------------------------------------------------
    # Name resolution
    # ------------------------------------------------------------------------------------------------------
    def _qualified(self, node: cst.CSTNode) -> set[str]:
        value: object = self.qnames.get(node)
        if callable(value):  # LibCST resolves qualified names lazily
            value = value()
        names: set[QualifiedName] = value if isinstance(value, set) else set()
        return {q.name for q in names}


def _tuple(parts: list[ir.Expr]) -> ir.Expr:
    """A tuple of atoms: a constant when every part is one (a shape, axes)."""
    if all(isinstance(p, ir.Const) for p in parts):
        return ir.Const(tuple(p.value for p in parts if isinstance(p, ir.Const)))
    return ir.Call(ir.TUPLE, tuple(parts))


def _names_in(node: cst.CSTNode) -> list[cst.Name]:
    """The names ``node`` reads as variables (not attribute names: ``exp`` in ``math.exp`` is not one)."""
    found: list[cst.Name] = []

    class Finder(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.append(n)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

    node.visit(Finder())
    return found


def _is_stub(node: cst.FunctionDef) -> bool:
    """A one-line ``def name(): pass`` that :func:`_reduce` put in place of a function that does not matter."""
    body = node.body
    return isinstance(body, cst.SimpleStatementSuite) and len(body.body) == 1 and isinstance(body.body[0], cst.Pass)


def _all_function_defs(node: cst.CSTNode) -> list[cst.FunctionDef]:
    found: list[cst.FunctionDef] = []

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> None:
            found.append(n)

    node.visit(Finder())
    return found


def _assigned_names(body: cst.BaseSuite) -> set[str]:
    names: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            names.update(_target_names(n.target))

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            names.update(_target_names(n.target))

        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            names.update(_target_names(n.target))

        def visit_For(self, n: cst.For) -> None:
            names.update(_target_names(n.target))

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return False

    body.visit(Finder())
    return names


def _target_names(node: cst.BaseExpression) -> set[str]:
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, (cst.Tuple, cst.List)):
        return set().union(*(_target_names(e.value) for e in node.elements))
    return set()


def _target_is(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _is_numeric_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        return _is_numeric_literal(node.expression)
    if isinstance(node, cst.BinaryOperation) and type(node.operator) in _CST_BINARY:
        return _is_numeric_literal(node.left) and _is_numeric_literal(node.right)
    return False


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_return(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Return)


def _dotted_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted_name(node.value)}.{node.attr.value}"
    raise TypeError(node)


def _asname(alias: cst.ImportAlias) -> str:
    assert alias.asname is not None and isinstance(alias.asname.name, cst.Name)
    return alias.asname.name.value


def _code(module: cst.Module, node: cst.CSTNode) -> str:
    return module.code_for_node(node).strip()
