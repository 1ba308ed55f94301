#!/usr/bin/env python3
"""Print scikit-learn's ROC and precision-recall curves on fixed inputs, as JSON.

The output is recorded in curves_ref.json next to this script; the Go test
(curves_test.go) reads that file, so Python is not needed at test time.

Regenerate (Debian: apt-get install -y python3-sklearn) with

    /usr/bin/python3 runners/train/metrics/testdata/curves_ref.py \
        > runners/train/metrics/testdata/curves_ref.json

Generated inputs come from the LCG of sklearn_ref.py (imported from it), which
the Go test implements identically; the JSON records sums and the first
values of each generated array so the Go test can check that its generator
agrees before comparing curves.
"""

import json
import os
import sys

import numpy as np
import sklearn
from sklearn import metrics as skm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklearn_ref import check, lcg_binary  # noqa: E402

CASES = [
    # name, y, p  (literal cases)
    ("sklearn_doc", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
    ("all_tied", [0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]),
    ("mixed_ties", [0, 0, 1, 1, 0, 1, 1, 0], [0.2, 0.6, 0.6, 0.9, 0.2, 0.2, 0.7, 0.1]),
    ("exact_0_and_1", [0, 1, 1, 0, 1], [0.0, 1.0, 0.0, 0.3, 0.9]),
    ("perfect", [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]),
    ("inverted", [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]),
    ("one_positive", [0, 0, 0, 1, 0, 0], [0.3, 0.5, 0.1, 0.5, 0.95, 0.0]),
    # collinear runs that drop_intermediate removes
    ("collinear", [1, 1, 1, 0, 0, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]),
    # scores outside [0, 1] (margins, log-odds)
    ("margins", [0, 1, 0, 1, 1, 0, 0], [-2.5, 3.0, -0.5, 0.25, -0.5, 1.5, -7.0]),
]

LCG_CASES = [
    # name, seed, n, grid
    ("lcg_ties", 42, 200, 20),
    ("lcg_continuous", 7, 200, 0),
    ("lcg_large", 2024, 1000, 0),
]


def curves(name, y, p, extra):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    out = dict(name=name, **extra)
    fpr, tpr, th = skm.roc_curve(y, p, drop_intermediate=True)
    out["roc"] = dict(fpr=fpr.tolist(), tpr=tpr.tolist(), thresholds=th.tolist())
    prec, rec, th = skm.precision_recall_curve(y, p)
    out["pr"] = dict(precision=prec.tolist(), recall=rec.tolist(), thresholds=th.tolist())
    return out


def main():
    res = dict(sklearn_version=sklearn.__version__, numpy_version=np.__version__, cases=[])
    for name, y, p in CASES:
        res["cases"].append(curves(name, y, p, dict(y=y, p=p)))
    for name, seed, n, grid in LCG_CASES:
        y, p = lcg_binary(seed, n, grid)
        res["cases"].append(curves(name, y, p, dict(
            lcg=dict(seed=seed, n=n, grid=grid, y=check(y), p=check(p)))))
    json.dump(res, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
