#!/usr/bin/env bash
# cue-export.sh: the CLI-level peer figures for BENCHMARKS.md. It times, in
# one run and on the same packages, `cue export` of each package unified
# with the Slipway schema against `bin/slipway validate` of it: the three
# examples, and a generated repository of 200 packages (one process per
# package, sequentially and with xargs -P2; and `slipway validate` of all
# 200 in one process). Process start is included on both sides.
#
#   bash bench/cue-export.sh            # what `make bench` runs
#   BENCH_N=20 BENCH_RUNS=3 BENCH_REPO_RUNS=1 bash bench/cue-export.sh   # quick
#   BENCH_NO_HYPERFINE=1 ...   # time with the bash loop even if hyperfine is here
#
# How `cue export` sees what Slipway checks: Slipway unifies the user's
# package with #Spec from the embedded schema (a package of its own). Here
# each package is copied to bench/out/cue/NAME with
#   - the user's .cue files (those Slipway loads: not _* or .*),
#   - zz_slipway_schema.cue: `slipway schema --package PKG`, the schema as a
#     file of the user's package ending in `pipelines: #Spec.pipelines` (the
#     schema's constraints, closed, defaults applied),
#   - zz_slipway_spec.cue: `[!="pipelines"]: _|_`, no other top-level field,
#     as #Spec is closed,
# and the whole package is exported (not only -e pipelines, so that the top
# level is checked as Slipway checks it). A spec that Slipway rejects for a
# schema reason fails this export too; it does not run Slipway's checks
# beyond the schema (references, policies, the IR), which is the overhead
# being measured.
#
# Timing uses hyperfine when installed (apt-get install -y hyperfine), else a
# bash loop with date +%s.%N. Results go to bench/out/cli.csv and a table on
# stdout (and bench/out/cli.md).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BENCH_OUT:-$ROOT/bench/out}
N=${BENCH_N:-200}
RUNS=${BENCH_RUNS:-20}           # timed runs per example command
REPO_RUNS=${BENCH_REPO_RUNS:-5}  # timed runs per whole-repository command
CUE_VERSION=v0.17.1
SLIPWAY=$ROOT/bin/slipway
EXAMPLES=(churn churn-gpu minimal)

log() { printf '%s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------

# cue at exactly $CUE_VERSION: on PATH, in GOBIN/GOPATH/bin, or installed.
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
CUE=$(command -v cue || true)
if [ -z "$CUE" ] && [ -x "$gobin/cue" ]; then CUE=$gobin/cue; fi
if [ -z "$CUE" ] || [ "$("$CUE" version 2>/dev/null | head -1)" != "cue version $CUE_VERSION" ]; then
	log "installing cue $CUE_VERSION (go install cuelang.org/go/cmd/cue@$CUE_VERSION)"
	go install "cuelang.org/go/cmd/cue@$CUE_VERSION"
	CUE=$gobin/cue
fi
[ "$("$CUE" version | head -1)" = "cue version $CUE_VERSION" ] || { log "cue at $CUE is not $CUE_VERSION"; exit 1; }

HYPERFINE=$(command -v hyperfine || true)
[ -z "${BENCH_NO_HYPERFINE:-}" ] || HYPERFINE=

go build -o "$SLIPWAY" ./cmd/slipway

# --- packages ----------------------------------------------------------------

mkdir -p "$OUT"
rm -rf "$OUT/cue" "$OUT/repo"
go run ./bench/gen/cmd/genrepo -n "$N" -out "$OUT/repo"

# prepare SRC NAME: copy the package in SRC to $OUT/cue/NAME with the schema.
prepare() {
	local src=$1 name=$2 dest=$OUT/cue/$2 pkg f
	mkdir -p "$dest"
	for f in "$src"/*.cue; do
		case $(basename "$f") in _* | .*) continue ;; esac
		cp "$f" "$dest/"
	done
	pkg=$(sed -n 's/^package[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$dest"/*.cue | head -1)
	[ -n "$pkg" ] || { log "$src: no package clause"; exit 1; }
	"$SLIPWAY" schema --package "$pkg" >"$dest/zz_slipway_schema.cue"
	cat >"$dest/zz_slipway_spec.cue" <<EOF
package $pkg

// #Spec is closed: pipelines is the only regular top-level field.
[!="pipelines"]: _|_
EOF
}

: >"$OUT/cue-args.txt"   # one line per generated package: the files cue exports
: >"$OUT/slipway-args.txt" # one line per generated package: its directory
for e in "${EXAMPLES[@]}"; do prepare "examples/$e" "$e"; done
for d in "$OUT"/repo/p*; do
	name=$(basename "$d")
	prepare "$d" "$name"
	echo "$OUT"/cue/"$name"/*.cue >>"$OUT/cue-args.txt"
	echo "$d" >>"$OUT/slipway-args.txt"
done

# Both tools must accept every package before anything is timed.
log "checking that cue export and slipway validate accept every package"
for e in "${EXAMPLES[@]}"; do
	"$CUE" export "$OUT/cue/$e"/*.cue >/dev/null
	"$SLIPWAY" validate "examples/$e" >/dev/null
done
xargs -L1 "$CUE" export >/dev/null <"$OUT/cue-args.txt"
xargs "$SLIPWAY" validate >/dev/null <"$OUT/slipway-args.txt"

# --- timing --------------------------------------------------------------------

# Commands for the whole repository, without a shell per package on either side.
cat >"$OUT/repo-cue-seq.sh" <<EOF
exec xargs -L1 "$CUE" export >/dev/null <"$OUT/cue-args.txt"
EOF
cat >"$OUT/repo-cue-p2.sh" <<EOF
exec xargs -P2 -L1 "$CUE" export >/dev/null <"$OUT/cue-args.txt"
EOF
cat >"$OUT/repo-slipway-seq.sh" <<EOF
exec xargs -n1 "$SLIPWAY" validate >/dev/null <"$OUT/slipway-args.txt"
EOF
cat >"$OUT/repo-slipway-p2.sh" <<EOF
exec xargs -P2 -n1 "$SLIPWAY" validate >/dev/null <"$OUT/slipway-args.txt"
EOF
cat >"$OUT/repo-slipway-one.sh" <<EOF
exec xargs "$SLIPWAY" validate >/dev/null <"$OUT/slipway-args.txt"
EOF

CSV=$OUT/cli.csv
: >"$OUT/hyperfine.log" # hyperfine's warnings (outliers and the like)
echo "case,tool,mean_s,stddev_s,median_s,min_s,max_s,runs" >"$CSV"

# busy: percentage of CPU time used (by anything) over the last second.
busy() {
	local a b
	read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ </proc/stat
	sleep 1
	read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ </proc/stat
	a=$((a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8))
	b=$((b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8))
	echo $((100 - 100 * ((b4 + b5) - (a4 + a5)) / (b - a)))
}

# timeit CASE TOOL RUNS WARMUP CMD...: time CMD and append a CSV row.
timeit() {
	local case=$1 tool=$2 runs=$3 warmup=$4
	shift 4
	if [ -n "$HYPERFINE" ]; then
		local tmp=$OUT/hf.csv
		"$HYPERFINE" -N --style none --warmup "$warmup" --runs "$runs" --export-csv "$tmp" -- "$*" >/dev/null 2>>"$OUT/hyperfine.log"
		tail -n +2 "$tmp" | awk -F, -v c="$case" -v t="$tool" -v r="$runs" \
			'{printf "%s,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%d\n", c, t, $2, $3, $4, $7, $8, r}' >>"$CSV"
	else
		local i s e
		for ((i = 0; i < warmup; i++)); do "$@" >/dev/null; done
		for ((i = 0; i < runs; i++)); do
			s=$(date +%s.%N)
			"$@" >/dev/null
			e=$(date +%s.%N)
			awk -v s="$s" -v e="$e" 'BEGIN { printf "%.6f\n", e - s }'
		done | sort -g | awk -v c="$case" -v t="$tool" '
			{ x[NR] = $1; s += $1; ss += $1 * $1 }
			END {
				m = s / NR; sd = (NR > 1) ? sqrt((ss - NR * m * m) / (NR - 1)) : 0
				med = (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
				printf "%s,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%d\n", c, t, m, sd, med, x[1], x[NR], NR
			}' >>"$CSV"
	fi
	log "  $case / $tool done"
}

log "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); CPU busy before timing: $(busy)%"
log "timing with ${HYPERFINE:-a bash loop (hyperfine not installed)}"
timeit "process start (version)" cue "$RUNS" 3 "$CUE" version
timeit "process start (version)" slipway "$RUNS" 3 "$SLIPWAY" version
for e in "${EXAMPLES[@]}"; do
	timeit "$e" cue "$RUNS" 3 "$CUE" export "$OUT/cue/$e"/*.cue
	timeit "$e" slipway "$RUNS" 3 "$SLIPWAY" validate "examples/$e"
done
timeit "$N pkgs: sequential" cue "$REPO_RUNS" 1 bash "$OUT/repo-cue-seq.sh"
timeit "$N pkgs: sequential" slipway "$REPO_RUNS" 1 bash "$OUT/repo-slipway-seq.sh"
timeit "$N pkgs: xargs -P2" cue "$REPO_RUNS" 1 bash "$OUT/repo-cue-p2.sh"
timeit "$N pkgs: xargs -P2" slipway "$REPO_RUNS" 1 bash "$OUT/repo-slipway-p2.sh"
timeit "$N pkgs: one process" slipway "$REPO_RUNS" 1 bash "$OUT/repo-slipway-one.sh"
log "CPU busy after timing: $(busy)%"

# --- table ---------------------------------------------------------------------

awk -F, '
	NR == 1 { next }
	!($1 in seen) { seen[$1] = 1; order[++n] = $1 }
	{ mean[$1, $2] = $3 * 1000; sd[$1, $2] = $4 * 1000; med[$1, $2] = $5 * 1000; runs[$1, $2] = $8 }
	function cell(c, t) {
		if (!((c, t) in mean)) return "n/a"
		return sprintf("%.1f ± %.1f (median %.1f, %d runs)", mean[c, t], sd[c, t], med[c, t], runs[c, t])
	}
	END {
		print "| case | cue export (ms) | slipway validate (ms) | slipway / cue (medians) |"
		print "|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			c = order[i]
			ratio = ((c, "cue") in med && (c, "slipway") in med) ? sprintf("%.2f", med[c, "slipway"] / med[c, "cue"]) : "n/a"
			printf "| %s | %s | %s | %s |\n", c, cell(c, "cue"), cell(c, "slipway"), ratio
		}
	}' "$CSV" | tee "$OUT/cli.md"
