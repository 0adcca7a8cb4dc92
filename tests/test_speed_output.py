"""What the speed work of issue 12 writes: adjoint constants and copies propagated (s2sad.propagation), loop
records read by iteration (s2sad.records), negations folded (s2sad.algebra), and the support functions' fast
paths for matrices, which must agree with their general code."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import s2sad
from s2sad import ir
from s2sad.algebra import simplify
from s2sad.emit import SUPPORT
from s2sad.propagation import propagate


def grad_text(source: str, name: str = "f") -> str:
    return s2sad.generate(textwrap.dedent(source), "m.py", name)


def body(text: str) -> str:
    return text.split("def grad_", 1)[1]


# ----- propagation ---------------------------------------------------------------------------------------------
def test_linear_function_gradient_is_its_constant():
    text = grad_text(
        """
        import numpy as np

        def c(a):
            b1 = 2 * a
            b2 = 3 * a + b1
            return 4 * b1 + 5 * b2
        """,
        "c",
    )
    assert "a_bar = 33.0" in text
    assert "b1_bar" not in text and "b2_bar" not in text


def test_seed_and_copies_are_not_stored():
    text = grad_text("""
        from math import exp, sin

        def f(x):
            a = exp(x)
            c = a + a**2
            return exp(c) + sin(c)
        """)
    assert "_bar = 1.0" not in text
    assert "c_bar = cos(c) + " in text
    assert "= c_bar\n" not in text  # no plain copy of an adjoint


def test_carried_copy_is_read_as_the_adjoint_itself():
    text = grad_text("""
        from math import sin

        def f(x, y, n):
            for i in range(n):
                x = sin(x) * y + 0.5 * x
            return x
        """)
    loop = body(text).split("# reverse", 1)[1]
    assert "x_bar = x_bar * 0.5 + " in loop
    assert "_times_y_bar" not in loop and "_0p5_times_x_bar" not in loop


def _run(stmts, ret):
    fn = ir.Function("grad_g", (), tuple(stmts) + (ret,), "m.py")
    text = s2sad.emit.emit(fn, [], "doc")
    namespace: dict = {}
    exec(text, namespace)
    return namespace["grad_g"]


def test_a_value_read_by_its_own_reassignment_is_kept():
    # x_bar = -t_bar; x_bar = x_bar + u_bar: the first assignment is read by the second
    stmts = [
        ir.Assign("t_bar", ir.Const(2.0)),
        ir.Assign("u_bar", ir.Const(5.0)),
        ir.Assign("x_bar", ir.Call("operator.neg", (ir.Var("t_bar"),))),
        ir.Assign("x_bar", ir.Call("operator.add", (ir.Var("x_bar"), ir.Var("u_bar")))),
    ]
    ret = ir.Return((ir.Var("x_bar"),))
    out = propagate(stmts, [], ret, {"t_bar", "u_bar", "x_bar"}, scalar=True)
    assert _run(out, ret)() == 3.0
    assert out == [ir.Assign("x_bar", ir.Const(3.0))]


def test_facts_end_where_a_loop_rebinds_them():
    stmts = [
        ir.Assign("a_bar", ir.Const(1.0)),
        ir.For("i", (ir.Const(3),), False, (ir.Accumulate("a_bar", ir.Const(2.0)),)),
        ir.Assign("b_bar", ir.Call("operator.mul", (ir.Var("a_bar"), ir.Const(3.0)))),
    ]
    ret = ir.Return((ir.Var("b_bar"),))
    out = propagate(stmts, [], ret, {"a_bar", "b_bar"}, scalar=True)
    assert _run(out, ret)() == 21.0


# ----- records read by iteration -----------------------------------------------------------------------------
def test_loop_reads_its_records_by_iteration():
    text = grad_text("""
        from math import sin

        def f(x, y, n):
            for i in range(n):
                x = sin(x) * y + 0.5 * x
            return x
        """)
    assert "for sin_x, x in zip(reversed(sin_x_stack), reversed(x_stack)):" in text
    assert ".pop()" not in text


def test_index_is_kept_where_the_body_reads_it():
    text = grad_text("""
        from math import sin

        def f(x, n):
            for i in range(n):
                x = sin(x) * i
            return x
        """)
    assert "in zip(reversed(range(n)), reversed(x_stack)):" in text


def test_nested_and_shared_stacks_keep_their_pops():
    nested = grad_text("""
        from math import sin

        def f(x, n):
            for i in range(n):
                for j in range(n):
                    x = sin(x) * x
            return x
        """)
    assert "x_stack.pop()" in nested  # the inner loop pops n records per outer iteration
    shared = grad_text("""
        from math import sin, cos

        def f(x, n):
            for i in range(n):
                x = sin(x) * x
            for j in range(n):
                x = cos(x) * x
            return x
        """)
    assert shared.count("x_stack.pop()") == 2  # one stack for both loops: each loop pops its own records


# ----- negations and broadcast numbers -------------------------------------------------------------------------
def test_rosenbrock_annotated_is_the_textbook_adjoint():
    text = grad_text("""
        from typing import Annotated

        import numpy as np

        def f(x: Annotated[np.ndarray, "n"]):
            return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        """)
    assert "broadcast_to" not in text and "unbroadcast" not in text
    assert "rosenbrock" not in text  # nothing recognises the benchmark
    assert "200.0 * " in text and "-2.0 * " in text


@pytest.mark.parametrize(
    "before, after",
    [
        ("a + -b", "a - b"),
        ("-a + b", "b - a"),
        ("a + -b * c", "a - b * c"),
        ("a + -2.0 * c", "a - 2.0 * c"),
        ("-(2.0 * c)", "-2.0 * c"),
    ],
)
def test_negation_folds_exactly(before, after):
    import ast

    def lower(node):
        if isinstance(node, ast.Name):
            return ir.Var(node.id)
        if isinstance(node, ast.Constant):
            return ir.Const(node.value)
        if isinstance(node, ast.UnaryOp):
            return ir.Call("operator.neg", (lower(node.operand),))
        fn = {ast.Add: "operator.add", ast.Sub: "operator.sub", ast.Mult: "operator.mul"}[type(node.op)]
        return ir.Call(fn, (lower(node.left), lower(node.right)))

    expected = simplify(lower(ast.parse(after, mode="eval").body))  # -2.0 is a number
    assert simplify(lower(ast.parse(before, mode="eval").body)) == expected
    rng = np.random.default_rng(3)
    env = {n: rng.normal(size=7) for n in "abc"}
    assert np.array_equal(eval(before, {}, env), eval(after, {}, env))  # bit for bit


# ----- the support functions' fast paths -------------------------------------------------------------------------
def _support(name: str):
    namespace: dict = {"np": np}
    exec(SUPPORT[name], namespace)
    return namespace[name]


def _general(name: str):
    """The support function without its fast path (the lines between its docstring and its general code)."""
    lines = SUPPORT[name].splitlines()
    end = next(i for i, line in enumerate(lines) if i > 0 and line.rstrip().endswith('"""'))
    start = next(i for i, line in enumerate(lines) if line.startswith(("    if np.ndim", "    shape = np.shape")))
    assert all("getattr" in line or "return" in line or "if " in line for line in lines[end + 1 : start])
    namespace: dict = {"np": np}
    exec("\n".join(lines[: end + 1] + lines[start:]), namespace)
    return namespace[name]


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4,)), ((3, 4), (4, 2)), ((3, 4), (5, 4, 2)), ((4,), (4, 2))])
def test_matmul_adjoints_fast_paths_agree(a_shape, b_shape):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    g = rng.normal(size=np.shape(a @ b))
    for name in ("matmul_adjoint_a", "matmul_adjoint_b"):
        fast, general = _support(name)(g, a, b), _general(name)(g, a, b)
        assert np.shape(fast) == np.shape(general)
        assert np.allclose(fast, general, rtol=1e-12, atol=1e-12)


def test_unbroadcast_fast_path_only_for_arrays_alike():
    unbroadcast = _support("unbroadcast")
    g = np.ones((2, 3))
    assert unbroadcast(g, np.zeros((2, 3))) is g
    assert np.shape(unbroadcast(g, np.zeros(3))) == (3,)
    assert np.shape(unbroadcast(np.ones(2), [1.0, 2.0])) == (2,)  # a list: np.shape's answer
    assert unbroadcast(2.0, 1.0) == 2.0
