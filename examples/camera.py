"""A bundle-adjustment residual for one observation: rotate a point, project it, apply radial distortion.

Written with nested helpers, as such code is: each helper's body runs once per call in the gradient too, since
an adjoint receives what its forward pass computed (``forward_pixel`` keeps what ``forward_distort`` saved, and
so on down) instead of running the helper again.
"""

import math


def rotate(px, py, theta):
    return math.cos(theta) * px - math.sin(theta) * py


def project(a, depth):
    return a / depth


def radial(u, v, k1, k2):
    r2 = u * u + v * v
    return 1.0 + k1 * r2 + k2 * r2 * r2


def distort(u, v, k1, k2):
    return u * radial(u, v, k1, k2)


def pixel(px, py, pz, theta, focal, k1, k2):
    u = project(rotate(px, py, theta), pz)
    v = project(rotate(py, -px, theta), pz)
    return focal * distort(u, v, k1, k2)


def residual(px, py, pz, theta, focal, k1, k2, observed):
    r = pixel(px, py, pz, theta, focal, k1, k2) - observed
    return r * r
