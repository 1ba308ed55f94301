#!/usr/bin/python3
"""table.py RESULTS.jsonl: the Markdown table of bench/train/run.sh."""
import json
import sys

PAIRS = [("logistic", "sklearn_logistic"), ("gbdt", "xgboost_hist"), ("gbdt", "sklearn_hgb")]


def fmt(x, spec):
    return format(x, spec) if isinstance(x, (int, float)) else "n/a"


def main(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    by = {(r["dataset"], r["side"], r["model"]): r for r in rows}
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    mlps = sorted({r["model"] for r in rows if r["side"] == "ours" and r["model"].startswith("mlp_")},
                  key=lambda m: int(m[4:-2]))
    pairs = PAIRS + [(m, "torch_" + m) for m in mlps]
    print("| data set | rows (train) | model | peer | ours s | peer s | ours/peer time | ours ROC AUC | peer ROC AUC | Δ AUC |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for ds in datasets:
        for om, pm in pairs:
            o, p = by.get((ds, "ours", om)), by.get((ds, "peer", pm))
            if o is None and p is None:
                continue
            o, p = o or {}, p or {}
            os_, ps = o.get("train_seconds"), p.get("train_seconds")
            oa, pa = o.get("roc_auc"), p.get("roc_auc")
            ratio = fmt(os_ / ps, ".2f") if os_ is not None and ps else "n/a"
            delta = fmt(oa - pa, "+.4f") if oa is not None and pa is not None else "n/a"
            peer = pm if "unavailable" not in p else pm + " (unavailable)"
            print(f"| {ds} | {o.get('rows', p.get('rows', ''))} | {om} | {peer} | {fmt(os_, '.3f')} | {fmt(ps, '.3f')} "
                  f"| {ratio} | {fmt(oa, '.4f')} | {fmt(pa, '.4f')} | {delta} |")


if __name__ == "__main__":
    main(sys.argv[1])
