"""The value analysis (s2sad.values): the rule table's ``shape`` column checked against NumPy on random
operands of random kinds and ranks; annotations; a scalar function reads the same whether its module imports
NumPy or not; what is proved shows in the output."""

from __future__ import annotations

import builtins
import importlib
import os
import math
import operator
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from s2sad import S2sadError, generate, ir
from s2sad.rules import RULES, Rule
from s2sad.rules_linalg import TUPLE_RESULTS
from s2sad.shapes import UNKNOWN, Array, Scalar, Tuple, Unknown, Value, annotated, apply_shape, join

ROOT = Path(__file__).parent


# ------------------------------------------------------------------------------------------------------------
# The shape column, against NumPy
# ------------------------------------------------------------------------------------------------------------
def _function(fn: str) -> Any:
    if fn == "s2sad.select":
        return lambda index, *items: items[index]
    if fn == "numpy.array":
        return lambda *xs: np.array(list(xs))
    if fn == "s2sad.part":  # t[k]: value k of a helper's tuple result (s2sad.ir.PART), an array's row here
        return operator.getitem
    if fn == "s2sad.setitem":  # x[index] = v on a copy: what the IR's functional update means
        return _setitem
    for library, components in TUPLE_RESULTS.items():  # one value of np.linalg.eigh and the like
        if fn in components:
            whole = _function(library)
            return lambda a, whole=whole, k=components.index(fn): whole(a)[k]
    if fn == "numpy.ndarray.flatten":
        return lambda a: np.asarray(a).flatten()
    module, _, name = fn.rpartition(".")
    modules = {"math": math, "operator": operator, "builtins": builtins}
    return getattr(modules.get(module) or importlib.import_module(module), name)


def _setitem(x: Any, index: Any, v: Any) -> Any:
    if np.ndim(x) == 0:
        raise TypeError("a number has no entries to write")
    out = np.array(x, dtype=float)
    out[index] = v
    return out


_SIZES = (1, 2, 3)


def _operand(rng: np.random.Generator) -> Any:
    """A number of some kind, a 0-d array, or an array of rank 1 to 3 (sizes 1 to 3, so some broadcast)."""
    kind = rng.integers(0, 6)
    if kind == 0:
        return float(rng.uniform(0.2, 0.9))
    if kind == 1:
        return int(rng.integers(1, 3))
    if kind == 2:
        return np.array(rng.uniform(0.2, 0.9))
    shape = tuple(int(rng.choice(_SIZES)) for _ in range(int(kind) - 2))
    return rng.uniform(0.2, 0.9, shape)


def _literal(param: str, rng: np.random.Generator) -> Any:
    """Arguments the table's rules take as literals."""
    if param == "axis":
        return [None, 0, 1, -1][rng.integers(0, 4)]
    if param == "keepdims":
        return bool(rng.integers(0, 2))
    if param in ("shape", "n", "stop"):
        return [2, 3, (2, 3), (3, 1, 2)][rng.integers(0, 4)]
    if param == "ndigits":
        return 2
    if param in ("axis1", "axis2", "source", "destination", "offset", "k", "shift", "repeats"):
        return [0, 1, -1, 2][rng.integers(0, 4)]
    if param in ("reps", "axes"):
        return [0, 1, 2, (2, 1)][rng.integers(0, 4)]
    if param == "ddof":
        return int(rng.integers(0, 2))
    if param == "trans":
        return int(rng.integers(0, 2))
    if param == "lower":
        return bool(rng.integers(0, 2))
    if param == "d":
        return int(rng.integers(1, 3))
    if param == "subscripts":
        return ["i->", "ij->j", "ij", "ij,jk->ik", "i,i", "ij,jk,kl->il", "ii->i"][rng.integers(0, 7)]
    if param == "index":
        return [0, 1, -1, (0, 1), (slice(None), 0)][rng.integers(0, 5)]
    return None


def _value(x: Any, symbolic: bool) -> Value:
    """What the analysis knows of ``x``: its kind and shape (sizes other than 1 as symbols: ``n3``)."""
    if isinstance(x, tuple):
        return Tuple(tuple(_value(v, symbolic) for v in x))
    if np.ndim(x) == 0:
        return Scalar()
    return Array(np.ndim(x), tuple(d if d == 1 or not symbolic else f"n{d}" for d in np.shape(x)))


def _expr(name: str, x: Any, literal: bool) -> ir.Expr:
    if not literal:
        return ir.Var(name)
    if isinstance(x, tuple) and any(isinstance(v, slice) for v in x):
        every = ir.Slice(ir.Const(None), ir.Const(None), ir.Const(None))
        return ir.Call(ir.TUPLE, tuple(every if isinstance(v, slice) else ir.Const(v) for v in x))
    return ir.Const(x)


def _literal_value(e: ir.Expr) -> Value:
    """What the analysis knows of a literal argument."""
    if isinstance(e, ir.Call):
        return Tuple(tuple(_literal_value(a) for a in e.args))
    if isinstance(e, ir.Const) and isinstance(e.value, tuple):
        return Tuple(tuple(Scalar("int") for _ in e.value))
    if isinstance(e, ir.Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return Scalar("int")
    if isinstance(e, ir.Const) and isinstance(e.value, bool):
        return Scalar("bool")
    return UNKNOWN


def _covers(predicted: Value, actual: Any, symbolic: bool) -> bool:
    """Whether the prediction holds of the actual result."""
    if isinstance(predicted, Unknown):
        return True
    if isinstance(predicted, Tuple):
        return (
            isinstance(actual, tuple)
            and len(actual) == len(predicted.items)
            and all(_covers(p, a, symbolic) for p, a in zip(predicted.items, actual))
        )
    if isinstance(predicted, Scalar):
        return not isinstance(actual, (tuple, list)) and np.ndim(actual) == 0
    assert isinstance(predicted, Array)
    if not isinstance(actual, np.ndarray) and not isinstance(actual, np.generic):
        return False
    if predicted.rank is None:
        return True
    if np.ndim(actual) != predicted.rank:
        return False
    sizes = np.shape(actual)
    return predicted.dims is None or all(p is None or p in (d, f"n{d}") for p, d in zip(predicted.dims, sizes))


_LITERAL_PARAMS = {"axis", "keepdims", "shape", "n", "stop", "ndigits", "index", "axis1", "axis2", "source"}
_LITERAL_PARAMS |= {"destination", "offset", "k", "shift", "repeats", "reps", "axes", "ddof", "trans", "lower", "d"}
_LITERAL_PARAMS |= {"subscripts"}


@pytest.mark.parametrize("key", sorted(RULES, key=str), ids=lambda k: f"{k[0]}-{k[1]}")
def test_shape_column_against_numpy(key: tuple[str, int]) -> None:
    rule: Rule = RULES[key]
    if rule.shape == "unknown":
        pytest.skip("no shape rule: the result is unknown, and the generic code handles any value")
    f = _function(rule.fn)
    if rule.elements:  # np.concatenate([x0, x1], axis=0): the elements in one list
        f = (lambda g, n: lambda *args, **kw: g(list(args[:n]), *args[n:], **kw))(f, rule.elements)
    rng = np.random.default_rng(abs(hash(key[0])) % 2**32 + key[1])
    evaluated = 0
    for trial in range(150):
        symbolic = bool(trial % 2)
        args = []
        for p in rule.params:
            literal = p in _LITERAL_PARAMS and not (rule.fn == "s2sad.select" and p == "index")
            args.append(_literal(p, rng) if literal else _operand(rng))
        if rule.fn == "numpy.array":  # of numbers (the frontend builds arrays of arrays by stacking)
            args = [float(rng.uniform(0.2, 0.9)) for _ in args]
        if rule.fn == "s2sad.select":
            args[0] = int(rng.integers(0, len(args) - 1))
        if rule.elements:  # elements of one shape, so that most joins succeed
            args[: rule.elements] = [np.copy(args[0]) for _ in range(rule.elements)]
        if rule.fn == "numpy.einsum":  # operands sized for the subscripts
            sizes = {c: int(rng.choice(_SIZES)) for c in "ijkl"}
            terms = args[0].partition("->")[0].split(",")
            if len(terms) != len(args) - 1:
                continue
            args[1:] = [rng.uniform(0.2, 0.9, tuple(sizes[c] for c in term)) for term in terms]
        if any(rule.fn in c for c in TUPLE_RESULTS.values()) and trial % 4:  # a square matrix
            n = int(rng.choice(_SIZES))
            args[0] = rng.uniform(0.2, 0.9, (n, n)) + np.eye(n)
        if rule.fn in ("scipy.linalg.solve_triangular", "numpy.linalg.solve") and trial % 4:  # a system that fits
            n = int(rng.choice(_SIZES))
            args[0] = rng.uniform(0.2, 0.9, (n, n)) + np.eye(n)
            args[1] = rng.uniform(0.2, 0.9, (n,) if trial % 3 else (n, 2))
        if rule.fn in ("numpy.clip",) and rng.integers(0, 3) == 0:
            args[1] = None
        try:
            with np.errstate(all="ignore"):
                positional = [a for p, a in zip(rule.params, args) if p not in rule.defaults]
                keywords = {p: a for p, a in zip(rule.params, args) if p in rule.defaults}
                actual = f(*positional, **keywords)
        except Exception:
            continue  # NumPy (or math) refuses these operands: no result to predict
        literal = [p in _LITERAL_PARAMS and rule.fn != "s2sad.select" or a is None for p, a in zip(rule.params, args)]
        exprs = [_expr(p, a, lit) for p, a, lit in zip(rule.params, args, literal)]
        values = [_literal_value(e) if lit else _value(a, symbolic) for e, a, lit in zip(exprs, args, literal)]
        predicted = apply_shape(rule, values, exprs)
        assert _covers(predicted, actual, symbolic), (rule.fn, rule.shape, args, predicted, np.shape(actual))
        evaluated += 1
    assert evaluated >= 3, f"{rule.fn}: too few operand kinds NumPy accepts ({evaluated})"


#: Entries of issue 14's families whose result still has no shape rule: what they return is unknown, and the
#: code after them generic (correct for any value, only slower and longer). Shrink this list, never grow it.
_UNKNOWN_SHAPES = {
    "builtins.list",
    "builtins.sum",
    "s2sad.append",
}


def test_every_numpy_entry_says_something() -> None:
    """A NumPy entry with no shape rule would leave everything after it unknown."""
    assert sorted({r.fn for r in RULES.values() if r.shape == "unknown"} - _UNKNOWN_SHAPES) == []


def test_join() -> None:
    assert join(Scalar("int"), Scalar("float")) == Scalar()
    assert join(Array(2, ("n", "m")), Array(2, ("n", 3))) == Array(2, ("n", None))
    assert join(Array(1), Array(2)) == Array(None)
    assert join(Scalar(), Array(1)) == UNKNOWN
    assert join(None, Scalar()) == Scalar()


def test_annotations() -> None:
    assert annotated("float") == Scalar("float")
    assert annotated("ndarray") == Array(None)
    assert annotated("ndarray:n m") == Array(2, ("n", "m"))
    assert annotated("ndarray:3 _k #b") == Array(3, (3, None, None))
    assert annotated("ndarray:*batch n") == Array(None)
    assert annotated("ndarray:...") == Array(None)
    assert annotated("ndarray:") == Scalar()
    assert annotated(None) == UNKNOWN


# ------------------------------------------------------------------------------------------------------------
# A scalar function reads the same with or without `import numpy as np` in its module
# ------------------------------------------------------------------------------------------------------------
from catalogue import CASES  # noqa: E402
from helpers_catalogue import CASES as HELPER_CASES  # noqa: E402

_CATALOGUE = (ROOT / "catalogue.py").read_text()
_NAMES = sorted({fn.__name__ for fn, _, _ in CASES})


def _with_numpy(source: str) -> str:
    """The catalogue with ``import numpy as np`` among its imports, in place of the blank line after the
    docstring (so every line keeps its number: messages quote them)."""
    return source.replace('"""\n\nimport math\n', '"""\nimport numpy as np\nimport math\n', 1)


@pytest.mark.parametrize("name", _NAMES)
def test_scalar_output_is_the_same_in_a_numpy_module(name: str) -> None:
    assert "import numpy as np" in _with_numpy(_CATALOGUE)
    without = generate(_CATALOGUE, "tests/catalogue.py", name)
    assert generate(_with_numpy(_CATALOGUE), "tests/catalogue.py", name) == without


_HELPERS = (ROOT / "helpers_catalogue.py").read_text()
_HELPER_NAMES = sorted({fn.__name__ for fn, _, _ in HELPER_CASES} - {"custom_rule"})


@pytest.mark.parametrize("name", _HELPER_NAMES)
def test_scalar_output_with_helpers_is_the_same_in_a_numpy_module(name: str) -> None:
    """(Not ``custom_rule``: a call to a function with the user's own rule may take and give arrays, whatever
    its arguments; it is generic code in a NumPy module.)"""
    with_numpy = _HELPERS.replace('"""\n\nimport math\n', '"""\nimport numpy as np\nimport math\n', 1)
    assert "import numpy as np" in with_numpy
    without = generate(_HELPERS, "tests/helpers_catalogue.py", name)
    assert generate(with_numpy, "tests/helpers_catalogue.py", name) == without


# ------------------------------------------------------------------------------------------------------------
# Golden files: what the analysis proves shows in the output
# ------------------------------------------------------------------------------------------------------------
SNAPSHOTS = ROOT / "snapshots"
GOLDEN = {
    "values_scalar_in_numpy_module": """import math
import numpy as np


def f(x, y):
    z = math.sin(x) * y + x * x
    for i in range(3):
        z = z * 0.5 + y
    return z / (1.0 + y * y)
""",
    "values_matmul_known_ranks": """from typing import Annotated

import numpy as np


def f(
    W1: Annotated[np.ndarray, "d h"],
    b1: Annotated[np.ndarray, "h"],
    w2: Annotated[np.ndarray, "h"],
    X: Annotated[np.ndarray, "n d"],
    y: Annotated[np.ndarray, "n"],
):
    h = np.tanh(X @ W1 + b1)
    r = h @ w2 - y
    return np.mean(r * r)
""",
    "values_matmul_unknown_ranks": """import numpy as np


def f(W, x):
    return np.sum(np.tanh(W @ x))
""",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name: str) -> None:
    text = generate(GOLDEN[name], f"{name}.py", "f")
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("S2SAD_UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert text == path.read_text(), f"regenerate with S2SAD_UPDATE_SNAPSHOTS=1 if the change is intended:\n{text}"


def test_known_ranks_use_the_textbook_adjoints() -> None:
    text = generate(GOLDEN["values_matmul_known_ranks"], "m.py", "f")
    assert "matmul_adjoint" not in text and "unbroadcast" not in text and "np.ndim" not in text
    assert ".T @ " in text and "np.outer(" in text


# ------------------------------------------------------------------------------------------------------------
# Annotations resolve through the module's bindings
# ------------------------------------------------------------------------------------------------------------
def _grad(source: str) -> str:
    return generate(source, "m.py", "f")


def test_a_float_annotation_makes_a_parameter_a_number() -> None:
    source = "import numpy as np\n\n\ndef f(x: float, W):\n    return np.sum(W * x)\n"
    text = _grad(source)
    assert "np.ndim(" not in text  # np.sum with no axis returns a number: no run-time check
    assert "x_bar = np.sum(" in text and "unbroadcast" not in text  # W * x broadcast x: its adjoint is a sum
    text = _grad(source.replace("x: float", "x"))
    assert "unbroadcast(" in text


def test_a_rebound_float_is_not_the_builtin() -> None:
    source = "import numpy as np\n\nfloat = np.ndarray\n\n\ndef f(x: float, W):\n    return np.sum(W * x)\n"
    assert "unbroadcast" in _grad(source)


def test_jaxtyping_style_annotations() -> None:
    source = (
        "import numpy as np\nfrom jaxtyping import Float\n\n\n"
        'def f(A: Float[np.ndarray, "n m"], B: Float[np.ndarray, "m k"]):\n    return np.sum(A @ B)\n'
    )
    text = _grad(source)
    assert "A.T" in text and "B.T" in text and "matmul_adjoint" not in text


def test_a_malformed_shape_is_a_located_error() -> None:
    source = "from typing import Annotated\nimport numpy as np\n\n\ndef f(x: Annotated[np.ndarray, 2]):\n    return np.sum(x)\n"
    with pytest.raises(S2sadError) as err:
        _grad(source)
    assert re.search(r"m\.py:5:\d+: error: .*\[bad-annotation\]", str(err.value))


def test_returning_an_array_known_to_be_one_is_a_located_error() -> None:
    source = 'from typing import Annotated\nimport numpy as np\n\n\ndef f(x: Annotated[np.ndarray, "n"]):\n    return x * 2.0\n'
    with pytest.raises(S2sadError) as err:
        _grad(source)
    assert re.search(r"m\.py:6:\d+: error: 'f' must return a scalar .*\[non-scalar-return\]", str(err.value))
