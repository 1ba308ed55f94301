#!/usr/bin/env bash
# Times `slipway run examples/churn`: a cold run (empty state directory),
# a warm run (every step cached), and, as the floor in the same run,
# `slipway validate` (loading and compiling the spec, nothing run).
# Uses hyperfine when it is installed, else a loop with `date`.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/slipway ./cmd/slipway
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
bin/slipway run examples/churn --state-dir "$state/warm" >/dev/null 2>&1
if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 2 --runs 20 \
		-n validate "bin/slipway validate examples/churn" \
		-n 'run (cached)' "bin/slipway run examples/churn --state-dir $state/warm" \
		--export-markdown bench/out/run-cache.md
	hyperfine -N --runs 10 --prepare "rm -rf $state/cold" \
		-n 'run (cold)' "bin/slipway run examples/churn --state-dir $state/cold" \
		--export-markdown bench/out/run-cold.md
else
	for what in validate warm cold; do
		start=$(date +%s%N)
		for _ in 1 2 3 4 5; do
			case $what in
			validate) bin/slipway validate examples/churn >/dev/null ;;
			warm) bin/slipway run examples/churn --state-dir "$state/warm" >/dev/null 2>&1 ;;
			cold) rm -rf "$state/cold"; bin/slipway run examples/churn --state-dir "$state/cold" >/dev/null 2>&1 ;;
			esac
		done
		echo "$what: $(( ($(date +%s%N) - start) / 5000000 )) ms per run"
	done
fi
