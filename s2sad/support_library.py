"""Support functions for the rules of NumPy's reductions, shapes, linear algebra and ``einsum`` (issue 14).

Each is defined in a generated module that uses it, once, as :data:`s2sad.emit.SUPPORT` says (``np`` is
rewritten to the module's spelling of NumPy): the output never imports s2sad.
"""

from __future__ import annotations

__all__ = ["LIBRARY_SUPPORT"]

LIBRARY_SUPPORT = {
    "gathered": '''def gathered(g, a, positions):
    """The adjoint of a function that only moves or copies entries of a (np.repeat, np.tile, np.diagonal):
    positions is that function applied to the entries' flat positions; copies of an entry add up."""
    out = np.zeros(np.size(a))
    np.add.at(out, np.ravel(positions), np.ravel(g))
    return np.reshape(out, np.shape(a))''',
    "cumsum_adjoint": '''def cumsum_adjoint(g, a, axis):
    """The adjoint of np.cumsum(a, axis): the reversed cumulative sum of g (over the flattened a when
    axis is None)."""
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(np.ravel(g)))), np.shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)''',
    "average_adjoint": '''def average_adjoint(g, a, axis, weights):
    """The adjoint of a in np.average(a, axis, weights): each entry's share of its weighted mean."""
    if weights is None:
        weights = np.ones(np.shape(a))
    elif np.ndim(weights) == 1 and np.ndim(a) > 1 and axis is not None:
        shape = [1] * np.ndim(a)
        shape[axis] = np.size(weights)
        weights = np.reshape(weights, shape)
    weights = np.broadcast_to(weights, np.shape(a))
    total = np.sum(weights, axis=axis, keepdims=True)
    return (g if axis is None else np.expand_dims(g, axis)) * weights / total''',
    "trace_adjoint": '''def trace_adjoint(g, a):
    """The adjoint of np.trace(a): g on the diagonal of the first two axes."""
    rows, cols = np.shape(a)[:2]
    return np.reshape(np.eye(rows, cols), (rows, cols) + (1,) * np.ndim(g)) * g''',
    "diag_adjoint": '''def diag_adjoint(g, v, k):
    """The adjoint of np.diag(v, k): the k-th diagonal of g (v a vector), or g placed on the k-th diagonal
    of v's shape (v a matrix)."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k)
    out = np.zeros(np.shape(v))
    rows, cols = np.nonzero(np.eye(*np.shape(v), k=k))
    out[rows, cols] = g
    return out''',
    "solve_transposed": '''def solve_transposed(a, g):
    """The solution y of a^T y = g, for the adjoint of x = np.linalg.solve(a, b) (g has x's shape): when x
    is a vector, or a stack of vectors (one axis fewer than a), each vector is solved alone."""
    at = np.swapaxes(a, -1, -2)
    if np.ndim(g) == np.ndim(a) - 1:
        return np.linalg.solve(at, g[..., None])[..., 0]
    return np.linalg.solve(at, g)''',
    "solve_adjoint_a": '''def solve_adjoint_a(b_bar, x, a):
    """The adjoint of a in x = np.linalg.solve(a, b), given b's adjoint: minus b_bar times x transposed
    (their outer product when x is a vector, or a stack of vectors: one axis fewer than a)."""
    if np.ndim(x) == np.ndim(a) - 1:
        return -(b_bar[..., :, None] * x[..., None, :])
    return -(b_bar @ np.swapaxes(x, -1, -2))''',
    "det_adjoint": '''def det_adjoint(g_det, a):
    """The adjoint of a in np.linalg.det(a), given g times the determinant: that times inv(a) transposed."""
    return np.expand_dims(np.expand_dims(g_det, -1), -1) * np.swapaxes(np.linalg.inv(a), -1, -2)''',
    "cholesky_adjoint": '''def cholesky_adjoint(g, L):
    """The adjoint of a in L = np.linalg.cholesky(a) (Murray 2016), on the lower triangle NumPy reads:
    S = L^-T Phi(L^T g) L^-1, with Phi the lower triangle and half the diagonal."""
    Lt = np.swapaxes(L, -1, -2)
    P = np.tril(Lt @ g)
    P = P - 0.5 * P * np.eye(np.shape(L)[-1])
    S = np.linalg.solve(Lt, np.swapaxes(np.linalg.solve(Lt, np.swapaxes(P, -1, -2)), -1, -2))
    return np.tril(S + np.swapaxes(S, -1, -2), -1) + S * np.eye(np.shape(L)[-1])''',
    "einsum_adjoint": '''def einsum_adjoint(k, g, subscripts, *operands):
    """The adjoint of operand k of np.einsum(subscripts, *operands): the contraction of g with the other
    operands, broadcast along the indices only operand k has."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if not arrow:
        joined = "".join(inputs)
        output = "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    target = inputs[k]
    if "." in subscripts or len(set(target)) != len(target) or len(set(output)) != len(output):
        raise ValueError(f"the derivative of einsum {subscripts!r}: an ellipsis or a repeated index in one operand is not supported")
    others = [s for i, s in enumerate(inputs) if i != k]
    available = set(output).union(*others)
    kept = "".join(c for c in target if c in available)
    spec = ",".join([output] + others) + "->" + kept
    out = np.einsum(spec, g, *(x for i, x in enumerate(operands) if i != k))
    missing = tuple(i for i, c in enumerate(target) if c not in available)
    out = np.expand_dims(out, missing)
    shape = np.shape(operands[k])
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(out)[i] != 1)
    if ones:  # an index of length 1 in this operand, broadcast against another's
        out = np.sum(out, axis=ones, keepdims=True)
    return np.broadcast_to(out, shape)''',
    "concatenate_adjoint": '''def concatenate_adjoint(g, k, axis, *xs):
    """The adjoint of xs[k] in np.concatenate(xs, axis): its part of g along axis (of the flattened g
    when axis is None)."""
    if axis is None:
        sizes = [np.size(x) for x in xs]
        start = sum(sizes[:k])
        return np.reshape(g[start : start + sizes[k]], np.shape(xs[k]))
    sizes = [np.shape(x)[axis] for x in xs]
    start = sum(sizes[:k])
    return np.take(g, np.arange(start, start + sizes[k]), axis=axis)''',
    "hstack_adjoint": '''def hstack_adjoint(g, k, *xs):
    """The adjoint of xs[k] in np.hstack(xs): its part of g along the first axis of 1-D arrays (numbers
    are 1-D), the second otherwise."""
    axis = 0 if np.ndim(xs[0]) <= 1 else 1
    sizes = [np.shape(np.atleast_1d(x))[axis] for x in xs]
    start = sum(sizes[:k])
    part = np.take(g, np.arange(start, start + sizes[k]), axis=axis)
    return np.reshape(part, np.shape(xs[k]))''',
    "vstack_adjoint": '''def vstack_adjoint(g, k, *xs):
    """The adjoint of xs[k] in np.vstack(xs): its rows of g (a vector is one row, a number one entry)."""
    sizes = [np.shape(np.atleast_2d(x))[0] for x in xs]
    start = sum(sizes[:k])
    return np.reshape(g[start : start + sizes[k]], np.shape(xs[k]))''',
    "column_stack_adjoint": '''def column_stack_adjoint(g, k, *xs):
    """The adjoint of xs[k] in np.column_stack(xs): its columns of g (a vector is one column)."""
    sizes = [np.shape(x)[1] if np.ndim(x) >= 2 else 1 for x in xs]
    start = sum(sizes[:k])
    return np.reshape(g[:, start : start + sizes[k]], np.shape(xs[k]))''',
    "tensordot_adjoint": '''def tensordot_adjoint(k, g, a, b, axes):
    """The adjoint of operand k (0: a, 1: b) of np.tensordot(a, b, axes): g contracted with the other
    operand over its free axes, then put back in the operand's order of axes."""
    if np.ndim(axes) == 0:
        axes_a = list(range(np.ndim(a) - axes, np.ndim(a)))
        axes_b = list(range(axes))
    else:
        axes_a, axes_b = ([axes_x] if np.ndim(axes_x) == 0 else list(axes_x) for axes_x in axes)
    axes_a = [i % np.ndim(a) for i in axes_a]
    axes_b = [i % np.ndim(b) for i in axes_b]
    free_a = [i for i in range(np.ndim(a)) if i not in axes_a]
    free_b = [i for i in range(np.ndim(b)) if i not in axes_b]
    if k == 0:  # the axes left: a's free ones, then b's contracted ones in increasing order
        out = np.tensordot(g, b, axes=(list(range(len(free_a), np.ndim(g))), free_b))
        return np.transpose(out, np.argsort(free_a + [axes_a[axes_b.index(j)] for j in sorted(axes_b)]))
    out = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    return np.transpose(out, np.argsort([axes_b[axes_a.index(i)] for i in sorted(axes_a)] + free_b))''',
    "inner_adjoint": '''def inner_adjoint(k, g, a, b):
    """The adjoint of operand k (0: a, 1: b) of np.inner(a, b), the sum over the last axes (a product
    when either is a number)."""
    x, y = (a, b) if k == 0 else (b, a)
    if np.ndim(x) == 0:
        return np.sum(g * y)
    if np.ndim(y) == 0:
        return g * y
    if k == 0:
        return np.tensordot(g, b, axes=(list(range(np.ndim(a) - 1, np.ndim(g))), list(range(np.ndim(b) - 1))))
    return np.tensordot(g, a, axes=(list(range(np.ndim(a) - 1)), list(range(np.ndim(a) - 1))))''',
    "kron_adjoint": '''def kron_adjoint(k, g, a, b):
    """The adjoint of operand k (0: a, 1: b) of np.kron(a, b): g's blocks, each block times the other
    operand's entries, summed."""
    n = max(np.ndim(a), np.ndim(b))
    shape_a = (1,) * (n - np.ndim(a)) + np.shape(a)
    shape_b = (1,) * (n - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [m for pair in zip(shape_a, shape_b) for m in pair])
    if k == 0:
        other = np.reshape(b, [m for size in shape_b for m in (1, size)])
        return np.reshape(np.sum(blocks * other, axis=tuple(range(1, 2 * n, 2))), np.shape(a))
    other = np.reshape(a, [m for size in shape_a for m in (size, 1)])
    return np.reshape(np.sum(blocks * other, axis=tuple(range(0, 2 * n, 2))), np.shape(b))''',
    "transposed": '''def transposed(trans):
    """The trans argument of scipy.linalg.solve_triangular for the transposed system."""
    return 0 if trans in (1, 2, "T", "C") else 1''',
    "solve_triangular_adjoint_a": '''def solve_triangular_adjoint_a(b_bar, x, trans, lower):
    """The adjoint of a in x = solve_triangular(a, b, trans, lower), given b's adjoint: minus b_bar times x
    transposed (transposed again when trans), on the triangle of a that is read."""
    if np.ndim(x) == 1:
        b_bar, x = b_bar[:, None], x[:, None]
    out = -(b_bar @ x.T) if trans in (0, "N") else -(x @ b_bar.T)
    return np.tril(out) if lower else np.triu(out)''',
    "triangular_tangent": '''def triangular_tangent(a_dot, trans, lower):
    """The tangent of op(a) in scipy.linalg.solve_triangular(a, b, trans, lower): the triangle read,
    transposed when trans."""
    part = np.tril(a_dot) if lower else np.triu(a_dot)
    return part if trans in (0, "N") else part.T''',
    "slogdet_sign": '''def slogdet_sign(a):
    """The sign of the determinant of a: the first value of np.linalg.slogdet(a)."""
    return np.linalg.slogdet(a)[0]''',
    "slogdet_logdet": '''def slogdet_logdet(a):
    """The log of the determinant's absolute value: the second value of np.linalg.slogdet(a)."""
    return np.linalg.slogdet(a)[1]''',
    "eigh_values": '''def eigh_values(a):
    """The eigenvalues of the symmetric matrix a, ascending: the first value of np.linalg.eigh(a)."""
    return np.linalg.eigh(a)[0]''',
    "eigh_vectors": '''def eigh_vectors(a):
    """The eigenvectors of the symmetric matrix a, as columns: the second value of np.linalg.eigh(a)."""
    return np.linalg.eigh(a)[1]''',
    "eigh_adjoint": '''def eigh_adjoint(w_bar, V_bar, a):
    """The adjoint of a in w, V = np.linalg.eigh(a), given w's adjoint or V's (None: no adjoint):
    V (diag(w_bar) + F * (V^T V_bar)) V^T with F = 1 / (w_j - w_i) off the diagonal, put on the lower
    triangle NumPy reads. Eigenvectors of a repeated eigenvalue have no derivative: an error."""
    w, V = np.linalg.eigh(a)
    Vt = np.swapaxes(V, -1, -2)
    if V_bar is None:
        inner = np.expand_dims(w_bar, -2) * np.eye(np.shape(w)[-1])
    else:
        gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
        n = np.shape(w)[-1]
        if np.any(np.abs(gaps) + np.eye(n) <= 1e-10 * np.max(np.abs(w), initial=1.0)):
            raise ValueError("the derivative of np.linalg.eigh's eigenvectors: the eigenvalues are not distinct")
        inner = (Vt @ V_bar) / np.where(np.eye(n) > 0, np.inf, gaps)
    S = V @ inner @ Vt
    n = np.shape(S)[-1]
    return np.tril(S + np.swapaxes(S, -1, -2), -1) + S * np.eye(n)''',
    "eigh_tangent": '''def eigh_tangent(k, a_dot, a):
    """The tangent of value k (0: eigenvalues, 1: eigenvectors) of np.linalg.eigh(a) along a_dot, of which
    NumPy reads the lower triangle."""
    w, V = np.linalg.eigh(a)
    d = np.tril(a_dot) + np.swapaxes(np.tril(a_dot, -1), -1, -2)
    inner = np.swapaxes(V, -1, -2) @ d @ V
    if k == 0:
        return np.diagonal(inner, 0, -2, -1)
    n = np.shape(w)[-1]
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    if np.any(np.abs(gaps) + np.eye(n) <= 1e-10 * np.max(np.abs(w), initial=1.0)):
        raise ValueError("the derivative of np.linalg.eigh's eigenvectors: the eigenvalues are not distinct")
    return V @ (inner / np.where(np.eye(n) > 0, np.inf, gaps))''',
}
