"""Polar coordinates of a point: a function with a tuple result, for ``s2sad vjp`` and ``s2sad jacobian``.

``vjp_polar(x, y, out_bar)`` takes one adjoint per value of the result (``out_bar = (r_bar, theta_bar)``);
``jacobian_polar(x, y)`` returns ``((dr/dx, dr/dy), (dtheta/dx, dtheta/dy))``, one row per value.
"""

import math


def polar(x, y):
    r = math.sqrt(x * x + y * y)
    theta = math.atan2(y, x)
    return r, theta
