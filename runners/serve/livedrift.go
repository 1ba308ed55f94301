package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slipway-ml/slipway/runners/drift"
	"github.com/slipway-ml/slipway/runners/monitor"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// Defaults of DriftOptions.
const (
	// DefaultDriftWindow is the number of records the live window keeps.
	DefaultDriftWindow = 1000
	// DefaultDriftMinRows is the number of records the window must hold
	// before the first comparison.
	DefaultDriftMinRows = 100
	// DefaultDriftInterval is the time between comparisons.
	DefaultDriftInterval = 30 * time.Second
)

// ErrDriftOff is returned by Server.DriftNow when the model has no
// reference sample.
var ErrDriftOff = errors.New("drift monitoring is off: the model has no reference sample (" + ReferenceFile + ")")

// DriftOptions configure live drift monitoring, which is on when the
// model has a reference sample (Model.Reference). The server keeps the
// last Window scored records and, every Interval once the window holds
// MinRows records, compares them with the reference, exports the
// outcome as gauges and serves it at GET /v2/models/{name}/drift.
type DriftOptions struct {
	// Config says how to compare (method, thresholds, share, columns;
	// see monitor.ConfigFromSpec). PII fields are always excluded. Empty
	// Reference and Current names become "reference.jsonl" and "the last
	// N scored records".
	Config monitor.Config
	// Window is the number of records kept; default DefaultDriftWindow.
	Window int
	// MinRows is the number of records needed before the first
	// comparison; default DefaultDriftMinRows, or Window when smaller.
	MinRows int
	// Interval is the time between comparisons; default
	// DefaultDriftInterval.
	Interval time.Duration
	// OnReport, when set, is called with the report of every successful
	// comparison, one call at a time, on the goroutine that compared; a
	// slow OnReport delays the next comparison.
	OnReport func(*monitor.Report)
}

// liveDrift compares the live window with the reference.
type liveDrift struct {
	ref      *table.Table
	cfg      monitor.Config
	minRows  int
	interval time.Duration
	onReport func(*monitor.Report)
	win      *window
	metrics  *metrics
	log      *slog.Logger
	now      func() time.Time

	mu       sync.Mutex // held by a comparison
	compared uint64     // window.added at the last comparison, under mu
	last     atomic.Pointer[monitor.Report]
}

// newLiveDrift applies o's defaults and checks them against m's
// reference, which must be set.
func newLiveDrift(m *Model, o DriftOptions, mt *metrics, log *slog.Logger) (*liveDrift, error) {
	if o.Window < 0 || o.MinRows < 0 || o.Interval < 0 {
		return nil, fmt.Errorf("drift options: window %d, min rows %d and interval %v must not be negative", o.Window, o.MinRows, o.Interval)
	}
	if o.Window == 0 {
		o.Window = DefaultDriftWindow
	}
	if o.MinRows == 0 {
		o.MinRows = min(DefaultDriftMinRows, o.Window)
	}
	if o.MinRows > o.Window {
		return nil, fmt.Errorf("drift options: min rows %d exceeds the window of %d records, so no comparison would ever run", o.MinRows, o.Window)
	}
	if o.Interval == 0 {
		o.Interval = DefaultDriftInterval
	}
	cfg := o.Config
	cfg.Exclude = slices.Clone(cfg.Exclude)
	if m.PII != nil {
		cfg.Exclude = append(cfg.Exclude, m.PII.Columns...)
	}
	if cfg.Reference == "" {
		cfg.Reference = ReferenceFile
	}
	if cfg.Current == "" {
		cfg.Current = fmt.Sprintf("the last %d scored records", o.Window)
	}
	if err := checkReference(m); err != nil {
		return nil, err
	}
	if cfg.Method != "" {
		if _, err := drift.DefaultThreshold(cfg.Method); err != nil {
			return nil, fmt.Errorf("drift options: %w", err)
		}
	}
	if _, err := monitor.Compare(m.Reference, m.Reference, cfg); err != nil {
		return nil, fmt.Errorf("drift options do not fit the reference sample: %w", err)
	}
	d := &liveDrift{
		ref: m.Reference, cfg: cfg, minRows: o.MinRows, interval: o.Interval, onReport: o.OnReport,
		win: newWindow(m.Inputs, o.Window), metrics: mt, log: log, now: time.Now,
	}
	mt.addDrift(func() float64 {
		n, _ := d.win.state()
		return float64(n)
	})
	return d, nil
}

// checkReference checks that every column of the reference is an input
// of the model with a matching kind of values.
func checkReference(m *Model) error {
	for _, c := range m.Reference.Columns() {
		i, ok := m.index[c.Name]
		if !ok {
			return fmt.Errorf("reference sample: column %q is not an input of the model (%s)", c.Name, m.inputList())
		}
		var fits bool
		switch m.Inputs[i].Type {
		case TypeNumber:
			fits = c.Type == table.Float || c.Type == table.Int || c.Type == table.Bool
		case TypeTimestamp:
			fits = c.Type == table.Timestamp
		default:
			fits = c.Type.Text()
		}
		if !fits {
			return fmt.Errorf("reference sample: column %q holds %s values, want %s like the input", c.Name, c.Type, m.Inputs[i].Type)
		}
	}
	return nil
}

// run compares every interval until ctx is done.
func (d *liveDrift) run(ctx context.Context) {
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.tick()
		}
	}
}

// tick compares unless the window holds fewer than minRows records or
// has taken none since the last comparison, which would give the same
// report.
func (d *liveDrift) tick() {
	n, added := d.win.state()
	if n < d.minRows {
		return
	}
	d.mu.Lock()
	same := d.compared == added && d.last.Load() != nil
	d.mu.Unlock()
	if same {
		return
	}
	if _, err := d.compare(); err != nil {
		d.log.Error("drift comparison failed", "error", err.Error())
	}
}

// compare compares the window with the reference now, sets the gauges,
// keeps the report and calls OnReport.
func (d *liveDrift) compare() (*monitor.Report, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, added, err := d.win.snapshot()
	if err != nil {
		d.metrics.driftErrors.Inc()
		return nil, fmt.Errorf("compare drift: %w", err)
	}
	if cur == nil {
		return nil, errors.New("compare drift: no record has been scored yet")
	}
	rep, err := monitor.Compare(d.ref, cur, d.cfg)
	if err != nil {
		d.metrics.driftErrors.Inc()
		return nil, err
	}
	d.compared = added
	d.metrics.drift(rep, float64(d.now().UnixNano())/1e9)
	d.last.Store(rep)
	if d.onReport != nil {
		d.onReport(rep)
	}
	return rep, nil
}
