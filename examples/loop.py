"""A loop-carried recurrence and a data-dependent branch: the gradient keeps both, run backwards."""

from math import sin, tanh


def f(x, y, n):
    for i in range(n):
        x = sin(x) * y + 0.5 * x
    return x


def g(w, steps):
    h = 0.1
    for t in range(steps):
        z = w * h + 0.01 * t
        if z > 0:
            h = tanh(z)
        else:
            h = 0.1 * z
    return h * h
