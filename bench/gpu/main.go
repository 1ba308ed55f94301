// Command gpu measures the GPU training core on the device it finds:
// copy bandwidth, the fused logistic objective at 4M x 64, the MLP
// 64-256-256-1 at three batch sizes and gbdt at 1M rows. Each part checks
// its device result against the CPU first and fails on its own; the last
// lines are a table. Without a GPU it prints "no GPU: <reason>", measures
// the CPU reference rows and exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/gbdt"
	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
	"github.com/slipway-ml/slipway/runners/train/gpu/hist"
	gpulogistic "github.com/slipway-ml/slipway/runners/train/gpu/logistic"
	gpumlp "github.com/slipway-ml/slipway/runners/train/gpu/mlp"
	"github.com/slipway-ml/slipway/runners/train/metrics"
)

var rows []string

func row(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	rows = append(rows, s)
	fmt.Println("#", s)
}

func main() {
	logRows := flag.Int("logistic-rows", 4_000_000, "rows of the logistic benchmark")
	gbdtRows := flag.Int("gbdt-rows", 1_000_000, "rows of the gbdt benchmark")
	flag.Parse()
	c, err := cuda.Open(0)
	if err != nil {
		fmt.Println("no GPU:", err)
		cpuLogistic(min(*logRows, 1_000_000))
		table()
		return
	}
	major, minor := c.ComputeCapability()
	row("device: %s (sm_%d%d, %d SMs)", c.DeviceName(), major, minor, c.Multiprocessors())
	bw := part("copy", func() (float64, error) { return copyBandwidth(c) })
	part("logistic", func() (float64, error) { return logistic(c, *logRows, bw) })
	for _, b := range []int{1024, 8192, 65536} {
		part(fmt.Sprintf("mlp batch %d", b), func() (float64, error) { return mlpBench(c, b) })
	}
	part("gbdt", func() (float64, error) { return gbdtBench(c, *gbdtRows) })
	cpuLogistic(min(*logRows, 1_000_000))
	table()
}

// part runs one measurement, turning a failure or a panic into a table row.
func part(name string, fn func() (float64, error)) (v float64) {
	defer func() {
		if r := recover(); r != nil {
			row("%s: FAILED (panic: %v)", name, r)
			v = math.NaN()
		}
	}()
	v, err := fn()
	if err != nil {
		row("%s: FAILED (%v)", name, err)
		return math.NaN()
	}
	return v
}

func table() {
	fmt.Println("---- table ----")
	for _, r := range rows {
		fmt.Println(r)
	}
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// copyBandwidth times device-to-device copies of 1 GiB (bytes read plus
// written per second) and checks a copy first.
func copyBandwidth(c *cuda.Context) (float64, error) {
	const size = 1 << 30
	src, err := c.Alloc(size)
	if err != nil {
		return 0, err
	}
	defer c.Free(src)
	dst, err := c.Alloc(size)
	if err != nil {
		return 0, err
	}
	defer c.Free(dst)
	probe := make([]byte, 1<<20)
	for i := range probe {
		probe[i] = byte(i*7 + 3)
	}
	if err := c.CopyToDevice(src, probe); err != nil {
		return 0, err
	}
	if err := c.Fill(dst, 0xff, size); err != nil {
		return 0, err
	}
	if err := c.CopyOnDevice(dst, src, len(probe)); err != nil {
		return 0, err
	}
	back := make([]byte, len(probe))
	if err := c.CopyFromDevice(back, dst); err != nil {
		return 0, err
	}
	for i := range back {
		if back[i] != probe[i] {
			return 0, fmt.Errorf("copy check: byte %d is %d, want %d", i, back[i], probe[i])
		}
	}
	var times []time.Duration
	for i := range 12 {
		d, err := c.Time(func(q *cuda.Queue) error { return q.CopyOnDevice(dst, src, size) })
		if err != nil {
			return 0, err
		}
		if i >= 2 {
			times = append(times, d)
		}
	}
	t := median(times)
	bw := 2 * size / t.Seconds()
	row("copy d2d 1 GiB: %.3f ms, %.0f GB/s (read+write)", t.Seconds()*1e3, bw/1e9)
	return bw, nil
}

func randomColumns(n, d int, seed uint64) ([][]float64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	z := make([][]float64, d)
	for j := range z {
		z[j] = make([]float64, n)
		for i := range z[j] {
			z[j][i] = rng.NormFloat64()
		}
	}
	y := make([]float64, n)
	for i := range y {
		if z[0][i]+0.5*z[1%d][i]+rng.NormFloat64() > 0 {
			y[i] = 1
		}
	}
	return z, y
}

func relErr(a, b []float64) float64 {
	num, den := 0.0, 0.0
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// logistic checks the fused objective against the emulator (which the
// CPU tests tie to float64) on a small problem, then times evaluations.
func logistic(c *cuda.Context, n int, bw float64) (float64, error) {
	const d = 64
	for _, shape := range [][2]int{{10007, 64}, {777, 300}, {50, 1024}} {
		z, y := randomColumns(shape[0], shape[1], 9)
		o, err := gpulogistic.NewObjective(c, z, y, [2]float64{0.8, 1.3})
		if err != nil {
			return 0, err
		}
		e, err := gpulogistic.NewEmulator(z, y, [2]float64{0.8, 1.3})
		if err != nil {
			return 0, err
		}
		theta := make([]float64, shape[1]+1)
		for j := range theta {
			theta[j] = math.Sin(float64(j)) / 4
		}
		got := make([]float64, len(theta))
		for j := range got {
			got[j] = math.NaN()
		}
		want := make([]float64, len(theta))
		fg, err := o.Evaluate(theta, got)
		o.Close()
		if err != nil {
			return 0, err
		}
		fw := e.Eval(theta, want)
		r := relErr(append(got, fg), append(want, fw))
		if !(r < 1e-3) {
			return 0, fmt.Errorf("check %dx%d: relative error %.3g against the emulator", shape[0], shape[1], r)
		}
		row("logistic check %dx%d: relative error vs emulator %.3g (0 = bit-exact)", shape[0], shape[1], r)
	}
	z, y := randomColumns(n, d, 1)
	o, err := gpulogistic.NewObjective(c, z, y, [2]float64{1, 1})
	if err != nil {
		return 0, err
	}
	defer o.Close()
	theta := make([]float64, d+1)
	grad := make([]float64, d+1)
	var times []time.Duration
	for i := range 23 {
		start := time.Now()
		if _, err := o.Evaluate(theta, grad); err != nil {
			return 0, err
		}
		if i >= 3 {
			times = append(times, time.Since(start))
		}
	}
	t := median(times)
	floor := float64(n*d*4) / (bw / 2)
	row("logistic %dx%d full batch: %.3f ms per evaluation (host round trip included), %.3g rows/s, %.2fx one read of X at the copy bandwidth (target <= 1.5x)",
		n, d, t.Seconds()*1e3, float64(n)/t.Seconds(), t.Seconds()/floor)
	return t.Seconds(), nil
}

func mlpBench(c *cuda.Context, batch int) (float64, error) {
	if batch == 1024 {
		r, err := gpumlp.CheckStep(c, 1)
		if err != nil {
			return 0, err
		}
		if !(r < 1e-3) {
			return 0, fmt.Errorf("check: relative error %.3g against the emulator", r)
		}
		row("mlp check: relative error vs emulator %.3g", r)
	}
	const n = 4_000_000
	s, err := gpumlp.BenchEpoch(c, n, batch, []int{256, 256}, 1)
	if err != nil {
		return 0, err
	}
	row("mlp 64-256-256-1 batch %d: %.4f s per epoch of %d rows, %.3g rows/s", batch, s, n, float64(n)/s)
	return s, nil
}

func gbdtData(n int) (*data.Matrix, []float64) {
	rng := rand.New(rand.NewPCG(3, 3))
	d := 64
	x := &data.Matrix{Cols: make([][]float64, d), Names: make([]string, d), Categories: make([]int, d)}
	for j := range d {
		x.Names[j] = fmt.Sprintf("f%d", j)
		x.Cols[j] = make([]float64, n)
		for i := range n {
			x.Cols[j][i] = rng.NormFloat64()
		}
	}
	y := make([]float64, n)
	for i := range y {
		if x.Cols[0][i]*x.Cols[1][i]+x.Cols[2][i]+rng.NormFloat64() > 0 {
			y[i] = 1
		}
	}
	return x, y
}

// gbdtBench checks device histograms against the CPU on a small problem
// (AUC within 0.002), then times 100 trees at n rows.
func gbdtBench(c *cuda.Context, n int) (float64, error) {
	p := gbdt.DefaultParams()
	p.Trees = 100
	small, sy := gbdtData(20000)
	ref, err := gbdt.Train(context.Background(), small, sy, nil, nil, p, nil)
	if err != nil {
		return 0, err
	}
	b, err := hist.NewBuilder(c)
	if err != nil {
		return 0, err
	}
	dev, err := gbdt.TrainWith(context.Background(), small, sy, nil, nil, p, nil, b)
	b.Close()
	if err != nil {
		return 0, err
	}
	pr, _ := ref.Predict(small)
	pd, _ := dev.Predict(small)
	ar, _ := metrics.ROCAUC(sy, pr)
	ad, _ := metrics.ROCAUC(sy, pd)
	if math.Abs(ar-ad) > 0.002 {
		return 0, fmt.Errorf("check: ROC AUC %.5f with device histograms, %.5f on the CPU", ad, ar)
	}
	row("gbdt check: AUC device %.5f, CPU %.5f", ad, ar)
	x, y := gbdtData(n)
	start := time.Now()
	if _, err := gbdt.Train(context.Background(), x, y, nil, nil, p, nil); err != nil {
		return 0, err
	}
	cpuT := time.Since(start)
	b, err = hist.NewBuilder(c)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	start = time.Now()
	if _, err := gbdt.TrainWith(context.Background(), x, y, nil, nil, p, nil, b); err != nil {
		return 0, err
	}
	t := time.Since(start)
	row("gbdt %d x 64, 100 trees: %.2f s with device histograms, %.2f s CPU only", n, t.Seconds(), cpuT.Seconds())
	return t.Seconds(), nil
}

// cpuLogistic times one float64 evaluation of the objective on one CPU
// thread, a reference line.
func cpuLogistic(n int) {
	const d = 64
	z, y := randomColumns(n, d, 1)
	theta := make([]float64, d+1)
	grad := make([]float64, d+1)
	start := time.Now()
	f := 0.0
	for i := range n {
		eta := theta[d]
		for j := range d {
			eta += theta[j] * z[j][i]
		}
		p := 1 / (1 + math.Exp(-eta))
		f += math.Log1p(math.Exp(-math.Abs(eta))) + math.Max(eta, 0) - y[i]*eta
		r := p - y[i]
		for j := range d {
			grad[j] += r * z[j][i]
		}
		grad[d] += r
	}
	t := time.Since(start)
	row("cpu reference: logistic objective %dx%d, one thread, float64: %.1f ms, %.3g rows/s (loss %.4g)", n, d, t.Seconds()*1e3, float64(n)/t.Seconds(), f/float64(n))
}
