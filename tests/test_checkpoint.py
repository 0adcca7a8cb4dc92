"""Checkpointed loops (``# s2sad: checkpoint [N]`` above a ``for`` loop, see s2sad/checkpoint.py): the gradient
equals the taped gradient of the same loop without the directive (to rounding) and central finite differences,
for every schedule and trip count; the generated code shows the segment, recompute and reverse loops; its peak
memory at 100,000 steps is a small fraction of the taped one's; what is not supported is refused, located."""

from __future__ import annotations

import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from s2sad import S2sadError
from s2sad.api import _generate, compile_gradient
from soundness import Case, finite_differences, run_cli, verdict

_HEADER = "import math\n\nimport numpy as np\n\n\n"


def _source(text: str, mark: str) -> str:
    return _HEADER + textwrap.dedent(text).replace("# MARK", mark)


def _function(source: str, name: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<user>", "exec"), namespace)
    return namespace[name]


def _gradient(tmp_path: Path, source: str, name: str) -> Any:
    path = tmp_path / f"m{abs(hash(source))}.py"
    path.write_text(source)
    return compile_gradient(source, str(path), name)


def _text(tmp_path: Path, source: str, name: str = "f") -> str:
    path = tmp_path / "text.py"
    path.write_text(source)
    return _generate(source, str(path), name, wrt=None).text


def _as_tuple(g: Any) -> tuple[Any, ...]:
    return g if isinstance(g, tuple) else (g,)


def _check(tmp_path: Path, text: str, at: tuple[Any, ...], marks: tuple[str, ...], name: str = "f") -> None:
    """For each directive in ``marks``: the checkpointed gradient equals the taped one to rounding, and
    finite differences of the user's function where it is differentiated."""
    plain = _source(text, "# the loop")
    taped = _as_tuple(_gradient(tmp_path, plain, name)(*at))
    user = _function(plain, name)
    wrt = [k for k, a in enumerate(at) if isinstance(a, (float, np.ndarray))]
    for k, g in zip(wrt, taped):
        np.testing.assert_allclose(g, finite_differences(user, at, k), rtol=1e-5, atol=1e-6)
    for mark in marks:
        marked = _as_tuple(_gradient(tmp_path, _source(text, mark), name)(*at))
        assert len(marked) == len(taped)
        for a, b in zip(marked, taped):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


_MARKS = ("# s2sad: checkpoint", "# s2sad: checkpoint 1", "# s2sad: checkpoint 3", "# s2sad: checkpoint 1000")

# ----- scalars: the trip counts and ranges ---------------------------------------------------------------------
_PENDULUM = """
def f(k, c, x0, v0, n):
    x = x0
    v = v0
    dt = 0.01
    # MARK
    for i in RANGE:
        a = -k * math.sin(x) - c * v
        x = x + dt * v
        v = v + dt * a
    return x * x + v
"""


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 10, 17, 100])
@pytest.mark.parametrize(
    "range_",
    [
        "range(n)",
        "reversed(range(n))",
        "range(2, n + 2)",
        "range(1, 3 * n + 1, 3)",
        "reversed(range(5, 5 + 2 * n, 2))",
        "range(n, 0, -1)",
    ],
)
def test_scalar_state_every_trip_count_and_range(tmp_path: Path, n: int, range_: str) -> None:
    _check(tmp_path, _PENDULUM.replace("RANGE", range_), (1.3, 0.2, 0.5, -0.1, n), _MARKS)


def test_the_index_enters_the_body(tmp_path: Path) -> None:
    text = """
    def f(w, n):
        s = 0.5
        # MARK
        for i in reversed(range(3, 3 + 4 * n, 4)):
            s = s + math.sin(w * i + s) / (i + 1)
        return s * w
    """
    for n in (1, 2, 5, 11):
        _check(tmp_path, text, (0.3, n), _MARKS)


# ----- what the body may hold ------------------------------------------------------------------------------------
def test_array_state_updated_by_whole_array_operations(tmp_path: Path) -> None:
    text = """
    def f(A, x0, n):
        x = x0
        # MARK
        for i in range(n):
            x = x + 0.05 * np.tanh(A @ x)
        return np.sum(x * x)
    """
    A = np.array([[0.1, -0.4, 0.2], [0.3, 0.2, -0.1], [-0.2, 0.1, 0.05]])
    for n in (0, 1, 5, 12):
        _check(tmp_path, text, (A, np.array([0.3, -0.2, 0.5]), n), _MARKS)


def test_array_written_in_place_is_copied_into_snapshots(tmp_path: Path) -> None:
    text = """
    def f(w, x0, n):
        x = x0 * 1.0
        # MARK
        for i in range(n):
            j = i % 3
            x[j] = x[j] * w + math.sin(x[(j + 1) % 3])
        return np.sum(x * x)
    """
    for n in (0, 1, 4, 10):
        _check(tmp_path, text, (0.9, np.array([0.3, -0.2, 0.5]), n), _MARKS)
    generated = _text(tmp_path, _source(text, "# s2sad: checkpoint"))
    assert "np.copy(x)" in generated and "x copied (the loop writes into it)" in generated


def test_list_appended_in_the_loop(tmp_path: Path) -> None:
    text = """
    def f(w, n):
        x = 0.2
        xs = []
        # MARK
        for i in range(n):
            x = math.sin(w * x) + 0.1
            xs.append(x * x)
        return sum(xs) + x
    """
    for n in (1, 2, 9):
        _check(tmp_path, text, (0.7, n), _MARKS)
    generated = _text(tmp_path, _source(text, "# s2sad: checkpoint"))
    assert "snapshot = (x, len(xs))" in generated and "xs = xs[:xs_length]" in generated
    assert "xs by length (the loop only appends to it)" in generated


def test_branches_inner_loops_and_helpers(tmp_path: Path) -> None:
    text = """
    def step(x, w):
        return x + 0.1 * math.tanh(w * x)


    def f(w, x0, n):
        x = x0
        y = 0.0
        # MARK
        for i in range(n):
            if x > 0.3:
                x = step(x, w)
            else:
                x = x * w
            for j in range(3):
                y = y + x * j
            t = 0.0
            while t < 0.25:
                t = t + 0.1 * w
                y = y * 0.99 + t
        return x + y
    """
    for n in (0, 1, 6, 13):
        _check(tmp_path, text, (0.8, 0.4, n), _MARKS)


def test_state_assigned_before_but_not_read_in_the_loop(tmp_path: Path) -> None:
    # 't' holds a value from before the loop that the reverse pass reads at the start (exp's 'ans'): the
    # snapshot must hold it too, though no iteration reads it before assigning it
    text = """
    def f(w, n):
        t = math.exp(w)
        s = t
        # MARK
        for i in range(n):
            t = math.sin(w * i)
            s = s + t * t
        return s + t
    """
    for n in (0, 1, 2, 8):
        _check(tmp_path, text, (0.4, n), _MARKS)


@pytest.mark.parametrize("mark", ["# the loop", *_MARKS])
def test_inside_another_loop(tmp_path: Path, mark: str) -> None:
    # 'v' is set from the outer index, then changed by the inner loop; the reverse of 's = s + x * v' reads
    # its value after the inner loop. (Found here: the taped gradient recomputed 'v = 0.1 * k' at the top of
    # the outer reverse iteration, giving the value before the inner loop, a silently wrong gradient.)
    text = """
    def f(w, x0, n):
        x = x0
        s = 0.0
        for k in range(3):
            v = 0.1 * k
            # MARK
            for i in range(n + k):
                v = v + 0.01 * math.sin(w * x + v)
                x = x + 0.01 * v
            s = s + x * v
        return s
    """
    for n in (0, 1, 2, 5):
        _check(tmp_path, text, (0.7, 0.3, n), (mark,))


def test_inside_a_while_loop_with_a_reversed_stepped_range(tmp_path: Path) -> None:
    text = """
    def f(w, x0, n):
        x = x0
        s = 0.0
        k = 0
        while k < 3:
            v = 0.1 * k
            # MARK
            for i in reversed(range(1, n + k, 2)):
                v = v + 0.01 * math.sin(w * x + v * i)
                x = x + 0.01 * v
            s = s + x * v
            k = k + 1
        return s
    """
    for n in (0, 1, 2, 7):
        _check(tmp_path, text, (0.7, 0.3, n), _MARKS)


def test_inside_a_loop_that_changes_what_the_body_reads_after_it(tmp_path: Path) -> None:
    # the recompute reads 'c' at the mirror point: the outer loop must restore it, though the reverse of the
    # steps themselves does not read it
    text = """
    def f(w, x0, n):
        x = x0
        c = 0.5
        s = 0.0
        for k in range(3):
            # MARK
            for i in range(n):
                x = x + c
                s = s + math.sin(w * x)
            c = c * 2.0
        return s
    """
    for n in (1, 2, 5):
        _check(tmp_path, text, (0.7, 0.3, n), _MARKS)


def test_value_and_gradient_return_the_value_before_the_reverse_pass(tmp_path: Path) -> None:
    import importlib.util

    import s2sad

    text = """
    def f(w, x0, n):
        x = x0 * 1.0
        # MARK
        for i in range(n):
            x[i % 2] = math.sin(w * x[(i + 1) % 2]) + x[i % 2]
        return np.sum(x * x)
    """
    path = tmp_path / "vg.py"
    path.write_text(_source(text, "# s2sad: checkpoint"))
    spec = importlib.util.spec_from_file_location("vg", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    at = (0.6, np.array([0.2, -0.4]), 7)
    value, grads = s2sad.value_and_grad(module.f)(*at)
    assert value == module.f(*at)
    np.testing.assert_allclose(grads[0], finite_differences(module.f, at, 0), rtol=1e-5)


# ----- the generated code --------------------------------------------------------------------------------------
def test_output_shows_segments_snapshots_recompute_and_reverse(tmp_path: Path) -> None:
    source = _source(_PENDULUM.replace("RANGE", "range(n)"), "# s2sad: checkpoint 10")
    text = _text(tmp_path, source)
    forward, reverse = text.split("# reverse\n")
    assert "# checkpointed loop: 10 segments" in forward
    assert "for segment in range(segments):" in forward and "snapshots.append(snapshot)" in forward
    assert "x, v by reference (the loop never writes into them)" in forward
    segment_loop = forward.split("for segment in range(segments):")[1]
    assert ".append(" in segment_loop.split("# the segment's steps")[0]  # the snapshot
    assert ".append(" not in segment_loop.split("# the segment's steps")[1]  # the steps record nothing
    # the snapshots popped one a segment, or read by iteration (s2sad.records)
    assert "for segment in reversed(range(segments)):" in reverse or (
        "for segment, snapshot in zip(reversed(range(segments)), reversed(snapshots)):" in reverse
    )
    assert "x, v = snapshots.pop()" in reverse or "x, v = snapshot" in reverse
    recompute = reverse.split("# recompute the segment's steps")[1].split("# the segment's steps reversed")[0]
    assert "for i in range(first, last):" in recompute and "x_stack.append(x)" in recompute
    assert "for i in reversed(range(first, last)):" in reverse.split("# the segment's steps reversed")[1]


def test_gradcheck_runs_the_checkpointed_gradient(tmp_path: Path) -> None:
    source = _source(_PENDULUM.replace("RANGE", "range(n)"), "# s2sad: checkpoint")
    path = tmp_path / "pend.py"
    path.write_text(source)
    out = run_cli(["gradcheck", f"{path.name}::f", "--at", "k=1.3,c=0.2,x0=0.5,v0=-0.1,n=50"], tmp_path)
    assert out.status == 0, out.stdout + out.stderr


# ----- the example ------------------------------------------------------------------------------------------------
_ROOT = Path(__file__).resolve().parent.parent


def test_the_long_ode_example_is_checkpointed_and_its_gradient_is_the_taped_one(tmp_path: Path) -> None:
    import importlib.util

    source = (_ROOT / "examples" / "ode_long.py").read_text()
    assert "    # s2sad: checkpoint\n    for i in range(steps):" in source
    spec = importlib.util.spec_from_file_location("ode_long_grad", _ROOT / "examples" / "ode_long_grad.py")
    assert spec is not None and spec.loader is not None
    committed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(committed)
    assert (
        "reversed(range(segments))" in (_ROOT / "examples" / "ode_long_grad.py").read_text()
    )  # the segments, last first
    wrt = ["g_over_l", "c", "amplitude", "omega", "theta0", "w0"]
    path = tmp_path / "ode_long.py"
    path.write_text(source.replace("# s2sad: checkpoint", "# taped"))
    taped = compile_gradient(path.read_text(), str(path), "pendulum_loss", wrt)
    user = _function(source, "pendulum_loss")
    at = (1.0, 0.3, 0.5, 0.7, 0.4, 0.0, 0.2, 3000)
    got = committed.grad_pendulum_loss(*at)
    np.testing.assert_allclose(got, taped(*at), rtol=1e-12, atol=1e-15)
    for k, g in enumerate(got):
        np.testing.assert_allclose(g, finite_differences(user, at, k), rtol=1e-5, atol=1e-7)


# ----- memory ---------------------------------------------------------------------------------------------------
def _peak(f: Any, *args: Any) -> int:
    tracemalloc.start()
    try:
        f(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_far_below_the_taped_gradient_at_100000_steps(tmp_path: Path) -> None:
    at = (1.3, 0.2, 0.5, -0.1, 100_000)
    text = _PENDULUM.replace("RANGE", "range(n)")
    taped = _gradient(tmp_path, _source(text, "# the loop"), "f")
    marked = _gradient(tmp_path, _source(text, "# s2sad: checkpoint"), "f")
    assert marked(*at) == pytest.approx(taped(*at), rel=1e-10)
    taped_peak, marked_peak = _peak(taped, *at), _peak(marked, *at)
    assert marked_peak * 20 < taped_peak, (marked_peak, taped_peak)


# ----- what is refused ------------------------------------------------------------------------------------------
def _case(id: str, text: str, at: tuple[Any, ...], expect: str, code: str | None = None) -> Case:
    return Case(id, {"m.py": _source(text, "# s2sad: checkpoint")}, at, expect=expect, code=code, family="checkpoint")


_CASES = [
    _case(
        "inside-another-checkpointed-loop",
        """
        def f(w, n):
            s = 0.1
            # s2sad: checkpoint
            for k in range(2):
                # MARK
                for i in range(n):
                    s = math.sin(w * s)
            return s
        """,
        (0.5, 3),
        "refused",
        "unsupported-checkpoint",
    ),
    _case(
        "inside-a-fixed-point-loop",
        """
        def f(p):
            x = 1.0
            # s2sad: fixed-point
            while abs(math.cos(x * p) - x) > 1e-12:
                y = x
                # MARK
                for i in range(3):
                    y = 0.5 * y + 0.5 * math.cos(x * p)
                x = y
            return x
        """,
        (0.5,),
        "refused",
        "unsupported-checkpoint",
    ),
    _case(
        "in-a-helper",
        """
        def h(w, n):
            s = 0.1
            # MARK
            for i in range(n):
                s = math.sin(w * s)
            return s


        def f(w, n):
            return h(w, n) * w
        """,
        (0.5, 3),
        "refused",
        "unsupported-checkpoint",
    ),
    _case(
        "carried-without-a-value-before",
        """
        def f(w, n):
            s = 0.1
            # MARK
            for i in range(n):
                if i > 0:
                    s = s + prev
                prev = math.sin(w * s)
            return s
        """,
        (0.5, 3),
        "refused",
        "possibly-undefined",
    ),
    _case(
        "range-changed-inside",
        """
        def f(w, n):
            s = 0.1
            # MARK
            for i in range(n):
                s = math.sin(w * s)
                n = n - 1
            return s
        """,
        (0.5, 5),
        "correct",
    ),
    _case(
        "break-inside",
        """
        def f(w, n):
            s = 0.1
            # MARK
            for i in range(n):
                s = math.sin(w * s)
                if s > 10.0:
                    break
            return s
        """,
        (0.5, 3),
        "refused",
        "unsupported-directive",
    ),
]


_CASES += [
    _case(
        "parameter-carried",
        """
        def f(x, w, n):
            # MARK
            for i in range(n):
                x = math.sin(w * x) + 0.1 * x
            return x
        """,
        (0.3, 1.2, 9),
        "correct",
    ),
    _case(
        "parameter-overwritten-unread",
        """
        def f(t, w, n):
            s = math.exp(t)
            # MARK
            for i in range(n):
                t = math.sin(w * i)
                s = s * t + s
            return s * t
        """,
        (0.3, 1.2, 6),
        "correct",
    ),
    _case(
        "loop-in-a-branch",
        """
        def f(w, n):
            s = w
            if w > 0.0:
                # MARK
                for i in range(n):
                    s = s * math.cos(w + s)
            return s
        """,
        (0.4, 7),
        "correct",
    ),
    _case(
        "helper-with-a-loop-called-in-the-loop",
        """
        def inner(x, w):
            y = x
            for j in range(3):
                y = math.tanh(w * y + x)
            return y


        def f(w, n):
            s = 0.5
            # MARK
            for i in range(n):
                s = inner(s, w) + 0.1 * s
            return s
        """,
        (0.8, 5),
        "correct",
    ),
    _case(
        "array-state-and-matrix",
        """
        def f(A, x, n):
            # MARK
            for i in range(n):
                x = x + 0.1 * np.tanh(A @ x)
            return np.sum(x)
        """,
        (np.array([[0.2, -0.1], [0.3, 0.1]]), np.array([0.5, -0.5]), 6),
        "correct",
    ),
]


@pytest.mark.parametrize("case", _CASES, ids=[c.id for c in _CASES])
def test_refused_or_correct_by_the_harness(case: Case, tmp_path: Path) -> None:
    verdict(case, tmp_path)


# ----- where the refusals come from: one stage for every reverse mode, with the other analyses ---------------
_NESTED = """
def f(w, n):
    s = 0.1
    # s2sad: checkpoint
    for k in range(2):
        # s2sad: checkpoint
        for i in range(n):
            s = math.sin(w * s)
    return s
"""


@pytest.mark.parametrize("mode", ["grad", "vjp", "hvp"])
def test_every_reverse_mode_refuses_at_the_same_stage(mode: str, tmp_path: Path) -> None:
    source = _source(_NESTED, "")
    (tmp_path / "m.py").write_text(source)
    with pytest.raises(S2sadError) as err:
        _generate(source, str(tmp_path / "m.py"), "f", wrt=["w"], mode=mode)
    assert [(d.code, d.span.line if d.span else None) for d in err.value.diagnostics] == [
        ("unsupported-checkpoint", 12)
    ]


def test_a_checkpoint_refusal_and_a_fixed_point_refusal_in_one_run(tmp_path: Path) -> None:
    """Both are found by the analyses before any reverse work (the checkpoint's used to be found only when the
    reverse pass was built, after the fixed-point refusal had ended the run)."""
    text = """
    def f(w, p, n):
        s = 0.1
        # s2sad: checkpoint
        for k in range(2):
            # s2sad: checkpoint
            for i in range(n):
                s = math.sin(w * s)
        x = 1.0
        # s2sad: fixed-point
        while abs(x - p) > 1e-12:
            x = 0.5 * p
        return s + x
    """
    source = _source(text, "")
    (tmp_path / "m.py").write_text(source)
    outcome = run_cli(["grad", "m.py::f"], tmp_path)
    assert outcome.status == 2 and "Traceback" not in outcome.stderr, outcome.stderr
    assert "[unsupported-checkpoint]" in outcome.stderr and "[bad-fixed-point]" in outcome.stderr, outcome.stderr
    with pytest.raises(S2sadError) as caught:
        _generate(source, str(tmp_path / "m.py"), "f", wrt=None)
    assert {d.code for d in caught.value.diagnostics} == {"unsupported-checkpoint", "bad-fixed-point"}


def test_forward_mode_says_the_directive_has_no_effect(tmp_path: Path) -> None:
    """A JVP keeps no tape: a checkpointed loop runs as written, and the module says so at the loop (even where
    reverse mode refuses the directive, as on a loop inside another checkpointed loop)."""
    source = _source(_NESTED, "")
    (tmp_path / "m.py").write_text(source)
    text = _generate(source, str(tmp_path / "m.py"), "f", wrt=["w"], mode="jvp").text
    note = "# checkpointed in reverse mode; forward mode keeps no tape: the loop runs as written"
    assert text.count(note) == 2, text
    # a Jacobian the reverse sweep refuses is built from forward sweeps, which say the same
    jacobian = _generate(source, str(tmp_path / "m.py"), "f", wrt=["w"], mode="jacobian").text
    assert "from 1 forward sweeps" in jacobian and jacobian.count(note) == 2, jacobian
    jvp = _function(text, "jvp_f")
    user = _function(source, "f")
    value, tangent = jvp(0.7, 4, w_dot=1.0)
    assert value == user(0.7, 4)
    assert abs(tangent - (user(0.7 + 1e-6, 4) - user(0.7 - 1e-6, 4)) / 2e-6) < 1e-7
