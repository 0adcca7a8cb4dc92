"""Ridge regression fitted in closed form with ``np.linalg.solve``, scored on held-out data.

The weights solve (X^T X + lam I) w = X^T y; the loss is the validation mean squared error, differentiated with
respect to the regularisation strength and the training targets (a bilevel, hyperparameter-gradient setting).
"""

import numpy as np


def validation_loss(lam, y, X, X_val, y_val):
    d = X.shape[1]
    A = X.T @ X + lam * np.eye(d)
    w = np.linalg.solve(A, X.T @ y)
    residual = X_val @ w - y_val
    return np.mean(residual**2)
