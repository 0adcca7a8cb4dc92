"""A small network: a sigmoid hidden layer, a softmax output and the mean cross-entropy, written with helpers.

The background texts' example: h = sigmoid(X @ W1 + b1), p = softmax(h @ W2 + b2), loss = cross_entropy(p, Y).
The annotations give each array's dimensions (n examples, d inputs, h hidden units, k classes): with them,
s2sad writes the matrix products' adjoints as a person would (``h_bar = g @ W2.T``).
"""

from typing import Annotated

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    shifted = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=1, keepdims=True)


def cross_entropy(p, Y):
    return -np.mean(np.sum(Y * np.log(p), axis=1))


def loss(
    W1: Annotated[np.ndarray, "d h"],
    b1: Annotated[np.ndarray, "h"],
    W2: Annotated[np.ndarray, "h k"],
    b2: Annotated[np.ndarray, "k"],
    X: Annotated[np.ndarray, "n d"],
    Y: Annotated[np.ndarray, "n k"],
) -> float:
    h = sigmoid(X @ W1 + b1)
    p = softmax(h @ W2 + b2)
    return cross_entropy(p, Y)
