"""A stacked LSTM's mean squared one-step prediction error over a sequence (as ADBench's LSTM, with matrix weights).

Layer l has weights ``W[l]`` of shape (4h, 2h) acting on the concatenated input and hidden state, and biases
``b[l]``; the four gates are slices of one product. The recurrent state is a list ``[h0, c0, h1, c1, ...]``
updated layer by layer; ``V`` maps the top hidden state to a prediction of the next input.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_cell(W, b, x, h, c):
    n = h.shape[0]
    gates = W @ np.concatenate([x, h]) + b
    i = sigmoid(gates[:n])
    f = sigmoid(gates[n : 2 * n])
    o = sigmoid(gates[2 * n : 3 * n])
    g = np.tanh(gates[3 * n :])
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c


def sequence_loss(W, b, V, xs):
    layers, hidden = b.shape[0], b.shape[1] // 4
    state = [np.zeros(hidden) for _ in range(2 * layers)]
    loss = 0.0
    for t in range(len(xs) - 1):
        inp = xs[t]
        for l in range(layers):
            state[2 * l], state[2 * l + 1] = lstm_cell(W[l], b[l], inp, state[2 * l], state[2 * l + 1])
            inp = state[2 * l]
        pred = V @ inp
        loss += np.sum((pred - xs[t + 1]) ** 2)
    return loss / (len(xs) - 1)
