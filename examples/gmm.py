"""The negative log-likelihood of a Gaussian mixture with a Wishart prior, as in the AD benchmarks (ADBench's GMM).

Each component c has a weight ``alphas[c]`` (a log-weight before normalisation), a mean ``means[c]`` and a precision
``Q Q^T`` whose Cholesky factor ``Q`` is parametrised by ``icf[c]``: the first d entries are the logs of its
diagonal, the rest fill the strictly lower triangle row by row. The factor is built by writing into an array.
"""

import numpy as np
from scipy.special import logsumexp, multigammaln


def cholesky_factor(icf_row, d):
    Q = np.zeros((d, d))
    for i in range(d):
        Q[i, i] = np.exp(icf_row[i])
    k = d
    for i in range(1, d):
        for j in range(i):
            Q[i, j] = icf_row[k]
            k += 1
    return Q


def log_wishart_prior(icf, d, gamma, m):
    k = icf.shape[0]
    n = d + m + 1
    sum_qs = np.sum(icf[:, :d], axis=1)
    frobenius = np.sum(np.exp(icf[:, :d]) ** 2, axis=1) + np.sum(icf[:, d:] ** 2, axis=1)
    out = np.sum(0.5 * gamma * gamma * frobenius - m * sum_qs)
    C = n * d * (np.log(gamma) - 0.5 * np.log(2)) - multigammaln(0.5 * n, d)
    return out - k * C


def gmm_objective(alphas, means, icf, x, gamma, m):
    n, d = x.shape
    k = alphas.shape[0]
    log_probs = np.zeros((n, k))
    for c in range(k):
        Q = cholesky_factor(icf[c], d)
        z = (x - means[c]) @ Q.T
        log_probs[:, c] = alphas[c] + np.sum(icf[c, :d]) - 0.5 * np.sum(z * z, axis=1)
    const = -0.5 * n * d * np.log(2 * np.pi)
    log_likelihood = const + np.sum(logsumexp(log_probs, axis=1)) - n * logsumexp(alphas)
    return -(log_likelihood + log_wishart_prior(icf, d, gamma, m))
