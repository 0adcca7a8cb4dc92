"""The length of a vector (a, b) by the Babylonian (Newton) square root: r = sqrt(a^2 + b^2).

The loop stops when r * r is within a relative 1e-14 of a^2 + b^2, after a number of iterations that depends
on the input. Marked ``# s2sad: fixed-point``, its gradient is that of the converged root (a / r, b / r), from
the implicit function theorem at r* = g(r*), whatever the iteration count; the iterations are not taped.
"""


def length(a, b):
    s = a * a + b * b
    r = s
    # s2sad: fixed-point
    while abs(r * r - s) > 1e-14 * s:
        r = 0.5 * (r + s / r)
    return r
