# gosummary.awk: medians of Go benchmark output (several runs of each
# benchmark) for BENCHMARKS.md, and the overhead of each Compile benchmark
# over its CUEOnly peer (same packages, CUE evaluation alone): the ratio of
# the medians, and, where the input marks rounds ("# round N" lines, as
# bench/go-bench.sh writes them), the median and range of the ratios within
# one round, which a machine that is busy now and then disturbs less.
#
#   awk -f bench/gosummary.awk bench/out/go-bench.txt

function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {  # insertion sort: n is small
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function ms(ns) { return sprintf("%.2f", ns / 1e6) }

/^# round / { round = $3 }

/^Benchmark/ {
	name = $1
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
	runs[name]++
	for (i = 3; i < NF; i += 2) {
		vals[name, $(i + 1)] = vals[name, $(i + 1)] " " $i
		if ($(i + 1) == "ns/op" && round != "") byround[name, round] = $i
	}
	if (round != "") rounds[round] = 1
}

END {
	print "| benchmark | runs | ms/op (median) | min–max ms/op | ms/pipeline | B/op | allocs/op |"
	print "|---|---|---|---|---|---|---|"
	for (k = 1; k <= n; k++) {
		b = order[k]
		split(substr(vals[b, "ns/op"], 2), a, " ")
		lo = hi = a[1]
		for (i in a) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
		med[b] = median(vals[b, "ns/op"])
		per = ((b, "ns/pipeline") in vals) ? ms(median(vals[b, "ns/pipeline"])) : "-"
		printf "| %s | %d | %s | %s–%s | %s | %.0f | %.0f |\n", b, runs[b], ms(med[b]), ms(lo), ms(hi), per,
			median(vals[b, "B/op"]), median(vals[b, "allocs/op"])
	}
	print ""
	print "| package(s) | Compile / CUE alone: ratio of medians | overhead | median of per-round ratios (range) |"
	print "|---|---|---|---|"
	for (k = 1; k <= n; k++) {
		b = order[k]
		if (b !~ /^BenchmarkCompile/) continue
		peer = b
		sub(/^BenchmarkCompile/, "BenchmarkCUEOnly", peer)
		if (!(peer in med)) continue
		label = b
		sub(/^BenchmarkCompile/, "", label)
		ratios = ""; rlo = ""; rhi = ""
		for (r in rounds) {
			if (!((b, r) in byround) || !((peer, r) in byround)) continue
			x = byround[b, r] / byround[peer, r]
			ratios = ratios " " x
			if (rlo == "" || x < rlo) rlo = x
			if (rhi == "" || x > rhi) rhi = x
		}
		paired = (ratios == "") ? "-" : sprintf("%+.0f%% (%+.0f%% to %+.0f%%)", 100 * (median(ratios) - 1), 100 * (rlo - 1), 100 * (rhi - 1))
		printf "| %s | %.2f | %+.0f%% | %s |\n", label, med[b] / med[peer], 100 * (med[b] / med[peer] - 1), paired
	}
}
