"""How much XGBoost's own ROC AUC on the examples/churn split moves with
small parameter changes: the scale against which our gbdt's gap there is
read. Run after bench/train/run.sh (it reads bench/out/train/churn-*.csv)
with Debian's python: /usr/bin/python3 bench/train/xgb_sensitivity.py"""
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

tr = pd.read_csv("bench/out/train/churn-train.csv")
te = pd.read_csv("bench/out/train/churn-test.csv")
y = (tr.pop("churn") == "yes").astype(int)
yt = (te.pop("churn") == "yes").astype(int)
for c in tr.columns:
    if tr[c].dtype == object:
        cats = sorted(set(tr[c]) | set(te[c]))
        tr[c] = pd.Categorical(tr[c], categories=cats)
        te[c] = pd.Categorical(te[c], categories=cats)
for name, kw in [
    ("defaults (max_bin 256)", {}),
    ("base_score = mean label", {"base_score": float(y.mean())}),
    ("max_cat_to_onehot 64 (one-hot)", {"max_cat_to_onehot": 64}),
    ("max_cat_threshold 8", {"max_cat_threshold": 8}),
    ("max_bin 255", {"max_bin": 255}),
]:
    params = dict(tree_method="hist", n_estimators=100, max_depth=6, learning_rate=0.3,
                  max_bin=256, enable_categorical=True, nthread=2)
    params.update(kw)
    m = xgb.XGBClassifier(**params).fit(tr, y)
    print(f"{name}: {roc_auc_score(yt, m.predict_proba(te)[:, 1]):.4f}")
