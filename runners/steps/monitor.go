package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/monitor"
	"github.com/slipway-ml/slipway/runners/train/table"
	"github.com/slipway-ml/slipway/runners/trigger"
)

// Settings of the monitor step, read through Config.Getenv.
const (
	// EnvMonitorCurrent is the current data a monitor step compares with
	// the training rows: a file or an https URL (CSV, JSON Lines or
	// Parquet, by extension), e.g. an export of the server's request log.
	EnvMonitorCurrent = "SLIPWAY_MONITOR_CURRENT"
	// EnvMonitorServer is the model server whose live drift report (its
	// rolling window of inputs, GET /v2/models/NAME/drift) a monitor step
	// reads when EnvMonitorCurrent is not set.
	EnvMonitorServer = "SLIPWAY_MONITOR_SERVER"
)

// Retrainer fires a pipeline's retraining the way the spec declares
// (monitoring.retraining.via): the CLI builds it from its environment.
type Retrainer func(ctx context.Context, pipeline, via string, payload map[string]any) error

type monitorStep struct{ c Config }

// Execute does nothing: a monitor step has no outputs to cache. The
// measurement is in Check, which runs every time.
func (m *monitorStep) Execute(context.Context, *local.StepContext) error { return nil }

// Check measures drift for one environment: the current data (a file or
// URL, or the model server's live window) against the training rows, as
// the spec's monitoring.drift says. It writes drift.json and drift.html
// under the run directory (drift-<env>/) and, on dataset drift when the
// spec retrains on drift, fires Config.Retrain once per drift episode
// (state under StateDir/monitor). Drift is reported, not an error.
func (m *monitorStep) Check(ctx context.Context, sc *local.StepContext) error {
	p, err := params[ir.MonitorParams](sc.Step)
	if err != nil {
		return err
	}
	rep, err := m.report(ctx, sc, p)
	if err != nil {
		return err
	}
	dir := filepath.Join(sc.RunDir, "drift-"+p.Environment)
	if err := monitor.Write(dir, rep); err != nil {
		return err
	}
	drifted := []string{}
	for _, f := range rep.Features {
		if f.Drifted {
			drifted = append(drifted, f.Feature)
		}
	}
	verdict := "no dataset drift"
	if rep.Drifted {
		verdict = "DATASET DRIFT"
	}
	sc.Logf("%s in %s: %d of %d features drifted (%.0f%%; the dataset drifts at %.0f%%) %v; report %s",
		verdict, p.Environment, len(drifted), len(rep.Features), 100*rep.ShareDrifted, 100*rep.Share, drifted,
		filepath.Join(dir, monitor.HTMLFile))
	tr := sc.Pipeline.Triggers
	if !tr.OnDrift {
		return nil
	}
	r := p.Retraining
	cooldown := time.Duration(0)
	if r != nil && r.Cooldown != "" {
		if cooldown, err = time.ParseDuration(r.Cooldown); err != nil {
			return permanent(fmt.Errorf("monitoring.retraining.cooldown %q: %w", r.Cooldown, err))
		}
	}
	ep := &trigger.Episodes{Path: filepath.Join(m.c.StateDir, "monitor", sc.Pipeline.Name+"-"+p.Environment+".json"), Cooldown: cooldown}
	out, err := ep.Observe(ctx, rep.Drifted, func(ctx context.Context) error {
		if m.c.Retrain == nil {
			return fmt.Errorf("retraining via %s is not configured where this step runs", tr.Via)
		}
		return m.c.Retrain(ctx, sc.Pipeline.Name, tr.Via, map[string]any{"environment": p.Environment,
			"share_drifted": rep.ShareDrifted, "drifted": drifted, "reference": rep.Reference, "current": rep.Current})
	})
	if err != nil {
		return err
	}
	if rep.Drifted || out.Fired {
		sc.Logf("retraining via %s: %s", tr.Via, out.Reason)
	}
	return nil
}

// report compares the current data with the training rows, or reads the
// model server's live drift report.
func (m *monitorStep) report(ctx context.Context, sc *local.StepContext, p ir.MonitorParams) (*monitor.Report, error) {
	if cur := m.c.Getenv(EnvMonitorCurrent); cur != "" {
		ref, err := trainingRows(sc)
		if err != nil {
			return nil, err
		}
		t, err := m.current(ctx, sc, cur)
		if err != nil {
			return nil, err
		}
		cfg := monitor.ConfigFromSpec(&p.Monitoring)
		cfg.Reference, cfg.Current = "training rows", cur
		cfg.Exclude = append(cfg.Exclude, piiColumns(sc.Pipeline, datasetOf(sc.Pipeline))...)
		if sp := sc.Pipeline.Spec; sp != nil {
			cfg.Exclude = append(cfg.Exclude, sp.Features.Label)
		}
		rep, err := monitor.Compare(ref, t, cfg)
		if err != nil {
			return nil, permanent(fmt.Errorf("%s: %w", cur, err))
		}
		return rep, nil
	}
	if srv := m.c.Getenv(EnvMonitorServer); srv != "" {
		return serverReport(ctx, srv, sc.Pipeline.Name)
	}
	return nil, permanent(fmt.Errorf("no current data to monitor: set %s (a file or https URL of recent inputs) or %s (the model server, whose live drift window is read)",
		EnvMonitorCurrent, EnvMonitorServer))
}

// current reads the current data from a file or an http(s) URL.
func (m *monitorStep) current(ctx context.Context, sc *local.StepContext, src string) (*table.Table, error) {
	path, name, err := monitor.LocateCurrent(ctx, src, sc.Dir, filepath.Join(m.c.StateDir, "data"), m.c.FetchOptions...)
	if err != nil {
		return nil, err
	}
	t, err := dataset.ReadFile(path, dataset.FormatOf(name), nil)
	if err != nil {
		return nil, permanent(fmt.Errorf("current data %s: %w", name, err))
	}
	return t, nil
}

// trainingRows is the reference: the training split of the features
// step's data.
func trainingRows(sc *local.StepContext) (*table.Table, error) {
	dir, err := input(sc, "features")
	if err != nil {
		return nil, err
	}
	var sp Split
	if err := readJSON(filepath.Join(dir, "split.json"), &sp); err != nil {
		return nil, err
	}
	t, err := dataset.ReadFile(filepath.Join(dir, "data.parquet"), "parquet", nil)
	if err != nil {
		return nil, err
	}
	return t.Subset(sp.Train), nil
}

// datasetOf is the dataset the pipeline's features read.
func datasetOf(p *ir.Pipeline) string {
	if p.Spec == nil {
		return ""
	}
	return p.Spec.Features.Dataset
}

// serverReport reads a model server's last drift report.
func serverReport(ctx context.Context, server, model string) (*monitor.Report, error) {
	u := strings.TrimRight(server, "/") + "/v2/models/" + url.PathEscape(model) + "/drift"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, permanent(fmt.Errorf("%s %q: %w", EnvMonitorServer, server, err))
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the live drift report: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read the live drift report: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read the live drift report: %s answered %s: %.300s", u, resp.Status, body)
	}
	var rep monitor.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, fmt.Errorf("read the live drift report from %s: %w", u, err)
	}
	return &rep, nil
}
