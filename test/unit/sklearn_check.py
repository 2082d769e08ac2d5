#!/usr/bin/python3
"""sklearn_check.py: engage's numerical core against scikit-learn and kneed.

Run with Debian's python (scikit-learn 1.2, pandas, numpy, scipy):

    /usr/bin/python3 test/unit/sklearn_check.py      (or make -C test/unit sklearn)

It builds test/unit/build/kmeans_cli (the core behind a small CLI) and checks,
on the real data test/data/user_engagement_real.csv (features sessions,
dur._(ms), total_data):

  * StandardScaler / MinMaxScaler parameters and transforms equal to 1e-12;
  * K-means k=3, n_init=10 on z-scored data: engage's inertia <= sklearn's
    best * (1 + 1e-4);
  * engage's centroids (tol=0) are a fixed point of sklearn's Lloyd:
    KMeans(init=engage_centroids, n_init=1) does not move them;
  * the elbow curve k=1..10 <= sklearn's * (1 + 1e-3) at every k;
  * the knee equals kneed's choice (kneed is not installed: an independent
    transcription of kneed 0.8's KneeLocator is below), on engage's and on
    sklearn's curves, and on thousands of random curves;
  * the simplified silhouette equals a numpy computation;
  * timing on 1,000,000 x 3 synthetic points, k=3, n_init=10: engage core
    vs sklearn KMeans (set ENGAGE_SKIP_TIMING=1 to skip the comparison).

Prints one line per check and ends with "N passed, N failed"; exit status 1
on any failure.

Copyright (c) 2026, engage developers
"""
import os
import subprocess
import sys
import tempfile
import time
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import MinMaxScaler, StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from reference import kneed_reference, simplified_silhouette  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CLI = os.path.join(HERE, "build", "kmeans_cli")
DATA = os.path.join(ROOT, "test", "data", "user_engagement_real.csv")
COLS = ["sessions", "dur._(ms)", "total_data"]

RESULTS = []


def check(name, ok, detail=""):
    """Record and print one check."""
    RESULTS.append(bool(ok))
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail else ""))
    sys.stdout.flush()


def run_cli(args):
    """Run the CLI, parse its "key values..." lines into a dict of lists."""
    out = subprocess.run([CLI] + args, check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            continue
        res.setdefault(parts[0], []).append(parts[1:])
    if "error" in res:
        raise RuntimeError("kmeans_cli error: %s" % res["error"])
    return res


def floats(res, key):
    """The values of a single-line key as floats."""
    return np.array([float(v) for v in res[key][0]])


def rows(res, key):
    """Indexed rows "key i v1 v2 ..." as an array ordered by i."""
    items = sorted(res[key], key=lambda r: int(r[0]))
    return np.array([[float(v) for v in r[1:]] for r in items])


def max_rel(a, b):
    """Largest relative difference of two arrays."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    den = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b) / den))


# --------------------------------------------------------------------------
def main():
    subprocess.run(["make", "-s", "-C", HERE, "cli"], check=True)
    tmp = tempfile.mkdtemp(prefix="engage_skl_")
    df = pd.read_csv(DATA)
    X = df[COLS].to_numpy(dtype=float)
    n = len(X)
    print("data: %s, %d rows, features %s" % (os.path.relpath(DATA, ROOT), n, COLS))

    # ---- scaling --------------------------------------------------------
    scaled = os.path.join(tmp, "z.f64")
    res_z = run_cli(["csv", DATA, "--cols", ",".join(COLS), "--scale", "zscore",
                     "--k", "3", "--n-init", "10", "--elbow", "10",
                     "--scaled-out", scaled, "--labels-out", os.path.join(tmp, "labels.txt")])
    sk = StandardScaler().fit(X)
    Zs = sk.transform(X)
    Ze = np.fromfile(scaled, dtype=np.float64).reshape(n, len(COLS))
    r_mean = max_rel(floats(res_z, "scale_mean"), sk.mean_)
    r_var = max_rel(floats(res_z, "scale_var"), sk.var_)
    r_scale = max_rel(floats(res_z, "scale_scale"), sk.scale_)
    check("StandardScaler mean_/var_/scale_ (DataFrame array, column-major)",
          max(r_mean, r_var, r_scale) <= 1e-12,
          "max rel diff mean %.1e var %.1e scale %.1e" % (r_mean, r_var, r_scale))
    # numpy sums a row-major array sequentially (a different rounding):
    # compare both with the exact variance (rational arithmetic)
    skc = StandardScaler().fit(np.ascontiguousarray(X))
    exact_var = []
    for j in range(X.shape[1]):
        col = [Fraction(float(v)) for v in X[:, j]]
        s1 = sum(col)
        s2 = sum(v * v for v in col)
        exact_var.append(float((s2 - s1 * s1 / n) / n))
    err_e = max_rel(floats(res_z, "scale_var"), exact_var)
    err_c = max_rel(skc.var_, exact_var)
    r_c = max_rel(floats(res_z, "scale_var"), skc.var_)
    check("var_ vs exact; StandardScaler on a row-major array", err_e <= 1e-13,
          "engage rel err %.1e, sklearn(row-major) rel err %.1e, engage vs it %.1e"
          % (err_e, err_c, r_c))
    err_z = float(np.max(np.abs(Ze - Zs)) / np.max(np.abs(Zs)))
    check("StandardScaler transform", err_z <= 1e-12, "max abs diff / max |z| = %.1e" % err_z)

    res_m = run_cli(["csv", DATA, "--cols", ",".join(COLS), "--scale", "minmax", "--k", "3",
                     "--n-init", "1", "--scaled-out", scaled])
    mm = MinMaxScaler().fit(X)
    r_min = max_rel(floats(res_m, "scale_data_min"), mm.data_min_)
    r_max = max_rel(floats(res_m, "scale_data_max"), mm.data_max_)
    r_sc = max_rel(floats(res_m, "scale_scale"), mm.scale_)
    r_off = max_rel(floats(res_m, "scale_offset"), mm.min_)
    check("MinMaxScaler data_min_/data_max_/scale_/min_", max(r_min, r_max, r_sc, r_off) <= 1e-12,
          "max rel diff %.1e %.1e %.1e %.1e" % (r_min, r_max, r_sc, r_off))
    Me = np.fromfile(scaled, dtype=np.float64).reshape(n, len(COLS))
    err_m = float(np.max(np.abs(Me - mm.transform(X))))
    check("MinMaxScaler transform", err_m <= 1e-12, "max abs diff %.1e" % err_m)

    # ---- K-means k = 3 --------------------------------------------------
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(Zs)
    e_inertia = float(res_z["inertia"][0][0])
    check("k=3 inertia engage <= sklearn best * (1 + 1e-4)",
          e_inertia <= km.inertia_ * (1 + 1e-4),
          "engage %.10g, sklearn %.10g (engage/sklearn - 1 = %.2e); engage %s iterations"
          % (e_inertia, km.inertia_, e_inertia / km.inertia_ - 1, res_z["iterations"][0][0]))
    C_e = rows(res_z, "centroid")
    labels_e = np.loadtxt(os.path.join(tmp, "labels.txt"), dtype=int)
    sizes = [int(r[1]) for r in sorted(res_z["size"], key=lambda r: int(r[0]))]
    check("cluster sizes sum to n and match labels",
          sum(sizes) == n and sizes == [int((labels_e == j).sum()) for j in range(3)],
          "sizes %s" % sizes)
    norms = np.linalg.norm(C_e, axis=1)
    check("clusters relabelled by ascending centroid norm", bool(np.all(np.diff(norms) >= 0)),
          "norms %s" % np.array2string(norms, precision=4))
    C_orig = rows(res_z, "centroid_orig")
    r_inv = max_rel(C_orig, sk.inverse_transform(C_e))
    check("inverse transform of centroids", r_inv <= 1e-12, "max rel diff %.1e" % r_inv)
    sil_ref = simplified_silhouette(Ze, C_e, labels_e)
    sil_e = float(res_z["silhouette"][0][0])
    check("simplified silhouette", abs(sil_e - sil_ref) <= 1e-12,
          "engage %.15f numpy %.15f" % (sil_e, sil_ref))

    # ---- fixed point --------------------------------------------------------
    res_t0 = run_cli(["csv", DATA, "--cols", ",".join(COLS), "--scale", "zscore", "--k", "3",
                      "--n-init", "10", "--tol", "0",
                      "--labels-out", os.path.join(tmp, "labels0.txt")])
    C0 = rows(res_t0, "centroid")
    labels0 = np.loadtxt(os.path.join(tmp, "labels0.txt"), dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kf = KMeans(n_clusters=3, init=C0, n_init=1, max_iter=300, tol=1e-4).fit(Ze)
    shift = float(np.sqrt(((kf.cluster_centers_ - C0) ** 2).sum()))
    check("sklearn KMeans(init=engage centroids) does not move them (tol=0 fit)",
          shift <= 1e-9 and np.array_equal(kf.labels_, labels0),
          "centroid shift %.2e, sklearn n_iter_ %d, labels equal %s, inertia engage %.10g sklearn %.10g"
          % (shift, kf.n_iter_, np.array_equal(kf.labels_, labels0),
             float(res_t0["inertia"][0][0]), kf.inertia_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kd = KMeans(n_clusters=3, init=C_e, n_init=1).fit(Ze)
    shift_d = float(((kd.cluster_centers_ - C_e) ** 2).sum())
    tol_abs = float(res_z["tol_abs"][0][0])
    check("default tol fit: sklearn moves centroids by at most the tolerance",
          shift_d <= 10 * tol_abs,
          "squared shift %.2e vs tol_abs %.2e" % (shift_d, tol_abs))

    # ---- elbow curve and knee ---------------------------------------------
    elbow_e = np.array([float(r[1]) for r in sorted(res_z["elbow"], key=lambda r: int(r[0]))])
    elbow_s = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(1, 11):
            elbow_s.append(KMeans(n_clusters=k, n_init=10, random_state=0).fit(Zs).inertia_)
    elbow_s = np.array(elbow_s)
    ratios = elbow_e / elbow_s
    print("     k  engage inertia        sklearn inertia       engage/sklearn")
    for k in range(10):
        print("    %2d  %-20.10f  %-20.10f  %.8f" % (k + 1, elbow_e[k], elbow_s[k], ratios[k]))
    check("elbow k=1..10 engage <= sklearn * (1 + 1e-3) at every k",
          bool(np.all(elbow_e <= elbow_s * (1 + 1e-3))),
          "max ratio %.6f" % float(ratios.max()))
    knee_e = int(res_z["knee"][0][0])
    ks = list(range(1, 11))
    ref_e = kneed_reference(ks, elbow_e)
    ref_s = kneed_reference(ks, elbow_s)
    check("knee equals kneed's choice on engage's curve", knee_e == (ref_e + 1 if ref_e >= 0 else -1),
          "engage k=%d, kneed k=%d" % (knee_e, ref_e + 1 if ref_e >= 0 else -1))
    check("knee equals kneed's choice on sklearn's curve", knee_e == (ref_s + 1 if ref_s >= 0 else -1),
          "kneed on sklearn's curve: k=%d" % (ref_s + 1 if ref_s >= 0 else -1))

    # ---- knee on random curves ---------------------------------------------
    rng = np.random.default_rng(2026)
    lines = []
    refs = []
    combos = [("convex", "decreasing"), ("convex", "increasing"),
              ("concave", "decreasing"), ("concave", "increasing")]
    for t in range(3000):
        m = int(rng.integers(1, 25))
        x = np.cumsum(rng.uniform(0.1, 3.0, m)) if t % 3 else np.arange(1, m + 1, dtype=float)
        kind = t % 5
        if kind == 0:
            y = np.sort(rng.exponential(1.0, m))[::-1] * 1000
        elif kind == 1:
            y = rng.normal(0, 1, m)
        elif kind == 2:
            y = np.round(rng.uniform(0, 4, m))          # plateaus and ties
        elif kind == 3:
            y = 1.0 / (x + rng.uniform(0.1, 2)) + rng.normal(0, 0.01, m)
        else:
            y = np.sort(rng.uniform(0, 1, m))
        curve, direction = combos[t % 4]
        S = float(rng.choice([0.0, 0.5, 1.0, 2.0, 5.0]))
        lines.append("%s %s %r %d %s %s" % (curve, direction, S, m,
                                            " ".join(repr(float(v)) for v in x),
                                            " ".join(repr(float(v)) for v in y)))
        refs.append(kneed_reference(x, y, S, curve, direction) if m >= 2 else -1)
    out = subprocess.run([CLI, "knee"], input="\n".join(lines) + "\n", check=True,
                         capture_output=True, text=True).stdout.split("\n")
    got = [int(v) for v in out if v.strip()]
    mism = [i for i in range(len(refs)) if got[i] != refs[i]]
    check("knee on 3000 random curves (4 curve/direction kinds, S, ties) equals kneed",
          len(got) == len(refs) and not mism,
          "%d curves, %d with a knee, %d mismatches" % (len(refs), sum(r >= 0 for r in refs), len(mism)))

    # ---- timing -------------------------------------------------------------
    rng = np.random.default_rng(12345)
    nb = 1_000_000
    comp = rng.choice(3, size=nb, p=[0.6, 0.3, 0.1])
    means = np.array([[0, 0, 0], [4, 1, 2], [1, 6, -3]], float)
    Xb = means[comp] + rng.standard_normal((nb, 3)) * np.array([1.0, 0.7, 1.3])
    Xb[:, 0] += rng.gamma(2.0, 0.8, nb)          # skew
    Xb = np.ascontiguousarray(Xb)
    raw = os.path.join(tmp, "bench.f64")
    Xb.tofile(raw)
    res_b = run_cli(["raw", raw, str(nb), "3", "--scale", "none", "--k", "3", "--n-init", "10",
                     "--repeat", "3"])
    res_bz = run_cli(["raw", raw, str(nb), "3", "--scale", "zscore", "--k", "3", "--n-init", "10",
                      "--repeat", "3"])
    t_e = float(res_b["time_fit"][0][0])
    t_ez = float(res_bz["time_fit"][0][0]) + float(res_bz["time_scale"][0][0])
    t_s = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rep in range(3):
            t0 = time.perf_counter()
            kb = KMeans(n_clusters=3, n_init=10, random_state=rep).fit(Xb)
            t_s.append(time.perf_counter() - t0)
            if rep == 0:
                best_s = kb.inertia_
            best_s = min(best_s, kb.inertia_)
    ts = min(t_s)
    t_s1 = None
    try:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            KMeans(n_clusters=3, n_init=10, random_state=0).fit(Xb)
            t_s1 = time.perf_counter() - t0
    except ImportError:
        pass
    print("     timing 1,000,000 x 3, k=3, n_init=10 (best of 3):")
    print("       engage core fit (no scaling)   %.3f s" % t_e)
    print("       engage zscore + fit             %.3f s" % t_ez)
    print("       sklearn KMeans fit              %.3f s  (OPENBLAS_CORETYPE=%s, %d CPUs)"
          % (ts, os.environ.get("OPENBLAS_CORETYPE", ""), os.cpu_count()))
    if t_s1 is not None:
        print("       sklearn KMeans fit, 1 thread    %.3f s  (random_state=0)" % t_s1)
    print("       ratio engage/sklearn            %.2f" % (t_e / ts))
    e_b = float(res_b["inertia"][0][0])
    check("1M x 3 inertia engage <= sklearn * (1 + 1e-4)", e_b <= best_s * (1 + 1e-4),
          "engage %.10g sklearn %.10g" % (e_b, best_s))
    if os.environ.get("ENGAGE_SKIP_TIMING"):
        print("skip timing comparison (ENGAGE_SKIP_TIMING set)")
    else:
        check("1M x 3 engage core at most half of sklearn's time", t_e <= 0.5 * ts,
              "engage %.3f s, sklearn %.3f s" % (t_e, ts))

    passed = sum(RESULTS)
    failed = len(RESULTS) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
