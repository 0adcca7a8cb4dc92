"""Fixed-point loops (issue 16): a ``while`` loop marked ``# s2sad: fixed-point`` gets the implicit adjoint.

The soundness catalogue (one row per case, by family): gradients against central finite differences of the
user's own function (which converges again at x ± h), or a located refusal. Then what the generated code is
(no stacks, the adjoint loop and its comment), the gradient where the iteration count depends on the input,
and the run-time error of an adjoint iteration that does not converge.
"""

from __future__ import annotations

import importlib.util
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from soundness import Case, gradient_function, run_cli, verdict

_HEAD = "import math\nimport numpy as np\n\n\n"


def _case(id: str, text: str, at: tuple[object, ...], family: str, **kw: object) -> Case:
    return Case(id, {"m.py": _HEAD + textwrap.dedent(text)}, at, family=family, **kw)  # type: ignore[arg-type]


_BABYLON = """
def f(a):
    x = {start}
    # s2sad: fixed-point
    while abs(x * x - a) > 1e-13 * a:
        x = 0.5 * (x + a / x)
    return x * x * x
"""

_EQUILIBRIUM = """
def f(W, U, u):
    x = np.zeros(3)
    dx = 1.0
    # s2sad: fixed-point
    while dx > 1e-13:
        x_new = np.tanh(W @ x + U @ u)
        dx = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x * x) + np.sum(x)
"""

_W = np.array([[0.2, -0.3, 0.1], [0.05, 0.1, -0.25], [0.3, 0.1, 0.15]])
_U = np.array([[0.5, -0.2], [0.1, 0.4], [-0.3, 0.2]])
_u = np.array([0.7, -1.1])

CORRECT = [
    # scalar states
    *(
        _case(f"babylon-{start}-{a}", _BABYLON.format(start=start), (a,), "scalar", expect="correct")
        for start, a in [("a", 2.0), ("a", 9.0), ("1.0", 0.3), ("1.0", 50.0), ("a + 3.0", 7.0)]
    ),
    _case(
        "cube-root-newton",
        """
        def f(a):
            x = 1.0
            # s2sad: fixed-point
            while abs(x * x * x - a) > 1e-13:
                x = x - (x * x * x - a) / (3.0 * x * x)
            return math.sin(x)
        """,
        (5.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "cosine-contraction-two-params",
        """
        def f(a, b):
            x = 0.0
            change = 1.0
            # s2sad: fixed-point
            while change > 1e-14:
                new = a * math.cos(x) + b
                change = abs(new - x)
                x = new
            return x * b
        """,
        (0.4, 0.3),
        "scalar",
        expect="correct",
    ),
    _case(
        "params-used-after-the-loop",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                x = 0.5 * (x + a / x)
            return x * a + a * a
        """,
        (3.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "state-before-loop-depends-on-param",
        """
        def f(a, c):
            x = math.exp(c) + a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                x = 0.5 * (x + a / x)
            return x + c
        """,
        (3.0, 0.5),
        "scalar",
        expect="correct",
    ),
    _case(
        "initial-state-read-before-the-loop",
        """
        def f(a):
            x = a * 0.5 + 1.0
            y = math.sin(x) * x
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                x = 0.5 * (x + a / x)
            return x * y
        """,
        (3.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "initial-array-state-read-before-the-loop",
        """
        def f(W, b):
            x = np.tanh(b)
            y = np.sum(np.exp(x))
            change = 1.0
            # s2sad: fixed-point
            while change > 1e-14:
                x_new = np.tanh(W @ x + b)
                change = np.max(np.abs(x_new - x))
                x = x_new
            return np.sum(x * x) * y
        """,
        (np.array([[0.2, -0.1], [0.3, 0.1]]), np.array([0.5, -0.4])),
        "array",
        expect="correct",
    ),
    _case(
        "tolerance-in-an-and",
        """
        def f(a):
            x = a
            k = 0
            change = 1.0
            # s2sad: fixed-point
            while k < 1000 and change > 1e-14:
                new = 0.5 * (x + a / x)
                change = abs(new - x)
                x = new
                k = k + 1
            return x
        """,
        (6.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "counter-in-the-test",
        """
        def f(a):
            x = a
            k = 0
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a and k < 100:
                x = 0.5 * (x + a / x)
                k = k + 1
            return x
        """,
        (6.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "state-in-both-branches",
        """
        def f(a):
            x = 1.0
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                if x > 0.0:
                    x = 0.5 * (x + a / x)
                else:
                    x = -x
            return x * x * x
        """,
        (4.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "state-in-one-branch",
        """
        def f(a):
            x = 1.0
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                if x * x > a:
                    x = 0.5 * (x + a / x)
                x = 0.5 * (x + a / x)
            return x * x * x
        """,
        (4.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "inside-a-branch",
        """
        def f(a):
            y = a * a
            if a > 1.0:
                x = a
                # s2sad: fixed-point
                while abs(x * x - a) > 1e-13 * a:
                    x = 0.5 * (x + a / x)
                y = x * x * x
            return y
        """,
        (3.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "body-calls-a-helper",
        """
        def half_step(x, a):
            return 0.5 * (x + a / x)


        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                x = half_step(x, a)
            return math.log(x)
        """,
        (2.5,),
        "scalar",
        expect="correct",
    ),
    _case(
        "state-updated-in-a-nested-loop",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                for i in range(2):
                    x = 0.5 * (x + a / x)
            return x * x * x
        """,
        (2.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "inner-while-in-the-body",
        """
        def f(a):
            x = 1.0
            change = 1.0
            # s2sad: fixed-point
            while change > 1e-14:
                y = x
                k = 0
                while k < 3:
                    y = 0.5 * y + 0.25 * math.cos(y) + 0.1 * a
                    k = k + 1
                change = abs(y - x)
                x = y
            return x * x
        """,
        (0.7,),
        "scalar",
        expect="correct",
    ),
    _case(
        "two-loops",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                x = 0.5 * (x + a / x)
            y = x
            # s2sad: fixed-point
            while abs(y * y - x) > 1e-13 * x:
                y = 0.5 * (y + x / y)
            return y
        """,
        (5.0,),
        "scalar",
        expect="correct",
    ),
    _case(
        "state-unused-after",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-13 * a:
                x = 0.5 * (x + a / x)
            return a * a
        """,
        (3.0,),
        "scalar",
        expect="correct",
    ),
    # tuple states
    _case(
        "tuple-state",
        """
        def f(a, b):
            x, y = 0.0, 0.0
            change = 1.0
            # s2sad: fixed-point
            while change > 1e-14:
                x_new = 0.3 * math.sin(y) + a
                y_new = 0.4 * math.cos(x) + b * x
                change = abs(x_new - x) + abs(y_new - y)
                x, y = x_new, y_new
            return x * y + y
        """,
        (0.5, 0.2),
        "tuple",
        expect="correct",
    ),
    _case(
        "tuple-state-only-one-used",
        """
        def f(a):
            x, y = 1.0, 1.0
            # s2sad: fixed-point
            while abs(x - 0.5 * math.cos(y) - a) + abs(y - 0.5 * math.sin(x)) > 1e-14:
                x, y = 0.5 * math.cos(y) + a, 0.5 * math.sin(x)
            return y
        """,
        (0.3,),
        "tuple",
        expect="correct",
    ),
    # array states
    _case("equilibrium", _EQUILIBRIUM, (_W, _U, _u), "array", expect="correct"),
    _case(
        "jacobi-linear-system",
        """
        def f(A, b):
            d = np.diag(A)
            R = A - np.diag(d)
            x = np.zeros(3)
            r = 1.0
            # s2sad: fixed-point
            while r > 1e-14:
                x_new = (b - R @ x) / d
                r = np.max(np.abs(x_new - x))
                x = x_new
            return np.sum(x * x)
        """,
        (np.array([[4.0, 1.0, 0.5], [0.3, 5.0, 1.0], [0.2, 0.4, 3.0]]), np.array([1.0, -2.0, 0.5])),
        "array",
        expect="correct",
    ),
]

REFUSED = [
    _case(
        "break",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-12:
                x = 0.5 * (x + a / x)
                if x < 0.0:
                    break
            return x
        """,
        (2.0,),
        "jumps",
        expect="refused",
        code="bad-fixed-point",
    ),
    _case(
        "continue",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-12:
                if x < 0.0:
                    continue
                x = 0.5 * (x + a / x)
            return x
        """,
        (2.0,),
        "jumps",
        expect="refused",
        code="bad-fixed-point",
    ),
    _case(
        "return",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-12:
                x = 0.5 * (x + a / x)
                if x < 0.0:
                    return x
            return x
        """,
        (2.0,),
        "jumps",
        expect="refused",
        code="bad-fixed-point",
    ),
    _case(
        "nested-in-a-for-loop",
        """
        def f(a):
            s = 0.0
            for i in range(3):
                x = a + i
                # s2sad: fixed-point
                while abs(x * x - a - i) > 1e-12:
                    x = 0.5 * (x + (a + i) / x)
                s = s + x
            return s
        """,
        (2.0,),
        "placement",
        expect="refused",
        code="bad-fixed-point",
    ),
    _case(
        "in-a-helper",
        """
        def root(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-12:
                x = 0.5 * (x + a / x)
            return x


        def f(a):
            return root(a) * 2.0
        """,
        (2.0,),
        "placement",
        expect="refused",
        code="bad-fixed-point",
    ),
    _case(
        "no-state",
        """
        def f(a):
            x = a
            y = 0.0
            # s2sad: fixed-point
            while abs(x - y) > 1e-12:
                y = math.sqrt(a)
            return y
        """,
        (2.0,),
        "form",
        expect="refused",
        code="bad-fixed-point",
    ),
    _case(
        "test-ignores-the-state",
        """
        def f(a, n):
            x = a
            # s2sad: fixed-point
            while n > 0.5:
                x = 0.5 * (x + a / x)
            return x
        """,
        (2.0, 0.0),
        "form",
        expect="refused",
        code="bad-fixed-point",
        wrt=("a",),
    ),
    _case(
        "writes-into-an-outside-array",
        """
        def f(a):
            x = np.ones(2) * a
            r = 1.0
            # s2sad: fixed-point
            while r > 1e-12:
                old = x[0]
                x[0] = 0.5 * (x[0] + a / x[0])
                r = abs(x[0] - old)
            return x[0]
        """,
        (2.0,),
        "form",
        expect="refused",
    ),
    _case(
        "draws-random-numbers",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-12:
                x = 0.5 * (x + a / x) + 0.0 * np.random.normal()
            return x
        """,
        (2.0,),
        "form",
        expect="refused",
    ),
    _case(
        "body-value-read-after",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-12:
                t = a / x
                x = 0.5 * (x + t)
            return t
        """,
        (2.0,),
        "form",
        expect="refused",
        code="bad-fixed-point",
    ),
    _case(
        "state-updated-in-a-nested-loop-and-outside",
        """
        def f(a):
            x = a
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-12:
                for i in range(2):
                    x = 0.5 * (x + a / x)
                x = 0.5 * (x + a / x)
            return x
        """,
        (2.0,),
        "form",
        expect="refused",
        code="bad-fixed-point",
    ),
]


@pytest.mark.parametrize("case", CORRECT + REFUSED, ids=lambda c: f"{c.family}/{c.id}")
def test_catalogue(case: Case, tmp_path: Path) -> None:
    verdict(case, tmp_path)


# ----- what the generated code is ----------------------------------------------------------------------------
def _unmarked(text: str) -> str:
    """The same program with the loop unmarked: differentiated by taping its iterations."""
    return "\n".join(line for line in text.splitlines() if "# s2sad: fixed-point" not in line)


def _generate(tmp_path: Path, text: str, target: str = "m.py::f") -> str:
    (tmp_path / "m.py").write_text(_HEAD + textwrap.dedent(text))
    out = run_cli(["grad", target], tmp_path)
    assert out.status == 0, out.stderr
    return out.stdout


def test_no_stacks_and_the_adjoint_loop_is_shown(tmp_path: Path) -> None:
    text = _generate(tmp_path, _BABYLON.format(start="a"))
    for taped in ("_stack", ".append(", ".pop(", "iterations"):
        assert taped not in text
    assert "# x = g(x, a) at its fixed point (implicit function theorem):" in text
    assert "# lambda = x_bar + (dg/dx)^T lambda, solved by fixed-point iteration (tolerance 1e-12)" in text
    assert "while not lambda_change <= 1e-12 * lambda_size:" in text
    assert "def f_fixed_point_adjoint(x, a, x_next_bar):" in text
    assert "def f_fixed_point_parameters(x, a, x_next_bar):" in text
    # the same loop unmarked is taped
    taped = _generate(tmp_path, _unmarked(_BABYLON.format(start="a")))
    assert "x_stack" in taped and "fixed_point" not in taped


def test_array_state_has_no_stacks(tmp_path: Path) -> None:
    text = _generate(tmp_path, _EQUILIBRIUM)
    assert "_stack" not in text and ".pop(" not in text
    assert "lambda_change = np.max(np.abs(x_lambda_next - x_lambda))" in text
    assert "1e-13 * lambda_size" in text  # the forward test's tolerance


def test_gradient_is_the_converged_solutions(tmp_path: Path) -> None:
    """Iteration counts that depend on the input: the implicit gradient is d(x*)/da of the exact solution
    to the loop's accuracy, where the taped one is the derivative of the last iterate (it differs)."""
    text = """
    def f(a):
        x = 0.0
        change = 1.0
        # s2sad: fixed-point
        while change > 1e-7:
            new = 0.5 * math.cos(x) + a
            change = abs(new - x)
            x = new
        return x
    """
    implicit = gradient_function(_generate(tmp_path, text))
    taped = gradient_function(_generate(tmp_path, _unmarked(text)))
    worst_implicit = worst_taped = 0.0
    for a in np.linspace(0.1, 2.0, 25):
        x = 0.0  # the exact solution, then the implicit function theorem: dx/da = 1 / (1 + 0.5 sin x)
        for _ in range(200):
            x = 0.5 * math.cos(x) + a
        exact = 1.0 / (1.0 + 0.5 * math.sin(x))
        worst_implicit = max(worst_implicit, abs(implicit(a) - exact))
        worst_taped = max(worst_taped, abs(taped(a) - exact))
    assert worst_implicit < 1e-6
    assert worst_taped > 10 * worst_implicit


def test_starting_points(tmp_path: Path) -> None:
    for start in ("a", "1.0", "0.1", "a * a + 1.0"):
        grad = gradient_function(_generate(tmp_path, _BABYLON.format(start=start)))
        for a in (0.5, 2.0, 30.0):
            assert math.isclose(grad(a), 1.5 * math.sqrt(a), rel_tol=1e-10)


def test_adjoint_that_does_not_converge_raises(tmp_path: Path) -> None:
    """x = x * x / 2 has the fixed point 2, where dg/dx = 2: the forward loop starting there stops at once,
    the adjoint iteration diverges and says so."""
    grad = gradient_function(
        _generate(
            tmp_path,
            """
            def f(a):
                x = a
                # s2sad: fixed-point
                while abs(x * x / 2.0 - x) > 1e-12:
                    x = x * x / 2.0
                return x
            """,
        )
    )
    with pytest.raises(ValueError, match="the loop's map is not contracting at its solution"):
        grad(2.0)


def test_refusal_points_at_the_statement(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(_HEAD + textwrap.dedent(REFUSED[-1].files["m.py"][len(_HEAD) :]))  # type: ignore[index]
    out = run_cli(["grad", "m.py::f"], tmp_path)
    assert out.status == 2
    assert "m.py:10:" in out.stderr
    assert "the state 'x' of a fixed-point loop is updated both inside a nested loop and outside it" in out.stderr


def test_gradcheck_covers_it(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(_HEAD + textwrap.dedent(_BABYLON.format(start="a")))
    out = run_cli(["gradcheck", "m.py::f", "--at", "a=2.0"], tmp_path)
    assert out.status == 0, out.stdout + out.stderr


# ----- the examples ----------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [
    ("examples/babylonian.py::length", "examples/babylonian_grad.py", None),
    ("examples/equilibrium.py::equilibrium_loss", "examples/equilibrium_grad.py", "W,U,u"),
]


def _load(path: str) -> object:
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target, output, wrt", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_committed_example_is_fresh_and_untaped(target: str, output: str, wrt: str | None) -> None:
    argv = ["grad", target, "-o", output, "--check"] + (["--wrt", wrt] if wrt else [])
    assert run_cli(argv, ROOT).status == 0, f"{output} is stale"
    text = (ROOT / output).read_text()
    assert "_stack" not in text and ".pop(" not in text and "solved by fixed-point iteration" in text


def test_babylonian_example_gradient() -> None:
    grad = _load("examples/babylonian_grad.py").grad_length  # type: ignore[attr-defined]
    for a, b in [(3.0, 4.0), (0.1, 2.0), (5.0, 1e-3)]:
        r = math.hypot(a, b)
        got = grad(a, b)
        assert math.isclose(got[0], a / r, rel_tol=1e-10) and math.isclose(got[1], b / r, rel_tol=1e-10)


def test_equilibrium_example_gradient() -> None:
    f = _load("examples/equilibrium.py").equilibrium_loss  # type: ignore[attr-defined]
    grad = _load("examples/equilibrium_grad.py").grad_equilibrium_loss  # type: ignore[attr-defined]
    rng = np.random.default_rng(1)
    n, m = 6, 4
    for scale in (0.2, 0.5):
        W = rng.normal(size=(n, n)) * scale / math.sqrt(n)
        U, u, target = rng.normal(size=(n, m)), rng.normal(size=m), rng.normal(size=n)
        got = grad(W, U, u, target)
        for k, value in enumerate((W, U, u)):
            expected = np.zeros_like(value)
            for i in np.ndindex(value.shape):
                step = np.zeros_like(value)
                step[i] = 1e-6
                args = [W, U, u, target]
                args[k] = value + step
                plus = f(*args)
                args[k] = value - step
                expected[i] = (plus - f(*args)) / 2e-6
            assert np.allclose(got[k], expected, rtol=1e-6, atol=1e-8)


# ----- explain ------------------------------------------------------------------------------------------------
def test_explain_shows_the_cyclic_constraint(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(_HEAD + textwrap.dedent(_BABYLON.format(start="a")))
    out = run_cli(["explain", "m.py::f"], tmp_path)
    assert out.status == 0, out.stderr
    text = out.stdout
    assert "fixed point of 'while abs(x * x - a) > 1e-13 * a:': x* = g(x*, p), a cyclic constraint" in text
    assert "x* = 0.5 * (x* + a / x*)" in text
    assert "λ_x*·(x* - 0.5 * (x* + a / x*))" in text  # one multiplier for the loop, not one per iteration
    assert "λ_x* = λ_x* · 0.5 * (1 + -(a / x*) / x*) + λ_f · (x* * 2 * x* + x* * x*)" in text
    assert "(I - ∂g/∂x*)^T λ_x* = x_bar" in text
    assert "Σ_k" not in text and "[k]" not in text


def test_explain_at_a_point_runs_the_implicit_gradient(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        _HEAD.replace("import numpy as np\n", "") + textwrap.dedent(_BABYLON.format(start="a"))
    )
    out = run_cli(["explain", "m.py::f", "--at", "a=4.0"], tmp_path)
    assert out.status == 0, out.stderr
    assert "3" in out.stdout.split("generated gradient")[-1]  # 1.5 * sqrt(4)
