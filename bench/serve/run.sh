#!/usr/bin/env bash
# make bench-serve: wrk against `slipway serve` with the churn model and
# against the FastAPI + scikit-learn baseline (peer.py), in the same run, on
# loopback. Installs wrk, python3-fastapi, python3-uvicorn,
# python3-sklearn and python3-pandas from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
command -v wrk >/dev/null || need+=(wrk)
/usr/bin/python3 -c 'import fastapi, uvicorn, sklearn, pandas' 2>/dev/null || need+=(python3-fastapi python3-uvicorn python3-sklearn python3-pandas)
if [ ${#need[@]} -gt 0 ]; then apt-get install -y "${need[@]}" >/dev/null; fi
DURATION=${BENCH_DURATION:-15s}
CONNS=${BENCH_CONNECTIONS:-64}
# wrk runs with 1 and with 2 threads (BENCH_THREADS="1 2"): on a 2-core
# machine one thread leaves a core to the server under test, two share both
# cores with it; and uvicorn's workers get their connections more evenly
# from two threads. Every figure is kept; compare like with like.
THREADS_LIST=${BENCH_THREADS:-1 2}
make build >/dev/null
state=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$state"' EXIT
COSIGN_PASSWORD=bench bin/slipway keys generate --out "$state/keys" >/dev/null
COSIGN_KEY=$state/keys/cosign.key COSIGN_PASSWORD=bench bin/slipway run examples/churn --state-dir "$state" >/dev/null 2>&1
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null -X POST -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" bench/serve/post.lua)" "http://127.0.0.1:$1/predict" && return 0; sleep 0.2; done; return 1; }
bench() { # name port threads
	echo "== $1, wrk -t$3 -c$CONNS"
	wrk -t"$3" -c"$CONNS" -d"$DURATION" --latency -s bench/serve/post.lua "http://127.0.0.1:$2/predict" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
}
for t in $THREADS_LIST; do
	bin/slipway serve --model churn --key "$state/keys/cosign.pub" --state-dir "$state" --addr 127.0.0.1:18181 2>/dev/null &
	wait_up 18181
	bench "slipway serve (gbdt, 2 cores, live drift on)" 18181 "$t"
	kill %1 2>/dev/null || true; wait 2>/dev/null || true
	for w in 1 2; do
		(cd bench/serve && OMP_NUM_THREADS=1 /usr/bin/python3 peer.py 18182 "$w" 2>/dev/null) &
		wait_up 18182
		bench "FastAPI + uvicorn + scikit-learn, $w worker(s)" 18182 "$t"
		kill %1 2>/dev/null; pkill -f 'peer.py 18182' 2>/dev/null || true; wait 2>/dev/null || true
		sleep 1
	done
done
