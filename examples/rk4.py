"""Fitting a Lotka-Volterra predator-prey model: classical Runge-Kutta (RK4) on a state tuple, squared error.

The state is a tuple (prey, predators); ``params`` the four rates (alpha, beta, delta, gamma). The loss compares
the simulated populations with observations taken every ``steps_per_obs`` steps of size ``dt``.
"""


def lotka_volterra(state, params):
    prey, pred = state
    alpha, beta, delta, gamma = params
    return (alpha * prey - beta * prey * pred, delta * prey * pred - gamma * pred)


def rk4_step(state, params, dt):
    x, y = state
    k1x, k1y = lotka_volterra(state, params)
    k2x, k2y = lotka_volterra((x + 0.5 * dt * k1x, y + 0.5 * dt * k1y), params)
    k3x, k3y = lotka_volterra((x + 0.5 * dt * k2x, y + 0.5 * dt * k2y), params)
    k4x, k4y = lotka_volterra((x + dt * k3x, y + dt * k3y), params)
    return (
        x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
        y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y),
    )


def fit_loss(alpha, beta, delta, gamma, prey0, pred0, observed, dt, steps_per_obs):
    params = (alpha, beta, delta, gamma)
    state = (prey0, pred0)
    loss = 0.0
    for obs_prey, obs_pred in observed:
        for _ in range(steps_per_obs):
            state = rk4_step(state, params, dt)
        prey, pred = state
        loss += (prey - obs_prey) ** 2 + (pred - obs_pred) ** 2
    return loss
