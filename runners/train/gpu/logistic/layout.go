// Package logistic evaluates logistic regression's objective on a GPU with
// one fused kernel per evaluation (logistic.cu), and trains with the CPU
// logistic package's own solver through logistic.TrainWith. Emulator
// repeats the kernel's arithmetic exactly on the CPU.
package logistic

import (
	_ "embed"
	"fmt"
)

// PTX is the kernels' PTX (target sm_80), built from logistic.cu by
// `make ptx`.
//
//go:embed logistic.ptx
var PTX string

// The kernel's fixed shape; logistic.cu defines the same numbers.
const (
	threads  = 256
	warps    = threads / 32
	maxCols  = 5 // ceil(1025 / threads)
	maxD     = 1024
	maxBlock = 1024 // blocks per evaluation, at most
)

// layout is how one evaluation is cut up; it depends on n and d only, so
// the reduction order is the same on every device.
type layout struct {
	n, d   int
	rows   int // rows per tile
	tiles  int
	blocks int
	cols   int // d + 1: the coefficients and the intercept
	groups int // thread groups sharing a column, each taking every groups-th row
	redLen int // doubles of the block reduction buffer
}

func newLayout(n, d int) (layout, error) {
	if d < 1 || d > maxD {
		return layout{}, fmt.Errorf("%d features; the GPU objective takes 1 to %d", d, maxD)
	}
	if n < 1 {
		return layout{}, fmt.Errorf("%d rows; want at least 1", n)
	}
	l := layout{n: n, d: d, cols: d + 1}
	l.rows = min(max(8192/d, 1), threads)
	l.tiles = (n + l.rows - 1) / l.rows
	l.blocks = min(l.tiles, maxBlock)
	if l.cols <= threads {
		l.groups = threads / l.cols
		l.redLen = l.groups * l.cols
	} else {
		l.groups = 1
		l.redLen = l.cols
	}
	return l, nil
}

// sharedBytes is the dynamic shared memory logistic_eval needs: the
// reduction buffer, the residuals and the warps' losses (float64, padded
// to 16 bytes), the weights (padded to 4 floats) and one tile of X.
func (l layout) sharedBytes() int {
	doubles := (l.redLen + l.rows + warps + 1) &^ 1
	wpad := (l.d + 3) &^ 3
	return 8*doubles + 4*wpad + 4*l.rows*l.d
}
