"""Statements and functions: LibCST -> IR in the user's names, with every diagnostic collected."""

from __future__ import annotations

import ast

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import ir
from ..bindings import ModuleScope, function_scope
from ..diagnostics import Diagnostic, InternalError, S2sadError
from ..rules import TemplateError
from ..user_rules import user_rule
from ..values import array_free
from . import fidelity, positions
from .aliasing import InPlace
from .annotations import _Annotations
from .calls import _Calls
from .callsites import _CallSites, decided_tests
from .conditions import _Conditions
from .containers import _Containers
from .lengths import Lengths, tuple_lengths
from .directives import stray_directives
from .control import _Control
from .jumps import _ControlState, early_returns
from .expressions import _Expressions
from .library import _Library
from .writes import _Writes
from .names import Context, Scope, Signature, Spec
from .bundles import _Bundles, bundle_reads, entry_params
from .decorators import decorator_label, looked_through
from .nested import _Nested
from .results import _Results
from .statements import _Statements
from .opaque import Opaque as ir_opaque
from .syntax import (
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
    _Statements,
    _Control,
    _Writes,
    _Annotations,
    _Results,
    _Bundles,
    _Nested,
    _CallSites,
    _Containers,
    _Library,
    _Calls,
    _Conditions,
    _Expressions,
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
        self.positions = positions.of(wrapper.module)  # LibCST's PositionProvider, computed faster
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
        misread = fidelity.misread(node, tree, self.line_of, self.path, self.lines)
        if misread is not None:
            self.misread.append(misread)
        names = function_scope(self.source, self.path, tree)
        self.scope = Scope.of(names)
        if self.lifted:
            self._lift(node, names, params)
        if not self.is_helper and cst.Subscript in self.positions.kinds():  # entries are read as p["key"]
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
        below = self.lines[self.span(node).line - 1 :]  # the body's comments are on these lines: walked if one may be
        for p in stray_directives(node) if any("#" in t and "s2sad" in t for t in below) else ():
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
        several_ok = self.is_helper or self.context.tuple_result  # the target of a VJP or a Jacobian too
        several = self._length(ret.value) if several_ok and ret.value is not None else None
        if several is not None and several > 1 and not isinstance(ret.value, cst.List):
            # a helper's 'return a, b' (or a tuple variable, or another helper's values): one value per element
            out: list[ir.Stmt] = []
            self._begin_statement(fname)
            values = self.elements(ret.value, out, origin)
            return out + [ir.Return(tuple(values), origin)]
        if ret.value is None or isinstance(ret.value, (cst.Tuple, cst.List, cst.Dict, cst.Set)):
            if several_ok and not self.is_helper:  # s2sad vjp, s2sad jacobian
                self.error(
                    ret,
                    "the function must return a number, an array or a tuple of them",
                    "non-scalar-return",
                    "return a tuple (return a, b) or an array (np.array([a, b]))",
                )
                return []
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
