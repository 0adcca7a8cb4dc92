"""In-place updates: when ``y += v`` may change an array that another name also refers to.

On a NumPy array ``y += v`` writes into ``y``'s buffer: every name, view or tuple element that shares the
buffer changes too, while s2sad's IR treats the statement as a rebinding (``y = y + v``). The two agree when
``y`` holds a *fresh* array that nothing else refers to. In array code (the module uses NumPy) an in-place
update is therefore refused unless, judged from the text of the function alone:

- ``y`` is not a parameter (the caller's array would change);
- every other assignment to ``y`` is ``y = <fresh value>`` (or ``a, y = ..., <fresh value>``): an arithmetic
  result, a number, a call that makes a new array (not a view: ``x[0:2]``, ``x.T``, ``x.reshape(...)``,
  ``np.reshape``, ``np.transpose``; not one of its arguments: ``max``, ``min``; a helper of the same file only
  when it ends with ``return <fresh value>``), or a loop index;
- no read of ``y`` keeps a reference to its array (``z = y``, ``t = (y, 1)``, ``v = y[0:2]``, ``h(y)``, ``a if c
  else y``), except where no in-place update can run after it: a later statement outside any loop shared
  with the update.

Anything else is a located error ``inplace-alias`` whose help is to write ``y = y + v``.

A write into an array, ``y[i] = v`` or ``y[i] += v`` (see :mod:`.writes`), is an in-place update of ``y`` judged
the same way, with two differences: the value written is copied into ``y`` (``out[i] = row`` keeps no
reference to ``row``), and ``t = y[i, j]`` before a write is accepted in NumPy code when its index may give an
element: only run time knows ``y``'s rank, so the gradient checks that ``t`` is a number (a view would change
with the write).

In a module that does not import NumPy the same judgement applies, but values there are numbers unless they
came in from outside (a parameter, another module's helper): the generated gradient checks, before such an
update, that ``y`` is a Python number (an ``int`` or a ``float``, which ``+=`` rebinds), and raises a
``ValueError`` (:func:`inplace_message`) when it is not.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from . import traverse
from ..rules import known_arities
from .syntax import evaluate_numeric

__all__ = ["InPlace", "inplace_message", "returns_fresh"]

#: Functions whose result may be (a view of) an argument.
_VIEW_FUNCTIONS = {"numpy.reshape", "numpy.transpose", "builtins.max", "builtins.min", "operator.getitem"}
_VIEW_FUNCTIONS |= {"numpy.ravel", "numpy.broadcast_to", "numpy.expand_dims"}
_VIEW_METHODS = {"reshape", "transpose", "ravel", "squeeze", "swapaxes", "view", "diagonal"}
_VIEW_ATTRIBUTES = {"T"}
_LOOPS = (cst.For, cst.While)


@dataclass
class _Facts:
    augmented: dict[str, list[cst.AugAssign]] = field(default_factory=dict)
    bindings: dict[str, list[tuple[cst.CSTNode, cst.BaseExpression | None]]] = field(default_factory=dict)
    loads: dict[str, list[cst.Name]] = field(default_factory=dict)
    parents: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    appended: set[str] = field(default_factory=set)  #: lists that grow: ``xs.append(v)`` updates xs in place
    #: names every assignment gives a new list (``xs = [e for v in ...]``): an element read is the element, never
    #: a view, and writing into an element (``xs[i] = v``) replaces it without changing it
    lists: set[str] = field(default_factory=set)


class InPlace:
    """The in-place updates of one function, judged once (see the module docstring)."""

    def __init__(
        self,
        function: cst.FunctionDef,
        qualified: Callable[[cst.CSTNode], set[str]],
        where: Callable[[cst.CSTNode], tuple[int, int]],
        code: Callable[[cst.CSTNode], str],
        helper_fresh: Callable[[str], bool] = lambda name: False,
        numpy: bool = False,
    ) -> None:
        self.numpy = numpy  #: the module uses NumPy: ``t = x[i, j]`` is checked at run time (see element_read)
        self.qualified = qualified
        self.where = where
        self.code = code
        self.helper_fresh = helper_fresh  #: whether the helper of this file named so returns a fresh value
        self.params = {p.name.value for p in [*function.params.posonly_params, *function.params.params]}
        self.facts = _collect(function.body)

    def problem(self, name: str) -> str | None:
        """Why ``name op= value`` may change an array something else refers to; None when it cannot."""
        if name in self.params:
            return f"'{name}' is a parameter: updating it in place would change the caller's array"
        facts = self.facts
        for node, value in facts.bindings.get(name, []):
            if (value is None or not self._fresh(value)) and self._before_an_update(name, node):
                return (
                    f"'{name}' may share its array with another value (line {self.where(node)[0]}: {self.code(node)})"
                )
        for load in facts.loads.get(name, []):
            holder = self._escapes(load)
            if holder is not None and self._before_an_update(name, holder):
                return f"its array is also referred to elsewhere (line {self.where(holder)[0]}: {self.code(holder)})"
        return None

    def counter(self, name: str) -> bool:
        """``name`` is read in an index (``x[k]``, ``x[i, k + 1]``): an integer counter, not an array. Its
        in-place update (``k += 1``) is then checked at run time to be on a number, as in a module without
        NumPy, rather than refused: an array there fails the check, so nothing is guessed."""
        for load in self.facts.loads.get(name, []):
            node: cst.CSTNode | None = load
            while node is not None and not isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                if isinstance(node, cst.SubscriptElement):
                    return True
                node = self.facts.parents.get(node)
        return False

    def element_read(self, subscript: cst.Subscript) -> bool:
        """``t = x[i, j]`` where ``x`` is updated in place later (or in a loop around both): ``t`` must be a
        number (an element), not a view of the array the update changes. Only run time knows the rank, so the
        gradient checks it there (``np.ndim(t) == 0``) instead of refusing the read."""
        base, holder = subscript.value, self.facts.parents.get(subscript)
        return (
            self.numpy
            and isinstance(base, cst.Name)
            and not self.is_list(base.value)
            and _element_binding(holder, subscript)
            and self._before_an_update(base.value, holder)  # type: ignore[arg-type]
        )

    def is_list(self, name: str) -> bool:
        """``name`` is always a list the function makes (see :class:`_Facts`)."""
        return name in self.facts.appended or name in self.facts.lists

    # ----- values ---------------------------------------------------------------------------------------------
    def _known(self, func: cst.BaseExpression) -> set[str]:
        return {q for q in self.qualified(func) if known_arities(q)}

    def _fresh(self, value: cst.BaseExpression) -> bool:
        """Whether ``value`` is a new object that no other name refers to (a number is immutable)."""
        if evaluate_numeric(value)[2] in (None, "number-out-of-range") or isinstance(
            value, (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison, cst.BooleanOperation)
        ):
            return True
        if isinstance(value, cst.IfExp):
            return self._fresh(value.body) and self._fresh(value.orelse)
        if isinstance(value, (cst.List, cst.ListComp)):
            return True  # a new list (appending to it changes none of its elements)
        if isinstance(value, cst.Attribute):
            return value.attr.value not in _VIEW_ATTRIBUTES and isinstance(value.value, cst.Name)
        if isinstance(value, cst.Call):
            if isinstance(value.func, cst.Attribute) and all(
                ".<locals>." in q for q in self.qualified(value.func)
            ):  # a method of a value: x.sum(), (x + 1).copy()
                return value.func.attr.value not in _VIEW_METHODS
            known = self._known(value.func)
            if not known and isinstance(value.func, cst.Name):
                return self.helper_fresh(value.func.value)
            return bool(known) and not (known & _VIEW_FUNCTIONS)
        return False

    def _escapes(self, load: cst.Name) -> cst.CSTNode | None:
        """The statement that keeps a reference to the array ``load`` reads, or None when every use of the
        read makes a new value (arithmetic, a reduction, an index)."""
        parents = self.facts.parents
        child: cst.CSTNode = load
        while True:
            parent = parents.get(child)
            if parent is None:
                return child
            if isinstance(
                parent,
                (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison, cst.ComparisonTarget, cst.BooleanOperation),
            ):
                return None
            if isinstance(parent, cst.CompFor) and child is parent.iter and self.is_list(load.value):
                return None  # [e for v in xs] keeps no reference to the list xs (an array's rows are views)
            if isinstance(parent, (cst.Index, cst.Slice, cst.Return, cst.AugAssign, cst.Expr)):
                return None  # an index; the returned value; the value added in place; a statement refused elsewhere
            if isinstance(parent, cst.Assign) and child is parent.value and _writes_only(parent):
                return None  # out[i] = row copies row's values into out
            if isinstance(parent, cst.Subscript):  # x[...]: a view or an element
                if self.is_list(load.value) and parent.value is child:
                    return None  # an element of a list: appending, or writing another element, changes none of them
                if self.numpy and parent.value is child and _element_binding(parents.get(parent), parent):
                    return None  # t = x[i, j]: checked to be a number at run time (see element_read)
                child = parent
                continue
            if isinstance(parent, cst.Attribute):
                call = parents.get(parent)
                if isinstance(call, cst.Call) and call.func is parent:  # a method
                    if parent.attr.value not in _VIEW_METHODS:
                        return None
                    child = call
                    continue
                if parent.attr.value in _VIEW_ATTRIBUTES:
                    child = parent
                    continue
                return None  # .shape, .size, .ndim
            if isinstance(parent, cst.Arg):
                call = parents.get(parent)
                assert isinstance(call, cst.Call)
                known = self._known(call.func)
                if known and not (known & _VIEW_FUNCTIONS):
                    return None
                if known:
                    child = call  # a view of it, or it itself
                    continue
                return _statement(call, parents)  # a helper or another function may keep it or return it
            if isinstance(parent, cst.IfExp):
                if child is parent.test:
                    return None
                child = parent
                continue
            return _statement(parent, parents)  # assigned to a name, put in a tuple, ...

    def _before_an_update(self, name: str, node: cst.CSTNode) -> bool:
        """Whether an in-place update of ``name`` may run after ``node``: one later in the text, or one in a
        loop that also holds ``node``."""
        here = self.where(node)
        loops = set(_enclosing(node, self.facts.parents, _LOOPS))
        for update in self.facts.augmented.get(name, []):
            if self.where(update) > here or loops & set(_enclosing(update, self.facts.parents, _LOOPS)):
                return True
        return False


def inplace_message(name: str, symbol: str, problem: str) -> str:
    """The run-time error of the check before ``name op= ...`` in a module without NumPy."""
    return (
        f"'{name} {symbol} ...' is differentiated for a number only: on an array it changes the array in place, "
        f"and {problem}. Write '{name} = {name} {symbol[:-1]} ...'"
    )


def _element_binding(holder: cst.CSTNode | None, subscript: cst.Subscript) -> bool:
    """Whether ``holder`` is ``t = subscript``: one name bound to the subscript itself, whose index may give
    an element (integers; a slice, ``None``, ``...`` or a list always give an array)."""
    return (
        isinstance(holder, cst.Assign)
        and holder.value is subscript
        and len(holder.targets) == 1
        and isinstance(holder.targets[0].target, cst.Name)
        and all(
            isinstance(e.slice, cst.Index)
            and isinstance(e.slice.value, (cst.Name, cst.Integer, cst.BinaryOperation, cst.UnaryOperation))
            and not (isinstance(e.slice.value, cst.Name) and e.slice.value.value == "None")
            for e in subscript.slice
        )
    )


def _writes_only(node: cst.Assign) -> bool:
    """Whether every target of ``node`` is a subscript, ``x[i] = value``: the value is copied into x."""
    return all(isinstance(t.target, cst.Subscript) for t in node.targets)


def _enclosing(node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode], kinds: tuple[type, ...]) -> list[int]:
    out: list[int] = []
    current = parents.get(node)
    while current is not None:
        if isinstance(current, kinds):
            out.append(id(current))
        current = parents.get(current)
    return out


def _statement(node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]) -> cst.CSTNode:
    """The small statement holding ``node``, to show."""
    current = node
    while not isinstance(current, cst.BaseSmallStatement) and parents.get(current) is not None:
        current = parents[current]
    return current


def _collect(body: cst.BaseSuite) -> _Facts:
    facts = _Facts()
    stores: set[int] = set()

    def bind(target: cst.BaseExpression, holder: cst.CSTNode, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            stores.add(id(target))
            facts.bindings.setdefault(target.value, []).append((holder, value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            # a, b = x * 2.0, y: each name gets its element; unpacking anything else may give anything
            parts: list[cst.BaseExpression | None] = [None] * len(target.elements)
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(target.elements):
                if not any(isinstance(e, cst.StarredElement) for e in value.elements):
                    parts = [e.value for e in value.elements]
            for e, part in zip(target.elements, parts):
                bind(e.value, holder, part)
        elif isinstance(target, cst.StarredElement):
            bind(target.value, holder, None)

    class Visitor(cst.CSTVisitor):
        def __init__(self) -> None:
            self.stack: list[cst.CSTNode] = []

        def on_visit(self, node: cst.CSTNode) -> bool:
            if self.stack:
                facts.parents[node] = self.stack[-1]
            self.stack.append(node)
            if isinstance(node, cst.Assign):
                for t in node.targets:
                    if isinstance(t.target, cst.Subscript) and isinstance(t.target.value, cst.Name):
                        stores.add(id(t.target.value))  # x[i] = v writes into x's array
                        facts.augmented.setdefault(t.target.value.value, []).append(node)
                        continue
                    bind(t.target, node, node.value if len(node.targets) == 1 else None)
            elif isinstance(node, cst.AnnAssign):
                bind(node.target, node, node.value)
            elif isinstance(node, cst.AugAssign):
                if isinstance(node.target, cst.Name):
                    stores.add(id(node.target))
                    facts.augmented.setdefault(node.target.value, []).append(node)
                elif isinstance(node.target, cst.Subscript) and isinstance(node.target.value, cst.Name):
                    stores.add(id(node.target.value))  # x[i] += v writes into x's array
                    facts.augmented.setdefault(node.target.value.value, []).append(node)
            elif (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value == "append"
                and isinstance(node.func.value, cst.Name)
            ):
                stores.add(id(node.func.value))  # xs.append(v) grows xs's list in place
                facts.augmented.setdefault(node.func.value.value, []).append(node)
                facts.appended.add(node.func.value.value)
            elif isinstance(node, cst.For) and isinstance(node.target, cst.Name):
                stores.add(id(node.target))  # a loop index: an integer from range()
            elif isinstance(node, cst.For):
                bind(node.target, node, None)
            elif isinstance(node, cst.NamedExpr):
                bind(node.target, node, None)
            elif isinstance(node, cst.AsName) and isinstance(node.name, cst.Name):
                bind(node.name, node, None)
            elif isinstance(node, cst.Name) and id(node) not in stores:
                facts.loads.setdefault(node.value, []).append(node)
            elif isinstance(node, (cst.Attribute, cst.Arg)):
                traverse.visit(node.value, self)  # not the attribute's name, not the keyword
                return False
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            self.stack.pop()

    traverse.visit(body, Visitor())
    for name, bound in facts.bindings.items():
        if bound and all(isinstance(value, (cst.List, cst.ListComp)) for _, value in bound):
            facts.lists.add(name)
    return facts


def returns_fresh(source: str, name: str, qualify: Callable[[ast.expr], str | None]) -> bool:
    """Whether the top-level function ``name`` of ``source`` ends with ``return <fresh value>``: arithmetic,
    a number, or a call of a known function that makes a new array (``qualify`` names it). A helper that
    returns a name, a view or another helper's result may return its argument: not fresh."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    found = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == name]
    if len(found) != 1 or not found[0].body or not isinstance(found[0].body[-1], ast.Return):
        return False

    def fresh(e: ast.expr | None) -> bool:
        if isinstance(e, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)):
            return True
        if isinstance(e, ast.Constant):
            return isinstance(e.value, (int, float))
        if isinstance(e, ast.IfExp):
            return fresh(e.body) and fresh(e.orelse)
        if isinstance(e, ast.Call):
            fn = qualify(e.func)
            return fn is not None and bool(known_arities(fn)) and fn not in _VIEW_FUNCTIONS
        return False

    return fresh(found[0].body[-1].value)
