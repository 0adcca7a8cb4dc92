"""A damped, driven pendulum integrated over 100,000 steps of the explicit midpoint rule (RK2), then scored.

``theta'' = -g_over_l * sin(theta) - c * theta' + amplitude * cos(omega * t)``. The loss is the squared miss of
the final angle against ``target``, the final angular velocity squared, and the mean of ``theta**2`` over the
run. Its gradient with respect to the parameters and the initial state (examples/ode_long_grad.py) runs the
loop checkpointed (the directive above it): the forward pass keeps the state (theta, w) at the start of
each of about sqrt(steps) segments instead of recording every step, and the reverse pass recomputes one segment
at a time, so its memory is a few hundred values instead of a million (bench/checkpoint.py measures both).
"""

import math


def pendulum_loss(g_over_l, c, amplitude, omega, theta0, w0, target, steps=100_000, dt=1e-3):
    theta = theta0
    w = w0
    mean = 0.0
    # s2sad: checkpoint
    for i in range(steps):
        t = i * dt
        a = -g_over_l * math.sin(theta) - c * w + amplitude * math.cos(omega * t)
        theta_mid = theta + 0.5 * dt * w
        w_mid = w + 0.5 * dt * a
        a_mid = -g_over_l * math.sin(theta_mid) - c * w_mid + amplitude * math.cos(omega * (t + 0.5 * dt))
        theta = theta + dt * w_mid
        w = w + dt * a_mid
        mean = mean + theta * theta / steps
    return (theta - target) ** 2 + w**2 + mean
