"""Justin Domke's example: f(x) = exp(exp(x) + exp(x)**2) + sin(exp(x) + exp(x)**2), with its intermediates."""

from math import exp, sin


def f(x):
    a = exp(x)
    b = a**2
    c = a + b
    d = exp(c)
    e = sin(c)
    return d + e
