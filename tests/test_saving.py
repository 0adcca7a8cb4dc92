"""A helper's adjoint receives what its forward pass computed (s2sad/saving.py): every case of
tests/saving_catalogue.py is differentiated correctly, and each helper body runs as often per gradient as
it runs in the function itself, however deep the nesting."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import s2sad
from saving_catalogue import CASES, NESTED
from soundness import Case, gradient_function, user_function, verdict


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_saving_catalogue(case: Case, tmp_path: Path) -> None:
    verdict(case, tmp_path)


def _calls(fn, args, code_file: str) -> dict[str, int]:
    """How often each function defined in ``code_file`` is called while ``fn(*args)`` runs."""
    counts: dict[str, int] = {}

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == code_file:
            counts[frame.f_code.co_name] = counts.get(frame.f_code.co_name, 0) + 1

    sys.setprofile(profile)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return counts


def _body_runs(text: str, counts: dict[str, int], helpers: list[str]) -> dict[str, int]:
    """Runs of each helper's body in a gradient: calls of ``h`` and ``forward_h``, and of ``adjoint_h`` when
    it runs the helper's forward pass again (as adjoint functions did before they received saved values)."""
    reruns = {m.group(1) for m in re.finditer(r"def (adjoint_\w+)\(.*\):\n(?:    .*\n)*?    # forward\n", text)}
    out = {}
    for h in helpers:
        out[h] = counts.get(h, 0) + counts.get(f"forward_{h}", 0)
        out[h] += counts.get(f"adjoint_{h}", 0) if f"adjoint_{h}" in reruns else 0
    return out


_NESTED_MODULE = "import math\n\n\n" + NESTED + "\n\ndef g(x, y):\n    return outer(x, y) * middle(y, x)\n"
_CAMERA = (Path(__file__).resolve().parent.parent / "examples" / "camera.py").read_text()
_PROGRAMS = [
    (_NESTED_MODULE, "f", (0.3, 0.7), ["inner", "middle", "outer"]),
    (_NESTED_MODULE, "g", (0.3, 0.7), ["inner", "middle", "outer"]),
    (_CAMERA, "residual", (0.3, -0.2, 2.0, 0.1, 500.0, 0.01, 0.001, 1.2), ["rotate", "project", "radial", "distort"]),
]


@pytest.mark.parametrize("source, target, at, helpers", _PROGRAMS, ids=["nested-f", "nested-g", "camera"])
def test_each_helper_body_runs_once_per_call(source: str, target: str, at: tuple, helpers: list[str], tmp_path: Path):
    case = Case("nested", {"m.py": source}, at, target=f"m.py::{target}", expect="correct")
    verdict(case, tmp_path)
    text = s2sad.generate(source, str(tmp_path / "m.py"), target)
    in_f = _calls(user_function(tmp_path, case.target), case.at, str(tmp_path / "m.py"))
    grad = gradient_function(text, "<gradient>")
    in_gradient = _body_runs(text, _calls(grad, case.at, "<gradient>"), helpers)
    assert in_gradient == {h: in_f.get(h, 0) for h in helpers}  # nested f: inner 4, middle 2, outer 1
    assert "# forward" not in "".join(re.findall(r"def adjoint_\w+\(.*\):\n(?:    .*\n)*", text))


def test_a_helper_whose_adjoint_reads_nothing_computed_is_called_as_itself() -> None:
    source = "import math\n\n\ndef lin(x, y):\n    return 2.0 * x - 3.0 * y\n\n\ndef f(x, y):\n    return math.sin(lin(x, y))\n"
    text = s2sad.generate(source, "m.py", "f")
    assert "forward_lin" not in text and "def adjoint_lin(lin_bar):" in text
    assert "math.sin(lin(x, y))" in text or "lin(x, y)" in text


def test_saved_values_inside_a_loop_are_recorded_once_per_iteration() -> None:
    source = (
        "import math\n\n\ndef sq(x):\n    s = math.sin(x)\n    return s * s\n\n\n"
        "def f(x):\n    t = 0.0\n    for i in range(3):\n        t = t + sq(x * i)\n    return t\n"
    )
    text = s2sad.generate(source, "m.py", "f")
    assert re.search(r"(\w+), (\w+_saved) = forward_sq\(", text)
    assert re.search(r"\w+_saved_stack\.append\(\w+_saved\)", text)
    assert "def adjoint_sq(s, x, sq_bar):" in text  # sin(x) is saved, the argument is passed


def test_mlp_adjoints_do_not_rerun_the_helpers() -> None:
    text = (Path(__file__).resolve().parent.parent / "examples" / "mlp_grad.py").read_text()
    assert "p, p_saved = forward_softmax(" in text and "adjoint_softmax(p_saved, " in text
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert sum("np.exp(" in line for line in code) == 2  # once in forward_sigmoid, once in forward_softmax
