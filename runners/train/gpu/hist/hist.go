// Package hist builds gradient boosting's node histograms on a GPU
// (hist.cu) for the gbdt package's TrainWith, and repeats the kernel's
// arithmetic on the CPU (Emulator). Gradients and hessians are summed in
// 64-bit fixed point, so the sums are exact integer sums: the same on
// every run, device and order, and within rows·2^-(scale+1) of the CPU's
// float64 sums.
package hist

import (
	_ "embed"
	"errors"
	"fmt"
	"math"

	"github.com/slipway-ml/slipway/runners/train/gbdt"
)

// PTX is hist.cu compiled for sm_80 by `make ptx`.
//
//go:embed hist.ptx
var PTX string

const (
	threads = 256
	bins    = 256
)

var (
	_ gbdt.HistogramBuilder = (*Builder)(nil)
	_ gbdt.HistogramBuilder = (*Emulator)(nil)
)

// quantize turns gradients and hessians into fixed point with one scale
// 2^s chosen so that no sum over any rows can overflow: s is the largest
// with (Σ|g| or Σ|h|)·2^s + rows ≤ 2^62, at most 2^60.
func quantize(g, h []float64) (gq, hq []int64, scale float64, err error) {
	if len(g) != len(h) {
		return nil, nil, 0, fmt.Errorf("%d gradients and %d hessians", len(g), len(h))
	}
	sg, sh := 0.0, 0.0
	for i := range g {
		if math.IsNaN(g[i]) || math.IsInf(g[i], 0) || math.IsNaN(h[i]) || math.IsInf(h[i], 0) {
			return nil, nil, 0, fmt.Errorf("row %d has gradient %v and hessian %v; want finite values", i, g[i], h[i])
		}
		sg += math.Abs(g[i])
		sh += math.Abs(h[i])
	}
	total := math.Max(math.Max(sg, sh), 1e-300) + float64(len(g))
	e := min(60, 61-int(math.Ceil(math.Log2(total))))
	scale = math.Ldexp(1, e)
	gq, hq = make([]int64, len(g)), make([]int64, len(h))
	for i := range g {
		gq[i] = int64(math.RoundToEven(g[i] * scale))
		hq[i] = int64(math.RoundToEven(h[i] * scale))
	}
	return gq, hq, scale, nil
}

// Emulator is the kernel's arithmetic on the CPU: fixed-point sums by bin.
type Emulator struct {
	bins   [][]uint8
	gq, hq []int64
	scale  float64
}

// Start keeps the binned columns.
func (e *Emulator) Start(b [][]uint8) error {
	e.bins = b
	return nil
}

// Gradients quantizes the tree's gradients and hessians.
func (e *Emulator) Gradients(g, h []float64) error {
	var err error
	e.gq, e.hq, e.scale, err = quantize(g, h)
	return err
}

// Build sums the node's rows by bin for each feature.
func (e *Emulator) Build(rows []int32, feats []int, out [][]float64) error {
	if err := checkBuild(e.bins, e.gq, feats, out); err != nil {
		return err
	}
	var acc [2 * bins]int64
	for k, f := range feats {
		acc = [2 * bins]int64{}
		col := e.bins[f]
		for _, r := range rows {
			b := col[r]
			acc[2*int(b)] += e.gq[r]
			acc[2*int(b)+1] += e.hq[r]
		}
		for i, v := range acc {
			out[k][i] = float64(v) / e.scale
		}
	}
	return nil
}

func checkBuild(b [][]uint8, gq []int64, feats []int, out [][]float64) error {
	if gq == nil {
		return errors.New("histograms asked for before any gradients")
	}
	if len(out) < len(feats) {
		return fmt.Errorf("%d output histograms for %d features", len(out), len(feats))
	}
	for k, f := range feats {
		if f < 0 || f >= len(b) || b[f] == nil {
			return fmt.Errorf("feature %d has no uint8 bins", f)
		}
		if len(out[k]) < 2*bins {
			return fmt.Errorf("output histogram %d has %d values; want %d", k, len(out[k]), 2*bins)
		}
	}
	return nil
}
