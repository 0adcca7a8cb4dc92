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
from typing import TYPE_CHECKING

import libcst as cst

from .. import ir

__all__ = ["LIBRARIES", "MUTATING", "_Library"]

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


def library_function(fn: str, *, callable_only: bool = True) -> str | None:
    """Why ``fn`` (``numpy.linalg.norm``) is not a function of its library, or None: it is one, or the library
    is not installed here and only run time can tell. Imports the library (never the user's code)."""
    parts = fn.split(".")
    for k in range(len(parts) - 1, 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return f"'{fn}' does not exist: '{'.'.join(parts[:k])}' has no '{attr}'"
        if callable_only and not callable(obj):
            return f"'{fn}' is not a function"
        return None
    return None


#: Builtin types a keyword may name (``dtype=float``).
_TYPES = {"builtins.int", "builtins.float", "builtins.bool", "builtins.complex"}


class _Library:
    """The library-call half of the lowering (mixed into ``_Lowerer``)."""

    if TYPE_CHECKING:

        def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None: ...

        def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...

        def _qualified(self, node: cst.CSTNode) -> set[str]: ...

        def _temp_name(self, node: cst.BaseExpression) -> str: ...

    def library(self, qualified: set[str]) -> str | None:
        """The library function ``qualified`` names (a call's function), or None."""
        found = sorted(q for q in qualified if q.split(".")[0] in LIBRARIES and "<" not in q)
        return found[0] if found else None

    def library_call(self, node: cst.Call, fn: str, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """``fn(...)`` as written (see the module docstring)."""
        problem = library_function(fn)
        if problem is not None:
            self.error(node.func, problem, "undefined-name")
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
