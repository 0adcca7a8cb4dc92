"""The adversarial review of the modes merged in this session: checkpointed loops (``# s2sad: checkpoint [N]``),
fixed-point loops (``# s2sad: fixed-point``), ``vjp`` and ``hvp``. Every row is either differentiated correctly
(central finite differences of the user's own function; for ``vjp`` of ``sum(out_bar * f)`` with a random
``out_bar``; for ``hvp`` of the generated gradient) or refused with a located diagnostic, never silently wrong.

Grouped by family: odd ranges, trip counts, state kinds and bodies of checkpointed loops; states, tests and
bodies of fixed-point loops; tuple, repeated, array and keyword results of the other modes."""

from __future__ import annotations

import importlib
import inspect
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import s2sad
from soundness import Case, verdict

H = "import math\nimport numpy as np\n\n"
CASES: list[Case] = []


def c(id: str, src: str, at: tuple[Any, ...], **kw: Any) -> None:
    kw.setdefault("expect", "correct")
    CASES.append(Case(id, {"m.py": H + textwrap.dedent(src)}, at, **kw))


# ----- checkpointed loops ---------------------------------------------------------------------------------------
c(
    "range-step",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(1, n, 2):
        s = s * x + math.sin(s) * i
    return s
""",
    (0.7, 8),
    family="checkpoint",
)
c(
    "range-neg-step",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n, 0, -1):
        s = s * 0.9 + math.sin(s * x) * i
    return s
""",
    (0.7, 7),
    family="checkpoint",
)
c(
    "range-neg-step3",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint
    for i in range(n, -3, -3):
        s = s * 0.9 + math.sin(s * x) * i
    return s
""",
    (0.7, 11),
    family="checkpoint",
)
c(
    "zero-trips",
    """
def f(x, n):
    s = x * x
    # s2sad: checkpoint 3
    for i in range(n):
        s = s * x
    return s
""",
    (0.7, 0),
    family="checkpoint",
)
c(
    "negative-trips",
    """
def f(x, n):
    s = x * x
    # s2sad: checkpoint 3
    for i in range(5, n):
        s = s * x
    return s
""",
    (0.7, 2),
    family="checkpoint",
)
c(
    "N-large",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 50
    for i in range(n):
        s = math.sin(s) * x + s
    return s
""",
    (0.7, 3),
    family="checkpoint",
)
c(
    "list-state",
    """
def f(x, n):
    s = [x, x * 2.0]
    # s2sad: checkpoint 2
    for i in range(n):
        s[0] = s[0] * math.cos(s[1])
        s[1] = s[1] + s[0] * x
    return s[0] + s[1]
""",
    (0.7, 5),
    family="checkpoint",
    expect="refused",
    code="unsupported-syntax",
)
c(
    "array-state-inplace",
    """
def f(x, n):
    a = np.array([x, 2.0 * x, 3.0])
    # s2sad: checkpoint 2
    for i in range(n):
        a[0] = a[0] * np.cos(a[1])
        a[1] = a[1] + a[2] * a[0]
        a[2] = a[2] * 0.5 + a[0]
    return a[0] + a[1] * a[2]
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "array-param-inplace",
    """
def f(a, n):
    a = a.copy()
    # s2sad: checkpoint 3
    for i in range(n):
        a[i % 3] = a[i % 3] * np.sin(a[(i + 1) % 3])
    return np.sum(a * a)
""",
    (np.array([0.3, 0.5, 0.9]), 7),
    family="checkpoint",
    expect="refused",
    code="inplace-alias",
)
c(
    "array-slice-inplace",
    """
def f(a, n):
    b = a * 1.0
    # s2sad: checkpoint 2
    for i in range(n):
        b[1:] = b[1:] * np.cos(b[:-1])
    return np.sum(b)
""",
    (np.array([0.3, 0.5, 0.9]), 5),
    family="checkpoint",
)
c(
    "tuple-state",
    """
def f(x, n):
    p = (x, 1.0)
    # s2sad: checkpoint 2
    for i in range(n):
        p = (p[0] * math.cos(p[1]), p[1] + p[0])
    return p[0] * p[1]
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "tuple-unpack-state",
    """
def f(x, n):
    a, b = x, 1.0
    # s2sad: checkpoint 2
    for i in range(n):
        a, b = a * math.cos(b), b + a * x
    return a * b
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "read-after-loop-i",
    """
def f(x, n):
    s = x
    i = 0
    # s2sad: checkpoint 2
    for i in range(n):
        s = s * math.cos(x * i)
    return s * i
""",
    (0.7, 5),
    family="checkpoint",
    expect="refused",
    code="loop-index-after-loop",
)
c(
    "first-assigned-inside",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        t = s * x
        s = math.sin(t) + s
    return s + t
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "first-assigned-inside-cond",
    """
def f(x, n):
    s = x
    t = 0.0
    # s2sad: checkpoint 2
    for i in range(n):
        if i % 2 == 0:
            t = s * x
        s = math.sin(t) + s
    return s + t
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "helper",
    """
def g(u, x):
    return u * math.cos(x) + u * u * 0.1
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        s = g(s, x)
    return s
""",
    (0.7, 6),
    family="checkpoint",
)
c(
    "nested-inner",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        for j in range(i):
            s = s * math.cos(s + x * j)
        if s > 0.3:
            s = s + x
        else:
            s = s * x
    return s
""",
    (0.7, 6),
    family="checkpoint",
)
c(
    "inner-while",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        j = 0
        while j < i:
            s = s * math.cos(s + x)
            j = j + 1
    return s
""",
    (0.7, 6),
    family="checkpoint",
)
c(
    "append",
    """
def f(x, n):
    xs = [x]
    # s2sad: checkpoint 2
    for i in range(n):
        xs.append(math.sin(xs[-1]) * x)
    return sum(xs)
""",
    (0.7, 6),
    family="checkpoint",
)
c(
    "accumulate-outside-read",
    """
def f(x, n):
    s = 0.0
    y = x * x
    # s2sad: checkpoint 3
    for i in range(n):
        s = s + y * math.sin(s + i)
        y = y * 0.9
    return s + y
""",
    (0.7, 7),
    family="checkpoint",
)
c(
    "outer-loop",
    """
def f(x, n):
    s = x
    for k in range(3):
        y = s * x
        # s2sad: checkpoint 2
        for i in range(n):
            y = math.sin(y) * s
        s = s + y
    return s
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "outer-loop-reads-changed",
    """
def f(x, n):
    s = x
    c = x
    for k in range(3):
        # s2sad: checkpoint 2
        for i in range(n):
            s = math.sin(s) * c
        c = c * 1.3 + s
    return s + c
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "range-len",
    """
def f(a):
    s = 1.0
    # s2sad: checkpoint 2
    for i in range(len(a)):
        s = s * np.cos(a[i] + s)
    return s
""",
    (np.array([0.3, 0.5, 0.9, 1.1, 0.2]),),
    family="checkpoint",
)
c(
    "iter-array",
    """
def f(a):
    s = 1.0
    # s2sad: checkpoint 2
    for v in a:
        s = s * np.cos(v + s)
    return s
""",
    (np.array([0.3, 0.5, 0.9, 1.1, 0.2]),),
    family="checkpoint",
)
c(
    "iter-enumerate",
    """
def f(a):
    s = 1.0
    # s2sad: checkpoint 2
    for k, v in enumerate(a):
        s = s * np.cos(v * k + s)
    return s
""",
    (np.array([0.3, 0.5, 0.9, 1.1, 0.2]),),
    family="checkpoint",
)
c(
    "two-checkpoint-loops",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        s = math.sin(s) + x
    # s2sad: checkpoint
    for i in range(n):
        s = math.cos(s) * x
    return s
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "loop-var-reassigned",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        i = i * 2
        s = math.sin(s) * i + x
    return s
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "state-swap",
    """
def f(x, n):
    a = x
    b = 2.0
    # s2sad: checkpoint 2
    for i in range(n):
        t = a
        a = b * math.cos(a)
        b = t
    return a * b
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "array-rebind-alias",
    """
def f(a, n):
    b = a * 1.0
    c = b
    # s2sad: checkpoint 2
    for i in range(n):
        b[0] = b[0] * np.cos(b[1])
    return np.sum(c) + b[0]
""",
    (np.array([0.3, 0.5]), 5),
    family="checkpoint",
    expect="refused",
    code="inplace-alias",
)
c(
    "n-float-start",
    """
def f(x, n, m):
    s = x
    # s2sad: checkpoint 3
    for i in range(m, n):
        s = math.sin(s) * x + i
    return s
""",
    (0.7, 9, 2),
    family="checkpoint",
)
c(
    "list-of-arrays-inplace",
    """
def f(a, n):
    L = [a * 1.0, a * 2.0]
    # s2sad: checkpoint 2
    for i in range(n):
        L[0][0] = L[0][0] * np.cos(L[1][1])
        L[1] = L[1] * 0.5 + L[0]
    return np.sum(L[0]) + np.sum(L[1])
""",
    (np.array([0.3, 0.5]), 5),
    family="checkpoint",
    expect="refused",
    code="unsupported-syntax",
)
c(
    "aug-assign",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        s *= math.cos(s)
        s += x
    return s
""",
    (0.7, 5),
    family="checkpoint",
)
c(
    "array-aug-inplace",
    """
def f(a, n):
    b = a.copy()
    # s2sad: checkpoint 2
    for i in range(n):
        b += np.sin(b) * a
    return np.sum(b * b)
""",
    (np.array([0.3, 0.5]), 5),
    family="checkpoint",
)
c(
    "array-aug-slice",
    """
def f(a, n):
    b = a.copy()
    # s2sad: checkpoint 2
    for i in range(n):
        b[0] += np.sin(b[1]) * a[0]
        b[1] *= np.cos(b[0])
    return np.sum(b * b)
""",
    (np.array([0.3, 0.5]), 5),
    family="checkpoint",
)
c(
    "continue-in-body",
    """
def f(x, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        if i % 2 == 0:
            continue
        s = math.sin(s) * x
    return s
""",
    (0.7, 7),
    family="checkpoint",
)


# ----- fixed-point loops ----------------------------------------------------------------------------------------
c(
    "two-vars",
    """
def f(a, b):
    x = 0.0
    y = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(y) + a
        yn = 0.3 * math.sin(x) * b + 0.1
        d = abs(xn - x) + abs(yn - y)
        x = xn
        y = yn
    return x * y + x
""",
    (0.3, 0.8),
    family="fixed-point",
)
c(
    "param-in-test-only",
    """
def f(a, t):
    x = 1.0
    # s2sad: fixed-point
    while abs(x - math.cos(x) * a) > t * 1e-13:
        x = math.cos(x) * a
    return x + t
""",
    (0.5, 1.0),
    family="fixed-point",
)
c(
    "state-read-before",
    """
def f(a):
    x = a * 2.0
    y = x * x
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x) + a
        d = abs(xn - x)
        x = xn
    return x + y
""",
    (0.3,),
    family="fixed-point",
)
c(
    "state-read-before-direct",
    """
def f(a):
    x = a
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x) + a
        d = abs(xn - x)
        x = xn
    return x + a * a
""",
    (0.3,),
    family="fixed-point",
)
c(
    "init-saved-name",
    """
def f(a):
    x = a * 3.0
    x0 = x
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x) + a
        d = abs(xn - x)
        x = xn
    return x * x0
""",
    (0.3,),
    family="fixed-point",
)
c(
    "array-state",
    """
def f(A, b):
    x = np.zeros(2)
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.4 * np.tanh(A @ x) + b
        d = np.max(np.abs(xn - x))
        x = xn
    return np.sum(x ** 2)
""",
    (np.array([[0.5, -0.2], [0.3, 0.4]]), np.array([0.2, -0.1])),
    family="fixed-point",
)
c(
    "array-inplace",
    """
def f(a):
    x = np.zeros(2)
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        old = x.copy()
        x[0] = 0.5 * np.cos(x[1]) + a
        x[1] = 0.3 * np.sin(x[0])
        d = np.max(np.abs(x - old))
    return x[0] * x[1]
""",
    (0.3,),
    family="fixed-point",
    expect="refused",
    code="bad-fixed-point",
)
c(
    "helper-body",
    """
def g(x, a):
    return 0.5 * math.cos(x) + a
def f(a):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = g(x, a)
        d = abs(xn - x)
        x = xn
    return x * x
""",
    (0.3,),
    family="fixed-point",
)
c(
    "temp-read-after",
    """
def f(a):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        c = a * a
        xn = 0.5 * math.cos(x) + c
        d = abs(xn - x)
        x = xn
    return x * c + xn
""",
    (0.3,),
    family="fixed-point",
    expect="refused",
    code="bad-fixed-point",
)
c(
    "d-returned",
    """
def f(a):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x) + a
        d = abs(xn - x)
        x = xn
    return x + d
""",
    (0.3,),
    family="fixed-point",
    expect="refused",
    code="bad-fixed-point",
)
c(
    "counter-in-state",
    """
def f(a):
    x = 0.0
    k = 0
    # s2sad: fixed-point
    while abs(0.5 * math.cos(x) + a - x) > 1e-14:
        x = 0.5 * math.cos(x) + a
        k = k + 1
    return x * x
""",
    (0.3,),
    family="fixed-point",
)
c(
    "branch-body",
    """
def f(a):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        if x > 0.5:
            xn = 0.5 * math.cos(x) + a
        else:
            xn = 0.4 * math.cos(x) + a + 0.05
        d = abs(xn - x)
        x = xn
    return x
""",
    (0.3,),
    family="fixed-point",
)
c(
    "inner-for",
    """
def f(a):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = a
        for i in range(3):
            xn = xn + 0.1 * math.cos(x + i)
        d = abs(xn - x)
        x = xn
    return x
""",
    (0.3,),
    family="fixed-point",
)
c(
    "in-for-loop",
    """
def f(a, n):
    s = 0.0
    for k in range(n):
        x = 0.0
        d = 1.0
        # s2sad: fixed-point
        while d > 1e-14:
            xn = 0.5 * math.cos(x) + a * k
            d = abs(xn - x)
            x = xn
        s = s + x
    return s
""",
    (0.3, 3),
    family="fixed-point",
    expect="refused",
    code="bad-fixed-point",
)
c(
    "state-feeds-param",
    """
def f(a):
    x = 0.0
    y = a
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x) + y
        d = abs(xn - x)
        x = xn
        y = y * 0.5
    return x
""",
    (0.3,),
    expect="either",
    family="fixed-point",
)
c(
    "test-setup-state",
    """
def f(a):
    x = 0.0
    # s2sad: fixed-point
    while abs(x - (0.5 * math.cos(x) + a)) > 1e-14:
        x = 0.5 * math.cos(x) + a
    return x * a
""",
    (0.3,),
    family="fixed-point",
)
c(
    "two-fp-sequential",
    """
def f(a):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x) + a
        d = abs(xn - x)
        x = xn
    y = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        yn = 0.5 * math.sin(y) * x + a
        d = abs(yn - y)
        y = yn
    return x * y
""",
    (0.3,),
    family="fixed-point",
)
c(
    "kwdefault",
    """
def f(a, scale=2.0):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x) + a * scale
        d = abs(xn - x)
        x = xn
    return x
""",
    (0.3, 2.0),
    family="fixed-point",
)


# ----- values the loops read, changed in place after them ------------------------------------------------------
c(
    "read-array-written-after",
    """
def f(x, n):
    w = np.ones(2) * x
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        s = math.sin(s) * w[0] + w[1]
    w[0] = 5.0 * x
    return s + w[0]
""",
    (0.7, 5),
    family="checkpoint-written-after",
)
c(
    "state-array-written-after",
    """
def f(x, n):
    b = np.ones(2) * x
    # s2sad: checkpoint 2
    for i in range(n):
        b[0] = np.sin(b[1]) * b[0] + x
        b[1] = b[1] * 0.9 + b[0]
    b[0] = 3.0 * x
    return np.sum(b * b)
""",
    (0.7, 5),
    family="checkpoint-written-after",
)
c(
    "state-array-aug-after",
    """
def f(x, n):
    b = np.ones(2) * x
    # s2sad: checkpoint 2
    for i in range(n):
        b[0] = np.sin(b[1]) * b[0] + x
        b[1] = b[1] * 0.9 + b[0]
    b += 1.0
    b *= b
    return np.sum(b)
""",
    (0.7, 5),
    family="checkpoint-written-after",
)
c(
    "fp-param-array-written-after",
    """
def f(a):
    p = np.ones(2) * a
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x) * p[0] + p[1]
        d = abs(xn - x)
        x = xn
    p[0] = 7.0 * a
    return x + p[0]
""",
    (0.3,),
    family="fixed-point-written-after",
)
c(
    "fp-state-array-written-after",
    """
def f(A, b):
    x = np.zeros(2)
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.4 * np.tanh(A @ x) + b
        d = np.max(np.abs(xn - x))
        x = xn
    x[0] = x[0] * 3.0
    return np.sum(x ** 2)
""",
    (np.array([[0.5, -0.2], [0.3, 0.4]]), np.array([0.2, -0.1])),
    family="fixed-point-written-after",
    expect="refused",
    code="inplace-alias",
)
c(
    "ck-list-append-after",
    """
def f(x, n):
    xs = [x]
    # s2sad: checkpoint 2
    for i in range(n):
        xs.append(math.sin(xs[-1]) * x)
    xs.append(x * 3.0)
    return sum(xs) + xs[2]
""",
    (0.7, 6),
    family="checkpoint-written-after",
)
c(
    "ck-read-list-changed-after",
    """
def f(x, n):
    w = [x, 2.0 * x]
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        s = math.sin(s) * w[-1]
    w.append(9.0 * x)
    return s + w[-1]
""",
    (0.7, 5),
    family="checkpoint-written-after",
)
c(
    "ck-state-both-before",
    """
def f(x, n):
    b = np.ones(2) * x
    c = b[0] * 2.0
    # s2sad: checkpoint 2
    for i in range(n):
        b[0] = np.sin(b[1]) * b[0] + c
        b[1] = b[1] * 0.9 + b[0]
        c = c * b[1]
    return np.sum(b) + c
""",
    (0.7, 5),
    family="checkpoint-written-after",
)
c(
    "ck-written-before-loop-array-read-only",
    """
def f(x, n):
    w = np.zeros(3)
    w[0] = x
    s = x
    # s2sad: checkpoint 3
    for i in range(n):
        w[1] = s
        s = math.sin(s) * w[0] + w[1] * x
    return s + w[1]
""",
    (0.7, 5),
    family="checkpoint-written-after",
)
c(
    "ck-2d-array",
    """
def f(A, n):
    B = A.copy()
    # s2sad: checkpoint 2
    for i in range(n):
        B[i % 2, :] = np.tanh(B @ B[:, 0]) * 0.5
    return np.sum(B)
""",
    (np.array([[0.5, -0.2], [0.3, 0.4]]), 5),
    family="checkpoint-written-after",
)


@pytest.mark.parametrize("case", CASES, ids=[f"{k.family}/{k.id}" for k in CASES])
def test_gradient_or_located_refusal(case: Case, tmp_path: Path) -> None:
    verdict(case, tmp_path)


# ----- vjp and hvp ----------------------------------------------------------------------------------------------
SRC = {
    "ck": (
        """
def f(x, y, n):
    s = x
    # s2sad: checkpoint 2
    for i in range(n):
        s = math.sin(s) * y + s * x
    return s * y
""",
        (0.7, 0.4, 5),
    ),
    "ck-array": (
        """
def f(a, n):
    b = a * 1.0
    # s2sad: checkpoint 2
    for i in range(n):
        b[0] = b[0] * np.cos(b[1]) + a[1]
        b[1] = b[1] * np.sin(b[0])
    return b * a
""",
        (np.array([0.3, 0.5]), 5),
    ),
    "fp": (
        """
def f(a, b):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x * b) + a
        d = abs(xn - x)
        x = xn
    return x * x * b
""",
        (0.3, 0.8),
    ),
    "fp-tuple": (
        """
def f(a, b):
    x = 0.0
    d = 1.0
    # s2sad: fixed-point
    while d > 1e-14:
        xn = 0.5 * math.cos(x * b) + a
        d = abs(xn - x)
        x = xn
    return x, x * b
""",
        (0.3, 0.8),
    ),
    "twice": (
        """
def f(x, y):
    z = x * y
    return z, z
""",
        (0.3, 0.8),
    ),
    "twice-param": (
        """
def f(x, y):
    return x, x * y, x
""",
        (0.3, 0.8),
    ),
    "stack-loop": (
        """
def f(x, n):
    s = x
    for i in range(n):
        if s > 0.5:
            s = s * math.cos(s)
        else:
            s = s + x * s
    return s, s * x
""",
        (0.7, 6),
    ),
    "kw": (
        """
def f(x, y=2.0, *, z=3.0):
    return x * y * z + math.sin(x * z)
""",
        (0.3, 2.0),
    ),
    "arr-tuple": (
        """
def f(a):
    return np.sin(a) * a, np.sum(a * a)
""",
        (np.array([0.3, 0.5, 0.9]),),
    ),
    "helper-tuple": (
        """
def g(u):
    return u * u, math.sin(u)
def f(x):
    p, q = g(x)
    return p * q, q
""",
        (0.4,),
    ),
    "write": (
        """
def f(a):
    b = np.zeros(3)
    b[0] = a[0] * a[1]
    b[1:] = a[1:] ** 2
    b[2] += b[0]
    return b
""",
        (np.array([0.3, 0.5, 0.9]),),
    ),
    "nested-list-result": (
        """
def f(x):
    return (x, (x * x, x))
""",
        (0.3,),
    ),
    "list-result": (
        """
def f(x):
    return [x, x * x]
""",
        (0.3,),
    ),
}


def _fd(fun: Any, at: tuple[Any, ...], k: int, eps: float = 1e-6) -> Any:
    x = at[k]
    if isinstance(x, float):
        up, dn = list(at), list(at)
        up[k], dn[k] = x + eps, x - eps
        return (fun(*up) - fun(*dn)) / (2 * eps)
    out = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        u, d = x.copy(), x.copy()
        u[j] += eps
        d[j] -= eps
        up, dn = list(at), list(at)
        up[k], dn[k] = u, d
        out[j] = (fun(*up) - fun(*dn)) / (2 * eps)
    return out


def _dot(bar: Any, val: Any) -> float:
    if isinstance(val, (tuple, list)):
        return sum(_dot(b, v) for b, v in zip(bar, val))
    return float(np.sum(np.asarray(bar) * np.asarray(val)))


def _like(val: Any, rng: Any) -> Any:
    if isinstance(val, (tuple, list)):
        return type(val)(_like(v, rng) for v in val)
    return rng.normal(size=np.shape(val)) if np.ndim(val) else float(rng.normal())


def _load(tmp_path: Path, name: str) -> tuple[Any, tuple[Any, ...], list[int]]:
    src, at = SRC[name]
    mod = f"review_modes_{name.replace('-', '_')}"
    (tmp_path / f"{mod}.py").write_text(H + textwrap.dedent(src))
    sys.path.insert(0, str(tmp_path))
    try:
        f = importlib.import_module(mod).f
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(mod, None)
    return f, at, [k for k, a in enumerate(at) if isinstance(a, (float, np.ndarray))]


REFUSED_VJP = {"nested-list-result": "no-rule", "list-result": "non-scalar-return"}


@pytest.mark.parametrize("name", list(SRC))
def test_vjp_against_finite_differences(name: str, tmp_path: Path) -> None:
    f, at, wrt = _load(tmp_path, name)
    if name in REFUSED_VJP:
        with pytest.raises(s2sad.S2sadError) as err:
            s2sad.vjp(f)
        assert err.value.diagnostics[0].code == REFUSED_VJP[name]
        return
    v = s2sad.vjp(f)
    bar = _like(f(*at), np.random.default_rng(0))
    seed = list(inspect.signature(v).parameters)[-1]
    got = v(*at, **{seed: bar})
    got = list(got) if isinstance(got, tuple) else [got]
    for k, g in zip(wrt, got):
        np.testing.assert_allclose(g, _fd(lambda *a: _dot(bar, f(*a)), at, k), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in SRC if n in ("ck", "fp", "kw")])
def test_hvp_against_differences_of_the_gradient(name: str, tmp_path: Path) -> None:
    f, at, wrt = _load(tmp_path, name)
    h, g = s2sad.hvp(f), s2sad.grad(f)
    rng = np.random.default_rng(1)
    dots = [_like(at[k], rng) for k in wrt]
    names = list(inspect.signature(h).parameters)[-len(wrt) :]
    got = h(*at, **dict(zip(names, dots)))
    got = list(got) if len(wrt) > 1 else [got]

    def moved(step: float) -> list[Any]:
        a = list(at)
        for k, d in zip(wrt, dots):
            a[k] = a[k] + step * d
        return list(g(*a)) if len(wrt) > 1 else [g(*a)]

    eps = 1e-5
    for j, (up, down) in enumerate(zip(moved(eps), moved(-eps))):
        np.testing.assert_allclose(got[j], (np.asarray(up) - np.asarray(down)) / (2 * eps), rtol=1e-4, atol=1e-6)
