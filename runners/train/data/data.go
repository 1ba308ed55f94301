// Package data holds the in-memory form every model trains on: a dense,
// column-major matrix of float64 features with NaN for a missing value, and
// the per-column facts models need (names, which columns are categorical and
// how many categories they have). Tables of typed columns are turned into a
// Matrix by the fitted feature transforms.
package data

import (
	"fmt"
	"math"
)

// Matrix is a column-major feature matrix. Cols[j][i] is feature j of row
// i; NaN means missing. A categorical column holds category codes
// 0..Categories[j]-1 as float64 (NaN when missing).
type Matrix struct {
	// Names of the features, one per column.
	Names []string
	// Cols are the feature columns, all of the same length.
	Cols [][]float64
	// Categories[j] is the number of categories of a categorical column,
	// 0 for a numeric column.
	Categories []int
}

// Rows returns the number of rows.
func (m *Matrix) Rows() int {
	if len(m.Cols) == 0 {
		return 0
	}
	return len(m.Cols[0])
}

// Validate checks that the matrix is rectangular and that categorical codes
// are in range.
func (m *Matrix) Validate() error {
	if len(m.Names) != len(m.Cols) || len(m.Categories) != len(m.Cols) {
		return fmt.Errorf("matrix has %d names, %d columns and %d category counts", len(m.Names), len(m.Cols), len(m.Categories))
	}
	n := m.Rows()
	for j, c := range m.Cols {
		if len(c) != n {
			return fmt.Errorf("column %s has %d rows, want %d", m.Names[j], len(c), n)
		}
		if k := m.Categories[j]; k > 0 {
			for i, v := range c {
				if !math.IsNaN(v) && (v < 0 || v >= float64(k) || v != math.Trunc(v)) {
					return fmt.Errorf("column %s row %d: category code %v out of range 0..%d", m.Names[j], i, v, k-1)
				}
			}
		}
	}
	return nil
}

// Subset returns the rows idx of m (copied).
func (m *Matrix) Subset(idx []int) *Matrix {
	out := &Matrix{Names: m.Names, Categories: m.Categories, Cols: make([][]float64, len(m.Cols))}
	for j, c := range m.Cols {
		col := make([]float64, len(idx))
		for k, i := range idx {
			col[k] = c[i]
		}
		out.Cols[j] = col
	}
	return out
}
