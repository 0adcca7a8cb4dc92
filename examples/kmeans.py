"""The k-means cost: the sum over points of the squared distance to the nearest centre.

Differentiable almost everywhere in the centres (the assignment of points to centres is piecewise constant).
"""

import numpy as np


def kmeans_cost(centers, points):
    def sqdist(a, b):
        diff = a - b
        return np.dot(diff, diff)

    total = 0.0
    for p in points:
        dists = [sqdist(p, c) for c in centers]
        total += min(dists)
    return total
