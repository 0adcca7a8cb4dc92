"""Derivative rules of linear algebra and contractions (``numpy.linalg``, ``np.einsum``; one line each; see
:mod:`s2sad.rule_templates` for how a line reads and :mod:`s2sad.rules` for the merged table)."""

from __future__ import annotations

from .rule_templates import vjp

LINALG = [
    vjp(  # b's adjoint is one solve with the transpose; a's is minus its outer product with the solution; each
        # summed over the stack axes it was broadcast along
        "numpy.linalg.solve(a, b)",
        a="s2sad.unbroadcast(s2sad.solve_adjoint_a(s2sad.solve_transposed(a, g), ans, a), a)",
        b="s2sad.unbroadcast(s2sad.solve_transposed(a, g), b)",
        note="never an explicit inverse; with both a and b differentiated the transposed solve is done twice",
    ),
    vjp("numpy.linalg.inv(a)", a="-numpy.swapaxes(ans, -1, -2) @ g @ numpy.swapaxes(ans, -1, -2)"),
    vjp(
        "numpy.linalg.det(a)",
        a="s2sad.det_adjoint(g * ans, a)",
        note="through the inverse: undefined where the matrix is singular",
    ),
    vjp(
        "numpy.linalg.cholesky(a)",
        a="s2sad.cholesky_adjoint(g, ans)",
        note="NumPy reads the lower triangle only: the adjoint is there (the upper triangle gets zero)",
    ),
    *(
        vjp(
            f"numpy.einsum(subscripts, {', '.join(ops)})",
            **{op: f"s2sad.einsum_adjoint({k}, g, subscripts, {', '.join(ops)})" for k, op in enumerate(ops)},
        )
        for ops in (("a",), ("a", "b"), ("a", "b", "c"))
    ),
]
