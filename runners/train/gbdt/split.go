package gbdt

import "slices"

// evaluator scans the candidate splits of one feature of one node.
type evaluator struct {
	t      *trainer
	g, h   float64 // node sums
	parent float64 // node score
	mcw    float64
	lambda float64
	alpha  float64
	gamma  float64
	// best so far
	gain   float64
	gl, hl float64
	pos    int // numeric: bin; one-hot: category bin; partition: prefix length
	dl     bool
}

func (e *evaluator) try(gl, hl float64, pos int, dl bool) {
	gr, hr := e.g-gl, e.h-hl
	if hl < e.mcw || hr < e.mcw || hl <= 0 || hr <= 0 {
		return
	}
	var gain float64
	if e.alpha == 0 {
		gain = 0.5*(gl*gl/(hl+e.lambda)+gr*gr/(hr+e.lambda)-e.parent) - e.gamma
	} else {
		gain = 0.5*(e.t.score(gl, hl)+e.t.score(gr, hr)-e.parent) - e.gamma
	}
	if gain > e.gain {
		e.gain, e.gl, e.hl, e.pos, e.dl = gain, gl, hl, pos, dl
	}
}

// evalFeature returns the best split of a node (sums g, h) on feature fi
// given the node's histogram; its gain is 0 when no split helps.
// Missing values are tried on both sides; when the node has none, they
// go to the side with the larger hessian.
func (t *trainer) evalFeature(fi int, hist []ghPair, g, h float64) split {
	f := &t.feats[fi]
	hs := hist[f.off : f.off+f.nb]
	parent := t.score(g, h)
	e := evaluator{t: t, g: g, h: h, parent: parent, mcw: t.p.MinChildWeight,
		lambda: t.p.Lambda, alpha: t.p.Alpha, gamma: t.p.Gamma}
	e.gain = 1e-12 * parent // ignore splits whose gain is rounding noise
	miss := hs[0]
	hasMiss := miss.h > 0
	const missingOnly = -1
	var order []int32
	switch {
	case !f.cat:
		var gl, hl float64
		for b := 1; b < f.nb-1; b++ {
			q := hs[b]
			if q.h == 0 && q.g == 0 {
				continue
			}
			gl += q.g
			hl += q.h
			e.try(gl, hl, b, false)
			if hasMiss {
				e.try(gl+miss.g, hl+miss.h, b, true)
			}
		}
		if hasMiss {
			e.try(miss.g, miss.h, 0, true)
		}
	case f.onehot:
		for b := 1; b < f.nb; b++ {
			q := hs[b]
			if q.h == 0 {
				continue
			}
			e.try(q.g, q.h, b, false)
			if hasMiss {
				e.try(q.g+miss.g, q.h+miss.h, b, true)
			}
		}
		if hasMiss {
			e.try(miss.g, miss.h, missingOnly, true)
		}
	default:
		order = t.catBuf[fi][:0]
		for b := 1; b < f.nb; b++ {
			if hs[b].h > 0 {
				order = append(order, int32(b))
			}
		}
		t.catBuf[fi] = order
		// Order categories by their regularised leaf weight G/(H+λ), as
		// XGBoost does: λ pulls categories with little data toward the
		// middle of the order instead of its ends, where they would be
		// split off on noise.
		lambda := t.p.Lambda
		slices.SortFunc(order, func(a, b int32) int {
			ra, rb := hs[a].g/(hs[a].h+lambda), hs[b].g/(hs[b].h+lambda)
			switch {
			case ra < rb:
				return -1
			case ra > rb:
				return 1
			}
			return int(a - b)
		})
		var gl, hl float64
		for i := 0; i < len(order)-1; i++ {
			q := hs[order[i]]
			gl += q.g
			hl += q.h
			e.try(gl, hl, i+1, false)
			if hasMiss {
				e.try(gl+miss.g, hl+miss.h, i+1, true)
			}
		}
		if hasMiss {
			e.try(miss.g, miss.h, missingOnly, true)
		}
	}
	if e.hl <= 0 { // no candidate beat the noise floor
		return split{}
	}
	s := split{gain: e.gain, feature: int32(fi), defaultLeft: e.dl, gl: e.gl, hl: e.hl}
	if !hasMiss {
		s.defaultLeft = e.hl >= h-e.hl
	}
	if !f.cat {
		s.bin = int32(e.pos)
		return s
	}
	s.set = make([]uint64, (f.nb-1+63)/64)
	add := func(b int32) {
		c := b - 1
		s.set[c>>6] |= 1 << (c & 63)
	}
	switch {
	case e.pos == missingOnly:
	case f.onehot:
		add(int32(e.pos))
	default:
		for _, b := range order[:e.pos] {
			add(b)
		}
	}
	return s
}
