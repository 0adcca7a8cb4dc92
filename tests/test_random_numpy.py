"""Random NumPy programs (shapes tracked by the generator), checked by finite differences along random
directions: broadcasting, reductions with axis/keepdims, matmul, indexing, loops."""

import random

import numpy as np
import pytest

from s2sad import generate
from s2sad.gradcheck import check

SHAPES = {"A": (3, 4), "v": (4,), "c": (3, 1), "s": ()}


class NumpyProgram:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.vars = dict(SHAPES)  # name -> shape
        self.lines = []
        self.count = 0

    def pick(self, shape=None):
        names = [n for n, sh in self.vars.items() if shape is None or sh == shape]
        return self.rng.choice(names) if names else None

    def expr(self, depth=0):
        """An expression and its shape."""
        r = self.rng
        if depth > 1 or r.random() < 0.3:
            name = self.pick()
            return name, self.vars[name]
        choice = r.random()
        a, sa = self.expr(depth + 1)
        if choice < 0.25:
            f = r.choice(
                ["np.tanh({})", "np.sin({})", "np.exp(0.2 * np.tanh({}))", "np.square({})", "np.abs({}) + 1.0"]
            )
            return f.format(a), sa
        if choice < 0.55:
            b, sb = self.expr(depth + 1)
            try:
                shape = np.broadcast_shapes(sa, sb)
            except ValueError:
                return a, sa
            op = r.choice(["+", "-", "*", "0.5 *"])
            return (f"({a}) * ({b}) * 0.5" if op == "0.5 *" else f"({a}) {op} ({b})"), shape
        if choice < 0.75 and len(sa) == 2:
            axis = r.choice([0, 1])
            keep = r.choice([True, False])
            f = r.choice(["np.sum", "np.mean", "np.max"])
            shape = (
                tuple(1 if k == axis else n for k, n in enumerate(sa))
                if keep
                else tuple(n for k, n in enumerate(sa) if k != axis)
            )
            return f"{f}({a}, axis={axis}, keepdims={keep})", shape
        if choice < 0.85 and sa == (3, 4):
            other = self.pick((4,))
            return f"({a}) @ {other}", (3,)
        if choice < 0.92 and len(sa) >= 1:
            return (f"({a})[1:]", (sa[0] - 1,) + sa[1:]) if sa[0] > 1 else (a, sa)
        return f"np.sum({a})", ()

    def source(self):
        for _ in range(self.rng.randint(2, 5)):
            e, shape = self.expr()
            if self.rng.random() < 0.2 and shape == (4,):
                self.lines.append(f"    for i in range(2):\n        v = np.tanh(v * 0.9 + ({e}) * 0.1)")
                continue
            name = f"t{self.count}"
            self.count += 1
            self.lines.append(f"    {name} = {e}")
            self.vars[name] = shape
        total = " + ".join(f"np.sum(np.tanh({n}))" for n in self.rng.sample(list(self.vars), 3))
        body = "\n".join(self.lines)
        return f"import numpy as np\n\n\ndef f(A, v, c, s):\n{body}\n    return {total}\n"


@pytest.mark.parametrize("seed", range(80))
def test_random_numpy_program(seed):
    source = NumpyProgram(seed).source()
    namespace = {}
    exec(compile(source, f"<numpy program {seed}>", "exec"), namespace)
    generated = {}
    exec(compile(generate(source, f"np_{seed}.py", "f", wrt=("A", "v", "c", "s")), "<grad>", "exec"), generated)
    rng = np.random.default_rng(seed)
    args = (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(3, 1)), float(rng.normal()))
    grads = generated["grad_f"](*args)
    for g, a in zip(grads, args):
        assert np.shape(g) == np.shape(a), source
    result = check(namespace["f"], generated["grad_f"], args, [0, 1, 2, 3], ["A", "v", "c", "s"], rtol=1e-5, atol=1e-7)
    assert result, result.report() + "\n" + source
