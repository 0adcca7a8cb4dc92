"""Derivative rules of ``scipy.special`` (one line each; see :mod:`s2sad.rule_templates` for how a line reads
and :mod:`s2sad.rules` for the merged table)."""

from __future__ import annotations

from .rule_templates import _expanded, vjp

SCIPY_SPECIAL = [
    vjp("scipy.special.expit(x)", x="g * ans * (1 - ans)", shape="elementwise"),
    vjp("scipy.special.logit(x)", x="g / (x * (1 - x))", shape="elementwise"),
    vjp(
        "scipy.special.logsumexp(a, axis=None, b=None, keepdims=False)",
        a=f"{_expanded('g')} * (1.0 if b is None else b) * numpy.exp(a - {_expanded('ans')})",
        b=f"{_expanded('g')} * numpy.exp(a - {_expanded('ans')}) * numpy.ones_like(b)",  # b's shape, if larger
        broadcasts=True,
        shape="logsumexp",  # a reduction over axis, with b broadcast against a
    ),
    vjp(
        "scipy.special.log_softmax(x, axis=None)", x="g - numpy.exp(ans) * numpy.sum(g, axis, True)", shape="like_array"
    ),
    vjp("scipy.special.softmax(x, axis=None)", x="ans * (g - numpy.sum(g * ans, axis, True))", shape="like_array"),
    vjp("scipy.special.gammaln(x)", x="g * scipy.special.digamma(x)", shape="elementwise"),
    vjp("scipy.special.digamma(x)", x="g * scipy.special.polygamma(1, x)", shape="elementwise"),
    vjp("scipy.special.erf(x)", x="g * 2 / math.sqrt(math.pi) * numpy.exp(-(x ** 2))", shape="elementwise"),
    vjp("scipy.special.erfc(x)", x="-g * 2 / math.sqrt(math.pi) * numpy.exp(-(x ** 2))", shape="elementwise"),
    vjp("scipy.special.xlogy(x, y)", x="g * numpy.log(y)", y="g * x / y", broadcasts=True),
    vjp(
        "scipy.special.multigammaln(a, d)",
        a="g * numpy.sum(scipy.special.digamma(numpy.expand_dims(a, -1) - numpy.arange(d) / 2), -1)",
        shape="like",
    ),
]
