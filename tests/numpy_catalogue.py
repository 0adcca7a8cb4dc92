"""NumPy functions for tests/test_numpy.py: (function, argument factory, names of differentiated arguments)."""

import numpy as np

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return rng.uniform(0.5, 1.5, shape)


# ---- elementwise, each rule ---------------------------------------------------------------------------------
def elementwise(x, y):
    a = np.exp(x) + np.log(y) + np.log1p(y) + np.sqrt(y) + np.sin(x) * np.cos(x) + np.tan(0.3 * x)
    b = np.tanh(x) * np.square(y) - np.abs(x) + np.negative(x) / y + x**2 + y**0.5 + np.power(y, x) + np.absolute(y)
    return np.sum(a * b)


def piecewise(x, y):
    return np.sum(np.maximum(x, y) + np.minimum(x, 0.2) + np.where(x > y, x * y, y) + np.clip(x, -0.5, 0.5))


# ---- broadcasting --------------------------------------------------------------------------------------------
def vector_plus_scalar(v, s):
    return np.sum((v + s) * (v - s) / (s + 2.0))


def matrix_plus_row(m, r):
    return np.sum(np.sin(m + r) * (m * r))


def column_times_row(c, r):
    return np.sum(np.exp(0.1 * (c * r)) - c / (2.0 + r * r))


# ---- reductions ------------------------------------------------------------------------------------------------
def reductions(m):
    return (
        np.sum(np.sum(m, axis=0) ** 2)
        + np.sum(np.mean(m, axis=1, keepdims=True) * m)
        + np.mean(m**2)
        + np.sum(np.max(m, axis=1) ** 2)
        + np.max(m)
        + m.sum() * m.mean(axis=0).sum()
    )


def log_sum_exp(m):
    mx = np.max(m, axis=1, keepdims=True)
    return np.sum(mx + np.log(np.sum(np.exp(m - mx), axis=1, keepdims=True)))


# ---- linear algebra --------------------------------------------------------------------------------------------
def matmuls(A, B, v, w):
    return (
        np.sum((A @ B) ** 2)
        + np.sum(np.sin(A @ v))
        + np.sum(np.matmul(w, A))
        + v @ v
        + np.dot(A @ v, w)
        + np.sum(np.outer(v, w))
    )


def shapes(A):
    return (
        np.sum(A.T @ A) + np.sum(np.transpose(A) * 2.0) + np.sum(A.reshape(4, 3) ** 3) + np.sum(np.reshape(A, (2, 6)))
    )


# ---- indexing ----------------------------------------------------------------------------------------------------
def indexing(x, m):
    return x[0] * x[1:].sum() + np.sum(x[:-1] ** 2) + np.sum(m[:, 1] * m[:, 2]) + np.sum(m[0] ** 2) + m[1, 2] ** 2


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def loop_over_rows(m, v):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.tanh(m[i] * v))
    return s


def rnn(W, U, h0, xs):
    h = h0
    for t in range(5):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)


def created_arrays(x):
    z = np.zeros((3,)) + x
    o = np.ones(x.shape) * 2.0
    v = np.array([x[0] * x[1], np.sin(x[2]), 2.0])
    return np.sum(z * o * x) + np.sum(v * v)


def stacked(x, m):
    rows = []
    for i in range(3):
        rows.append(np.tanh(m[i] * x[i]))
    return np.sum(np.stack(rows) * m) + np.sum(np.stack([x[0:4], 2.0 * x[1:5]]) ** 2)


def written(x, m):
    y = x.copy()
    y[1:3] = y[0] * m[1, 1:3]
    b = np.copy(m)
    b[:, 0] += np.sin(y[0:3])
    return np.sum(y * y) + np.sum(b * m)


CASES = [
    (elementwise, lambda: (randn(3, 4), positive(3, 4)), ("x", "y")),
    (piecewise, lambda: (randn(5), randn(5)), ("x", "y")),
    (vector_plus_scalar, lambda: (randn(4), 0.7), ("v", "s")),
    (matrix_plus_row, lambda: (randn(3, 4), randn(4)), ("m", "r")),
    (column_times_row, lambda: (randn(3, 1), randn(1, 4)), ("c", "r")),
    (reductions, lambda: (randn(3, 4),), ("m",)),
    (log_sum_exp, lambda: (randn(3, 4),), ("m",)),
    (matmuls, lambda: (randn(3, 4), randn(4, 2), randn(4), randn(3)), ("A", "B", "v", "w")),
    (shapes, lambda: (randn(3, 4),), ("A",)),
    (indexing, lambda: (randn(5), randn(3, 4)), ("x", "m")),
    (rosenbrock, lambda: (randn(6),), ("x",)),
    (loop_over_rows, lambda: (randn(3, 4), randn(4)), ("m", "v")),
    (rnn, lambda: (0.5 * randn(4, 4), randn(4, 3), randn(4), randn(5, 3)), ("W", "U", "h0")),
    (created_arrays, lambda: (randn(3),), ("x",)),
    (stacked, lambda: (randn(5), randn(3, 4)), ("x", "m")),
]
#: functions autograd does not differentiate (it refuses writes into arrays and np.copy): finite differences only
NOT_AUTOGRAD = [(written, lambda: (randn(4), randn(3, 4)), ("x", "m"))]


def builtin_abs_on_arrays(x):
    return np.sum(abs(x) * x)


CASES.append((builtin_abs_on_arrays, lambda: (randn(5),), ("x",)))
