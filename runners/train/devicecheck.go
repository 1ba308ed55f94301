package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/slipway-ml/slipway/runners/train/gbdt"
	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
	"github.com/slipway-ml/slipway/runners/train/gpu/hist"
	gpulogistic "github.com/slipway-ml/slipway/runners/train/gpu/logistic"
	gpumlp "github.com/slipway-ml/slipway/runners/train/gpu/mlp"
)

// deviceCheck is the outcome of the device's self-check, run once per
// process.
var deviceCheck struct {
	once sync.Once
	err  error
}

// checkDevice runs each GPU trainer's kernels on a small random problem
// and compares the results with their CPU emulators, which compute the
// same bits: the logistic objective and gradient, a node's histograms and
// MLP training steps. A device that disagrees is not trained on.
func checkDevice(c *cuda.Context) error {
	deviceCheck.once.Do(func() { deviceCheck.err = runDeviceChecks(c) })
	return deviceCheck.err
}

func runDeviceChecks(c *cuda.Context) error {
	if err := checkLogistic(c); err != nil {
		return fmt.Errorf("logistic kernel: %w", err)
	}
	if err := checkHistograms(c); err != nil {
		return fmt.Errorf("histogram kernel: %w", err)
	}
	rel, err := gpumlp.CheckStep(c, 1)
	if err != nil {
		return fmt.Errorf("mlp kernels: %w", err)
	}
	if rel != 0 {
		return fmt.Errorf("mlp kernels: relative error %g against the emulator, want 0", rel)
	}
	return nil
}

// checkLogistic evaluates the objective at a random point on the device
// and in the emulator.
func checkLogistic(c *cuda.Context) error {
	rng := rand.New(rand.NewPCG(7, 11))
	const n, d = 3000, 13
	z := make([][]float64, d)
	for j := range z {
		z[j] = make([]float64, n)
		for i := range z[j] {
			z[j][i] = rng.NormFloat64()
		}
	}
	y := make([]float64, n)
	for i := range y {
		if z[0][i]+0.5*rng.NormFloat64() > 0 {
			y[i] = 1
		}
	}
	theta := make([]float64, d+1)
	for i := range theta {
		theta[i] = rng.NormFloat64() / 4
	}
	cw := [2]float64{1, 1.5}
	obj, err := gpulogistic.NewObjective(c, z, y, cw)
	if err != nil {
		return err
	}
	defer obj.Close()
	em, err := gpulogistic.NewEmulator(z, y, cw)
	if err != nil {
		return err
	}
	gd, ge := make([]float64, d+1), make([]float64, d+1)
	ld, err := obj.Evaluate(theta, gd)
	if err != nil {
		return err
	}
	le := em.Eval(theta, ge)
	if !same(ld, le) {
		return fmt.Errorf("loss %v on the device, %v emulated", ld, le)
	}
	for i := range gd {
		if !same(gd[i], ge[i]) {
			return fmt.Errorf("gradient[%d] %v on the device, %v emulated", i, gd[i], ge[i])
		}
	}
	return nil
}

// checkHistograms builds the histograms of a random node on the device
// and in the emulator.
func checkHistograms(c *cuda.Context) error {
	rng := rand.New(rand.NewPCG(3, 5))
	const n, nf = 5000, 3
	bins := make([][]uint8, nf)
	for f := range bins {
		bins[f] = make([]uint8, n)
		for i := range bins[f] {
			bins[f][i] = uint8(rng.IntN(256))
		}
	}
	g, h := make([]float64, n), make([]float64, n)
	for i := range g {
		g[i], h[i] = rng.NormFloat64(), rng.Float64()
	}
	var rows []int32
	for i := range int32(n) {
		if rng.IntN(3) > 0 {
			rows = append(rows, i)
		}
	}
	feats := []int{0, 1, 2}
	build := func(hb gbdt.HistogramBuilder) ([][]float64, error) {
		o := make([][]float64, nf)
		for k := range o {
			o[k] = make([]float64, 512)
			for i := range o[k] {
				o[k][i] = math.NaN() // every bin must be written
			}
		}
		if err := hb.Start(bins); err != nil {
			return nil, err
		}
		if err := hb.Gradients(g, h); err != nil {
			return nil, err
		}
		return o, hb.Build(rows, feats, o)
	}
	b, err := hist.NewBuilder(c)
	if err != nil {
		return err
	}
	defer b.Close()
	dev, err := build(b)
	if err != nil {
		return err
	}
	emu, err := build(new(hist.Emulator))
	if err != nil {
		return err
	}
	for k := range dev {
		for i := range dev[k] {
			if !same(dev[k][i], emu[k][i]) {
				return fmt.Errorf("feature %d, entry %d: %v on the device, %v emulated", k, i, dev[k][i], emu[k][i])
			}
		}
	}
	return nil
}

// same reports bit-equal results (NaN never passes).
func same(a, b float64) bool { return !math.IsNaN(a) && a == b }
