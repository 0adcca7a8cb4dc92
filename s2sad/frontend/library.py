"""Library calls without a derivative rule: copied into the forward pass as written, their results data.

A call of a NumPy, SciPy or ``math`` function that no rule of the table accepts (``np.arange(n, dtype=float)``,
``np.tril_indices(d)``, ``gammaln(3.0)``) lowers to :class:`s2sad.ir.LibraryCall`, keywords included. Whether
it is fine is decided where activity is known: :func:`s2sad.analysis.check` refuses one whose argument depends
on a differentiated value (with the message that names the cause: no rule, or a keyword the rule does not
know). The user's own functions never become library calls: they stay differentiated helpers.

Refused here, whatever is differentiated, because the call changes a value in place or the state the rest
of the program sees (the gradient function may run or skip it at another point than the user's function):
an ``out=`` keyword, an ``overwrite_*`` keyword (SciPy's linear algebra), and the functions of
:data:`MUTATING`. The function must exist (a misspelled ``np.sine`` is an error here, not at run time).
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING

import libcst as cst

from .. import ir
from ..rules import known_arities, lookup
from .names import Context

__all__ = ["LIBRARIES", "MUTATING", "_Library", "_parameter_lists"]

#: The top-level modules whose functions may be called without a rule (on data that is not differentiated).
LIBRARIES = ("numpy", "scipy", "math")

#: Library functions that write into an argument, or change state the rest of the program reads.
MUTATING = frozenset(
    {
        "numpy.copyto",
        "numpy.put",
        "numpy.put_along_axis",
        "numpy.place",
        "numpy.putmask",
        "numpy.fill_diagonal",
        "numpy.random.shuffle",
        "numpy.random.seed",
        "numpy.random.set_state",
        "numpy.seterr",
        "numpy.set_printoptions",
        "numpy.lib.stride_tricks.as_strided",
    }
)

_MISSING = object()


def _resolve(fn: str) -> tuple[object, str | None]:
    """The object ``fn`` names (``_MISSING`` when the library is not installed here) and why it is not one."""
    parts = fn.split(".")
    for k in range(len(parts) - 1, 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return _MISSING, f"'{fn}' does not exist: '{'.'.join(parts[:k])}' has no '{attr}'"
        return obj, None
    return _MISSING, None


def library_function(fn: str, *, callable_only: bool = True) -> str | None:
    """Why ``fn`` (``numpy.linalg.norm``) is not a function of its library, or None: it is one, or the library
    is not installed here and only run time can tell. Imports the library (never the user's code)."""
    obj, problem = _resolve(fn)
    if problem is None and obj is not _MISSING and callable_only and not callable(obj):
        return f"'{fn}' is not a function"
    return problem


def _writes_out(fn: str, npositional: int) -> bool:
    """Whether a call of ``fn`` with ``npositional`` arguments gives its ``out`` (or an ``overwrite_*``)
    parameter by position (``np.exp(x, y)`` writes into ``y``), as far as the function's signature tells."""
    obj, _ = _resolve(fn)
    try:
        parameters = list(inspect.signature(obj).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return any(p == "out" or p.startswith("overwrite_") for p in positional[:npositional])


def _parameter_lists(fn: str) -> str:
    """``(x) or (x, ndigits)``: the arguments each rule of ``fn`` takes."""
    rules = [r for r in (lookup(fn, n) for n in known_arities(fn)) if r is not None]
    return " or ".join(f"({', '.join(r.params)})" for r in rules)


#: Builtin types a keyword may name (``dtype=float``).
_TYPES = {"builtins.int", "builtins.float", "builtins.bool", "builtins.complex"}


class _Library:
    """The library-call half of the lowering (mixed into ``_Lowerer``)."""

    context: Context

    if TYPE_CHECKING:

        def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None: ...

        def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...

        def _qualified(self, node: cst.CSTNode) -> set[str]: ...

        def _temp_name(self, node: cst.BaseExpression) -> str: ...

        def _arguments_checked(self, node: cst.Call, origin: ir.Origin) -> None: ...

    def library(self, qualified: set[str]) -> str | None:
        """The library function ``qualified`` names (a call's function), or None."""
        found = sorted(q for q in qualified if q.split(".")[0] in LIBRARIES and "<" not in q)
        return found[0] if found else None

    def library_call(self, node: cst.Call, fn: str, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """``fn(...)`` as written (see the module docstring)."""
        problem = library_function(fn)
        if problem is not None:
            self.error(node.func, problem, "undefined-name")
            self._arguments_checked(node, origin)
            return ir.Const(0)
        mutating = self._mutates(node, fn)
        if mutating is not None:
            self.error(
                node,
                mutating,
                "mutating-call",
                "s2sad differentiates pure functions: use the form that returns a new array",
            )
            return ir.Const(0)
        args = tuple(self._argument(a.value, out, origin) for a in node.args if a.keyword is None)
        keywords = tuple(
            (a.keyword.value, self._argument(a.value, out, origin)) for a in node.args if a.keyword is not None
        )
        return ir.LibraryCall(fn, args, keywords)

    def _mutates(self, node: cst.Call, fn: str) -> str | None:
        short = fn.split(".", 1)[1] if "." in fn else fn
        for a in node.args:
            key = a.keyword.value if a.keyword is not None else ""
            if key == "out" or key.startswith("overwrite_"):
                return f"'{short}(..., {key}=...)' writes into an array in place"
        if fn in MUTATING or fn.startswith("numpy.ndarray.") or (fn.startswith("numpy.") and fn.endswith(".at")):
            return f"'{short}' changes an array (or the library's state) in place"
        positional = [a for a in node.args if a.keyword is None]
        if _writes_out(fn, len(positional)):
            return f"'{short}' writes into an array in place: an argument given by position is its 'out'"
        return None

    def _argument(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """An argument of a library call: an atom; also a string, a type (``dtype=np.float64``, ``float``) or a
        list display (kept a list: NumPy reads a list and a tuple differently in places, ``np.block``)."""
        if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
            return ir.Const(node.evaluated_value)
        if isinstance(node, cst.ConcatenatedString) and isinstance(node.evaluated_value, str):
            return ir.Const(node.evaluated_value)
        if isinstance(node, (cst.Name, cst.Attribute)):
            qualified = self._qualified(node)
            named = sorted(q for q in qualified if q in _TYPES or (self.library(qualified) == q and "." in q))
            if named and (isinstance(node, cst.Attribute) or named[0] in _TYPES):
                if named[0] in _TYPES or library_function(named[0], callable_only=False) is None:
                    return ir.Global(named[0])
        if isinstance(node, cst.List) and not any(isinstance(e, cst.StarredElement) for e in node.elements):
            items = tuple(self._argument(e.value, out, origin) for e in node.elements)
            name = self._temp_name(node)
            out.append(ir.Assign(name, ir.Call(ir.LIST, items), origin))
            return ir.Var(name)
        return self.atom(node, out, origin)

    def _no_rule(self, node: cst.Call, label: str, qualified: set[str]) -> None:
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            self.error(node.func, "calling the value of an expression is not supported", "unsupported-syntax")
            return
        if not qualified:
            self.error(node.func, f"'{label}' is not defined", "undefined-name")
            return
        fn = sorted(qualified)[0]
        arities = known_arities(fn)
        if ".<locals>." in fn:
            self.error(
                node.func,
                f"'{label}' is a value of '{self.function_name}', not a function s2sad can follow",
                "unsupported-call",
                "call a function defined with 'def' (in the module, or at the top of this function), or imported",
            )
        elif arities:
            counts = " or ".join(str(a) for a in arities)
            self.error(node, f"'{label}' is supported with {counts} argument(s), not {len(node.args)}", "no-rule")
        elif "." not in fn and self.context.allow_helpers:
            self.error(
                node.func,
                f"'{label}' is not a function s2sad can follow: it is bound to a value, not by 'def' or an import",
                "unsupported-global",
                "call a function defined with 'def' in your code, or an imported one",
            )
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
                "s2sad has rules for arithmetic, abs, pow, min, max, most of the math module, NumPy and "
                "scipy.special (the README lists them); give other functions a rule in [tool.s2sad.rules]",
            )
