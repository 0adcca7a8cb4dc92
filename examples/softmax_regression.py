"""Multinomial logistic (softmax) regression: the mean negative log-likelihood plus an L2 penalty.

Log-probabilities come from ``logsumexp`` over the classes, the numerically stable way.
"""

import numpy as np
from scipy.special import logsumexp


def softmax_regression_loss(W, b, X, labels, l2):
    logits = X @ W + b
    log_probs = logits - logsumexp(logits, axis=1, keepdims=True)
    n = X.shape[0]
    nll = -np.mean(log_probs[np.arange(n), labels])
    return nll + 0.5 * l2 * np.sum(W**2)
