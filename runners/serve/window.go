package serve

import (
	"sync"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// window holds the last size scored records, column by column, in a ring:
// adding a record copies its values into preallocated slots under a short
// lock and allocates nothing.
type window struct {
	mu    sync.Mutex
	size  int
	next  int    // the slot the next record takes
	count int    // records held, at most size
	added uint64 // records added since the start
	cols  []windowColumn
}

// windowColumn is one input's slots: nums for a number, ints and valid
// for a timestamp, strs and valid for a string.
type windowColumn struct {
	in    Input
	nums  []float64
	ints  []int64
	strs  []string
	valid []bool
}

func newWindow(inputs []Input, size int) *window {
	w := &window{size: size, cols: make([]windowColumn, len(inputs))}
	for j, in := range inputs {
		c := windowColumn{in: in}
		switch in.Type {
		case TypeNumber:
			c.nums = make([]float64, size)
		case TypeTimestamp:
			c.ints, c.valid = make([]int64, size), make([]bool, size)
		default:
			c.strs, c.valid = make([]string, size), make([]bool, size)
		}
		w.cols[j] = c
	}
	return w
}

// add appends the rows of t, a table of the inputs in schema order as
// column builds it; when t holds more rows than the window, its last
// rows are kept.
func (w *window) add(t *table.Table) {
	n := t.Rows()
	first := max(0, n-w.size)
	w.mu.Lock()
	defer w.mu.Unlock()
	for j, c := range t.Columns() {
		wc := &w.cols[j]
		slot := w.next
		for i := first; i < n; i++ {
			switch c.Type {
			case table.Float:
				wc.nums[slot] = c.Floats[i]
			case table.Timestamp:
				wc.ints[slot], wc.valid[slot] = c.Ints[i], c.Valid == nil || c.Valid.Get(i)
			default:
				if code := c.Codes[i]; code >= 0 {
					wc.strs[slot], wc.valid[slot] = c.Dict[code], true
				} else {
					wc.strs[slot], wc.valid[slot] = "", false
				}
			}
			if slot++; slot == w.size {
				slot = 0
			}
		}
	}
	kept := n - first
	w.next = (w.next + kept) % w.size
	w.count = min(w.size, w.count+kept)
	w.added += uint64(n)
}

// state returns the number of records held and the number ever added.
func (w *window) state() (count int, added uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count, w.added
}

// snapshot copies the records held, oldest first, into a table whose
// columns have the types column gives requests (and the reference); the
// table is nil when the window is empty. It also returns the number of
// records ever added.
func (w *window) snapshot() (*table.Table, uint64, error) {
	w.mu.Lock()
	n, start, added := w.count, (w.next-w.count+w.size)%w.size, w.added
	cols := make([]windowColumn, len(w.cols))
	for j, wc := range w.cols {
		c := windowColumn{in: wc.in}
		c.nums = ring(wc.nums, start, n)
		c.ints = ring(wc.ints, start, n)
		c.strs = ring(wc.strs, start, n)
		c.valid = ring(wc.valid, start, n)
		cols[j] = c
	}
	w.mu.Unlock()
	if n == 0 {
		return nil, added, nil
	}
	out := make([]*table.Column, len(cols))
	for j, c := range cols {
		switch c.in.Type {
		case TypeNumber:
			out[j] = table.NewFloat(c.in.Name, c.nums)
		case TypeTimestamp:
			out[j] = table.NewTimestamp(c.in.Name, c.ints, bitmap(c.valid))
		default:
			out[j] = table.NewText(c.in.Name, table.Category, c.strs, bitmap(c.valid))
		}
	}
	t, err := table.New(out...)
	if err != nil {
		return nil, added, err
	}
	return t, added, nil
}

// ring copies n values of s starting at start, wrapping around; nil for
// a nil s.
func ring[T any](s []T, start, n int) []T {
	if s == nil {
		return nil
	}
	out := make([]T, 0, n)
	end := start + n
	if end <= len(s) {
		return append(out, s[start:end]...)
	}
	out = append(out, s[start:]...)
	return append(out, s[:end-len(s)]...)
}

// bitmap converts validity flags to a table bitmap.
func bitmap(valid []bool) table.Bitmap {
	b := table.NewBitmap(len(valid), true)
	for i, ok := range valid {
		if !ok {
			b.Clear(i)
		}
	}
	return b
}
