"""One head of scaled dot-product self-attention written with ``einsum``, then a squared-error loss.

``X`` is a batch of sequences (batch, length, model); ``Wq``, ``Wk``, ``Wv`` project to queries, keys and values.
"""

import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def attention_loss(Wq, Wk, Wv, X, target):
    q = np.einsum("bld,de->ble", X, Wq)
    k = np.einsum("bld,de->ble", X, Wk)
    v = np.einsum("bld,de->ble", X, Wv)
    scores = np.einsum("bqe,bke->bqk", q, k) / np.sqrt(q.shape[-1])
    weights = softmax(scores)
    out = np.einsum("bqk,bke->bqe", weights, v)
    return np.sum((out - target) ** 2)
