// Package local renders the local execution plan: per pipeline, the steps
// the local runner executes, in order, grouped into stages of steps that
// may run in parallel, with every step's cache key. The plan is canonical
// JSON.
package local

import (
	"fmt"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/version"
)

// Name is the target name.
const Name = "local"

// APIVersion is the version of the plan format.
const APIVersion = "slipway.dev/local-plan/v1"

// Backend renders local execution plans.
type Backend struct{}

// New returns the local backend.
func New() *Backend { return &Backend{} }

// Name returns "local".
func (*Backend) Name() string { return Name }

// Plan is one pipeline's local execution plan.
type Plan struct {
	// APIVersion is the plan format version.
	APIVersion string `json:"apiVersion"`
	// SlipwayVersion compiled the plan.
	SlipwayVersion string `json:"slipwayVersion"`
	// Pipeline is the pipeline's name.
	Pipeline string `json:"pipeline"`
	// Path is the package directory relative to the repository root.
	Path string `json:"path"`
	// SpecDigest identifies the spec compiled.
	SpecDigest string `json:"specDigest"`
	// Stages are lists of step ids; the steps of one stage depend only on
	// earlier stages and may run in parallel.
	Stages [][]string `json:"stages"`
	// Steps in topological order.
	Steps []*ir.Step `json:"steps"`
	// Triggers say what starts a run.
	Triggers ir.Triggers `json:"triggers"`
}

// Render writes local/<pipeline>.plan.json per pipeline.
func (b *Backend) Render(prog *ir.Program) ([]backends.File, error) {
	var files []backends.File
	for _, p := range prog.Pipelines {
		plan := PlanFor(prog, p)
		data, err := backends.CanonicalJSON(plan)
		if err != nil {
			return nil, fmt.Errorf("render local plan of %s: %w", p.Name, err)
		}
		files = append(files, backends.File{Path: "local/" + p.Name + ".plan.json", Data: data})
	}
	return backends.SortFiles(files)
}

// PlanFor builds the execution plan of one pipeline of prog.
func PlanFor(prog *ir.Program, p *ir.Pipeline) *Plan {
	return &Plan{
		APIVersion:     APIVersion,
		SlipwayVersion: version.Version,
		Pipeline:       p.Name,
		Path:           prog.Path,
		SpecDigest:     p.SpecDigest,
		Stages:         Stages(p.Steps),
		Steps:          p.Steps,
		Triggers:       p.Triggers,
	}
}

// Stages groups topologically ordered steps by depth: a step's stage is one
// more than the deepest stage among its dependencies.
func Stages(steps []*ir.Step) [][]string {
	depth := map[string]int{}
	var stages [][]string
	for _, s := range steps {
		d := 0
		for _, dep := range s.DependsOn {
			d = max(d, depth[dep]+1)
		}
		depth[s.ID] = d
		for len(stages) <= d {
			stages = append(stages, nil)
		}
		stages[d] = append(stages[d], s.ID)
	}
	return stages
}
