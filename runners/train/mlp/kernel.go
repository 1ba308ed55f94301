package mlp

// The dense products of training all have one form: c[a][b] = init[b] +
// Σ_t p[a][t]·q[b][t], with the rows of p and q contiguous and of equal
// length. Every element is summed from its initial value in order of t,
// whichever kernel computes it, so an element does not depend on the other
// rows computed with it, nor on how rows are split between threads.

// dotRows sets c[a][b] = init[b] + Σ_t p[a][t]·q[b][t] for every row a of p
// and b of q; a nil init means zero. The rows of p and q have one length and
// every row of c has len(q) elements.
func dotRows(c, p, q [][]float64, init []float64) {
	a := 0
	for ; a+3 <= len(p); a += 3 {
		dot3xq(c[a], c[a+1], c[a+2], p[a], p[a+1], p[a+2], q, init)
	}
	for ; a < len(p); a++ {
		ca, pa := c[a], p[a]
		b := 0
		for ; b+4 <= len(q); b += 4 {
			var i0, i1, i2, i3 float64
			if init != nil {
				i0, i1, i2, i3 = init[b], init[b+1], init[b+2], init[b+3]
			}
			ca[b], ca[b+1], ca[b+2], ca[b+3] = dot4x1(q[b], q[b+1], q[b+2], q[b+3], pa, i0, i1, i2, i3)
		}
		for ; b < len(q); b++ {
			var i0 float64
			if init != nil {
				i0 = init[b]
			}
			ca[b] = dot1(pa, q[b], i0)
		}
	}
}

// dot3xq sets c_a[b] = init[b] + Σ_t p_a[t]·q[b][t] for three rows a and
// every row b of q, two rows of q at a time: six independent sums keep the
// floating-point units busy without spilling registers.
func dot3xq(c0, c1, c2, p0, p1, p2 []float64, q [][]float64, init []float64) {
	n := len(p0)
	p1, p2 = p1[:n], p2[:n]
	c0, c1, c2 = c0[:len(q)], c1[:len(q)], c2[:len(q)]
	b := 0
	for ; b+2 <= len(q); b += 2 {
		var s00, s01 float64
		if init != nil {
			s00, s01 = init[b], init[b+1]
		}
		s10, s20, s11, s21 := s00, s00, s01, s01
		q0, q1 := q[b][:n], q[b+1][:n]
		for t, x0 := range p0 {
			y0, y1 := q0[t], q1[t]
			x1, x2 := p1[t], p2[t]
			s00 += x0 * y0
			s01 += x0 * y1
			s10 += x1 * y0
			s11 += x1 * y1
			s20 += x2 * y0
			s21 += x2 * y1
		}
		c0[b], c0[b+1], c1[b], c1[b+1], c2[b], c2[b+1] = s00, s01, s10, s11, s20, s21
	}
	if b < len(q) {
		var i0 float64
		if init != nil {
			i0 = init[b]
		}
		c0[b], c1[b], c2[b], _ = dot4x1(p0, p1, p2, p2, q[b], i0, i0, i0, i0)
	}
}

// dot4x1 returns the four sums i_a + Σ_t p_a[t]·q[t].
func dot4x1(p0, p1, p2, p3, q []float64, i0, i1, i2, i3 float64) (s0, s1, s2, s3 float64) {
	s0, s1, s2, s3 = i0, i1, i2, i3
	n := len(q)
	p0, p1, p2, p3 = p0[:n], p1[:n], p2[:n], p3[:n]
	for t, x := range q {
		s0 += p0[t] * x
		s1 += p1[t] * x
		s2 += p2[t] * x
		s3 += p3[t] * x
	}
	return
}

// dot1 returns i + Σ_t p[t]·q[t].
func dot1(p, q []float64, i float64) float64 {
	q = q[:len(p)]
	for t, x := range p {
		i += x * q[t]
	}
	return i
}
