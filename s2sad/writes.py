"""Writes into arrays in the gradient function: in place, recording only what each write destroys.

In the IR a write is a functional update, ``x_1 = s2sad.setitem(x, index, v)`` (see
:mod:`s2sad.frontend.writes`); its adjoint is the rule table's. The generated code does not copy ``x``: it
writes ``x[index] = v`` into ``x``'s array, and ``x_1`` names the same array. The frontend has made sure that
nothing else refers to that array, so the forward pass is the user's own code; but the old entries are gone,
and the reverse pass reads values at their mirror points (a read of ``x`` before the write must see the old
entries). So the forward pass saves the entries a write replaces, ``x_old = np.copy(x[index])`` (pushed on a
stack inside a loop: one record per iteration), and the reverse pass puts them back, ``x[index] = x_old``, at
the write's mirror point, after the write's own adjoint. Walking backwards, every write is undone in turn:
whenever the reverse pass reads the array, it holds what the forward pass had at the mirror point.

A list grows the same way: ``xs_1 = s2sad.append(xs, v)`` is ``xs.append(v)``, undone by ``xs.pop()`` at its
mirror point; nothing needs saving.
"""

from __future__ import annotations

from . import ir

__all__ = ["is_write", "is_append", "same_array", "write_reads", "saved", "restore"]


def is_write(s: ir.Stmt) -> bool:
    """``x_1 = s2sad.setitem(x, index, v)`` or ``xs_1 = s2sad.append(xs, v)``."""
    return isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn in (ir.SETITEM, ir.APPEND)


def is_append(s: ir.Stmt) -> bool:
    """``xs_1 = s2sad.append(xs, v)``: undone by ``xs.pop()``, nothing to save."""
    return isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn == ir.APPEND


def same_array(s: ir.Assign) -> bool:
    """A write whose target is the name it writes into (``out = setitem(out, i, row)`` in a loop): the name
    refers to the same array before and after, so there is no old reference to record."""
    return is_write(s) and isinstance(s.value, ir.Call) and s.value.args[0] == ir.Var(s.target)


def write_reads(s: ir.Assign) -> set[str]:
    """The forward names the reverse of a write reads to put the old entries back: the array, the index."""
    assert isinstance(s.value, ir.Call)
    if s.value.fn == ir.APPEND:
        return set(ir.expr_names(s.value.args[0]))
    array, index, _ = s.value.args
    return set(ir.expr_names(array)) | set(ir.expr_names(index))


def saved(s: ir.Assign) -> ir.Expr:
    """The entries the write ``s`` replaces, copied: ``np.copy(x[index])``."""
    assert isinstance(s.value, ir.Call)
    array, index, _ = s.value.args
    return ir.Call("numpy.copy", (ir.Call(ir.GETITEM, (array, index)),))


def restore(s: ir.Assign, old: str) -> ir.Assign:
    """``x[index] = old``: the entries the write ``s`` replaced, put back."""
    assert isinstance(s.value, ir.Call)
    array, index, _ = s.value.args
    assert isinstance(array, ir.Var)
    return ir.Assign(array.name, ir.Call(ir.SETITEM, (array, index, ir.Var(old))))
