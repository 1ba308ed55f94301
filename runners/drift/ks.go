package drift

import (
	"math"
)

// maxExactN is the largest sample size for which the two-sample
// Kolmogorov–Smirnov p-value is computed exactly, as scipy's
// ks_2samp(method="auto") does.
const maxExactN = 10000

// ksStatistic is the two-sample Kolmogorov–Smirnov statistic of two sorted
// samples: the largest distance between their empirical CDFs.
func ksStatistic(a, b []float64) float64 {
	n1, n2 := float64(len(a)), float64(len(b))
	maxS, minS := math.Inf(-1), math.Inf(1)
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var v float64
		if j >= len(b) || (i < len(a) && a[i] <= b[j]) {
			v = a[i]
		} else {
			v = b[j]
		}
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
		d := float64(i)/n1 - float64(j)/n2
		maxS = max(maxS, d)
		minS = min(minS, d)
	}
	minS = math.Min(math.Max(-minS, 0), 1)
	if minS > maxS {
		return minS
	}
	return maxS
}

// ksTest returns the two-sided p-value of scipy.stats.ks_2samp on two sorted
// samples: exact when both have at most 10000 values, otherwise from the
// distribution of the one-sample statistic with n = round(n1·n2/(n1+n2)).
func ksTest(a, b []float64) float64 {
	d := ksStatistic(a, b)
	n1, n2 := len(a), len(b)
	if max(n1, n2) <= maxExactN {
		if p, ok := ksExact(n1, n2, d); ok {
			return p
		}
	}
	m, n := float64(max(n1, n2)), float64(min(n1, n2))
	en := math.RoundToEven(m * n / (m + n))
	return clip01(kolmogorovSF(en, d))
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ksExact is scipy's _attempt_exact_2kssamp for the two-sided alternative.
func ksExact(n1, n2 int, d float64) (float64, bool) {
	g := gcd(n1, n2)
	lcm := (n1 / g) * n2
	h := int(math.RoundToEven(d * float64(lcm)))
	if h == 0 {
		return 1, true
	}
	var p float64
	if n1 == n2 {
		p = outsideSquare(n1, h)
	} else {
		p = outerInside(n1, n2, g, h)
	}
	if !(p >= 0 && p <= 1) {
		return p, false
	}
	return p, true
}

// outsideSquare is the share of lattice paths from (0,0) to (n,n) that reach
// |x−y| ≥ h, by the alternating binomial series in Horner form.
func outsideSquare(n, h int) float64 {
	p := 0.0
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := range h {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		p = p1 * (1 - p)
	}
	return 2 * p
}

// outerInside is the share of lattice paths from (0,0) to (m,n) that do not
// stay strictly inside |x/m − y/n| < h/lcm(m,n), by the recursion on 1−p of
// Viehmann (2021), "Numerically more stable computation of the p-values for
// the two-sample Kolmogorov-Smirnov test".
func outerInside(m, n, g, h int) float64 {
	if m < n {
		m, n = n, m
	}
	mg, ng := m/g, n/g
	minj, maxj := 0, min(ceilDiv(h, mg), n+1)
	curlen := maxj - minj
	a := make([]float64, min(2*maxj+2, n+1))
	for i := range a {
		a[i] = 1
	}
	for i := minj; i < maxj; i++ {
		a[i] = 0
	}
	for i := 1; i <= m; i++ {
		lastminj, lastlen := minj, curlen
		minj = min(max(floorDiv(ng*i-h, mg)+1, 0), n)
		maxj = min(ceilDiv(ng*i+h, mg), n+1)
		if maxj <= minj {
			return 1
		}
		val := 1.0
		if minj == 0 {
			val = 0
		}
		for jj := range maxj - minj {
			j := jj + minj
			val = (a[jj+minj-lastminj]*float64(i) + val*float64(j)) / float64(i+j)
			a[jj] = val
		}
		curlen = maxj - minj
		for k := curlen; k < lastlen && k < len(a); k++ {
			a[k] = 1
		}
	}
	return a[maxj-minj-1]
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

func clip01(p float64) float64 { return math.Min(math.Max(p, 0), 1) }

// kolmogorovSF is P(D_n ≥ x) for the one-sample two-sided statistic,
// following scipy's kstwo.sf: exact formulas at the ends of the range, the
// Birnbaum–Tingey sum for 2·P(D+_n ≥ x) in the far tail, and the Pelz–Good
// expansion elsewhere.
func kolmogorovSF(n, x float64) float64 {
	if x >= 1 {
		return 0
	}
	if x <= 0 {
		return 1
	}
	t := n * x
	if t <= 0.5 {
		return 1
	}
	if t <= 1 {
		// Ruben–Gambino: P(D_n < x) = n!/n^n (2t−1)^n.
		lg, _ := math.Lgamma(n + 1)
		return 1 - math.Exp(lg-n*math.Log(n)+n*math.Log(2*t-1))
	}
	if t >= n-1 {
		return 2 * math.Pow(1-x, n)
	}
	nx2 := t * x
	if nx2 >= 370 {
		return 0
	}
	if x >= 0.5 || (n <= 140 && nx2 > 4) || (n > 140 && nx2 >= 2.2) {
		return 2 * smirnovSF(n, x)
	}
	return pelzGoodSF(n, x)
}

// smirnovSF is the one-sided P(D+_n ≥ x) by the Birnbaum–Tingey sum
// x·Σ_j C(n,j) (1−x−j/n)^(n−j) (x+j/n)^(j−1), in logarithms.
func smirnovSF(n, x float64) float64 {
	lgn, _ := math.Lgamma(n + 1)
	s := 0.0
	last := math.Floor(n * (1 - x))
	for j := 0.0; j <= last; j++ {
		lj, _ := math.Lgamma(j + 1)
		lnj, _ := math.Lgamma(n - j + 1)
		u := 1 - x - j/n
		if u <= 0 {
			continue
		}
		s += math.Exp(lgn - lj - lnj + (n-j)*math.Log(u) + (j-1)*math.Log(x+j/n))
	}
	return x * s
}

// pelzGoodSF is the Pelz–Good (1976) expansion of P(D_n ≥ x) with the
// Jacobi theta transformations used by scipy.
func pelzGoodSF(n, x float64) float64 {
	const (
		pi2 = math.Pi * math.Pi
		pi4 = pi2 * pi2
		pi6 = pi4 * pi2
	)
	sqrt2pi := math.Sqrt(2 * math.Pi)
	z := math.Sqrt(n) * x
	z2, z3, z4, z6 := z*z, z*z*z, z*z*z*z, z*z*z*z*z*z
	qlog := -pi2 / 8 / z2
	if qlog < -708 {
		return 1
	}
	q := math.Exp(qlog)
	k1a, k1b := -z2, pi2/4
	k2a := 6*z6 + 2*z4
	k2b := (2*z4 - 5*z2) * pi2 / 4
	k2c := pi4 * (1 - 2*z2) / 16
	k3d := pi6 * (5 - 30*z2) / 64
	k3c := pi4 * (-60*z2 + 212*z4) / 16
	k3b := pi2 * (135*z4 - 96*z6) / 4
	k3a := -30*z6 - 90*z4*z4
	var kk [4]float64
	maxk := int(math.Ceil(16 * z / math.Pi))
	for k := maxk; k > 0; k-- {
		m := float64(2*k - 1)
		m2 := m * m
		m4, m6 := m2*m2, m2*m2*m2
		qp := math.Pow(q, float64(8*k))
		c := [4]float64{1, k1a + k1b*m2, k2a + k2b*m2 + k2c*m4, k3a + k3b*m2 + k3c*m4 + k3d*m6}
		for i := range kk {
			kk[i] = kk[i]*qp + c[i]
		}
	}
	div := [4]float64{z, 6 * z4, 72 * math.Pow(z, 7), 6480 * math.Pow(z, 10)}
	for i := range kk {
		kk[i] = kk[i] * q * sqrt2pi / div[i]
	}
	q = math.Exp(-pi2 / 2 / z2)
	sqrt3z := math.Sqrt(3) * z
	k2extra, k3extra := 0.0, 0.0
	for k := maxk; k > 0; k-- {
		kf := float64(k)
		ksq := kf * kf
		qp := math.Pow(q, ksq)
		k2extra += ksq * qp
		kspi := math.Pi * kf
		k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp
	}
	kk[2] += k2extra * pi2 * sqrt2pi / (-36 * z3)
	kk[3] += k3extra * pi2 * sqrt2pi / (216 * z6)
	cdf := 0.0
	for i := range kk {
		cdf += kk[i] / math.Pow(n, float64(i)/2)
	}
	return 1 - cdf
}
