package plan

import (
	"fmt"
	"strings"
)

// maxDiffWork bounds the work of one diff, counted in diagonals explored
// and lines compared (under a second). Past it, each region left is shown
// as removed and added whole: still a correct diff, only not the shortest.
const maxDiffWork = 200_000_000

// lineOp is one line of an edit script: kept (' '), removed ('-') or added
// ('+'). a and b are the positions in the old and new lines where it
// stands.
type lineOp struct {
	kind byte
	a, b int
}

// script returns the shortest edit script turning a into b (Myers' O(ND)
// algorithm in linear space), within maxDiffWork.
func script(a, b []string) []lineOp { return scriptWithin(a, b, maxDiffWork) }

// scriptWithin is script with a bound on the work.
func scriptWithin(a, b []string, budget int) []lineOp {
	ids := map[string]int{}
	id := func(ls []string) []int {
		out := make([]int, len(ls))
		for i, l := range ls {
			v, ok := ids[l]
			if !ok {
				v = len(ids)
				ids[l] = v
			}
			out[i] = v
		}
		return out
	}
	d := &differ{a: id(a), b: id(b), matchA: make([]int, len(a))}
	for i := range d.matchA {
		d.matchA[i] = -1
	}
	d.budget = budget
	d.compare(0, len(a), 0, len(b))

	var ops []lineOp
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && d.matchA[i] == j:
			ops = append(ops, lineOp{' ', i, j})
			i++
			j++
		case i < len(a) && d.matchA[i] < 0:
			ops = append(ops, lineOp{'-', i, j})
			i++
		default:
			ops = append(ops, lineOp{'+', i, j})
			j++
		}
	}
	return ops
}

// differ finds matching lines; matchA[i] is the line of b that a's line i
// matches, or -1.
type differ struct {
	a, b   []int
	matchA []int
	budget int
}

func (d *differ) compare(alo, ahi, blo, bhi int) {
	for alo < ahi && blo < bhi && d.a[alo] == d.b[blo] {
		d.matchA[alo] = blo
		alo++
		blo++
	}
	for alo < ahi && blo < bhi && d.a[ahi-1] == d.b[bhi-1] {
		ahi--
		bhi--
		d.matchA[ahi] = bhi
	}
	if alo == ahi || blo == bhi {
		return
	}
	x, y, u, v, ok := d.middleSnake(alo, ahi, blo, bhi)
	if !ok {
		return // too costly: the region is replaced whole
	}
	d.compare(alo, x, blo, y)
	for k := 0; k < u-x; k++ {
		d.matchA[x+k] = y + k
	}
	d.compare(u, ahi, v, bhi)
}

// middleSnake finds the middle snake of a shortest edit path through
// a[alo:ahi] and b[blo:bhi]: the run of matching lines (x,y)–(u,v) it
// passes at half its edits.
func (d *differ) middleSnake(alo, ahi, blo, bhi int) (x, y, u, v int, ok bool) {
	n, m := ahi-alo, bhi-blo
	limit := (n + m + 1) / 2
	off := limit + 1
	vf := make([]int, 2*limit+3)
	vb := make([]int, 2*limit+3)
	delta := n - m
	odd := delta%2 != 0
	for D := 0; D <= limit; D++ {
		d.budget -= 2 * (D + 1)
		if d.budget < 0 {
			return 0, 0, 0, 0, false
		}
		for k := -D; k <= D; k += 2 {
			var px int
			if k == -D || (k != D && vf[off+k-1] < vf[off+k+1]) {
				px = vf[off+k+1]
			} else {
				px = vf[off+k-1] + 1
			}
			py := px - k
			sx, sy := px, py
			for px < n && py < m && d.a[alo+px] == d.b[blo+py] {
				px++
				py++
			}
			d.budget -= px - sx
			vf[off+k] = px
			if kb := delta - k; odd && kb >= -(D-1) && kb <= D-1 && px+vb[off+kb] >= n {
				return alo + sx, blo + sy, alo + px, blo + py, true
			}
		}
		for k := -D; k <= D; k += 2 {
			var px int
			if k == -D || (k != D && vb[off+k-1] < vb[off+k+1]) {
				px = vb[off+k+1]
			} else {
				px = vb[off+k-1] + 1
			}
			py := px - k
			sx, sy := px, py
			for px < n && py < m && d.a[ahi-1-px] == d.b[bhi-1-py] {
				px++
				py++
			}
			d.budget -= px - sx
			vb[off+k] = px
			if kf := delta - k; !odd && kf >= -D && kf <= D && vf[off+kf]+px >= n {
				return ahi - px, bhi - py, ahi - sx, bhi - sy, true
			}
		}
	}
	return 0, 0, 0, 0, false
}

// writeHunks writes the edit script as unified-diff hunks with ctx lines
// of context, and counts the added and removed lines.
func writeHunks(w *strings.Builder, a, b []string, ops []lineOp, ctx int) (added, removed int) {
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		end := i
		for j := i + 1; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				if j-end-1 > 2*ctx {
					break
				}
				end = j
			}
		}
		start, stop := max(0, i-ctx), min(len(ops), end+ctx+1)
		var na, nb int
		for _, op := range ops[start:stop] {
			if op.kind != '+' {
				na++
			}
			if op.kind != '-' {
				nb++
			}
		}
		fmt.Fprintf(w, "@@ -%s +%s @@\n", hunkRange(ops[start].a, na), hunkRange(ops[start].b, nb))
		for _, op := range ops[start:stop] {
			switch op.kind {
			case ' ':
				w.WriteString(" " + a[op.a])
			case '-':
				w.WriteString("-" + a[op.a])
				removed++
			case '+':
				w.WriteString("+" + b[op.b])
				added++
			}
		}
		i = stop
	}
	return added, removed
}

// hunkRange writes a hunk's range as diff does: "3" for one line at line
// 3, "3,4" for four lines from line 3, "2,0" for none after line 2.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
