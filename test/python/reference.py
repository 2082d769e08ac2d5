"""test/python/reference.py: independent reference computations shared by the Python checks.

kneed is not installable here (no PyPI): kneed_reference is a transcription
of kneed 0.8's KneeLocator; simplified_silhouette is the centroid-based
silhouette in numpy.  Used by test/python/test_sql_vs_sklearn.py (the SQL
functions) and test/unit/sklearn_check.py (the numerical core).

Copyright (c) 2026, engage developers
"""
import warnings

import numpy as np
from scipy import interpolate
from scipy.signal import argrelextrema


# Independent transcription of kneed 0.8.x KneeLocator(x, y, S, curve,
# direction, interp_method='interp1d', online=False); returns the index of
# the knee in x, or -1 when kneed's .knee is None.
# --------------------------------------------------------------------------
def kneed_reference(x, y, S=1.0, curve="convex", direction="decreasing"):
    x = np.array(x, dtype=float)
    y = np.array(y, dtype=float)
    n = len(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Step 1: fit a smooth line (interp1d evaluated at x)
        ds_y = interpolate.interp1d(x, y)(x)

        # Step 2: normalise (kneed uses Python's builtin min/max)
        def normalize(a):
            return (a - min(a)) / (max(a) - min(a))

        x_norm = normalize(x)
        y_norm = normalize(ds_y)
        # Step 3: difference curve ("transform_y")
        if direction == "decreasing":
            if curve == "concave":
                y_norm = np.flip(y_norm)
            elif curve == "convex":
                y_norm = y_norm.max() - y_norm
        elif direction == "increasing" and curve == "convex":
            y_norm = np.flip(y_norm.max() - y_norm)
        y_diff = y_norm - x_norm
        # Step 4: local maxima / minima
        maxima = argrelextrema(y_diff, np.greater_equal)[0]
        minima = argrelextrema(y_diff, np.less_equal)[0]
        # Step 5: thresholds
        tmx = y_diff[maxima] - (S * np.abs(np.diff(x_norm).mean()))
    # Step 6: find_knee (offline: first knee)
    if not maxima.size:
        return -1
    maxima_threshold_index = 0
    threshold = None
    threshold_index = None
    for i in range(n):
        if i < maxima[0]:
            continue
        j = i + 1
        if i == n - 1:
            break
        if (maxima == i).any():
            threshold = tmx[maxima_threshold_index]
            threshold_index = i
            maxima_threshold_index += 1
        if (minima == i).any():
            threshold = 0.0
        if y_diff[j] < threshold:
            if curve == "convex":
                return threshold_index if direction == "decreasing" else n - 1 - threshold_index
            return n - 1 - threshold_index if direction == "decreasing" else threshold_index
    return -1


def simplified_silhouette(X, C, labels):
    """Centroid-based silhouette with numpy (reference)."""
    dist = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    a = dist[np.arange(len(X)), labels]
    other = dist.copy()
    other[np.arange(len(X)), labels] = np.inf
    b = other.min(axis=1)
    m = np.maximum(a, b)
    s = np.where(m > 0, (b - a) / np.where(m > 0, m, 1), 0.0)
    return float(s.mean())


