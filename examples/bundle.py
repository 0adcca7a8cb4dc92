"""Bundle adjustment: the sum of squared weighted reprojection errors of points seen by cameras (ADBench's BA).

A camera is 11 numbers: a Rodrigues rotation vector (3), the centre (3), the focal length, the principal point (2)
and two radial distortion coefficients. Observation i sees point ``point_index[i]`` through camera
``camera_index[i]`` at pixel ``features[i]``, weighted by ``weights[i]``.
"""

import numpy as np


def rodrigues_rotate(rot, X):
    sqtheta = np.sum(rot**2)
    if sqtheta != 0:
        theta = np.sqrt(sqtheta)
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        w = rot / theta
        w_cross_X = np.cross(w, X)
        tmp = np.dot(w, X) * (1 - costheta)
        return X * costheta + w_cross_X * sintheta + w * tmp
    else:
        return X + np.cross(rot, X)


def radial_distort(rad_params, proj):
    rsq = np.sum(proj**2)
    L = 1.0 + rad_params[0] * rsq + rad_params[1] * rsq * rsq
    return proj * L


def project(cam, X):
    Xcam = rodrigues_rotate(cam[0:3], X - cam[3:6])
    distorted = radial_distort(cam[9:11], Xcam[0:2] / Xcam[2])
    return distorted * cam[6] + cam[7:9]


def reprojection_error(cams, points, weights, features, camera_index, point_index):
    total = 0.0
    for i in range(len(features)):
        r = weights[i] * (project(cams[camera_index[i]], points[point_index[i]]) - features[i])
        total += np.sum(r**2)
    return total
