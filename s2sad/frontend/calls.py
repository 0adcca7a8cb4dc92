"""Calls: to functions with a rule, to array methods, and to the user's helpers (arguments bound as Python
binds them). Mixed into ``_Lowerer`` after :class:`.expressions._Expressions`, which lowers the arguments."""

from __future__ import annotations

import libcst as cst

from .. import ir
from ..rules import Rule, known_arities
from .expressions import _Expressions, _code
from .finder import NotFollowed, find_module
from .library import _parameter_lists
from .names import Signature
from .syntax import _ARRAY_METHODS, _tuple

__all__ = ["_Calls"]


class _Calls(_Expressions):
    """The call half of the expression lowering."""

    def call(self, node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        method = self._method(node.func)
        if method is not None:
            return self._method_call(node, method, out, origin)
        nested = self.nested_call(node, out, origin)  # a nested function or a lambda (see .nested)
        if nested is not None:
            return nested
        qualified = self._qualified(node.func)
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
            if signature is not None and signature.several:
                n, label = signature.several, _code(self.module, node.func)
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
            label = _code(self.module, node.func)
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
            self._no_rule(node, _code(self.module, node.func), qualified)
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
            if (
                rule is None
                or rule.elements
                or npositional > len(rule.params)
                or not rule.takes_positional(npositional)
            ):
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
