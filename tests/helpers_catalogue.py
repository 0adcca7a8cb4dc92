"""Functions that call helpers, for tests/test_helpers.py: each (function, arguments, differentiated indices)."""

import math
from math import exp, tanh

import s2sad


def sigmoid(z):
    return 1.0 / (1.0 + exp(-z))


def layer(x, w, b):
    return tanh(w * x + b)


def twice(x, w):
    return layer(layer(x, w, 0.1), w, -0.2)


def power(x, n, negate):
    s = x
    for i in range(n):
        s = s * x
    if negate:
        s = -s
    return s


@s2sad.rule(x="g * out * (1 - out)")
def fast_sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def once(x):
    return sigmoid(x) * x


def called_twice(x, y):
    return sigmoid(x) + sigmoid(x * y)


def chain(x, w):
    return twice(x, w) * w


def in_loop(x, w, n):
    for i in range(n):
        x = layer(x, w, 0.05 * i)
    return x


def in_branch(x, w):
    if x > 0:
        y = sigmoid(x * w)
    else:
        y = layer(x, w, 1.0)
    return y


def non_differentiated_arguments(x, n):
    return power(x, n, True) + power(x, 2, False)


def custom_rule(x):
    return fast_sigmoid(x) * x


def only_some_adjoints(x, w):
    return layer(x, 0.5, w) + layer(2.0, w, x)


CASES = [
    (once, (0.3,), (0,)),
    (called_twice, (0.3, 1.7), (0, 1)),
    (chain, (0.3, 0.8), (0, 1)),
    (in_loop, (0.3, 0.8, 6), (0, 1)),
    (in_branch, (0.3, 0.8), (0, 1)),
    (in_branch, (-0.3, 0.8), (0, 1)),
    (non_differentiated_arguments, (0.7, 3), (0,)),
    (custom_rule, (0.4,), (0,)),
    (only_some_adjoints, (0.3, 0.8), (0, 1)),
]


def reassigns_parameter(u, v):
    u = u * v
    u = u + math.exp(-u)
    return u


def same_argument_twice(x):
    return reassigns_parameter(x, x) + reassigns_parameter(x, 2.0)


def helper_in_while(x):
    k = 0
    while k < 4:
        x = reassigns_parameter(x, 0.7) * 0.9
        k = k + 1
    return x


CASES.append((same_argument_twice, (0.4,), (0,)))
CASES.append((helper_in_while, (0.6,), (0,)))
