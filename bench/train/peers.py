#!/usr/bin/python3
"""peers.py: train the peers of Slipway's training core on the same CSV files.

    /usr/bin/python3 bench/train/peers.py --train A.csv --test B.csv --label churn [--mlp-epochs 1,5]

Prints one JSON line per model: {"model", "train_seconds", "roc_auc", "rows", ...}
(train_seconds: the fit call only, as Slipway's train_seconds; preprocessing is
fitted on the training rows and not timed). A peer whose package is missing is
printed as {"model": ..., "unavailable": reason}. Environment: BENCH_THREADS
(default 2), BENCH_TORCH_THREADS (PyTorch's, default BENCH_THREADS) and
BENCH_TORCH_SEED (default 42).

Preprocessing follows `slipway train`: for logistic regression and the MLP,
numeric columns are median-imputed and standardised and categoricals one-hot
encoded; the tree models get categoricals natively (missing numbers stay NaN).
"""
import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
# PyTorch's threads, BENCH_THREADS unless set: on 2 shared cores one thread
# can be faster for a net this small (OpenMP's hand-offs cost more than the
# products gain).
TORCH_THREADS = int(os.environ.get("BENCH_TORCH_THREADS", str(THREADS)))
# PyTorch's seed (initial weights and batch order), to measure the spread
# of its ROC AUC over seeds.
TORCH_SEED = int(os.environ.get("BENCH_TORCH_SEED", "42"))
POSITIVE = ("yes", "true", "1")


def read_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        cols = [[] for _ in header]
        for row in r:
            for i, v in enumerate(row):
                cols[i].append(v)
    return header, cols


def is_numeric(values):
    for v in values:
        if v == "":
            continue
        try:
            float(v)
        except ValueError:
            return False
    return True


def to_float(values):
    return np.array([float(v) if v != "" else math.nan for v in values], dtype=np.float64)


class Data:
    """Columns of one file, split into numeric and categorical by the training file."""

    def __init__(self, header, cols, label, numeric_names):
        li = header.index(label)
        self.y = np.array([1.0 if v.lower() in POSITIVE else 0.0 for v in cols[li]])
        self.num_names = [h for h in header if h in numeric_names]
        self.cat_names = [h for h in header if h != label and h not in numeric_names]
        self.num = np.column_stack([to_float(cols[header.index(h)]) for h in self.num_names]) \
            if self.num_names else np.zeros((len(self.y), 0))
        self.cat = [cols[header.index(h)] for h in self.cat_names]


def load(train_path, test_path, label):
    h, c = read_csv(train_path)
    numeric = {name for name, col in zip(h, c) if name != label and is_numeric(col)}
    tr = Data(h, c, label, numeric)
    h2, c2 = read_csv(test_path)
    te = Data(h2, c2, label, numeric)
    return tr, te


def dense_features(tr, te):
    """Median impute + standardise numerics, one-hot categoricals (levels of the training rows)."""
    med = np.nanmedian(tr.num, axis=0)

    def impute(x):
        x = x.copy()
        idx = np.where(np.isnan(x))
        x[idx] = np.take(med, idx[1])
        return x

    a, b = impute(tr.num), impute(te.num)
    mu, sd = a.mean(axis=0), a.std(axis=0)
    sd[sd == 0] = 1
    a, b = (a - mu) / sd, (b - mu) / sd
    oa, ob = [a], [b]
    for ca, cb in zip(tr.cat, te.cat):
        levels = sorted(set(ca))
        pos = {v: i for i, v in enumerate(levels)}
        ma = np.zeros((len(ca), len(levels)))
        ma[np.arange(len(ca)), [pos[v] for v in ca]] = 1
        mb = np.zeros((len(cb), len(levels)))
        for i, v in enumerate(cb):
            if v in pos:
                mb[i, pos[v]] = 1
        oa.append(ma)
        ob.append(mb)
    return np.hstack(oa), np.hstack(ob)


def codes(tr, te):
    """Numerics as they are (NaN missing) and categoricals as integer codes."""
    ca, cb = [], []
    for x, z in zip(tr.cat, te.cat):
        levels = sorted(set(x))
        pos = {v: i for i, v in enumerate(levels)}
        ca.append(np.array([pos[v] for v in x], dtype=np.float64))
        cb.append(np.array([pos.get(v, math.nan) for v in z], dtype=np.float64))
    a = np.column_stack([tr.num] + ca) if ca else tr.num
    b = np.column_stack([te.num] + cb) if cb else te.num
    return a, b, len(tr.num_names), [len(set(x)) for x in tr.cat]


def emit(**kw):
    print(json.dumps(kw), flush=True)


def sk_logistic(tr, te, dense):
    from sklearn.linear_model import LogisticRegression
    xa, xb = dense
    m = LogisticRegression(solver="lbfgs", C=1.0, max_iter=100, tol=1e-4)
    t = time.perf_counter()
    m.fit(xa, tr.y)
    sec = time.perf_counter() - t
    p = m.predict_proba(xb)[:, 1]
    emit(model="sklearn_logistic", train_seconds=sec, roc_auc=roc_auc_score(te.y, p), rows=len(tr.y),
         n_iter=int(m.n_iter_[0]))


def sk_hgb(tr, te, coded):
    from sklearn.ensemble import HistGradientBoostingClassifier
    xa, xb, nnum, _ = coded
    mask = [i >= nnum for i in range(xa.shape[1])]
    m = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.3, max_depth=6, max_leaf_nodes=None,
                                       max_bins=255, l2_regularization=1.0, early_stopping=False,
                                       categorical_features=mask if any(mask) else None, random_state=0)
    t = time.perf_counter()
    m.fit(xa, tr.y)
    sec = time.perf_counter() - t
    p = m.predict_proba(xb)[:, 1]
    emit(model="sklearn_hgb", train_seconds=sec, roc_auc=roc_auc_score(te.y, p), rows=len(tr.y))


def xgb_hist(tr, te, coded, dense):
    import xgboost as xgb
    params = dict(n_estimators=100, max_depth=6, learning_rate=0.3, max_bin=256, tree_method="hist",
                  n_jobs=THREADS, objective="binary:logistic", reg_lambda=1.0, min_child_weight=1.0)
    note = "native categoricals (pandas category dtype)"
    try:
        import pandas as pd
        xa, xb, nnum, _ = coded
        names = tr.num_names + tr.cat_names

        def frame(x):
            d = pd.DataFrame(x, columns=names)
            for n in tr.cat_names:
                d[n] = pd.Categorical(d[n])
            return d

        cats = {n: sorted(set(np.unique(xa[:, i][~np.isnan(xa[:, i])])))
                for i, n in enumerate(names) if i >= nnum}
        fa, fb = frame(xa), frame(xb)
        for n, levels in cats.items():
            fa[n] = fa[n].cat.set_categories(levels)
            fb[n] = fb[n].cat.set_categories(levels)
        m = xgb.XGBClassifier(enable_categorical=True, **params)
    except ImportError:
        fa, fb = dense
        note = "one-hot categoricals (no pandas)"
        m = xgb.XGBClassifier(**params)
    t = time.perf_counter()
    m.fit(fa, tr.y)
    sec = time.perf_counter() - t
    p = m.predict_proba(fb)[:, 1]
    emit(model="xgboost_hist", train_seconds=sec, roc_auc=roc_auc_score(te.y, p), rows=len(tr.y),
         version=xgb.__version__, note=note)


def torch_mlp(tr, te, dense, epochs):
    import torch
    torch.set_num_threads(TORCH_THREADS)
    torch.manual_seed(TORCH_SEED)
    xa, xb = dense
    # As `slipway train`, hold out 10% of the training rows for the
    # per-epoch validation loss and train on the other 90%.
    rng = np.random.default_rng(43)
    perm = rng.permutation(len(tr.y))
    nva = len(perm) // 10
    va, trn = perm[:nva], perm[nva:]
    X = torch.tensor(xa[trn], dtype=torch.float32)
    Y = torch.tensor(tr.y[trn], dtype=torch.float32).unsqueeze(1)
    XV = torch.tensor(xa[va], dtype=torch.float32)
    YV = torch.tensor(tr.y[va], dtype=torch.float32).unsqueeze(1)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 100), torch.nn.ReLU(), torch.nn.Linear(100, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = torch.nn.BCEWithLogitsLoss()
    bs = 200
    t = time.perf_counter()
    for _ in range(epochs):
        net.train()
        order = torch.randperm(X.shape[0])
        for i in range(0, X.shape[0], bs):
            idx = order[i:i + bs]
            opt.zero_grad()
            loss = lossf(net(X[idx]), Y[idx])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            lossf(net(XV), YV).item()
    sec = time.perf_counter() - t
    with torch.no_grad():
        p = torch.sigmoid(net(torch.tensor(xb, dtype=torch.float32))).numpy().ravel()
    emit(model=f"torch_mlp_{epochs}ep", train_seconds=sec, seconds_per_epoch=sec / epochs,
         roc_auc=roc_auc_score(te.y, p), rows=len(trn), epochs=epochs, threads=TORCH_THREADS,
         version=torch.__version__)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--mlp-epochs", default="1")
    ap.add_argument("--models", default="logistic,hgb,xgboost,torch")
    a = ap.parse_args()
    tr, te = load(a.train, a.test, a.label)
    dense = dense_features(tr, te)
    coded = codes(tr, te)
    models = a.models.split(",")
    runs = [("logistic", "sklearn_logistic", lambda: sk_logistic(tr, te, dense)),
            ("hgb", "sklearn_hgb", lambda: sk_hgb(tr, te, coded)),
            ("xgboost", "xgboost_hist", lambda: xgb_hist(tr, te, coded, dense))]
    for e in a.mlp_epochs.split(","):
        runs.append(("torch", f"torch_mlp_{int(e)}ep", lambda e=int(e): torch_mlp(tr, te, dense, e)))
    for key, name, fn in runs:
        if key not in models:
            continue
        try:
            fn()
        except ImportError as err:
            emit(model=name, unavailable=f"{err}")


if __name__ == "__main__":
    sys.exit(main())
