#!/usr/bin/env bash
# go-bench.sh: the Go benchmarks of compiler/bench_test.go for BENCHMARKS.md.
# It builds the test binary once and runs every benchmark once per round,
# ROUNDS rounds (default 5), so that Compile and its CUE-only peer take
# turns and a busy spell on the machine hits both alike (go test -count 5
# would run each benchmark five times in a row). The raw output, in go test
# format (benchstat reads it), goes to bench/out/go-bench.txt; medians and
# Compile's overhead over CUE alone go to stdout and bench/out/go-summary.md.
#
#   bash bench/go-bench.sh               # what `make bench` runs
#   BENCH_ROUNDS=2 bash bench/go-bench.sh
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${BENCH_OUT:-$PWD/bench/out}
ROUNDS=${BENCH_ROUNDS:-5}
mkdir -p "$OUT"

go test -c -o "$OUT/compiler.test" ./compiler/
{
	echo "# $(nproc) cores; $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $(go version); load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(git status --porcelain 2>/dev/null | wc -l) paths changed or untracked"
	for r in $(seq "$ROUNDS"); do
		echo "# round $r of $ROUNDS"
		(cd compiler && "$OUT/compiler.test" -test.run '^$' -test.bench . -test.benchmem -test.count 1 -test.timeout 30m)
	done
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/go-bench.txt"
awk -f bench/gosummary.awk "$OUT/go-bench.txt" | tee "$OUT/go-summary.md"
