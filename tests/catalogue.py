"""Test functions, each with points to check its gradient at: every construct the supported subset has.

``CASES`` lists (function, arguments, indices of the differentiated arguments); ``tests/test_catalogue.py``
checks each against central finite differences.
"""

import math
import math as m
from math import cos, exp, log, sin, sqrt, tanh
from math import exp as e_

K = 3.0
HALF = -1 / 2


# ---- straight-line code ------------------------------------------------------------------------------------
def domke(x):
    a = exp(x)
    b = a**2
    c = a + b
    d = exp(c)
    e = sin(c)
    return d + e


def flat_domke(x):
    return exp(exp(x) + exp(x) ** 2) + sin(exp(x) + exp(x) ** 2)


def network(a):
    b1 = 2 * a
    b2 = 3 * a + b1
    return 4 * b1 + 5 * b2


def reassigned(x, y):
    x = x * y
    x = x + sin(x)
    y = y * x
    x = x / y + y
    return x


def augmented(x, y):
    z = x
    z += y
    z *= x
    z -= y * 2
    z /= 3.0
    z **= 2
    return z


def tuple_swap(x, y):
    x, y = y, x * 2
    a, b = x + y, x - y
    return a * b + x


def used_many_times(x):
    a = x * x
    return a * x + a / x + x - a + x**3


def unused_parameter(x, y, z):
    return x * z + 1.0


def constants_and_aliases(x):
    y = m.sin(x) * K + e_(x) * HALF + math.pi * x
    return y


def powers(x, y):
    return x**2 + x**0.5 + x**-1.5 + x**y + 2.0**x + pow(x, 3) + math.pow(y, x)


def division_chain(x, y):
    return x / y / (x + y) - 1 / x


def negation(x):
    return -(-x * x) + -sqrt(x)


def two_arg_log(x, b):
    return log(x, b) + math.log(x)


def abs_min_max(x, y):
    return abs(x - y) + max(x, y) * min(x, 2 * y) + math.fabs(x)


def deep(x):
    return tanh(sin(cos(exp(x * 0.3)) * 2.0) + x) * math.atan2(x, 1.0 + x * x)


def defaults(x, scale=2.0):
    return scale * x * x


def docstring_and_pass(x):
    """A docstring and a pass are fine."""
    pass
    return x * 3.0


def annotated(x: float) -> float:
    y: float = x * x
    return y


def through_float(x):
    return float(x) * 2.0


# ---- loops -------------------------------------------------------------------------------------------------
def background_loop(x, c):
    for _ in range(3):
        x = x + c
    return x


def carried_sin(x, y):
    for i in range(200):
        x = sin(x) * y + 0.5 * x
    return x


def index_arithmetic(x, n):
    s = 0.0
    for i in range(1, n + 1, 2):
        s = s + x * i + x * float(i) ** 2 / n
    return s


def thousand_steps(x, y):
    for i in range(1000):
        x = x + 0.001 * sin(x * y)
    return x


def reversed_range(x):
    s = 0.0
    for i in reversed(range(5)):
        s = s * x + i
    return s


def several_statements(x, y):
    a = x
    b = y
    for i in range(4):
        t = a * b
        a = sin(t) + b
        b = b * 0.9 + t * 0.1
        a = a * 0.5
    return a + b


def nested_loops(x, n):
    s = 0.0
    for i in range(n):
        t = x * i
        for j in range(i):
            s = s + t * math.cos(x + j)
    return s


def loop_after_loop(x):
    for i in range(3):
        x = x * 1.1 + 0.1
    y = x
    for i in range(2):
        y = y * x
    return y


def live_out(x):
    for i in range(4):
        t = x * i
    return t * x


def length_of_loop(x, n):
    acc = 1.0
    for k in range(2 * n - n):
        acc = acc * (x + k)
    return acc


# ---- branches ----------------------------------------------------------------------------------------------
def branch(x, y):
    if x > 0:
        z = x * y
    else:
        z = sin(y)
    return z * x


def elif_chain(x):
    if x < -1.0:
        y = -x
    elif x < 1.0:
        y = x * x
    else:
        y = exp(x)
    return y


def branch_without_else(x, y):
    z = x
    if y > x:
        z = z * y
    return z + x


def flag_parameter(x, flag):
    if flag:
        return_value = x * 2.0
    else:
        return_value = x * x
    return return_value


def conditional_expression(x, y):
    z = x * y if x > y else y - x
    return z + (x if x > 0 else -x)


def boolean_conditions(x, y):
    if x > 0 and y > 0 or not x < 5:
        r = x * y
    else:
        r = x + y
    return r


def branch_in_loop(x, n):
    for i in range(n):
        if i % 2 == 0:
            x = sin(x)
        else:
            x = x * 1.5
    return x


def data_branch_in_loop(x):
    for i in range(6):
        if x > 1.0:
            x = x / 2.0
        else:
            x = x * x + 0.5
    return x


def loop_in_branch(x, n):
    if x > 0:
        for i in range(n):
            x = x * 0.9 + 0.1 * i
    else:
        y = x
        for i in range(n):
            y = y * 2
        x = y
    return x


def local_in_branch_in_loop(x):
    s = 0.0
    for i in range(5):
        if i > 1:
            t = sin(x * i)
            s = s + t * t
    return s


# ---- while --------------------------------------------------------------------------------------------------
def halving(x):
    while x > 0.1:
        x = x * 0.5
    return x * x


def while_with_setup(x, y):
    n = 0
    while abs(x) > 0.01 and n < 50:
        x = x * 0.7 - 0.01 * y
        n = n + 1
    return x * y


CASES = [
    (domke, (0.3,), (0,)),
    (flat_domke, (0.3,), (0,)),
    (network, (1.0,), (0,)),
    (reassigned, (0.7, 1.3), (0, 1)),
    (augmented, (0.7, 1.3), (0, 1)),
    (tuple_swap, (0.7, 1.3), (0, 1)),
    (used_many_times, (0.8,), (0,)),
    (unused_parameter, (0.7, 1.3, 2.0), (0, 2)),
    (constants_and_aliases, (0.4,), (0,)),
    (powers, (1.7, 0.6), (0, 1)),
    (division_chain, (0.7, 1.3), (0, 1)),
    (negation, (0.7,), (0,)),
    (two_arg_log, (2.5, 3.0), (0, 1)),
    (abs_min_max, (0.7, 1.3), (0, 1)),
    (abs_min_max, (1.9, 0.4), (0, 1)),
    (abs_min_max, (-0.5, 0.4), (0, 1)),
    (deep, (0.8,), (0,)),
    (defaults, (0.8, 2.0), (0, 1)),
    (docstring_and_pass, (0.8,), (0,)),
    (annotated, (0.8,), (0,)),
    (through_float, (0.8,), (0,)),
    (background_loop, (0.5, 2.0), (0, 1)),
    (carried_sin, (0.3, 0.9), (0, 1)),
    (index_arithmetic, (0.7, 6), (0,)),
    (thousand_steps, (0.5, 1.5), (0, 1)),
    (reversed_range, (0.7,), (0,)),
    (several_statements, (0.7, 1.3), (0, 1)),
    (nested_loops, (0.7, 5), (0,)),
    (nested_loops, (0.7, 0), (0,)),
    (loop_after_loop, (0.7,), (0,)),
    (live_out, (0.7,), (0,)),
    (length_of_loop, (0.7, 4), (0,)),
    (branch, (0.7, 1.3), (0, 1)),
    (branch, (-0.7, 1.3), (0, 1)),
    (elif_chain, (-2.0,), (0,)),
    (elif_chain, (0.5,), (0,)),
    (elif_chain, (2.0,), (0,)),
    (branch_without_else, (0.7, 1.3), (0, 1)),
    (branch_without_else, (1.7, 1.3), (0, 1)),
    (flag_parameter, (0.7, True), (0,)),
    (flag_parameter, (0.7, False), (0,)),
    (conditional_expression, (0.7, 1.3), (0, 1)),
    (conditional_expression, (1.7, -1.3), (0, 1)),
    (boolean_conditions, (0.7, 1.3), (0, 1)),
    (boolean_conditions, (0.7, -1.3), (0, 1)),
    (branch_in_loop, (0.7, 5), (0,)),
    (data_branch_in_loop, (3.3,), (0,)),
    (data_branch_in_loop, (0.6,), (0,)),
    (loop_in_branch, (0.7, 4), (0,)),
    (loop_in_branch, (-0.7, 4), (0,)),
    (local_in_branch_in_loop, (0.7,), (0,)),
    (halving, (3.3,), (0,)),
    (while_with_setup, (0.9, 0.3), (0, 1)),
]


def one_liner(x): return x * sin(x)  # fmt: skip


CASES.append((one_liner, (0.7,), (0,)))


def trip_count_from_len(x, xs):
    for i in range(len(xs)):
        x = x * 1.1 + 0.1
    return x


CASES.append((trip_count_from_len, (0.7, [1.0, 2.0, 3.0]), (0,)))


def one_line_blocks(x, y):
    if x > y: z = x * y  # fmt: skip
    else: z = x + y  # fmt: skip
    for i in range(2): z = z * x  # fmt: skip
    return z


CASES.append((one_line_blocks, (0.7, 0.3), (0, 1)))
CASES.append((one_line_blocks, (0.3, 0.7), (0, 1)))


def range_argument_reassigned_in_the_loop(x, n):
    for i in range(n):
        n = n + 1
        x = x * 1.5 + 0.1 * i
    return x * n


CASES.append((range_argument_reassigned_in_the_loop, (0.7, 3), (0,)))


def swap_in_loop(a, b):
    for i in range(5):
        a, b = b, a * 0.5 + math.sin(b)
    return a * b


def branch_in_while(x, y):
    while x < 5.0:
        if y > 0.5:
            x = x * 1.3 + y
        else:
            x = x + 1.0
        y = y * 0.8
    return x * y


CASES.append((swap_in_loop, (0.3, 0.7), (0, 1)))
CASES.append((branch_in_while, (0.3, 0.9), (0, 1)))
