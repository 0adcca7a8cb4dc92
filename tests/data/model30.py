"""A 30-line scalar model for the diff-stability measurement (tests/test_diff_stability.py)."""

from math import exp, log, sin, sqrt, tanh


def model(w, b, x, y, steps):
    """A recurrent update, a squashing nonlinearity, a loss with regularisers."""
    h = 0.0
    scale = 1.5
    for t in range(steps):
        pre = w * h + x * scale + b
        h = tanh(pre)
        if h > 0.5:
            h = h * 0.9
    out = h * w + b
    err = out - y
    loss = err * err
    reg = 0.01 * (w * w + b * b)
    smooth = log(1.0 + exp(-abs(err)))
    size = sqrt(w * w + 1.0)
    ratio = loss / size
    total = loss + reg + smooth
    total = total + 0.1 * ratio
    wobble = sin(total) * 0.05
    penalty = max(err, 0.0) * 0.2
    result = total + wobble + penalty
    return result
