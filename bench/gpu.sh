#!/usr/bin/env bash
# One unattended call on a GPU machine (under 8 minutes): our kernels
# (bench/gpu) and the PyTorch anchors on the same shapes, each part failing
# on its own. Full logs go under $OUT (or ./build/gpu-bench); the table is
# printed last.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-build/gpu-bench}
mkdir -p "$OUT"
status=()
run() { # name, timeout seconds, command...
  local name=$1 limit=$2; shift 2
  echo "== $name" | tee -a "$OUT/summary.log"
  if timeout "$limit" "$@" >"$OUT/$name.log" 2>&1; then status+=("$name: ok"); else status+=("$name: FAILED (exit $?, see $name.log)"); fi
  tail -n 20 "$OUT/$name.log"
}
nvidia-smi >"$OUT/nvidia-smi.log" 2>&1 || true
if [ -x bin/gpu-bench ]; then BENCH=bin/gpu-bench; else
  CGO_ENABLED=0 go build -o "$OUT/gpu-bench" ./bench/gpu >"$OUT/build.log" 2>&1 && BENCH="$OUT/gpu-bench" || BENCH=""
fi
if [ -n "$BENCH" ]; then run ours 300 "$BENCH"; else status+=("ours: FAILED (build, see build.log)"); fi
run torch_baseline 120 python3 bench/gpu/torch_baseline.py
run torch_graphs 120 python3 bench/gpu/torch_graphs.py
echo "---- gpu.sh table ----"
[ -f "$OUT/ours.log" ] && sed -n '/^---- table ----$/,$p' "$OUT/ours.log" | tail -n +2
grep -h '^{' "$OUT/torch_baseline.log" "$OUT/torch_graphs.log" 2>/dev/null | sed 's/^/torch: /'
for s in "${status[@]}"; do echo "part $s"; done
