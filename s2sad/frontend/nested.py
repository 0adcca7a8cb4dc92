"""Nested functions and lambdas bound to a name, inside the function being lowered.

A ``def g(a): ...`` at the top level of a function's body is *lifted*: lowered as a helper of its own (named
fresh in the generated module), whose parameters are its own followed by its free variables (the enclosing
function's names it reads). A call ``g(u)`` passes the free variables' values at the call, which is what a
closure reads (Python looks a free variable up when the call runs), so it gets its own adjoint like any helper.
A ``g = lambda a: expr`` is *inlined*: each call lowers ``expr`` with ``a`` bound to the argument, its other
names read in the enclosing function at the call, as Python evaluates it.

Refused, located: a nested function bound more than once, or defined inside a branch or a loop; one that
declares ``nonlocal`` or ``global`` (it writes into a scope the gradient does not see); used other than by
calling it (passed on, returned); called before its definition; calling another nested function; closing
over a tuple variable.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import libcst as cst

from . import traverse
from .. import ir
from ..diagnostics import Diagnostic
from .lengths import Lengths
from ..bindings import FunctionScope
from .names import Context, Scope, Signature

__all__ = ["_Nested"]

Definition = cst.FunctionDef | cst.Lambda


class _Nested:
    """The nested-function half of the lowering (mixed into ``_Lowerer``)."""

    context: Context
    path: str
    scope: Scope
    user_names: set[str]
    function_name: str
    diagnostics: list[Diagnostic]
    _nested: dict[str, Definition]  #: nested functions by name (see the module docstring)
    _defined: set[str]  #: those whose definition the lowering has passed
    _inline: dict[str, ir.Expr]  #: the parameters of the lambda being inlined -> their arguments
    _inlining: set[str]  #: the lambdas being inlined (one calling itself is refused)
    _refused: set[str]  #: nested functions reported where defined (calls to them are not reported again)
    _reported: set[int]  #: ids of the definitions reported
    lifted: bool
    lifted_free: tuple[str, ...]
    _containers: Lengths

    if TYPE_CHECKING:  # provided by the lowerer

        def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None: ...

        def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...

        def value(
            self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin, target: str | None
        ) -> ir.Expr: ...

        def _bind(
            self, node: cst.Call, sig: Signature, out: list[ir.Stmt], origin: ir.Origin
        ) -> tuple[ir.Expr, ...]: ...

        def span(self, node: cst.CSTNode) -> object: ...

        def _ast_def(self, node: cst.FunctionDef) -> ast.FunctionDef | ast.AsyncFunctionDef | None: ...

    def find_nested(self, node: cst.FunctionDef) -> dict[str, Definition]:
        """The nested functions of ``node``: defs and ``name = lambda`` at the top level of its body, each
        the one binding of its name there."""
        found: dict[str, Definition] = {}
        if not isinstance(node.body, cst.IndentedBlock):
            return found
        tree = self._ast_def(node)
        top = {id(s) for s in node.body.body}

        class Deeper(cst.CSTVisitor):  # a def inside a branch or a loop: reported there, its calls are not
            def visit_FunctionDef(inner, n: cst.FunctionDef) -> bool:
                if id(n) not in top:
                    self._refused.add(n.name.value)
                return False

        for stmt in node.body.body:
            if not isinstance(stmt, cst.FunctionDef):
                traverse.visit(stmt, Deeper())
        for stmt in node.body.body:
            name, definition = _definition(stmt)
            if name is None or definition is None:
                continue
            bindings = _bindings(tree, name) if tree is not None else 0
            if bindings != 1 or name in found:
                where = definition.name if isinstance(definition, cst.FunctionDef) else definition
                self.error(
                    where,
                    f"the nested function '{name}' is not the only binding of '{name}' in '{node.name.value}'",
                    "ambiguous-binding",
                    "bind the name once: give the function a name of its own",
                )
                self._refused.add(name)
                self._reported.add(id(stmt))
                continue
            found[name] = definition
        return found

    def nested_definition(self, stmt: cst.CSTNode) -> bool:
        """Whether ``stmt`` (a statement, or a small statement) defines a nested function: it then lowers
        to nothing, and calls after it may call the function."""
        name, definition = _definition(stmt)
        if id(stmt) in self._reported:
            return True
        if name is not None and self._nested.get(name) is definition:
            self._defined.add(name)
            if isinstance(definition, cst.FunctionDef) and definition.decorators:
                self.error(
                    definition.decorators[0],
                    f"the nested function '{name}' has a decorator",
                    "unsupported-decorator",
                    "remove the decorator: s2sad follows the function itself",
                )
            return True
        return False

    def nested_call(self, node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr | None:
        """A call to a nested function: the lifted helper, or the lambda's expression; None: not one."""
        if not isinstance(node.func, cst.Name) or node.func.value in self._inline:
            return None
        name = node.func.value
        if name in self._refused and name not in self._nested:
            return ir.Const(0)  # reported at its definition
        if self.lifted and name in self.lifted_free:  # g's name, or another function's, from around it
            self.error(
                node,
                f"'{self.function_name}' calls '{name}' of the function around it: a nested function may be "
                "called only by the function that defines it",
                "recursion" if name == self.function_name else "unsupported-call",
                f"define '{name}' at the top level of the module",
            )
            return ir.Const(0)
        definition = self._nested.get(name)
        if definition is None:
            return None
        if name not in self._defined:
            self.error(node, f"'{name}' is called before its definition", "unsupported-syntax")
            return ir.Const(0)
        if any(a.star for a in node.args):
            self.error(node, "starred arguments are not supported", "unsupported-syntax")
            return ir.Const(0)
        if isinstance(definition, cst.Lambda):
            return self._inline_lambda(node, name, definition, out, origin)
        if not self.context.allow_helpers:
            self.error(
                node,
                f"'{name}' is a nested function; 's2sad explain' does not look into helpers yet",
                "unsupported-call",
                "explain a function without nested functions, or write the nested function's body inline",
            )
            return ir.Const(0)
        line = self.span(definition.name).line  # type: ignore[attr-defined]
        reported = len(self.diagnostics)
        signature = self.context.helper(self, node, name, self.path, line=line, within=self.function_name)
        if signature is None:
            return ir.Const(0)  # reported there
        if signature is None or len(self.diagnostics) > reported:
            return ir.Const(0)
        for free in signature.free:
            problem = None
            if free in self._nested:
                problem = f"it calls the nested function '{free}'; define '{free}' at the top level of the module"
            elif free in self._containers.names:
                problem = f"it reads the tuple '{free}'; pass the tuple's elements as arguments"
            elif free not in self.scope.assigned and free not in self.scope.params:
                problem = f"it reads '{free}' from a function around '{self.function_name}'"
            if problem is not None:
                self.error(node, f"cannot follow the nested function '{name}': {problem}", "unsupported-syntax")
                return ir.Const(0)
        if signature.several:
            self.error(
                node,
                f"the nested function '{name}' returns several values",
                "unsupported-syntax",
                "define it at the top level of the module",
            )
            return ir.Const(0)
        args = self._bind(node, signature, out, origin)
        if len(self.diagnostics) > reported:
            return ir.Const(0)
        self.user_names.add(signature.name)
        return ir.Call(signature.name, args + tuple(ir.Var(n) for n in signature.free))

    def nested_value(self, node: cst.Name) -> bool:
        """``node`` reads a nested function as a value (passed on, returned): refused."""
        if node.value not in self._nested or node.value in self._inline:
            return False
        self.error(
            node,
            f"the nested function '{node.value}' is used as a value; s2sad follows calls to it",
            "unsupported-syntax",
            "call it here, or define it at the top level of the module and call it where it is used",
        )
        return True

    def _inline_lambda(
        self, node: cst.Call, name: str, definition: cst.Lambda, out: list[ir.Stmt], origin: ir.Origin
    ) -> ir.Expr:
        params = definition.params
        plain = list(params.posonly_params) + list(params.params)
        if (
            params.kwonly_params
            or isinstance(params.star_arg, cst.Param)
            or params.star_kwarg is not None
            or any(p.default is not None for p in plain)
        ):
            self.error(
                definition,
                f"the lambda '{name}' may only have plain parameters",
                "unsupported-syntax",
                "write it as a nested 'def'",
            )
            return ir.Const(0)
        names = [p.name.value for p in plain]
        if len(node.args) != len(names) or any(a.keyword is not None for a in node.args):
            self.error(
                node,
                f"'{name}' takes {len(names)} positional argument(s) here",
                "bad-call",
                "pass each argument by position",
            )
            return ir.Const(0)
        if name in self._inlining:
            self.error(node, f"the lambda '{name}' calls itself", "recursion")
            return ir.Const(0)
        args = [self._lambda_argument(self.atom(a.value, out, origin), out, origin) for a in node.args]
        outer = self._inline
        # the body's other names are the enclosing function's: the lambda being inlined around this one (if
        # any) does not bind them
        self._inline = dict(zip(names, args))
        self._inlining.add(name)
        try:
            return self.value(definition.body, out, origin, None)
        finally:
            self._inline = outer
            self._inlining.discard(name)

    def _lambda_argument(self, arg: ir.Expr, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """A lambda's argument in a variable of the function's own: the body may read its parameter more than
        once, and an intermediate s2sad invents is read once (the later stages rely on it)."""
        if not (isinstance(arg, ir.Var) and arg.name.startswith(ir.TEMP)):
            return arg
        name = self.fresh_local(ir.temp_base(arg.name))
        out.append(ir.Assign(name, arg, origin))
        return ir.Var(name)

    def _lift(self, node: cst.FunctionDef, names: FunctionScope, params: list[ir.Param]) -> None:
        """A nested function as a helper: its free variables become parameters after its own (see .nested)."""
        written = sorted(names.nonlocal_ | names.declared_global)
        if written:
            self.error(
                node.name,
                f"the nested function '{node.name.value}' declares '{written[0]}' nonlocal or global",
                "unsupported-syntax",
                "return the new value and assign it in the enclosing function",
            )
        self.lifted_free = tuple(sorted(names.free))
        self.scope.params = self.scope.params + list(self.lifted_free)
        self.scope.free = set()
        params.extend(ir.Param(n) for n in self.lifted_free)


def _definition(stmt: cst.CSTNode) -> tuple[str | None, Definition | None]:
    if isinstance(stmt, cst.FunctionDef):
        return stmt.name.value, stmt
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else stmt
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and isinstance(small.value, cst.Lambda)
    ):
        return small.targets[0].target.value, small.value
    return None, None


def _bindings(tree: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> int:
    """How many times the body of ``tree`` binds ``name`` (not counting nested scopes' own bindings)."""
    count = 0
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            count += node.name == name
            continue  # its body is another scope
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and node.id == name:
            count += 1
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            count += 2  # not a local binding at all
        elif isinstance(node, ast.alias) and (node.asname or node.name.split(".")[0]) == name:
            count += 1
        stack.extend(ast.iter_child_nodes(node))
    return count
