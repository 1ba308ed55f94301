#!/usr/bin/env bash
# run.sh: train Slipway's three models and their peers (scikit-learn
# LogisticRegression and HistGradientBoosting, XGBoost hist, a PyTorch MLP)
# on the same CSV files in one run, and print train seconds and test ROC AUC
# side by side (Markdown). Data sets: the synthetic churn data of
# bench/train/cmd/churngen and examples/churn's real data split 80/20.
#
#   bash bench/train/run.sh                                   # what `make bench-train` runs
#   BENCH_TRAIN_ROWS=200000 BENCH_TEST_ROWS=50000 bash bench/train/run.sh
#   BENCH_MLP_EPOCHS=5 (the longer MLP run for ROC AUC; 0 skips it)
#
# Output: bench/out/train/ (data, results.jsonl, table.md).
set -euo pipefail

cd "$(dirname "$0")/../.."
OUT=${BENCH_OUT:-$PWD/bench/out/train}
TRAIN_ROWS=${BENCH_TRAIN_ROWS:-1000000}
TEST_ROWS=${BENCH_TEST_ROWS:-200000}
EPOCHS=${BENCH_MLP_EPOCHS:-5}
PY=/usr/bin/python3
mkdir -p "$OUT"

# Peers' packages (Debian), each only if missing; one that cannot be
# installed leaves its peer "unavailable".
for pair in sklearn:python3-sklearn xgboost:python3-xgboost torch:python3-torch pandas:python3-pandas; do
	mod=${pair%%:*} pkg=${pair#*:}
	if ! "$PY" -c "import $mod" 2>/dev/null; then
		SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
		$SUDO apt-get install -y "$pkg" >"$OUT/apt-$pkg.log" 2>&1 || echo "run.sh: $pkg unavailable (see $OUT/apt-$pkg.log)" >&2
	fi
done

go build -o bin/slipway ./cmd/slipway
go run ./bench/train/cmd/churngen -train "$TRAIN_ROWS" -test "$TEST_ROWS" -seed 1 -out "$OUT"
# examples/churn: every fifth data row to the test file (deterministic 80/20).
awk -v tr="$OUT/churn-train.csv" -v te="$OUT/churn-test.csv" \
	'NR == 1 { print > tr; print > te; next } { if ((NR - 1) % 5 == 0) print > te; else print > tr }' \
	examples/churn/data/churn.csv

epochs_list=1
[ "$EPOCHS" -gt 1 ] && epochs_list="1,$EPOCHS"
RES="$OUT/results.jsonl"
: >"$RES"
{
	echo "# $(nproc) cores; $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $(go version)"
	echo "# $($PY -c 'import sklearn; print("scikit-learn", sklearn.__version__)' 2>&1 | tail -1); $($PY -c 'import xgboost; print("xgboost", xgboost.__version__)' 2>&1 | tail -1); $($PY -c 'import torch; print("torch", torch.__version__)' 2>&1 | tail -1)"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

ours() { # dataset train test model [--set ...]
	local ds=$1 tr=$2 te=$3 model=$4 tag=$4
	shift 4
	[ "$model" = mlp ] && tag="mlp_${EP}ep"
	bin/slipway train --train "$tr" --test "$te" --label churn --model "$model" "$@" -o json |
		"$PY" -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps({"dataset": sys.argv[1], "side": "ours", "model": sys.argv[2], "train_seconds": d["train_seconds"], "roc_auc": d["metrics"]["roc_auc"], "log_loss": d["metrics"]["log_loss"], "rows": d["rows"]}))' "$ds" "$tag" |
		tee -a "$RES"
}

for ds in synthetic churn; do
	if [ "$ds" = synthetic ]; then tr=$OUT/train.csv te=$OUT/test.csv; else tr=$OUT/churn-train.csv te=$OUT/churn-test.csv; fi
	echo "## $ds: ours" >&2
	ours "$ds" "$tr" "$te" logistic --set C=1 --set maxIter=100
	ours "$ds" "$tr" "$te" gbdt --set trees=100 --set maxDepth=6 --set maxBin=256 --set learningRate=0.3 --set earlyStoppingRounds=0
	for EP in ${epochs_list//,/ }; do
		ours "$ds" "$tr" "$te" mlp --set hiddenUnits=100 --set batchSize=200 --set learningRate=0.001 --set l2=0 --set epochs="$EP" --set earlyStoppingRounds=0
	done
	echo "## $ds: peers" >&2
	"$PY" bench/train/peers.py --train "$tr" --test "$te" --label churn --mlp-epochs "$epochs_list" |
		"$PY" -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line); d = {"dataset": sys.argv[1], "side": "peer", **d}; print(json.dumps(d), flush=True)' "$ds" |
		tee -a "$RES"
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

"$PY" bench/train/table.py "$RES" | tee "$OUT/table.md"
