// Package gen writes a deterministic synthetic churn data set for the
// training benchmarks (bench/train): 12 numeric columns (four with about 5%
// missing values), 3 categorical columns and a yes/no label "churn" (about
// 15% yes). The label is drawn from a logistic model with thresholds and
// interactions, so that trees beat linear models on it.
package gen

import (
	"bufio"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
)

// Header is the CSV header, label last.
var Header = []string{
	"tenure_months", "monthly_charges", "total_charges", "support_calls",
	"data_gb", "age", "products", "days_since_login", "dropped_calls",
	"satisfaction", "payment_delays", "discount_pct",
	"plan", "region", "device", "churn",
}

var (
	plans   = []string{"basic", "standard", "premium", "family"}
	devices = []string{"ios", "android", "web", "tablet", "smart_tv", "other"}
)

const missingRate = 0.05

// Generator draws rows. Region and device effects are fixed by the seed;
// the rows of each file come from their own PCG stream, so the test rows do
// not depend on the number of training rows.
type Generator struct {
	regionEffect [20]float64
	deviceEffect [6]float64
	seed         uint64
}

// New returns a generator for seed.
func New(seed uint64) *Generator {
	g := &Generator{seed: seed}
	r := rand.New(rand.NewPCG(seed, 0))
	for i := range g.regionEffect {
		g.regionEffect[i] = r.Float64() - 0.5
	}
	for i := range g.deviceEffect {
		g.deviceEffect[i] = 0.6 * (r.Float64() - 0.5)
	}
	return g
}

// Write writes the header and n rows to w, drawn from stream (use a
// different stream for each file).
func (g *Generator) Write(w io.Writer, n int, stream uint64) (positives int, err error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := rand.New(rand.NewPCG(g.seed, stream+1))
	for i, h := range Header {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(h)
	}
	bw.WriteByte('\n')
	buf := make([]byte, 0, 256)
	for range n {
		var yes bool
		buf, yes = g.row(r, buf[:0])
		if yes {
			positives++
		}
		if _, err := bw.Write(buf); err != nil {
			return positives, err
		}
	}
	return positives, bw.Flush()
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// poisson draws by inversion; fine for the small means used here.
func poisson(r *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, r.Float64()
	for p > l {
		k++
		p *= r.Float64()
	}
	return k
}

func (g *Generator) row(r *rand.Rand, b []byte) ([]byte, bool) {
	plan := r.IntN(4)
	region := r.IntN(20)
	device := r.IntN(6)
	tenure := float64(r.IntN(73))
	monthly := 20 + 25*float64(plan) + 35*r.Float64()
	total := tenure * monthly * (0.9 + 0.2*r.Float64())
	calls := float64(poisson(r, 1.5))
	dataGB := math.Exp(1.5 + 0.8*r.NormFloat64())
	age := float64(18 + r.IntN(63))
	products := float64(1 + r.IntN(5))
	login := math.Floor(r.ExpFloat64() * 12)
	dropped := float64(poisson(r, 0.2+0.3*b2f(device == 4)+0.05*float64(region%5)))
	satisfaction := math.Max(1, math.Min(10, math.Round(7-0.8*calls+1.5*r.NormFloat64())))
	delays := float64(poisson(r, 0.4))
	discount := 5 * float64(r.IntN(7))

	// Logit: a linear part, thresholds and interactions.
	z := -1.30
	z += -0.025*tenure + 0.012*(monthly-60)
	z += 1.3 * b2f(calls >= 4)
	z += 1.0 * b2f(tenure < 6)
	z += 1.2 * b2f(monthly > 90 && plan == 0)
	z += 1.4 * b2f(satisfaction <= 3)
	z += 0.9 * b2f(login > 30)
	z += 0.8 * b2f(dropped >= 2 && device == 4)
	z += -0.9 * b2f(products >= 3 && tenure > 24)
	z += 0.7 * b2f(delays >= 2) * b2f(discount == 0)
	z += 0.5 * math.Sin(age/8)
	z += -0.3 * b2f(plan == 2)
	z += 0.4 * b2f(dataGB > 15 && plan != 3)
	z += g.regionEffect[region] + g.deviceEffect[device]
	z += 0.6 * g.regionEffect[region] * b2f(plan == 0)
	yes := r.Float64() < sigmoid(z)

	num := func(x float64, prec int, canMiss bool) {
		if !(canMiss && r.Float64() < missingRate) {
			b = strconv.AppendFloat(b, x, 'f', prec, 64)
		}
		b = append(b, ',')
	}
	num(tenure, 0, false)
	num(monthly, 2, false)
	num(total, 2, true)
	num(calls, 0, false)
	num(dataGB, 3, true)
	num(age, 0, false)
	num(products, 0, false)
	num(login, 0, true)
	num(dropped, 0, false)
	num(satisfaction, 0, true)
	num(delays, 0, false)
	num(discount, 0, false)
	b = append(b, plans[plan]...)
	b = append(b, ',', 'r', byte('0'+(region+1)/10), byte('0'+(region+1)%10), ',')
	b = append(b, devices[device]...)
	if yes {
		b = append(b, ",yes\n"...)
	} else {
		b = append(b, ",no\n"...)
	}
	return b, yes
}
