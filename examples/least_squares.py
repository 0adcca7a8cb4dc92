"""Nonlinear least squares: half the sum of squared residuals of a decaying exponential fitted to data."""

import math


def model(t, amplitude, rate, offset):
    return amplitude * math.exp(-rate * t) + offset


def least_squares(amplitude, rate, offset, ts, ys):
    residuals = [model(t, amplitude, rate, offset) - y for t, y in zip(ts, ys)]
    return 0.5 * sum(r * r for r in residuals)
