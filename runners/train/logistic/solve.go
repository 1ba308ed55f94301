package logistic

import (
	"context"
	"errors"
	"math"
)

// lbfgs minimises the objective with limited-memory BFGS (10 pairs) and a
// backtracking line search on the Armijo condition. It stops when the
// largest gradient component is at most tol.
func lbfgs(ctx context.Context, pr *problem, theta []float64, maxIter int, tol, total float64) (int, bool, error) {
	k := len(theta)
	grad := make([]float64, k)
	f := pr.eval(theta, grad, total)
	h := newHistory(10)
	dir := make([]float64, k)
	next := make([]float64, k)
	ngrad := make([]float64, k)
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return it - 1, false, err
		}
		if maxAbs(grad) <= tol {
			return it - 1, true, nil
		}
		h.direction(grad, dir)
		slope := dot(grad, dir)
		if slope >= 0 {
			// Not a descent direction: restart from steepest descent.
			h.reset()
			for i := range dir {
				dir[i] = -grad[i] / math.Max(norm(grad), 1e-12)
			}
			slope = dot(grad, dir)
		}
		step, fn, ok := backtrack(pr, theta, dir, next, ngrad, f, slope, total)
		if !ok {
			// No progress possible at machine precision.
			return it, maxAbs(grad) <= tol*10, nil
		}
		s := make([]float64, k)
		y := make([]float64, k)
		for i := range s {
			s[i] = step * dir[i]
			y[i] = ngrad[i] - grad[i]
		}
		h.push(s, y)
		copy(theta, next)
		copy(grad, ngrad)
		f = fn
	}
	return maxIter, maxAbs(grad) <= tol, nil
}

// history is L-BFGS's memory of the last steps s and gradient changes y.
type history struct {
	memory int
	ss, ys [][]float64
	rhos   []float64
	alpha  []float64
}

func newHistory(memory int) *history {
	return &history{memory: memory, alpha: make([]float64, memory)}
}

func (h *history) reset() { h.ss, h.ys, h.rhos = h.ss[:0], h.ys[:0], h.rhos[:0] }

// direction writes −H·g into dir by the two-loop recursion, H the inverse
// Hessian approximation (scaled by the newest pair's curvature, or by 1/‖g‖
// before there is one).
func (h *history) direction(g, dir []float64) {
	copy(dir, g)
	for i := len(h.ss) - 1; i >= 0; i-- {
		h.alpha[i] = h.rhos[i] * dot(h.ss[i], dir)
		axpy(-h.alpha[i], h.ys[i], dir)
	}
	gamma := 1 / math.Max(norm(g), 1e-12)
	if n := len(h.ss); n > 0 {
		gamma = dot(h.ss[n-1], h.ys[n-1]) / dot(h.ys[n-1], h.ys[n-1])
	}
	for i := range dir {
		dir[i] *= gamma
	}
	for i := range h.ss {
		b := h.rhos[i] * dot(h.ys[i], dir)
		axpy(h.alpha[i]-b, h.ss[i], dir)
	}
	for i := range dir {
		dir[i] = -dir[i]
	}
}

// push remembers a step when its curvature is positive, dropping the
// oldest beyond the memory.
func (h *history) push(s, y []float64) {
	sy := dot(s, y)
	if sy <= 1e-12*dot(y, y) {
		return
	}
	if len(h.ss) == h.memory {
		h.ss, h.ys, h.rhos = h.ss[1:], h.ys[1:], h.rhos[1:]
	}
	h.ss, h.ys, h.rhos = append(h.ss, s), append(h.ys, y), append(h.rhos, 1/sy)
}

// backtrack halves the step from 1 until the Armijo condition holds.
func backtrack(pr *problem, theta, dir, next, ngrad []float64, f, slope, total float64) (float64, float64, bool) {
	step := 1.0
	for range 60 {
		for i := range next {
			next[i] = theta[i] + step*dir[i]
		}
		fn := pr.eval(next, ngrad, total)
		if fn <= f+1e-4*step*slope {
			return step, fn, true
		}
		step /= 2
	}
	return 0, f, false
}

// newton minimises the objective with Newton's method: the exact Hessian,
// a Cholesky solve and a backtracking line search. It suits problems with
// up to a few hundred features.
func newton(ctx context.Context, pr *problem, theta []float64, maxIter int, tol, total float64) (int, bool, error) {
	k := len(theta)
	grad := make([]float64, k)
	next := make([]float64, k)
	ngrad := make([]float64, k)
	f := pr.eval(theta, grad, total)
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return it - 1, false, err
		}
		if maxAbs(grad) <= tol {
			return it - 1, true, nil
		}
		h := pr.hessian(theta, total)
		dir := make([]float64, k)
		for i := range dir {
			dir[i] = -grad[i]
		}
		if err := cholSolve(h, dir); err != nil {
			return it, false, err
		}
		step, fn, ok := backtrack(pr, theta, dir, next, ngrad, f, dot(grad, dir), total)
		if !ok {
			return it, maxAbs(grad) <= tol*10, nil
		}
		_ = step
		copy(theta, next)
		copy(grad, ngrad)
		f = fn
	}
	return maxIter, maxAbs(grad) <= tol, nil
}

// hessian returns the Hessian of the objective (divided by the total
// weight) as a dense k×k matrix, the intercept last.
func (pr *problem) hessian(theta []float64, total float64) [][]float64 {
	k := pr.d + 1
	n := len(pr.y)
	h := make([][]float64, k)
	for i := range h {
		h[i] = make([]float64, k)
	}
	cols := make([][]float64, k)
	copy(cols, pr.z)
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	cols[pr.d] = ones
	d := make([]float64, n)
	for i := range d {
		e := theta[pr.d]
		for j := range pr.d {
			e += theta[j] * pr.z[j][i]
		}
		p := sigmoid(e)
		d[i] = pr.w[i] * p * (1 - p) / total
	}
	for a := range k {
		if a == pr.d && !pr.icpt {
			h[a][a] = 1
			continue
		}
		for b := 0; b <= a; b++ {
			if b == pr.d && !pr.icpt {
				continue
			}
			s := 0.0
			ca, cb := cols[a], cols[b]
			for i, di := range d {
				s += di * ca[i] * cb[i]
			}
			h[a][b], h[b][a] = s, s
		}
	}
	for j := range pr.d {
		h[j][j] += pr.l2[j]
	}
	return h
}

// cholSolve solves h·x = b in place (b becomes x) for a symmetric positive
// definite h.
func cholSolve(h [][]float64, b []float64) error {
	n := len(b)
	l := make([][]float64, n)
	for i := range l {
		l[i] = make([]float64, n)
		for j := 0; j <= i; j++ {
			s := h[i][j]
			for k := range j {
				s -= l[i][k] * l[j][k]
			}
			if i == j {
				if s <= 0 {
					return errors.New("the Hessian is not positive definite (collinear features without regularisation?)")
				}
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	for i := range n {
		s := b[i]
		for k := range i {
			s -= l[i][k] * b[k]
		}
		b[i] = s / l[i][i]
	}
	for i := n - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < n; k++ {
			s -= l[k][i] * b[k]
		}
		b[i] = s / l[i][i]
	}
	return nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func maxAbs(a []float64) float64 {
	m := 0.0
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// l1Term is the L1 part of the objective at theta.
func (pr *problem) l1Term(theta []float64) float64 {
	s := 0.0
	for j, c := range pr.l1 {
		s += c * math.Abs(theta[j])
	}
	return s
}

// pseudoGradient writes the minimum-norm subgradient of the objective with
// its L1 part into pg, given the smooth part's gradient.
func (pr *problem) pseudoGradient(theta, grad, pg []float64) {
	copy(pg, grad)
	for j, c := range pr.l1 {
		switch {
		case theta[j] > 0:
			pg[j] = grad[j] + c
		case theta[j] < 0:
			pg[j] = grad[j] - c
		case grad[j]+c < 0:
			pg[j] = grad[j] + c
		case grad[j]-c > 0:
			pg[j] = grad[j] - c
		default:
			pg[j] = 0
		}
	}
}

// owlqn minimises the objective with an L1 part by Orthant-Wise
// Limited-memory Quasi-Newton (Andrew & Gao 2007): L-BFGS directions on the
// pseudo-gradient, kept within the current orthant, with a projected
// backtracking line search. It stops when the largest pseudo-gradient
// component is at most tol.
func owlqn(ctx context.Context, pr *problem, theta []float64, maxIter int, tol, total float64) (int, bool, error) {
	k := len(theta)
	grad := make([]float64, k)
	pg := make([]float64, k)
	f := pr.eval(theta, grad, total) + pr.l1Term(theta)
	h := newHistory(10)
	dir := make([]float64, k)
	next := make([]float64, k)
	ngrad := make([]float64, k)
	orthant := make([]float64, k)
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return it - 1, false, err
		}
		pr.pseudoGradient(theta, grad, pg)
		if maxAbs(pg) <= tol {
			return it - 1, true, nil
		}
		h.direction(pg, dir)
		for i := range dir {
			// Keep the direction a descent direction of the pseudo-gradient
			// coordinate by coordinate.
			if dir[i]*pg[i] >= 0 {
				dir[i] = 0
			}
		}
		for j := range orthant {
			switch {
			case theta[j] != 0:
				orthant[j] = math.Copysign(1, theta[j])
			default:
				orthant[j] = -math.Copysign(1, pg[j])
				if pg[j] == 0 {
					orthant[j] = 0
				}
			}
		}
		step, ok := 1.0, false
		var fn float64
		for range 60 {
			for j := range next {
				next[j] = theta[j] + step*dir[j]
				if j < pr.d && next[j]*orthant[j] <= 0 {
					next[j] = 0 // left the orthant: project onto it
				}
			}
			fn = pr.eval(next, ngrad, total) + pr.l1Term(next)
			decrease := 0.0
			for j := range next {
				decrease += pg[j] * (next[j] - theta[j])
			}
			if fn <= f+1e-4*decrease {
				ok = true
				break
			}
			step /= 2
		}
		if !ok {
			return it, maxAbs(pg) <= tol*10, nil
		}
		s := make([]float64, k)
		y := make([]float64, k)
		for i := range s {
			s[i] = next[i] - theta[i]
			y[i] = ngrad[i] - grad[i]
		}
		h.push(s, y)
		copy(theta, next)
		copy(grad, ngrad)
		f = fn
	}
	pr.pseudoGradient(theta, grad, pg)
	return maxIter, maxAbs(pg) <= tol, nil
}
