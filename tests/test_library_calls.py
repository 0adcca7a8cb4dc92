"""Library calls on data (issue 14, items 1 and 3): a NumPy, SciPy or math call none of whose arguments is
differentiated needs no derivative rule; it is copied as written (keywords included) and its result is data.
A differentiated value flowing into a call without a rule is refused, with one message per real cause.

Every row is a program s2sad must differentiate correctly (against central finite differences of the user's
own function) or refuse with a located diagnostic of the given code.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import s2sad
from soundness import Case, verdict

_HEADER = "import math\nimport numpy as np\nfrom scipy.special import gammaln\n\n\n"


def case(id: str, body: str, at: tuple, expect: str = "correct", code: str | None = None, wrt=None) -> Case:
    return Case(id, {"m.py": _HEADER + textwrap.dedent(body)}, at, wrt=wrt, expect=expect, code=code)


def vec(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


X = vec(0.3, -0.7, 1.1)

CASES = [
    # ---- inactive calls: copied as written, data ---------------------------------------------------------------
    case("arange-dtype", "def f(x, n):\n    return np.sum(x * np.arange(n, dtype=float))\n", (X, 3), wrt=("x",)),
    case("arange-dtype-default-wrt", "def f(x, n):\n    return np.sum(x * np.arange(n, dtype=float))\n", (X, 3)),
    case(
        "tril-indices-index",
        """
        def f(L):
            i, j = 0, 1
            rows = np.tril_indices(3)
            return np.sum(L[rows] ** 2) + L[i, j]
        """,
        (np.arange(9.0).reshape(3, 3) / 10,),
    ),
    case("gammaln-const", "def f(x):\n    return x * gammaln(4.5) + math.factorial(4) * x\n", (0.7,)),
    case("ones-dtype", "def f(x):\n    return np.sum(x * np.ones(3, dtype=np.float64))\n", (X,)),
    case("linspace", "def f(x):\n    return np.sum(np.linspace(0.0, 1.0, num=3) * np.sin(x))\n", (X,)),
    case("full-of-constant", "def f(x):\n    return np.sum(np.full((3,), 2.5) * x)\n", (X,)),
    case("list-argument", "def f(x):\n    return np.sum(np.array([1.0, 2.0, 3.0], dtype=float) * x)\n", (X,)),
    case(
        "nested-list-argument",
        "def f(x):\n    return np.sum(np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]) @ x)\n",
        (X,),
    ),
    case("string-argument", "def f(x):\n    return np.sum(x * np.zeros(3, dtype='float64') + x)\n", (X,)),
    case(
        "shape-of-data-parameter",
        "def f(x, w):\n    return np.sum(x * np.linspace(0.0, 1.0, np.size(w)))\n",
        (X, vec(1.0, 2.0, 3.0)),
        wrt=("x",),
    ),
    case(
        "inactive-result-combined",
        "def f(x):\n    k = np.cumsum(np.ones(3), axis=0)\n    return np.sum(np.exp(x) / k)\n",
        (X,),
    ),
    case(
        "in-helper-on-data",
        """
        def h(x, n):
            return x * np.arange(n, dtype=float)


        def f(x):
            return np.sum(h(x, 3))
        """,
        (X,),
    ),
    case("random-draw-data", "def f(x):\n    return np.sum(x * np.random.uniform(1.0, 1.0, size=3))\n", (X,)),
    case("argmax-index", "def f(x):\n    i = np.argmax(x)\n    return x[i] * 2.0\n", (X,)),
    # ---- a differentiated value into a call without a rule: refused -----------------------------------------
    case("no-rule", "def f(x):\n    return np.sum(np.sinc(x))\n", (X,), "refused", "no-rule"),
    case("no-rule-keyword", "def f(x):\n    return np.sum(np.sinc(x, out=None))\n", (X,), "refused", "mutating-call"),
    case("unknown-keyword", "def f(x):\n    return np.sum(x, dtype=float)\n", (X,), "refused", "no-rule"),
    case(
        "flows-through-data",
        "def f(x):\n    k = np.cumsum(x, axis=0, dtype=float)\n    return np.sum(k * x)\n",
        (X,),
        "refused",
        "no-rule",
    ),
    case(
        "arange-start-differentiated",
        "def f(x):\n    return np.sum(np.arange(x, 3.0, dtype=float) ** 2)\n",
        (0.5,),
        "refused",
        "no-rule",
    ),
    case(
        "arange-step-keyword-differentiated",
        "def f(x):\n    return np.sum(np.arange(3, step=x) ** 2)\n",
        (0.7,),
        "refused",
        "no-rule",
    ),
    case("zeros-dtype-of-parameter", "def f(x):\n    return np.sum(np.zeros(3, dtype=float) + x * x)\n", (X,)),
    case(
        "default-wrt-picks-the-parameter",
        "def f(x, c):\n    return np.sum(x * np.full(3, c, dtype=float))\n",
        (X, 2.0),
        "refused",
        "no-rule",
    ),
    case(
        "helper-loses-it",
        """
        def h(x):
            return np.sinc(x)


        def f(x):
            return np.sum(h(x))
        """,
        (X,),
        "refused",
        "no-rule",
    ),
    case(
        "random-in-helper",
        "def h(x):\n    return x * np.random.normal(size=3)\n\n\ndef f(x):\n    return np.sum(h(x) ** 2)\n",
        (X,),
        "refused",
        "random-in-helper",
    ),
    case(
        "random-in-helper-of-helper",
        """
        def k():
            return np.random.normal(size=3)


        def h(x):
            return x * k()


        def f(x):
            return np.sum(h(x) ** 2)
        """,
        (X,),
        "refused",
        "random-in-helper",
    ),
    case(
        "random-in-helper-on-data",
        """
        def h(n):
            return np.random.uniform(1.0, 1.0, size=n)


        def f(x):
            return np.sum(h(3) * x)
        """,
        (X,),
    ),
    # ---- calls that change an array or the library's state: refused whatever is differentiated ------------
    case("out-keyword", "def f(x):\n    y = np.exp(x, out=np.zeros(3))\n    return np.sum(y)\n", (X,), "refused"),
    case(
        "copyto",
        "def f(x):\n    z = np.zeros(3)\n    r = np.copyto(z, x)\n    return np.sum(z * x)\n",
        (X,),
        "refused",
        "mutating-call",
    ),
    case(
        "shuffle",
        "def f(x):\n    z = np.arange(3.0)\n    r = np.random.shuffle(z)\n    return np.sum(z * x)\n",
        (X,),
        "refused",
        "mutating-call",
    ),
    case(
        "ufunc-at",
        "def f(x):\n    z = np.zeros(3)\n    r = np.add.at(z, 0, 1.0)\n    return np.sum(z * x)\n",
        (X,),
        "refused",
        "mutating-call",
    ),
    case(
        "positional-out",
        "def f(x):\n    z = np.ones(3)\n    y = np.exp(z, z)\n    return np.sum(x * z)\n",
        (X,),
        "refused",
        "mutating-call",
    ),
    case(
        "positional-out-reduction",
        "def f(x):\n    z = np.ones(1)\n    y = np.sum(np.ones(3), 0, None, z)\n    return np.sum(x * z)\n",
        (X,),
        "refused",
        "mutating-call",
    ),
    case("sort-method", "def f(x):\n    x.sort()\n    return np.sum(x)\n", (X,), "refused"),
    case("misspelled", "def f(x):\n    return np.sum(x * np.sine(1.0))\n", (X,), "refused", "undefined-name"),
]


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_case(c: Case, tmp_path) -> None:
    verdict(c, tmp_path)


def _error(source: str, name: str = "f", wrt=None) -> str:
    with pytest.raises(s2sad.S2sadError) as err:
        s2sad.generate(source, "m.py", name, wrt=wrt)
    return str(err.value)


def test_an_inactive_call_is_copied_as_written_with_its_keywords() -> None:
    source = _HEADER + "def f(x, n):\n    return np.sum(x * np.arange(n, dtype=float))\n"
    text = s2sad.generate(source, "m.py", "f", wrt=["x"])
    assert "np.arange(n, dtype=float)" in text


def test_a_numpy_call_without_a_rule_says_so_and_lists_the_numpy_families() -> None:
    message = _error(_HEADER + "def f(x):\n    return np.sum(np.sinc(x))\n")
    assert "no derivative rule for 'numpy.sinc'" in message
    assert "numpy (" in message and "[tool.s2sad.rules]" in message
    assert "math (" not in message


def test_a_keyword_the_rule_does_not_know_lists_the_ones_it_knows() -> None:
    message = _error(_HEADER + "def f(x):\n    return np.sum(x, dtype=float)\n")
    assert "does not know the keyword 'dtype'" in message and "'axis', 'keepdims'" in message


def test_a_keyword_call_of_a_function_without_a_rule_says_no_rule() -> None:
    message = _error("def f(x):\n    return sorted([x], reverse=True)[0]\n")
    assert "takes no keyword" not in message


def test_a_user_helper_stays_a_differentiated_helper() -> None:
    source = _HEADER + "def h(x):\n    return x * x\n\n\ndef f(x):\n    return h(x) + 1.0\n"
    text = s2sad.generate(source, "m.py", "f")
    assert "adjoint_h" in text


def test_explain_at_a_point_evaluates_a_math_call_on_integers(tmp_path, capsys) -> None:
    """Found: explain --at passed math.factorial(3) a float (an internal error); a literal keeps its type,
    and a value it cannot pass is a located error."""
    from s2sad.cli import main

    (tmp_path / "m.py").write_text("import math\n\n\ndef f(x):\n    return x * x * math.factorial(3)\n")
    assert main(["explain", f"{tmp_path}/m.py::f", "--at", "x=2.0"]) == 0
    assert "24" in capsys.readouterr().out
    (tmp_path / "n.py").write_text("import math\n\n\ndef f(x):\n    n = 3\n    return x * x * math.factorial(n)\n")
    assert main(["explain", f"{tmp_path}/n.py::f", "--at", "x=2.0"]) == 2
    assert "cannot evaluate 'math.factorial'" in capsys.readouterr().err
