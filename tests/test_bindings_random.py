"""Random programs for the binding model and the binding of arguments (issue 10, families 1 and 4).

Modules: a constant ``K`` bound first at the top level, then random statements that may or may not bind it
again (in blocks, through ``global``, walrus, ``for`` targets ...) or only look as if they do (class bodies,
function locals, comprehensions). s2sad must differentiate ``K * x * x`` correctly or refuse; when no
statement binds ``K`` again, it must differentiate it.

Calls: a helper with a random signature (positional-only, ordinary and keyword-only parameters, with and
without defaults) called with random positional and keyword arguments. When Python accepts the call, s2sad
must differentiate it correctly; when Python raises ``TypeError``, s2sad must refuse it (``bad-call``).

Seeded and small in the suite; ``S2SAD_RANDOM_BINDINGS=N`` sweeps N programs of each kind.
"""

from __future__ import annotations

import os
import random

import pytest

from soundness import Case, verdict

COUNT = int(os.environ.get("S2SAD_RANDOM_BINDINGS", "25"))

#: (template, rebinds K): ``{v}`` is a number, ``{i}`` a fresh index.
STATEMENTS = [
    ("K = {v}\n", True),
    ("if True:\n    K = {v}\n", True),
    ("if False:\n    K = {v}\n", True),
    ("for K in [{v}]:\n    pass\n", True),
    ("K += {v}\n", True),
    ("_ = (K := {v})\n", True),
    ("K, _j{i} = {v}, 1.0\n", True),
    ("def _g{i}():\n    global K\n    K = {v}\n_g{i}()\n", True),
    ("def _g{i}():\n    global K\n    K = {v}\n", True),
    ("with open(__file__) as _fh{i}:\n    K = {v}\n", True),
    ("try:\n    K = {v}\nexcept ValueError:\n    pass\n", True),
    ("_l{i} = [(K := v) for v in ({v},)]\n", True),
    ("class _C{i}:\n    K = {v}\n", False),
    ("def _h{i}():\n    K = {v}\n    return K\n", False),
    ("_l{i} = [K for K in ({v},)]\n", False),
    ("_y{i} = {v}\n", False),
    ("def _n{i}():\n    K = 1.0\n    def inner():\n        nonlocal K\n        K = {v}\n    return inner\n", False),
    ("def _r{i}():\n    global K\n    return K\n", False),
]


def binding_program(seed: int) -> tuple[str, bool]:
    rng = random.Random(seed)
    parts = ["K = 2.0\n"]
    rebound = False
    for i in range(rng.randint(0, 3)):
        template, binds = rng.choice(STATEMENTS)
        parts.insert(rng.randint(1, len(parts)), template.format(v=rng.choice(["3.0", "0.5", "-1.0"]), i=i))
        rebound |= binds
    parts.insert(rng.randint(0, len(parts)), "def f(x):\n    return K * x * x\n")
    return "".join(parts), rebound


@pytest.mark.parametrize("seed", range(COUNT))
def test_random_bindings(seed: int, tmp_path) -> None:
    text, rebound = binding_program(seed)
    case = Case(f"bindings-{seed}", {"m.py": text}, (0.3,), expect="either" if rebound else "correct")
    verdict(case, tmp_path)


def call_program(seed: int) -> str:
    rng = random.Random(10_000 + seed)
    names = ["a", "b", "c", "d"][: rng.randint(1, 4)]
    kinds = sorted(rng.choice(["posonly", "normal", "kwonly"]) for _ in names)
    kinds = sorted(kinds, key=["posonly", "normal", "kwonly"].index)
    params: list[str] = []
    seen_default = False
    for name, kind in zip(names, kinds):
        default = rng.random() < 0.5 or (seen_default and kind != "kwonly")  # Python: defaults stay defaults
        seen_default |= default and kind != "kwonly"
        params.append(f"{name}={rng.choice(['2.0', '0.5', '3'])}" if default else name)
    groups = {k: [p for p, kind in zip(params, kinds) if kind == k] for k in ("posonly", "normal", "kwonly")}
    text = groups["posonly"] + (["/"] if groups["posonly"] else []) + groups["normal"]
    text += (["*"] if groups["kwonly"] else []) + groups["kwonly"]
    body = " * ".join(f"({n} + 1.0)" for n in names)
    args: list[str] = []
    pool = list(names) + ["q"]
    for _ in range(rng.randint(0, len(names) + 1)):
        value = rng.choice(["x", "x * x", "2.0"])
        if rng.random() < 0.5 and not any("=" in a for a in args):
            args.append(value)
        else:
            args.append(f"{rng.choice(pool)}={value}")
    if len({a.split("=")[0] for a in args if "=" in a}) < sum("=" in a for a in args):
        args = [a for a in args if "=" not in a]  # a repeated keyword is a SyntaxError, not a call error
    return f"def h({', '.join(text)}):\n    return {body}\n\ndef f(x):\n    return h({', '.join(args)}) * x\n"


def _python_accepts(text: str) -> bool:
    namespace: dict[str, object] = {}
    exec(compile(text, "<random>", "exec"), namespace)
    try:
        namespace["f"](0.3)  # type: ignore[operator]
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("seed", range(COUNT))
def test_random_calls(seed: int, tmp_path) -> None:
    text = call_program(seed)
    accepted = _python_accepts(text)
    case = Case(
        f"call-{seed}",
        {"m.py": text},
        (0.3,),
        expect="correct" if accepted else "refused",
        code=None if accepted else "bad-call",
    )
    verdict(case, tmp_path)
