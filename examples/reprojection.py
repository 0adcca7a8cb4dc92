"""Bundle-adjustment reprojection residual (the ADBench/Ceres model) with NumPy: a camera of 11 parameters
(rotation as an angle-axis vector, centre, focal length, principal point, two radial distortion coefficients)
sees a 3-D point; the residual is the weighted difference between the projected and the observed pixel.

Its Jacobian with respect to the camera, the point and the weight is the 2x15 block a bundle adjuster
assembles per observation: ``s2sad jacobian`` builds it from two reverse sweeps (the annotations give the
sizes, so the choice is made when the module is generated).
"""

from typing import Annotated

import numpy as np


def rodrigues_rotate(rot, X):
    theta = np.sqrt(np.sum(rot * rot))
    w = rot / theta
    c = np.cos(theta)
    s = np.sin(theta)
    cross = np.array([w[1] * X[2] - w[2] * X[1], w[2] * X[0] - w[0] * X[2], w[0] * X[1] - w[1] * X[0]])
    return X * c + cross * s + w * (np.dot(w, X) * (1.0 - c))


def radial_distort(k, p):
    rsq = np.sum(p * p)
    return p * (1.0 + k[0] * rsq + k[1] * rsq * rsq)


def reprojection(
    cam: Annotated[np.ndarray, "11"],
    X: Annotated[np.ndarray, "3"],
    w: float,
    feat: Annotated[np.ndarray, "2"],
):
    Xcam = rodrigues_rotate(cam[0:3], X - cam[3:6])
    p = radial_distort(cam[9:11], Xcam[0:2] / Xcam[2])
    proj = p * cam[6] + cam[7:9]
    return w * (proj - feat)
