"""Derivative rules of linear algebra and contractions (``numpy.linalg``, ``np.einsum``; one line each; see
:mod:`s2sad.rule_templates` for how a line reads and :mod:`s2sad.rules` for the merged table)."""

from __future__ import annotations

from .rule_templates import nondiff, vjp

LINALG = [
    vjp(  # b's adjoint is one solve with the transpose; a's is minus its outer product with the solution; each
        # summed over the stack axes it was broadcast along
        "numpy.linalg.solve(a, b)",
        a="s2sad.unbroadcast(s2sad.solve_adjoint_a(s2sad.solve_transposed(a, g), ans, a), a)",
        b="s2sad.unbroadcast(s2sad.solve_transposed(a, g), b)",
        note="never an explicit inverse; with both a and b differentiated the transposed solve is done twice",
        shape="solve",
    ),
    vjp("numpy.linalg.inv(a)", a="-numpy.swapaxes(ans, -1, -2) @ g @ numpy.swapaxes(ans, -1, -2)", shape="like_array"),
    vjp(
        "numpy.linalg.det(a)",
        a="s2sad.det_adjoint(g * ans, a)",
        note="through the inverse: undefined where the matrix is singular",
        shape="det",
    ),
    vjp(
        "numpy.linalg.cholesky(a)",
        a="s2sad.cholesky_adjoint(g, ans)",
        note="NumPy reads the lower triangle only: the adjoint is there (the upper triangle gets zero)",
        shape="like_array",
    ),
    *(
        vjp(
            f"numpy.einsum(subscripts, {', '.join(ops)})",
            **{op: f"s2sad.einsum_adjoint({k}, g, subscripts, {', '.join(ops)})" for k, op in enumerate(ops)},
            shape="einsum",
        )
        for ops in (("a",), ("a", "b"), ("a", "b", "c"))
    ),
    # contractions: each operand's adjoint contracts g with the other operand over the axes it kept
    vjp(
        "numpy.tensordot(a, b, axes=2)",
        a="s2sad.tensordot_adjoint(0, g, a, b, axes)",
        b="s2sad.tensordot_adjoint(1, g, a, b, axes)",
        shape="tensordot",
    ),
    vjp("numpy.inner(a, b)", a="s2sad.inner_adjoint(0, g, a, b)", b="s2sad.inner_adjoint(1, g, a, b)", shape="inner"),
    vjp(
        "numpy.vdot(a, b)",
        a="g * numpy.reshape(b, numpy.shape(a))",
        b="g * numpy.reshape(a, numpy.shape(b))",
        shape="scalar",
    ),
    vjp("numpy.kron(a, b)", a="s2sad.kron_adjoint(0, g, a, b)", b="s2sad.kron_adjoint(1, g, a, b)", shape="kron"),
    vjp(  # <g, a x b> = <b x g, a> = <g x a, b>
        "numpy.cross(a, b)",
        a="s2sad.unbroadcast(numpy.cross(b, g), a)",
        b="s2sad.unbroadcast(numpy.cross(g, a), b)",
        note="3-vectors along the last axis (stacks broadcast); the axis keywords are not supported",
        shape="cross",
    ),
    vjp(  # x = op(a)^-1 b: b's adjoint is one more triangular solve with op(a) transposed; a's is minus its
        # outer product with x (transposed back when trans), on the triangle solve_triangular reads
        "scipy.linalg.solve_triangular(a, b, trans=0, lower=False)",
        a="s2sad.solve_triangular_adjoint_a("
        "scipy.linalg.solve_triangular(a, g, s2sad.transposed(trans), lower), ans, trans, lower)",
        b="scipy.linalg.solve_triangular(a, g, s2sad.transposed(trans), lower)",
        note="never an explicit inverse; the other triangle of a gets zero (it is not read)",
        shape="solve",
    ),
    # the values of np.linalg.slogdet and np.linalg.eigh, each its own primitive (see TUPLE_RESULTS)
    nondiff("s2sad.slogdet_sign(a)", shape="det"),
    vjp("s2sad.slogdet_logdet(a)", a="s2sad.det_adjoint(g, a)", note="through the inverse", shape="det"),
    vjp(
        "s2sad.eigh_values(a)",
        a="s2sad.eigh_adjoint(g, None, a)",
        note="of a symmetric matrix, whose lower triangle NumPy reads (the upper triangle gets zero)",
        shape="eigenvalues",
    ),
    vjp(
        "s2sad.eigh_vectors(a)",
        a="s2sad.eigh_adjoint(None, g, a)",
        note="distinct eigenvalues only: degenerate ones raise an error at run time",
        shape="like_array",
    ),
]

#: Library functions returning a tuple -> the primitive giving each value (see s2sad.frontend.tuple_results).
TUPLE_RESULTS = {
    "numpy.linalg.slogdet": ("s2sad.slogdet_sign", "s2sad.slogdet_logdet"),
    "numpy.linalg.eigh": ("s2sad.eigh_values", "s2sad.eigh_vectors"),
}
