package trigger

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-ml/slipway/runners/argosubmit"
)

// Firer starts the retraining of a pipeline: GitHub, Argo or Local, as
// the spec's monitoring.retraining.via says.
type Firer interface {
	// Retrain starts one retraining run of pipeline; payload is the drift
	// summary (at most 10 keys).
	Retrain(ctx context.Context, pipeline string, payload map[string]any) error
}

// Argo submits the pipeline's compiled Argo Workflow to an Argo Server and
// returns once the server has created it (it does not wait for the run).
type Argo struct {
	// Options say where to submit and what: Server, Namespace, Token and
	// Workflow (argo/<pipeline>/workflow.yaml) are the ones that matter.
	Options argosubmit.Options
	// Submitted, when set, is told the created workflow's name.
	Submitted func(name string)
}

// Retrain submits the workflow.
func (a Argo) Retrain(ctx context.Context, pipeline string, _ map[string]any) error {
	o := a.Options
	o.Detach = true
	res, err := argosubmit.Submit(ctx, o)
	if err != nil {
		return fmt.Errorf("retrain %s: %w", pipeline, err)
	}
	if a.Submitted != nil {
		a.Submitted(res.Name)
	}
	return nil
}

// Local runs the pipeline on this machine through Run (the CLI passes the
// local runner: compile, run, pack).
type Local struct {
	// Run runs the pipeline once and returns when it is done.
	Run func(ctx context.Context, pipeline string) error
}

// Retrain runs the pipeline.
func (l Local) Retrain(ctx context.Context, pipeline string, _ map[string]any) error {
	if l.Run == nil {
		return errors.New("retrain " + pipeline + ": no local runner")
	}
	if err := l.Run(ctx, pipeline); err != nil {
		return fmt.Errorf("retrain %s: %w", pipeline, err)
	}
	return nil
}

var (
	_ Firer = GitHub{}
	_ Firer = Argo{}
	_ Firer = Local{}
)
