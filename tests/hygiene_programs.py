"""Random programs whose identifiers are the names s2sad generates, builtins and imported names.

A differential test of the fresh-name service (:mod:`s2sad.names`): every local, parameter, loop index, helper,
module constant and import alias of a program is drawn from :data:`POOL` (``x_bar``, ``x_stack``, ``_``,
``grad_f``, ``adjoint_h``, ``unbroadcast``, ``range``, ``math``, ``cos`` ...), under Python's rules only (a name
a function reads as a global is never also one of its locals), and the gradient s2sad generates is compared with
central finite differences of the program itself.

Offline sweep: ``python tests/hygiene_programs.py N [START]`` checks a scalar and a NumPy program for each seed
START..START+N-1 and prints the failures and a summary.
"""

from __future__ import annotations

import ast
import random
import sys
from typing import Any

import numpy as np

#: Names s2sad generates (adjoints, stacks, counters, versions, intermediates, functions, support functions).
GENERATED = [
    "x", "y", "s", "a", "b", "x_bar", "y_bar", "s_bar", "a_bar", "x_stack", "y_stack", "s_stack", "_", "_1",
    "__1", "__bar", "i", "j", "k", "iterations", "iterations_1", "cond", "cond_1", "value", "sin_x", "cos_x",
    "tanh_x", "sin_s", "x_times_y", "a_times_b", "x_1", "y_1", "s_1", "x_range", "n_range", "g", "ans", "out",
    "choice", "grad_f", "grad_f_1", "adjoint_h", "adjoint_grad_f", "unbroadcast", "scatter", "unbroadcast_1",
    "f_t1", "h_x", "x_bar_1", "x_bar_h", "math_1", "numpy_1", "builtins_1", "index", "shape", "axes", "parts",
]  # fmt: skip
#: Builtins the output (or the support functions) may call.
BUILTIN = [
    "range", "reversed", "len", "abs", "float", "max", "min", "slice", "ValueError", "isinstance", "int", "tuple",
    "sum", "builtins", "enumerate", "all", "pow", "round",
]  # fmt: skip
#: Names of modules and of the functions programs import.
IMPORTED = ["math", "np", "numpy", "m", "sin", "cos", "tanh", "exp", "sqrt", "log"]
POOL = GENERATED + BUILTIN + IMPORTED

_MATH = ["sin", "cos", "tanh"]


class _Function:
    """The names of one function being generated."""

    def __init__(self, gen: HygieneProgram, params: list[str], builtins: set[str]) -> None:
        self.gen = gen
        self.builtins = builtins  #: builtins this function may call
        self.names = list(params)  #: variables defined on every path so far
        self.taken = set(params)  #: every local of the function
        self.lines: list[str] = []
        self.protected = params[:1]  #: never reassigned: the result always depends on it

    def target(self) -> str:
        """A variable to assign again."""
        return self.gen.rng.choice([n for n in self.names if n not in self.protected])

    def local(self) -> str:
        """A new local name: not a global this function reads, not already a local."""
        r = self.gen.rng
        candidates = [n for n in POOL if n not in self.gen.globals and n not in self.builtins and n not in self.taken]
        name = r.choice(candidates)
        self.taken.add(name)
        return name


class HygieneProgram:
    """A module: imports, constants, helpers and the target (``f`` or a name from :data:`POOL`), with
    identifiers from :data:`POOL`."""

    def __init__(self, seed: int, arrays: bool = False) -> None:
        self.rng = random.Random(seed)
        self.arrays = arrays
        self.globals: set[str] = set()
        self.calls: dict[str, str] = {}  #: math function -> how the program writes it
        self.helpers: list[tuple[str, int]] = []
        self.constants: list[str] = []
        self.main: _Function | None = None
        self.sum = "sum"
        self.target = "f"

    def _global(self) -> str:
        name = self.rng.choice([n for n in POOL if n not in self.globals and n != "f"])
        self.globals.add(name)
        return name

    def _target(self) -> str:
        """The function to differentiate: ``f``, or (one time in four) a name from the pool."""
        if self.rng.random() < 0.75:
            return "f"
        name = self.rng.choice([n for n in POOL if n not in self.globals])
        self.globals.add(name)
        return name

    # ----- expressions ---------------------------------------------------------------------------------------
    def expr(self, fn: _Function, depth: int = 0) -> str:
        r = self.rng
        if depth > 1 or r.random() < 0.3:
            if self.constants and r.random() < 0.1:
                return r.choice(self.constants)
            return r.choice(fn.names) if r.random() < 0.85 else repr(round(r.uniform(-1, 1), 2))
        kind = r.random()
        if kind < 0.35:
            return f"{self.calls[r.choice(_MATH)]}({self.expr(fn, depth + 1)})"
        if kind < 0.45 and self.helpers and fn is self.main:
            name, arity = r.choice(self.helpers)
            args = [self.expr(fn, depth + 1) for _ in range(arity)]
            if self.arrays:  # a helper's parameters are arrays too
                args = [f"({a}) + 0.01 * {fn.protected[0]}" for a in args]
            return f"{name}({', '.join(args)})"
        if kind < 0.55 and fn.builtins & {"abs", "max", "min"} and not self.arrays:
            b = r.choice(sorted(fn.builtins & {"abs", "max", "min"}))
            args = [self.expr(fn, depth + 1) for _ in range(1 if b == "abs" else 2)]
            return f"{b}({', '.join(args)})"
        op = r.choice(["+", "-", "*"])
        return f"({self.expr(fn, depth + 1)}) {op} ({self.expr(fn, depth + 1)}) * 0.5"

    def test(self, fn: _Function) -> str:
        """A scalar to compare: a variable, or the sum of an array."""
        name = self.rng.choice(fn.names)
        return f"{self.sum}({name})" if self.arrays else name

    def bounded(self, fn: _Function) -> str:
        value = f"{self.calls['tanh']}({self.expr(fn)})"
        # on arrays, every variable keeps its parameter's shape (a name that is an array on one path and a
        # scalar on another is a question of values, not of names)
        return f"{value} + 0.01 * {fn.protected[0]}" if self.arrays and fn.protected else value

    # ----- statements ----------------------------------------------------------------------------------------
    def statement(self, fn: _Function, indent: int, depth: int) -> None:
        r = self.rng
        pad = "    " * indent
        kind = r.random()
        if depth < 2 and kind < 0.15 and {"range", "reversed"} <= fn.builtins:
            index = fn.local()
            loop = f"range({r.randint(0, 3)})" if r.random() < 0.6 else f"reversed(range({r.randint(1, 3)}))"
            fn.lines.append(f"{pad}for {index} in {loop}:")
            for _ in range(r.randint(1, 2)):
                self.statement(fn, indent + 1, depth + 1)
            return
        if depth < 2 and kind < 0.22:
            counter = fn.local()
            fn.lines.append(f"{pad}{counter} = 0")
            fn.lines.append(f"{pad}while {counter} < {r.randint(0, 3)}:")
            self.statement(fn, indent + 1, depth + 1)
            fn.lines.append(f"{pad}    {counter} = {counter} + 1")
            return
        if depth < 2 and kind < 0.3:
            fn.lines.append(f"{pad}if {self.test(fn)} > {round(r.uniform(-0.5, 0.5), 2)}:")
            self.statement(fn, indent + 1, depth + 1)
            fn.lines.append(f"{pad}else:")
            self.statement(fn, indent + 1, depth + 1)
            return
        if kind < 0.38 and len(fn.names) >= 3:
            a, b = r.sample([n for n in fn.names if n not in fn.protected], 2)
            fn.lines.append(f"{pad}{a}, {b} = {b}, {self.bounded(fn)}")
            return
        if len(fn.names) == len(fn.protected) or (kind < 0.54 and indent == 1 and r.random() < 0.2):
            name = fn.local()
            fn.lines.append(f"{pad}{name} = {self.bounded(fn)}")
            if indent == 1:
                fn.names.append(name)
            return
        if kind < 0.46:
            target = fn.target()  # on arrays, += mutates a buffer another name may share (issue family 6)
            update = f"+= 0.3 * {self.bounded(fn)}" if not self.arrays else f"= {target} + 0.3 * {self.bounded(fn)}"
            fn.lines.append(f"{pad}{target} {update}")
            return
        if kind < 0.54:
            choice = f"{self.expr(fn)} if {self.test(fn)} > 0 else {self.expr(fn)}"
            if self.arrays:
                choice = f"({choice}) + 0.01 * {fn.protected[0]}"
            fn.lines.append(f"{pad}{fn.target()} = {choice}")
            return
        if indent == 1 and r.random() < 0.6:  # a new variable, defined on every path
            name = fn.local()
            fn.lines.append(f"{pad}{name} = {self.bounded(fn)}")
            fn.names.append(name)
            return
        fn.lines.append(f"{pad}{fn.target()} = {self.bounded(fn)}")

    def function(self, name: str, nparams: int, statements: int) -> tuple[_Function, str]:
        r = self.rng
        builtins = {b for b in ("range", "reversed", "abs", "max", "min") if b not in self.globals and r.random() < 0.7}
        fn = _Function(self, [], builtins)
        params = [fn.local() for _ in range(nparams)]
        fn.names, fn.protected = list(params), params[:1]
        if name == self.target:
            self.main = fn
        for _ in range(statements):
            self.statement(fn, 1, 0)
        if self.arrays:
            total = " + ".join(f"{self.sum}({n})" for n in r.sample(fn.names, min(2, len(fn.names))))
            if name == self.target:  # slices: the support function 'scatter'
                total += f" + {self.sum}({params[0]}[0:2] * {params[0]}[1:3])"
            result = total
        else:
            result = " + ".join(r.sample(fn.names, min(3, len(fn.names)))) + f" + 0.01 * {params[0]}"
        body = "\n".join(fn.lines)
        text = (
            f"def {name}({', '.join(params)}):\n{body}\n    return {result}\n"
            if body
            else (f"def {name}({', '.join(params)}):\n    return {result}\n")
        )
        return fn, text

    def source(self) -> str:
        r = self.rng
        module = "numpy" if self.arrays else "math"
        if r.random() < 0.5 or self.arrays:
            alias = self._global() if r.random() < 0.7 else module
            self.globals.add(alias)
            head = f"import {module}" if alias == module else f"import {module} as {alias}"
            self.calls = {f: f"{alias}.{f}" for f in _MATH}
            self.sum = f"{alias}.sum"
        else:
            locals_: dict[str, str] = {}
            for f in _MATH:  # one binding per name (two are a question of bindings: issue family 1)
                locals_[f] = f if f not in self.globals and r.random() < 0.5 else self._global()
                self.globals.add(locals_[f])
            items = sorted(f if local == f else f"{f} as {local}" for f, local in locals_.items())
            head = f"from math import {', '.join(items)}"
            self.calls = dict(locals_)
        parts = [head]
        for _ in range(r.randint(0, 2)):
            name = self._global()
            self.constants.append(name)
            value = round(r.uniform(0.2, 0.9), 2)
            value = value + 0.005 if value in (abs(v) for v in POINT) else value  # no kink at the point itself
            parts.append(f"{name} = {value}")
        self.target = self._target()  # before the helpers: none may call a builtin the target's name shadows
        helper_names = [self._global() for _ in range(r.randint(0, 2))]
        texts: list[str] = []
        for name in helper_names:
            arity = r.randint(1, 2)
            _, text = self.function(name, arity, r.randint(0, 2))
            self.helpers.append((name, arity))
            texts.append(text)
        _, main = self.function(self.target, 1 if self.arrays else 2, r.randint(3, 6))
        return "\n".join(parts) + "\n\n\n" + "\n\n".join(texts + [main])


POINT = (0.37, -0.61)
ARRAY = (0.3, -0.5, 0.7)


def check(seed: int, arrays: bool = False) -> tuple[str, str]:
    """``("ok", "")`` if the generated gradient of program ``seed`` equals finite differences; ``("skip", why)``
    when there is no reference (the point is at a kink); ``("refused", diagnostic)``; ``("invalid", report)`` if
    the program itself fails (a bug of the generator); else ``("fail", report)``
    with the program and the generated module."""
    from s2sad import S2sadError, generate

    program = HygieneProgram(seed, arrays)
    source = program.source()
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<hygiene program {seed}>", "exec"), namespace)
    f = namespace[program.target]
    at: list[Any] = [np.array(ARRAY)] if arrays else list(POINT)
    try:
        f(*at)
    except Exception as err:  # a bug of the generator: the program itself must run
        return "invalid", f"seed {seed}: the program raised {type(err).__name__}: {err}\n{source}"
    try:
        text = generate(source, f"hygiene_{seed}.py", program.target)
    except S2sadError as err:
        return "refused", f"seed {seed}: {err}\n{source}"
    except Exception as err:  # a crash is a failure too
        return "fail", f"seed {seed}: {type(err).__name__}: {err}\n{source}"
    try:
        generated: dict[str, Any] = {}
        exec(compile(text, "<grad>", "exec"), generated)
        names = [s.name for s in ast.parse(text).body if isinstance(s, ast.FunctionDef) and s.name.startswith("grad_")]
        grad = generated[names[-1]]  # the convention: the last top-level 'grad_' function
        wrt = text.split("with respect to ", 1)[1].split(".", 1)[0].split(", ")
        got = grad(*at)
    except Exception as err:
        return "fail", f"seed {seed}: the generated module raised {type(err).__name__}: {err}\n{source}\n{text}"
    params = list(f.__code__.co_varnames[: f.__code__.co_argcount])
    values = [got] if len(wrt) == 1 else list(got)
    for name, value in zip(wrt, values):
        index = params.index(name)
        coarse, fine = _fd(f, at, index, 1e-5), _fd(f, at, index, 1e-7)
        if not _close(coarse, fine, 1e-3, 1e-5):
            return "skip", "the point is at a kink"  # finite differences straddle a jump: no reference
        if not _close(value, coarse, 1e-4, 1e-6):
            return (
                "fail",
                f"seed {seed}: d/d{name} generated {value!r} != finite differences {coarse!r}\n{source}\n{text}",
            )
    return "ok", ""


def _fd(f: Any, at: list[Any], index: int, eps: float) -> Any:
    x = np.asarray(at[index], dtype=float)
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        h = eps * max(1.0, abs(float(x[k])))
        up[k] += h
        down[k] -= h
        a_up, a_down = list(at), list(at)
        a_up[index] = up if x.shape else float(up)
        a_down[index] = down if x.shape else float(down)
        out[k] = (f(*a_up) - f(*a_down)) / (2 * h)
    return out if x.shape else float(out)


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def sweep(count: int, start: int = 0) -> dict[str, int]:
    """Check ``count`` scalar and ``count`` NumPy programs; print the failures and a summary."""
    tally = {"ok": 0, "skip": 0, "refused": 0, "fail": 0, "invalid": 0}
    for seed in range(start, start + count):
        for arrays in (False, True):
            status, report = check(seed, arrays)
            tally[status] += 1
            if status in ("fail", "refused", "invalid"):
                print(status, report, "\n" + "-" * 80)
    print(
        f"{2 * count} programs: {tally['ok']} correct, {tally['refused']} refused, {tally['skip']} at a kink, "
        f"{tally['fail']} wrong or crashed, {tally['invalid']} invalid programs"
    )
    return tally


if __name__ == "__main__":
    tally = sweep(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    sys.exit(1 if tally["fail"] or tally["invalid"] else 0)
