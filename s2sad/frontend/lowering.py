"""Statements and functions: LibCST -> IR in the user's names, with every diagnostic collected."""

from __future__ import annotations

import ast

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from .. import ir
from ..bindings import ModuleScope, function_scope
from ..diagnostics import Diagnostic, InternalError, S2sadError
from ..rules import OPERATOR_SYMBOLS, TemplateError
from ..user_rules import user_rule
from ..values import array_free
from . import fidelity
from .aliasing import InPlace, inplace_message, returns_fresh
from .annotations import _Annotations
from .callsites import _CallSites, decided_tests
from .containers import Lengths, _Containers, tuple_lengths
from .directives import stray_directives
from .control import _Control, _ControlState, early_returns
from .expressions import _Expressions
from .library import _Library
from .writes import _appended, _Writes
from .names import Context, Scope, Signature, Spec
from .bundles import _Bundles, bundle_reads, entry_params
from .decorators import decorator_label, looked_through
from .nested import _Nested
from .results import _Results
from .opaque import Opaque as ir_opaque
from .syntax import (
    _CST_AUGMENTED,
    _DECORATORS,
    _RULE_DECORATORS,
    TEMP,
    _all_function_defs,
    _is_docstring,
    _is_return,
    _is_stub,
    _names_in,
    evaluate_numeric,
)

_NOT_LINE_BREAKS = str.maketrans(dict.fromkeys("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " "))


class _Lowerer(
    _Control, _Writes, _Annotations, _Results, _Bundles, _Nested, _CallSites, _Containers, _Library, _Expressions
):
    """Lowers one function of one file; helpers it calls go through the shared ``Context``."""

    def __init__(
        self,
        wrapper: MetadataWrapper,
        source: str,
        path: str,
        line_numbers: list[int],
        context: Context,
        *,
        tree: ast.Module,
        bindings: ModuleScope,
        lines: list[str],
        shifts: dict[int, list[tuple[int, int]]],
        helper: bool = False,
    ) -> None:
        self.context = context
        self.module = wrapper.module
        self.line_numbers = line_numbers  #: original line of each line LibCST sees
        self.shifts = shifts
        self.path = path
        self.source = source
        self.tree = tree
        self.bindings = bindings
        self.is_helper = helper
        self.misread: list[Diagnostic] = []  #: where LibCST and CPython read the function differently
        self.output_name: str | None = None  #: the function's name in the generated module, if not its own
        self.lines = lines
        self.positions = wrapper.resolve(PositionProvider)
        self.diagnostics: list[Diagnostic] = []
        self.imports = self._module_imports()
        self.constants_used: dict[str, ir.ModuleConstant] = {}
        self.user_names: set[str] = set()
        self.scope = Scope([], set())
        self._stmt_target = ""  # the name the statement being lowered assigns, for naming intermediates
        self._stmt_temps = 0
        self._temp_count = 0
        self.function_name = ""
        self._containers = Lengths()  #: tuple variables and their lengths where read (see .containers)
        self._element_names: dict[tuple[str, int], str] = {}
        self._tuple_calls: dict[int, Signature | None] = {}
        self.failed_calls: set[int] = set()
        self._nested: dict[str, cst.FunctionDef | cst.Lambda] = {}  #: see .nested
        self._defined: set[str] = set()
        self._inline: dict[str, ir.Expr] = {}
        self._inlining: set[str] = set()
        self._refused: set[str] = set()
        self._reported: set[int] = set()
        self.lifted = False  #: a nested function, lowered as a helper: its free variables are parameters
        self.lifted_free: tuple[str, ...] = ()
        self.looked_through: list[str] = []  #: decorators looked through (see .decorators)
        self._bundles: dict[str, list[str]] = {}  #: dictionary parameters and their keys (see .bundles)
        self._bundle_entries: dict[tuple[str, str], str] = {}  #: (parameter, key) -> the entry's name
        self._function_node: cst.FunctionDef | None = None
        self._inplace: InPlace | None = None  #: the function's in-place updates (see .aliasing), when asked
        self._control = _ControlState()  #: break, continue and early returns (see .control)
        self._loop_assigned: set[str] = set()
        self._loop_resizes: cst.CSTNode | None = None
        #: refusals that stand only if the function is not scalar code (an in-place update in a NumPy module)
        self._array_only: list[Diagnostic] = []
        self._comprehension_names: dict[str, str] = {}  #: comprehension variables in scope (see .writes)
        self.spec = Spec()  #: what the call site decides, for a helper's version (see .callsites)
        self._decided: dict[int, bool] = {}

    def origin(self, node: cst.CSTNode) -> ir.Origin:
        span = self.span(node)
        line = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else ""
        # The text is copied into comments of the generated module: characters other tools take for line
        # breaks (str.splitlines, editors) become spaces there, so the module's lines are Python's lines.
        return ir.Origin(span, line.translate(_NOT_LINE_BREAKS).strip(), line)

    def find(self, name: str, line: int | None) -> cst.FunctionDef:
        if line is not None:
            for node in _all_function_defs(self.module):
                if node.name.value == name and line in self._def_lines(node):
                    return node
        found = [
            stmt
            for stmt in self.module.body
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name and stmt.body.body and not _is_stub(stmt)
        ]
        if found and line is None and self.bindings.resolve(name).kind != "ambiguous":
            return found[-1]  # Python keeps the last 'def' of a name
        if found and line is None:
            meaning = self.bindings.resolve(name)
            sites = "; ".join(s.describe() for s in meaning.competing[:6])
            raise S2sadError(
                [
                    Diagnostic(
                        self.path,
                        self.span(found[-1].name),
                        f"cannot tell which definition of '{name}' this is: {meaning.reason} ({sites})",
                        "ambiguous-binding",
                        "bind the name exactly once, at the top level of the module",
                        self.lines[self.span(found[-1].name).line - 1],
                    )
                ]
            )
        names = list(dict.fromkeys(s.name.value for s in self.module.body if isinstance(s, cst.FunctionDef)))
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
        """The module's imports that bind a name exactly once (others are refused where they are read)."""
        out: list[ir.Binding] = []
        for name in self.bindings.sites:
            meaning = self.bindings.resolve(name)
            site = meaning.site
            if meaning.kind == "import" and site is not None and site.qualname and not site.qualname.startswith("."):
                out.append(ir.Binding(name, site.qualname, site.is_module))
        return out

    def _ast_def(self, node: cst.FunctionDef) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """CPython's tree of the function LibCST found (same name, same first line)."""
        line = self.span(node.name).line
        for candidate in ast.walk(self.tree):
            if (
                isinstance(candidate, (ast.FunctionDef, ast.AsyncFunctionDef))
                and candidate.name == node.name.value
                and candidate.lineno == line
            ):
                return candidate
        return None

    def lower(self, node: cst.FunctionDef) -> ir.Function:
        for decorator in node.decorators:
            qualified = self._qualified(decorator.decorator)
            if qualified & (_DECORATORS | _RULE_DECORATORS):
                continue
            name, problem = looked_through(decorator, qualified)
            if name is not None:
                self.looked_through.append(name)
                continue
            label = decorator_label(self.module, decorator)
            self.error(
                decorator,
                f"the decorator {problem or repr('@' + label)} is not supported",
                "unsupported-decorator",
                "a decorator may change what the function computes; s2sad looks through only functools.cache, "
                "functools.lru_cache, numba.njit, numba.jit and jax.jit; differentiate the undecorated function",
            )
        if self.diagnostics:
            raise S2sadError(self.diagnostics)
        rule_decorators = [d for d in node.decorators if self._qualified(d.decorator) & _RULE_DECORATORS]
        if rule_decorators and self.is_helper:
            return self.opaque(node, rule_decorators[0])
        if rule_decorators:
            self.error(
                rule_decorators[0],
                f"'{node.name.value}' has a rule of its own ('@s2sad.rule'): there is nothing to differentiate",
                "rule-on-target",
                "a rule is for a helper that other functions call; differentiate one of its callers, or remove "
                "the decorator",
            )
            raise S2sadError(self.diagnostics)
        if node.asynchronous is not None:
            self.error(node, "'async def' functions are not supported", "unsupported-syntax")
        self.function_name = node.name.value
        tree = self._ast_def(node)
        params = self._params(node.params)
        if tree is None:
            raise InternalError(f"CPython's tree has no function '{node.name.value}' where LibCST found it")
        misread = fidelity.misread(node, tree, lambda n: self.span(n).line, self.path, self.lines)
        if misread is not None:
            self.misread.append(misread)
        names = function_scope(self.source, self.path, tree)
        self.scope = Scope.of(names)
        if self.lifted:
            self._lift(node, names, params)
        if not self.is_helper:
            self._bundles = bundle_reads(node.body, self.scope.params)
            for p, keys in self._bundles.items():
                for k, key in enumerate(keys):
                    self._bundle_entries[(p, key)] = self._entry_name(p, key, k)
        assigned = self.scope.assigned
        self.user_names = set(self.scope.params) | assigned | {b.local for b in self.imports}
        self._containers = tuple_lengths(node.body, self.scope.params, self._returned_length, dict(self.spec.tuples))
        self._decided = decided_tests(node.body, dict(self.spec.none))
        self.check_list_uses(node.body)  # lists that grow (see .writes)
        self._function_node = node
        for p in stray_directives(node):
            self.error(p.node, p.message, p.code, p.help)
        self._nested = self.find_nested(node)
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
        if early_returns(body):
            return self._function(node, params, self.finish_control(self.returning_body(node.name, body)))
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
        return self._function(node, params, self.finish_control(stmts + ret))

    def _function(self, node: cst.FunctionDef, params: list[ir.Param], body: list[ir.Stmt]) -> ir.Function:
        if self._array_only and not self.diagnostics:
            # Scalar code (no array operation: see s2sad.values) keeps the contract of a module without NumPy,
            # where an in-place update of a number is checked at run time; anything else may share an array.
            annotated_arrays = any(p.annotation is not None and p.annotation.startswith("ndarray") for p in params)
            if annotated_arrays or not array_free(ir.Function(node.name.value, tuple(params), tuple(body), self.path)):
                self.diagnostics.extend(self._array_only)
        if self.misread and not self.diagnostics:  # otherwise, what is wrong there is said more precisely
            self.diagnostics.extend(self.misread)
        if self.diagnostics:
            raise S2sadError(self.diagnostics)
        if self.is_helper:  # every call passes every argument; the defaults were bound at the call
            params = [ir.Param(p.name, annotation=p.annotation) for p in params]
        tuples = dict(self.spec.tuples)  # a tuple passed in: one parameter per element (see .callsites)
        params = [
            e
            for p in params
            for e in (
                [ir.Param(self.element_name(p.name, k)) for k in range(tuples[p.name])] if p.name in tuples else [p]
            )
        ]
        params, bundles = entry_params(params, self._bundles, self._bundle_entries)
        return ir.Function(
            name=self.output_name or node.name.value,
            params=tuple(params),
            body=tuple(body),
            path=self.path,
            imports=tuple(self.imports),
            constants=tuple(self.constants_used[k] for k in sorted(self.constants_used)),
            origin=self.origin(node),
            user_names=frozenset(self.user_names | set(self.constants_used)),
            bundles=bundles,
            decorators=tuple(self.looked_through),
        )

    def _params(self, params: cst.Parameters) -> list[ir.Param]:
        """The parameters, in order (keyword-only ones last: calls to a helper pass every argument in this
        order); a default must be a number or a numeric literal expression (``2 ** 3``), evaluated here."""
        out: list[ir.Param] = []
        for bad in (params.star_arg, params.star_kwarg):
            if isinstance(bad, cst.Param):
                self.error(bad, "'*args' and '**kwargs' are not supported", "unsupported-syntax")
        kwonly = {id(p) for p in params.kwonly_params}
        for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            default: ir.Expr | None = None
            if isinstance(p.default, cst.Name) and p.default.value == "None":
                default = ir.Const(None)  # 'if p is None:' decides at run time, as in Python
            elif p.default is not None:
                value, problem, code = evaluate_numeric(p.default)
                if problem is None:
                    default = ir.Const(value)
                else:
                    assert code is not None
                    self.error(
                        p.default,
                        f"a parameter's default must be a number: {problem}",
                        code,
                        "write the number itself ('k=8.0') or None, or pass the value at each call",
                    )
            annotation = self.annotation(p.annotation.annotation) if p.annotation is not None else None
            out.append(ir.Param(p.name.value, default, id(p) in kwonly, annotation))
        return out

    def signature(self, node: cst.FunctionDef, name: str) -> Signature:
        """How calls to this function (a helper, named ``name`` in the generated module) bind arguments."""
        params = node.params
        defaults = {}
        for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            if isinstance(p.default, cst.Name) and p.default.value == "None":
                defaults[p.name.value] = ir.Const(None)
            elif p.default is not None:
                value, problem, _ = evaluate_numeric(p.default)
                if problem is None:
                    defaults[p.name.value] = ir.Const(value)
        positional = tuple(p.name.value for p in list(params.posonly_params) + list(params.params))
        kwonly = tuple(p.name.value for p in params.kwonly_params)
        return self.versioned_signature(
            Signature(
                name, node.name.value, positional, len(params.posonly_params), kwonly, defaults, free=self.lifted_free
            )
        )

    def final_return(self, ret: cst.Return, origin: ir.Origin, fname: str) -> list[ir.Stmt]:
        several = self._length(ret.value) if self.is_helper and ret.value is not None else None
        if several is not None and several > 1 and not isinstance(ret.value, cst.List):
            # a helper's 'return a, b' (or a tuple variable, or another helper's values): one value per element
            out: list[ir.Stmt] = []
            self._begin_statement(fname)
            values = self.elements(ret.value, out, origin)
            return out + [ir.Return(tuple(values), origin)]
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

    def unsupported_statement(self, stmt: cst.CSTNode) -> None:
        kind = {
            cst.Try: "'try'",
            cst.With: "'with'",
            cst.FunctionDef: "a nested function defined inside a branch or a loop",
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
            if isinstance(small.targets[0].target, cst.Subscript):  # x[i] = v: a write (see .writes)
                self.assign_item(small, small.targets[0].target, small.value, out, origin)
                return
            self.assign(small.targets[0].target, small.value, out, origin)
        elif isinstance(small, cst.AnnAssign):
            if small.value is None:
                return  # a bare annotation assigns nothing
            self.assign(small.target, small.value, out, origin)
        elif isinstance(small, cst.AugAssign):
            if not isinstance(small.target, (cst.Name, cst.Subscript)):
                self.unsupported_target(small.target)
                return
            if type(small.operator) not in _CST_AUGMENTED:
                self.error(
                    small, "this augmented assignment (a bitwise operator) is not supported", "unsupported-syntax"
                )
                return
            op = OPERATOR_SYMBOLS[_CST_AUGMENTED[type(small.operator)]]
            if isinstance(small.target, cst.Subscript):  # x[i] += v: a write (see .writes)
                self.assign_item(small, small.target, small.value, out, origin, op)
                return
            name = small.target.value
            problem = self.inplace_problem(name)
            symbol = self.module.code_for_node(small.operator).strip()
            inplace = self._inplace_updates()
            counter = problem is not None and inplace is not None and inplace.counter(name)
            if problem is not None and self._uses_numpy() and not self.is_helper and not counter:
                # refused unless the function turns out to be scalar code (see _function)
                before = len(self.diagnostics)
                self.error(
                    small,
                    f"'{name} {symbol} ...' changes an array in place where it may be shared: {problem}",
                    "inplace-alias",
                    f"write '{name} = {name} {symbol[:-1]} ...': a new array, which is what s2sad differentiates",
                )
                self._array_only.extend(self.diagnostics[before:])
                del self.diagnostics[before:]
            if problem is not None and (counter or not self._uses_numpy() or not self.is_helper):
                # without NumPy in this module a value is a number, unless it came in from outside (a parameter,
                # a helper's result): then only run time can tell, and the gradient checks it (see .aliasing)
                number = ir.Call(
                    "builtins.isinstance",
                    (
                        self.name(small.target),
                        ir.Call(ir.TUPLE, (ir.Global("builtins.int"), ir.Global("builtins.float"))),
                    ),
                )
                out.append(ir.Require(number, inplace_message(name, symbol, problem)))
            elif problem is not None:
                self.error(
                    small,
                    f"'{name} {symbol} ...' changes an array in place where it may be shared: {problem}",
                    "inplace-alias",
                    f"write '{name} = {name} {symbol[:-1]} ...': a new array, which is what s2sad differentiates",
                )
                return
            self._begin_statement(name)
            right = self.atom(small.value, out, origin)
            out.append(ir.Assign(name, ir.Call(op, (self.name(small.target), right)), origin))
        elif isinstance(small, cst.Pass):
            return
        elif isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.Ellipsis)):
            return
        elif isinstance(small, cst.Expr) and _appended(small.value) is not None:  # xs.append(v) (see .writes)
            name, value = _appended(small.value)  # type: ignore[misc]
            self.append_item(small, name, value, out, origin)
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
        if isinstance(target, cst.Name) and target.value in self._containers.names:
            self.assign_container(target.value, value, out, origin)
            return
        if isinstance(target, cst.Name) and target.value in self._containers.growing:
            if self.assign_list(target.value, value, out, origin):
                return
        if isinstance(target, cst.Name):
            self._begin_statement(target.value)
            if isinstance(value, cst.IfExp):  # y = a if c else b: an 'if' that assigns y in both branches
                self.if_expression(value, out, origin, target.value, into=target.value)
                return
            out.append(ir.Assign(target.value, self.value(value, out, origin, target.value), origin))
            if isinstance(value, cst.Subscript):
                self.check_element(target.value, value, out)  # t = x[i, j] where x is written later
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            names = [e.value for e in target.elements]
            if any(isinstance(n, cst.Subscript) for n in names) and all(
                isinstance(n, (cst.Name, cst.Subscript)) for n in names
            ):
                self._assign_items(target, names, value, out, origin)
                return
            if not all(isinstance(n, cst.Name) for n in names):
                for n in names:
                    if not isinstance(n, cst.Name):
                        self.unsupported_target(n)
                return
            length = self._length(value)
            if length is None and isinstance(value, cst.Name) and value.value not in self._containers.names:
                self.unpack_sequence(value, [n.value for n in names if isinstance(n, cst.Name)], out, origin)
                return
            if length is None and isinstance(value, cst.Attribute) and value.attr.value == "shape":
                self.unpack_sequence(value, [n.value for n in names if isinstance(n, cst.Name)], out, origin)
                return
            if length is None and id(value) in self.failed_calls:
                return  # the helper's problems are reported
            if length is None or length != len(names):
                if isinstance(value, cst.Name) and self._unknown(value):
                    self.ambiguous(value, value.value)
                    return
                if length is not None:
                    message, hint = f"cannot unpack {length} values into {len(names)} names", None
                elif isinstance(value, cst.Name) and value.value in self.scope.assigned:
                    message = f"cannot unpack '{value.value}': it is not always a tuple"
                    hint = "s2sad unpacks a variable that every assignment gives a tuple"
                else:
                    message = "tuple assignment needs a tuple of the same length on the right"
                    hint = "unpacking the result of a call is not supported; assign each value separately"
                self.error(value, message, "unsupported-syntax", hint)
                return
            # Evaluate the whole right-hand side before assigning anything (``x, y = y, x * 2``).
            targets = [n.value for n in names if isinstance(n, cst.Name)]
            if isinstance(value, (cst.Tuple, cst.List, cst.Call)):
                values = self.elements(value, out, origin, into=targets)
            else:  # a tuple variable, or a constant slice of one
                values = self.elements(value, out, origin)
            self.assign_all(targets, values, out, origin)
            return
        self.unsupported_target(target)

    def _assign_items(
        self,
        target: cst.Tuple | cst.List,
        parts: list[cst.BaseExpression],
        value: cst.BaseExpression,
        out: list[ir.Stmt],
        origin: ir.Origin,
    ) -> None:
        """``xs[i], xs[j] = h(...)``: the whole right-hand side first, into intermediates; then each target in
        turn, left to right, as Python assigns them (an index is computed when its target is assigned)."""
        length = self._length(value)
        if length is None or length != len(parts):
            if length is None and id(value) in self.failed_calls:
                return  # the helper's problems are reported
            message = (
                f"cannot unpack {length} values into {len(parts)} targets"
                if length is not None
                else "tuple assignment needs a tuple of the same length on the right"
            )
            self.error(value, message, "unsupported-syntax")
            return
        self._begin_statement("item")
        values = []
        for v in self.elements(value, out, origin):
            if isinstance(v, ir.Var) and v.name.startswith(TEMP):
                values.append(v)  # an intermediate: nothing assigns it again
                continue
            held = self._temp_name(value)
            out.append(ir.Assign(held, v, origin))
            values.append(ir.Var(held))
        statement = target if len(parts) > 1 else parts[0]
        for part, v in zip(parts, values):
            if isinstance(part, cst.Subscript):
                self.assign_item(statement, part, v, out, origin)
            else:
                assert isinstance(part, cst.Name)
                if part.value in self._containers.names or part.value in self._containers.growing:
                    self.error(
                        part,
                        f"'{part.value}' is a tuple or a list: assign it apart from the writes into elements",
                        "unsupported-syntax",
                    )
                    return
                self._begin_statement(part.value)
                out.append(ir.Assign(part.value, v, origin))

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

    def opaque(self, node: cst.FunctionDef, decorator: cst.Decorator) -> ir.Function:
        """A helper with ``@s2sad.rule(x="...")``: its rule comes from the decorator; it is copied as written."""
        every = list(node.params.posonly_params) + list(node.params.params) + list(node.params.kwonly_params)
        params = tuple(p.name.value for p in every)
        for p in every:
            if p.name.value in ("g", "ans", "out"):
                self.error(
                    p.name,
                    f"a helper with a rule cannot have a parameter named '{p.name.value}': in the rule's templates "
                    f"'{p.name.value}' means the {'adjoint of the result' if p.name.value == 'g' else 'result'}",
                    "bad-rule",
                    "rename the parameter",
                )
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
        self.context.opaque.append(ir_opaque(node.name.value, text, tuple(b for b in self.imports if b.local in used)))
        return ir.Function(node.name.value, tuple(ir.Param(p) for p in params), (), self.path)

    def _uses_numpy(self) -> bool:
        return any(b.qualname.split(".")[0] == "numpy" for b in self.imports)

    def inplace_problem(self, name: str) -> str | None:
        """Why ``name op= value`` could change an array something else refers to (if it holds an array)."""
        inplace = self._inplace_updates()
        return None if inplace is None else inplace.problem(name)

    def _inplace_updates(self) -> InPlace | None:
        if self._function_node is None:
            return None
        if self._inplace is None:
            self._inplace = InPlace(
                self._function_node,
                self._qualified,
                lambda n: (self.span(n).line, self.span(n).col),
                lambda n: self.module.code_for_node(n).strip().splitlines()[0],
                self._helper_returns_fresh,
                numpy=self._uses_numpy(),
            )
        return self._inplace

    def _helper_returns_fresh(self, name: str) -> bool:
        """For in-place updates: whether the helper ``name`` of this file returns a new value (see .aliasing)."""
        functions = self._module_functions()
        if name not in functions:
            return False
        imports = {b.local: b for b in self.imports}

        def qualify(e: ast.expr) -> str | None:
            if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id in imports:
                binding = imports[e.value.id]
                return f"{binding.qualname}.{e.attr}" if binding.is_module else None
            if isinstance(e, ast.Name) and e.id not in functions:  # the file's own 'abs' is not the builtin
                return imports[e.id].qualname if e.id in imports else f"builtins.{e.id}"
            return None

        source = self.context.sources.get(self.path)
        return source is not None and returns_fresh(source, name, qualify)
