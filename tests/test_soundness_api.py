"""Soundness catalogue (issue 10), families 8 and 9 and the exit-2 cases: right or refused, never silently wrong.

- Family 8, live functions: ``s2sad.grad(mod.f)`` reads ``mod``'s file. When the file changed after the import,
  the text is not the function that runs: refused (``stale-source``), never differentiated.
- Family 9, conventions that invert results: gradients come back in the order ``wrt`` names them (default:
  parameter order); ``wrt="xy"`` names the parameter ``xy``; a repeated name is refused.
- Exit status 2: inputs that are the user's problem get a located diagnostic, no traceback and nothing written.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import S2sadError
from soundness import _LOCATED, Case, run_cli, verdict, write_project


def _m(text: str) -> dict[str, str]:
    return {"m.py": textwrap.dedent(text).lstrip()}


# ------------------------------------------------------------------------------------------------------------
# Family 9: gradients in the order asked for (through the CLI: verdict zips the gradients with case.wrt)
# ------------------------------------------------------------------------------------------------------------
FAMILY_9 = [
    Case(
        "wrt-reversed",
        _m("""
            def f(a, e):
                return a * a * e + 3.0 * e
        """),
        (2.0, 5.0),
        wrt=("e", "a"),
        expect="correct",
    ),
    Case(
        "wrt-three-rotated",
        _m("""
            import math
            def f(x, y, z):
                return math.sin(x) * y + z * z * x
        """),
        (0.3, 0.7, 1.1),
        wrt=("z", "x", "y"),
        expect="correct",
    ),
    Case(
        "wrt-subset-reversed",
        _m("""
            def f(a, b, c):
                return a * b * b + c * a
        """),
        (0.3, 0.7, 1.1),
        wrt=("c", "a"),
        expect="correct",
    ),
    Case(
        "wrt-default-is-parameter-order",
        _m("""
            def f(b, a):
                return b * 2.0 + a * a
        """),
        (0.3, 0.7),
        expect="correct",
    ),
    Case(
        "wrt-name-like-two-others",
        _m("""
            def f(x, y, xy):
                return x * xy * xy + y
        """),
        (0.3, 0.7, 1.1),
        wrt=("xy",),
        expect="correct",
    ),
    Case(
        "wrt-through-helper-reversed",
        _m("""
            import math
            def h(u, v):
                return math.exp(u) * v
            def f(a, b):
                return h(b, a) + a * b
        """),
        (0.3, 0.7),
        wrt=("b", "a"),
        expect="correct",
    ),
    Case(
        "wrt-numpy-reversed",
        _m("""
            import numpy as np
            def f(W, b, X):
                return np.sum((X @ W + b) ** 2)
        """),
        (
            np.array([[0.1, -0.2], [0.3, 0.4], [0.5, -0.6]]),
            np.array([0.05, -0.1]),
            np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.25]]),
        ),
        wrt=("b", "W"),
        expect="correct",
    ),
    Case(
        "wrt-repeated",
        _m("""
            def f(a, e):
                return a * e
        """),
        (2.0, 5.0),
        wrt=("a", "a"),
        expect="refused",
        code="duplicate-parameter",
    ),
    Case(
        "wrt-repeated-among-others",
        _m("""
            def f(a, e):
                return a * e
        """),
        (2.0, 5.0),
        wrt=("e", "a", "e"),
        expect="refused",
        code="duplicate-parameter",
    ),
]


# ------------------------------------------------------------------------------------------------------------
# Exit status 2: the user's problem, located, no traceback
# ------------------------------------------------------------------------------------------------------------
def _nested(prefix: str, n: int, suffix: str = ")") -> str:
    return prefix * n + "x" + suffix * n


_IFEXP_150 = "".join(f"x if x > {i} else (" for i in range(150)) + "x" + ")" * 150
_IFEXP_40 = "".join(f"x if x > {i / 10} else (" for i in range(40)) + "x * x" + ")" * 40
_BLOCKS = "\n".join(
    ["def f(x):", "    y = x"]
    + ["    " * (i + 1) + f"if x > -{i + 1}.0:" for i in range(60)]
    + [
        "    " * 61 + "y = " + "".join(f"x if x > {i} else (" for i in range(45)) + "x" + ")" * 45,
        "    return y * x",
        "",
    ]
)
_PARAMS = [f"p{i}" for i in range(2000)]

EXIT_2 = [
    # bitwise operators: integers' bits, no derivative
    Case("bitwise-and", _m("def f(x):\n    return x * (3 & 1)\n"), (0.3,), expect="refused", code="unsupported-syntax"),
    Case(
        "bitwise-or",
        _m("def f(x):\n    return x * (int(x) | 1)\n"),
        (0.3,),
        expect="refused",
        code="unsupported-syntax",
    ),
    Case("bitwise-xor", _m("def f(x):\n    return x * (5 ^ 1)\n"), (0.3,), expect="refused", code="unsupported-syntax"),
    Case("shift-left", _m("def f(x):\n    return x * (1 << 2)\n"), (0.3,), expect="refused", code="unsupported-syntax"),
    Case(
        "shift-right", _m("def f(x):\n    return x * (8 >> 1)\n"), (0.3,), expect="refused", code="unsupported-syntax"
    ),
    Case("bitwise-invert", _m("def f(x):\n    return x * ~3\n"), (0.3,), expect="refused", code="unsupported-syntax"),
    Case(
        "bitwise-inside-a-call",
        _m("import math\ndef f(x):\n    y = math.sin(x) * math.cos(3 & 1)\n    return y * x\n"),
        (0.3,),
        expect="refused",
        code="unsupported-syntax",
    ),
    Case(
        "bitwise-as-exponent",
        _m("def f(x):\n    return x ** (2 | 1)\n"),
        (0.3,),
        expect="refused",
        code="unsupported-syntax",
    ),
    Case(
        "bitwise-augmented",
        _m("def f(x):\n    k = 3\n    k &= 1\n    return x * k\n"),
        (0.3,),
        expect="refused",
        code="unsupported-syntax",
    ),
    Case(
        "bitwise-in-helper",
        _m("def h(x):\n    return x * (2 | 1)\ndef f(x):\n    return h(x) + x\n"),
        (0.3,),
        expect="refused",
        code="unsupported-syntax",
    ),
    # numbers a float cannot hold
    Case(
        "int-pow-400", _m("def f(x):\n    return x * 10**400\n"), (0.3,), expect="refused", code="number-out-of-range"
    ),
    Case(
        "int-pow-1024", _m("def f(x):\n    return x * 2**1024\n"), (0.3,), expect="refused", code="number-out-of-range"
    ),
    Case("float-1e400", _m("def f(x):\n    return x * 1e400\n"), (0.3,), expect="refused", code="number-out-of-range"),
    Case(
        "float-neg-1e400", _m("def f(x):\n    return x - 1e400\n"), (0.3,), expect="refused", code="number-out-of-range"
    ),
    Case(
        "int-400-digits",
        _m(f"def f(x):\n    return x * 0.5 + {'7' * 400}\n"),
        (0.3,),
        expect="refused",
        code="number-out-of-range",
    ),
    Case(
        "int-400-digits-default",
        _m(f"def f(x, k={'9' * 400}):\n    return x * k\n"),
        (0.3,),
        expect="refused",
        code="number-out-of-range",
    ),
    Case(
        "int-400-digits-in-helper",
        _m(f"def h(x):\n    return x * {'3' * 400}\ndef f(x):\n    return h(x) * 2.0\n"),
        (0.3,),
        expect="refused",
        code="number-out-of-range",
    ),
    Case(
        "module-constant-pow-400",
        _m("K = 10**400\ndef f(x):\n    return K * x\n"),
        (0.3,),
        expect="refused",
        code="number-out-of-range",
    ),
    Case(
        "module-constant-1e400",
        _m("K = -1e400\ndef f(x):\n    return K + x * x\n"),
        (0.3,),
        expect="refused",
        code="number-out-of-range",
    ),
    Case("module-constant-fits", _m("K = 2.0**10\ndef f(x):\n    return K * x * x\n"), (0.3,), expect="correct"),
    Case("int-pow-1023-fits", _m("def f(x):\n    return x * 2**1023\n"), (0.3,), expect="correct"),
    Case("float-1e308-fits", _m("def f(x):\n    return x * 1e308\n"), (0.3,), expect="correct"),
    # defaults that are numeric literal expressions are computed statically, without running code
    Case("default-power", _m("def f(x, k=2**3):\n    return k * x\n"), (0.3, 8), wrt=("x",), expect="correct"),
    Case("default-quotient", _m("def f(x, k=1 / 2):\n    return k * x\n"), (0.3, 0.5), wrt=("x",), expect="correct"),
    Case("default-product", _m("def f(x, k=-2 * 3):\n    return k * x\n"), (0.3, -6), wrt=("x",), expect="correct"),
    # @s2sad.rule on the target itself
    Case(
        "rule-on-target",
        _m("""
            import s2sad
            @s2sad.rule(x="g * 2 * x")
            def f(x):
                return x * x
        """),
        (0.3,),
        expect="refused",
        code="rule-on-target",
    ),
    # nesting beyond what the stages (and CPython) can walk
    Case("minus-1000", _m("def f(x):\n    return " + "-" * 1000 + "x\n"), (0.3,), expect="refused", code="too-deep"),
    Case(
        "abs-150", _m("def f(x):\n    return " + _nested("abs(", 150) + "\n"), (0.3,), expect="refused", code="too-deep"
    ),
    Case(
        "sin-150",
        _m("import math\ndef f(x):\n    return " + _nested("math.sin(", 150) + "\n"),
        (0.3,),
        expect="refused",
        code="too-deep",
    ),
    Case("ifexp-150", _m("def f(x):\n    return " + _IFEXP_150 + "\n"), (0.3,), expect="refused", code="too-deep"),
    Case(
        "sum-2000-terms",
        _m("def f(x):\n    return " + " + ".join(["x * x"] * 2000) + "\n"),
        (0.3,),
        expect="refused",
        code="too-deep",
    ),
    Case(
        "deep-in-helper",
        _m("def h(x):\n    return " + "-" * 1000 + "x\ndef f(x):\n    return h(x) * x\n"),
        (0.3,),
        expect="refused",
        code="too-deep",
    ),
    Case("blocks-beyond-cpython", {"m.py": _BLOCKS}, (0.3,), expect="refused", code="too-deep"),
    # ... and what stays well inside the limits is differentiated
    Case("minus-50", _m("def f(x):\n    return x * " + "-" * 50 + "x\n"), (0.3,), expect="correct"),
    Case("abs-50", _m("def f(x):\n    return " + _nested("abs(", 50) + " * x\n"), (0.3,), expect="correct"),
    Case("ifexp-40", _m("def f(x):\n    return " + _IFEXP_40 + "\n"), (0.35,), expect="correct"),
    # 2,000 parameters work
    Case(
        "params-2000",
        _m(f"def f({', '.join(_PARAMS)}):\n    return p0 * p1999 + p7 * p7\n"),
        tuple(0.5 + i / 4000 for i in range(2000)),
        wrt=("p1999", "p7", "p0"),
        expect="correct",
    ),
    Case(
        "params-2000-default-wrt",
        _m(f"def f({', '.join(_PARAMS)}):\n    return p0 * p1999\n"),
        tuple(0.5 + i / 4000 for i in range(2000)),
        expect="correct",
    ),
]

CASES = [(c, "family 9") for c in FAMILY_9] + [(c, "exit 2") for c in EXIT_2]


@pytest.mark.parametrize("case", [c for c, _ in CASES], ids=[f"{family}: {c.id}" for c, family in CASES])
def test_right_or_refused(case: Case, tmp_path: Path) -> None:
    verdict(case, tmp_path)


@pytest.mark.parametrize("case", [c for c in EXIT_2 if c.expect == "refused"], ids=lambda c: c.id)
def test_refusal_writes_nothing(case: Case, tmp_path: Path) -> None:
    write_project(case, tmp_path)
    argv = ["grad", case.target, "-o", "out.py"] + (["--wrt", ",".join(case.wrt)] if case.wrt else [])
    outcome = run_cli(argv, tmp_path)
    assert outcome.status == 2 and "Traceback" not in outcome.stderr, outcome.stderr
    assert _LOCATED.search(outcome.stderr), outcome.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(case.files), "something was written"


@pytest.mark.parametrize("command", ["explain", "gradcheck"])
@pytest.mark.parametrize(
    "case", [c for c in EXIT_2 if c.code in ("too-deep", "number-out-of-range")], ids=lambda c: c.id
)
def test_other_commands_refuse_alike(command: str, case: Case, tmp_path: Path) -> None:
    if command == "explain" and ("helper" in case.id or "blocks" in case.id):
        pytest.skip("explain does not look into helpers, and prints equations, not nested code")
    write_project(case, tmp_path)
    outcome = run_cli([command, case.target], tmp_path)
    assert outcome.status == 2 and f"[{case.code}]" in outcome.stderr, outcome.stderr
    assert "Traceback" not in outcome.stderr


def _raise(error: BaseException):
    def stage(*args, **kwargs):
        raise error

    return stage


@pytest.mark.parametrize(
    "stage, error",
    [
        ("s2sad.ssa.to_ssa", RecursionError("maximum recursion depth exceeded")),
        ("s2sad.reverse.gradient", RecursionError("maximum recursion depth exceeded")),
        ("s2sad.emit.format_source", RecursionError("maximum recursion depth exceeded in black")),
    ],
    ids=["ssa", "reverse", "black"],
)
def test_recursion_in_any_stage_is_a_located_refusal(stage: str, error: BaseException, tmp_path, monkeypatch) -> None:
    """Whatever stage exhausts the stack (LibCST, ast.unparse, black...), the boundary reports it, located."""
    module, _, name = stage.rpartition(".")
    monkeypatch.setattr(importlib.import_module(module), name, _raise(error))
    (tmp_path / "m.py").write_text("def f(x):\n    return x * x\n")
    outcome = run_cli(["grad", "m.py::f", "-o", "out.py"], tmp_path)
    assert outcome.status == 2 and "[too-deep]" in outcome.stderr, outcome.stderr
    assert _LOCATED.search(outcome.stderr) and not (tmp_path / "out.py").exists()


def test_other_internal_errors_stay_internal(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module("s2sad.emit"), "format_source", _raise(ValueError("a bug")))
    (tmp_path / "m.py").write_text("def f(x):\n    return x * x\n")
    with pytest.raises(s2sad.InternalError):
        s2sad.generate("def f(x):\n    return x * x\n", str(tmp_path / "m.py"), "f")


# ------------------------------------------------------------------------------------------------------------
# Family 9 through the API: grad, value_and_grad, @gradient, gradcheck, explain and the module's text
# ------------------------------------------------------------------------------------------------------------
def f9(a, e):
    return a * a * e + 3.0 * e


def xy_and_x(x, xy):
    return x * xy * xy


_AT = (2.0, 5.0)
_D = {"a": 2 * 2.0 * 5.0, "e": 2.0 * 2.0 + 3.0}


@pytest.mark.parametrize("wrt", [("e", "a"), ("a", "e"), ["e", "a"], ("e",), "e", None], ids=repr)
def test_api_returns_gradients_in_wrt_order(wrt) -> None:
    order = ("a", "e") if wrt is None else ((wrt,) if isinstance(wrt, str) else tuple(wrt))
    expected = tuple(_D[w] for w in order)
    expected_value = expected[0] if len(expected) == 1 else expected
    assert s2sad.grad(f9, wrt=wrt)(*_AT) == pytest.approx(expected_value)
    value, g = s2sad.value_and_grad(f9, wrt=wrt)(*_AT)
    assert value == pytest.approx(f9(*_AT)) and g == pytest.approx(expected_value)

    decorated = s2sad.gradient(wrt=wrt)(f9)
    assert decorated.grad(*_AT) == pytest.approx(expected_value)  # type: ignore[attr-defined]

    text = s2sad.grad_source(f9, wrt=wrt)
    assert f"with respect to {', '.join(order)}." in text
    if len(order) > 1:
        assert f"the gradients ({', '.join(order)})" in text
        assert f"--wrt {','.join(order)}" in text or wrt is None

    check = s2sad.gradcheck(f9, *_AT, wrt=wrt)
    assert check, check.report()
    assert [c.label for c in check.parameters] == list(order)


def test_a_string_names_one_parameter_never_its_characters() -> None:
    assert s2sad.grad(xy_and_x, wrt="xy")(0.5, 3.0) == pytest.approx(2 * 0.5 * 3.0)
    assert s2sad.grad(xy_and_x, wrt="x")(0.5, 3.0) == pytest.approx(9.0)
    with pytest.raises(S2sadError) as err:
        s2sad.grad(f9, wrt="ae")  # not ('a', 'e')
    assert "'ae' is not a parameter" in str(err.value)


def test_repeated_wrt_is_refused_in_the_api() -> None:
    with pytest.raises(S2sadError) as err:
        s2sad.grad(f9, wrt=("e", "a", "e"))
    assert err.value.diagnostics[0].code == "duplicate-parameter"
    assert err.value.diagnostics[0].span is not None


def test_explain_lists_the_gradient_in_wrt_order(tmp_path: Path) -> None:
    source = "def f9(a, e):\n    return a * a * e + 3.0 * e\n"
    (tmp_path / "m.py").write_text(source)
    text = s2sad.explain(source, str(tmp_path / "m.py"), "f9", wrt=("e", "a"), at={"a": 2.0, "e": 5.0})
    rows = [line.split()[0] for line in text.splitlines()[-2:]]
    assert rows == ["e", "a"], text


def test_cli_wrt_order_in_the_header(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(a, e):\n    return a * e * e\n")
    out = run_cli(["grad", "m.py::f", "--wrt", "e,a"], tmp_path)
    assert out.status == 0
    assert "with respect to e, a." in out.stdout and "--wrt e,a" in out.stdout
    assert "return e_bar, a_bar" in out.stdout


# ------------------------------------------------------------------------------------------------------------
# Family 8: live functions whose file changed after the import
# ------------------------------------------------------------------------------------------------------------
_MODULE = """\
import math

from other import helper


def local(x):
    return 3.0 * x


def f(x):
    \"\"\"The target.\"\"\"
    y = x * x  # squared
    return y + local(x) + helper(x)


def g(x):
    return math.sin(x) * x
"""
_OTHER = "def helper(x):\n    return 2.0 * x\n"

#: (id, file, old text, new text, function, expected code or None when the edit does not change the function)
EDITS = [
    ("body", "live.py", "y = x * x", "y = x * x * x", "f", "stale-source"),
    ("constant", "live.py", "3.0 * x", "4.0 * x", "f", "stale-source"),  # the helper in the same file
    ("other-file-helper", "other.py", "2.0 * x", "5.0 * x", "f", "stale-source"),
    ("docstring", "live.py", "The target.", "The target, edited.", "f", "stale-source"),
    ("lines-inserted-above", "live.py", "import math\n", "import math\n\n\n", "g", "stale-source"),
    ("function-removed", "live.py", "def g(x):\n    return math.sin(x) * x\n", "", "g", "stale-source"),
    ("renamed", "live.py", "def g(x):", "def g2(x):", "g", "stale-source"),
    ("syntax-error", "live.py", "return math.sin(x) * x", "return math.sin(x) *", "g", "stale-source"),
    ("int-to-float", "live.py", "return math.sin(x) * x", "return math.sin(x) * x * 1", "g", "stale-source"),
    ("comment-only", "live.py", "# squared", "# the square", "f", None),
    ("other-function-edited", "live.py", "return math.sin(x) * x", "return math.cos(x) * x", "f", None),
    ("untouched", "live.py", "", "", "g", None),
]


def _load(root: Path, name: str, n: int = 0):
    """Import ``root/name.py`` under a fresh module name (as the user would have, at some earlier time)."""
    spec = importlib.util.spec_from_file_location(f"live_{abs(hash(str(root)))}_{name}_{n}", root / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(root))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(root))
    return module


def _project(tmp_path: Path):
    (tmp_path / "live.py").write_text(_MODULE)
    (tmp_path / "other.py").write_text(_OTHER)
    sys.modules.pop("other", None)
    module = _load(tmp_path, "live")
    sys.modules.pop("other", None)
    return module


def _fd(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("edit", EDITS, ids=[e[0] for e in EDITS])
def test_live_function_matches_its_file_or_is_refused(edit, tmp_path: Path) -> None:
    _, file, old, new, name, code = edit
    module = _project(tmp_path)
    fn = getattr(module, name)
    for _ in range(50):  # specialised bytecode must not look like an edit
        fn(0.3)
    inspect.getsource(fn)  # an old snapshot in linecache must not hide the edit
    path = tmp_path / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    if code is None:
        assert s2sad.grad(fn)(0.3) == pytest.approx(_fd(fn, 0.3), rel=1e-6)
        return
    for call in (s2sad.grad, s2sad.value_and_grad, s2sad.grad_source, s2sad.gradient):
        with pytest.raises(S2sadError) as err:
            call(fn)
        assert err.value.diagnostics[0].code == code, str(err.value)
        assert _LOCATED.search(str(err.value)), str(err.value)
        assert "reload" in str(err.value)


def test_reloaded_function_is_differentiated(tmp_path: Path) -> None:
    module = _project(tmp_path)
    (tmp_path / "live.py").write_text(_MODULE.replace("y = x * x", "y = x * x * x"))
    with pytest.raises(S2sadError):
        s2sad.grad(module.f)
    fresh = _load(tmp_path, "live", 1)
    assert s2sad.grad(fresh.f)(0.3) == pytest.approx(3 * 0.3**2 + 3.0 + 2.0)


def test_function_without_a_file_is_refused(tmp_path: Path) -> None:
    namespace: dict = {}
    exec("def f(x):\n    return x * x\n", namespace)
    with pytest.raises(S2sadError) as err:
        s2sad.grad(namespace["f"])
    assert err.value.diagnostics[0].code == "no-source"


def test_exec_under_a_real_file_name_is_refused(tmp_path: Path) -> None:
    """Code compiled from a string but labelled with a file that says something else."""
    (tmp_path / "m.py").write_text("def f(x):\n    return x * x\n")
    namespace: dict = {}
    exec(compile("def f(x):\n    return x * x * x\n", str(tmp_path / "m.py"), "exec"), namespace)
    with pytest.raises(S2sadError) as err:
        s2sad.grad(namespace["f"])
    assert err.value.diagnostics[0].code == "stale-source"


def test_lambda_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lam.py").write_text("square = lambda x: x * x\n")
    module = _load(tmp_path, "lam")
    with pytest.raises(S2sadError) as err:
        s2sad.grad(module.square)
    assert err.value.diagnostics[0].code == "no-source"
    assert _LOCATED.search(str(err.value))


def test_decorated_module_imports_and_matches(tmp_path: Path) -> None:
    (tmp_path / "deco.py").write_text(
        "import math\nimport s2sad\n\n\n@s2sad.gradient(wrt=('y', 'x'))\ndef f(x, y):\n    return math.exp(x) * y\n"
    )
    module = _load(tmp_path, "deco")
    gy, gx = module.f.grad(0.5, 2.0)
    assert gy == pytest.approx(math.exp(0.5)) and gx == pytest.approx(2.0 * math.exp(0.5))


# ------------------------------------------------------------------------------------------------------------
# Family 8: live objects that differ from the file (rebound at run time, or the file edited since the import)
# ------------------------------------------------------------------------------------------------------------
_LIB = """\
import functools

K = 2.0


def h(x):
    return K * x


def q(x, c=1.0):
    return c * x * x


def kw(x, *, c=1.0):
    return c * x * x


def f(x):
    return h(x) + q(x) + kw(x)


def scale(fn):
    @functools.wraps(fn)
    def inner(x):
        return 10 * fn(x)

    return inner


def k(x):
    return x * x * x


k10 = scale(k)
"""
_LIVE_FILES = {
    "lib.py": _LIB,
    "alias.py": "from lib import h as k\n\n\ndef f(x):\n    return k(x) * x\n",
    "top.py": "from mid import m\n\n\ndef f(x):\n    return m(x) * x\n",
    "mid.py": "from lib3 import g\n\n\ndef m(x):\n    return g(x) + x\n",
    "lib3.py": "def g(x):\n    return 2.0 * x\n",
    "other3.py": "def h(x):\n    return 5.0 * x\n",
    "names.py": "import math\nfrom math import sin\n\n\ndef f(x):\n    return abs(x) * 2.0 + sin(x) + math.cos(x)\n",
}


def _live(tmp_path: Path, name: str):
    """Import ``name`` from a fresh copy of the project (its imports are not left in sys.modules)."""
    for file, text in _LIVE_FILES.items():
        (tmp_path / file).write_text(text)
    stems = [Path(file).stem for file in _LIVE_FILES]
    for stem in stems:
        sys.modules.pop(stem, None)
    module = _load(tmp_path, name)
    for stem in stems:
        sys.modules.pop(stem, None)
    return module


def _edit(tmp_path: Path, file: str, old: str, new: str) -> None:
    path = tmp_path / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))


def _rebind_constant(m, tmp_path):
    m.K = 5.0


def _rebind_constant_to_int(m, tmp_path):
    m.K = 2


def _delete_constant(m, tmp_path):
    del m.K


def _edit_constant(m, tmp_path):
    _edit(tmp_path, "lib.py", "K = 2.0", "K = 5.0")


def _rebind_helper(m, tmp_path):
    m.h = _load(tmp_path, "other3").h  # same name, another file


def _rebind_helper_same_file(m, tmp_path):
    m.h = m.k


def _rebind_alias(m, tmp_path):
    m.k = _load(tmp_path, "lib3").g


def _edit_aliased_helper(m, tmp_path):
    _edit(tmp_path, "lib.py", "return K * x", "return K * x * x")


def _edit_helper_of_helper(m, tmp_path):
    _edit(tmp_path, "lib3.py", "2.0 * x", "3.0 * x")


def _rebind_helper_of_helper(m, tmp_path):
    m.m.__globals__["g"] = _load(tmp_path, "other3").h


def _set_defaults(m, tmp_path):
    m.q.__defaults__ = (7.0,)


def _set_kwdefaults(m, tmp_path):
    m.kw.__kwdefaults__ = {"c": 7.0}


def _edit_default(m, tmp_path):
    _edit(tmp_path, "lib.py", "def q(x, c=1.0):", "def q(x, c=3.0):")


def _shadow_builtin(m, tmp_path):
    m.abs = math.exp


def _rebind_imported_function(m, tmp_path):
    m.sin = math.cos


def _rebind_imported_module(m, tmp_path):
    m.math = types.SimpleNamespace(cos=math.sin)


#: (id, module, function, change, expected code): each change makes the live function differ from its file
LIVE_CHANGES = [
    ("constant-rebound", "lib", "f", _rebind_constant, "stale-constant"),
    ("constant-rebound-to-int", "lib", "f", _rebind_constant_to_int, "stale-constant"),
    ("constant-deleted", "lib", "f", _delete_constant, "stale-constant"),
    ("constant-edited-in-file", "lib", "f", _edit_constant, "stale-constant"),
    ("helper-rebound", "lib", "f", _rebind_helper, "stale-helper"),
    ("helper-rebound-same-file", "lib", "f", _rebind_helper_same_file, "stale-helper"),
    ("aliased-helper-rebound", "alias", "f", _rebind_alias, "stale-helper"),
    ("aliased-helper-edited", "alias", "f", _edit_aliased_helper, "stale-source"),
    ("helper-of-helper-edited", "top", "f", _edit_helper_of_helper, "stale-source"),
    ("helper-of-helper-rebound", "top", "f", _rebind_helper_of_helper, "stale-helper"),
    ("defaults-set", "lib", "f", _set_defaults, "stale-default"),
    ("kwdefaults-set", "lib", "f", _set_kwdefaults, "stale-default"),
    ("default-edited-in-file", "lib", "f", _edit_default, "stale-default"),
    ("own-defaults-set", "lib", "q", _set_defaults, "stale-default"),
    ("builtin-shadowed", "names", "f", _shadow_builtin, "rebound-name"),
    ("imported-function-rebound", "names", "f", _rebind_imported_function, "rebound-name"),
    ("imported-module-rebound", "names", "f", _rebind_imported_module, "rebound-name"),
]


@pytest.mark.parametrize("change", LIVE_CHANGES, ids=[c[0] for c in LIVE_CHANGES])
def test_live_objects_match_the_file_or_are_refused(change, tmp_path: Path) -> None:
    _, name, function, act, code = change
    module = _live(tmp_path, name)
    fn = getattr(module, function)
    assert s2sad.grad(fn, wrt="x")(0.3) == pytest.approx(_fd(fn, 0.3), rel=1e-6)  # before the change: right
    act(module, tmp_path)
    for call in (s2sad.grad, s2sad.value_and_grad, s2sad.grad_source, s2sad.gradient):
        with pytest.raises(S2sadError) as err:
            call(fn)
        assert err.value.diagnostics[0].code == code, str(err.value)
        assert _LOCATED.search(str(err.value)), str(err.value)


@pytest.mark.parametrize("name", ["lib", "alias", "top", "names"])
def test_unchanged_live_objects_are_differentiated(name: str, tmp_path: Path) -> None:
    fn = _live(tmp_path, name).f
    assert s2sad.grad(fn)(0.3) == pytest.approx(_fd(fn, 0.3), rel=1e-6)


def test_rebinding_a_name_the_function_does_not_read_changes_nothing(tmp_path: Path) -> None:
    module = _live(tmp_path, "lib")
    module.k = module.h  # f does not call k
    module.q.__defaults__ = (1.0,)  # the same value, rebound
    assert s2sad.grad(module.f)(0.3) == pytest.approx(_fd(module.f, 0.3), rel=1e-6)


def test_a_wrapper_is_refused_never_unwrapped(tmp_path: Path) -> None:
    """``functools.wraps`` sets ``__wrapped__``: the wrapped function is not what the wrapper computes."""
    module = _live(tmp_path, "lib")
    assert module.k10(0.3) == pytest.approx(10 * 0.3**3)
    with pytest.raises(S2sadError) as err:
        s2sad.grad(module.k10)
    assert err.value.diagnostics[0].code == "decorated-function", str(err.value)
    assert _LOCATED.search(str(err.value)), str(err.value)


def test_gradient_decorator_while_the_module_runs(tmp_path: Path) -> None:
    """``@s2sad.gradient`` runs before the rest of the module: a helper and a constant below it are not bound yet
    (not an error), and those above it are checked."""
    (tmp_path / "below.py").write_text(
        "import s2sad\n\n\n@s2sad.gradient\ndef f(x):\n    return h(x) * K\n\n\n"
        "def h(x):\n    return x * x\n\n\nK = 2.0\n"
    )
    assert _load(tmp_path, "below").f.grad(0.3) == pytest.approx(2 * 2.0 * 0.3)
