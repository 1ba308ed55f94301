package ir

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/internal/suggest"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/compiler/version"
)

// Rule names of the diagnostics Build reports.
const (
	RuleGraph = "graph"
)

// Locator finds where the user wrote a path, or its nearest ancestor.
type Locator interface {
	Lookup(path []string) (diag.Pos, bool)
}

// Default timeouts and resources of the built-in steps other than train.
var (
	defaultTimeouts = map[Kind]time.Duration{
		KindFetch: 30 * time.Minute, KindValidate: 15 * time.Minute, KindFeatures: 30 * time.Minute,
		KindEvaluate: 15 * time.Minute, KindPackage: 10 * time.Minute, KindDeploy: 30 * time.Minute,
		KindMonitor: 10 * time.Minute, KindRetrain: 5 * time.Minute,
	}
	defaultResources = Resources{CPU: "1", Memory: "1Gi"}
)

// Resolver supplies what compilation knows from outside the spec: the
// digests of datasets and of champion models. *lock.Lock is one.
type Resolver interface {
	// DatasetDigest returns the hex sha256 of a dataset, or "".
	DatasetDigest(pipeline, dataset string) string
	// Champion returns the model serving in an environment.
	Champion(pipeline, env string) (lock.Champion, bool)
	// ImageDigest returns the digest ("sha256:...") an image reference was
	// pushed as, or "".
	ImageDigest(ref string) string
}

// Build compiles a validated spec into the IR. path is the package
// directory relative to the repository root.
func Build(s *spec.Spec, path string, lk Resolver, loc Locator) (*Program, diag.Diagnostics) {
	prog := &Program{APIVersion: version.IRVersion, SlipwayVersion: version.Version, Path: path}
	var ds diag.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(s.Pipelines)) {
		p, pds := buildPipeline(s.Pipelines[name], lk, loc)
		ds = append(ds, pds...)
		if p != nil {
			prog.Pipelines = append(prog.Pipelines, p)
		}
	}
	return prog, ds.Sort()
}

// builder accumulates one pipeline's steps.
type builder struct {
	p        *spec.Pipeline
	lk       Resolver
	loc      Locator
	ds       diag.Diagnostics
	steps    []*Step
	byName   map[string]*Step
	producer map[string]*Step   // artifact name -> producing step
	after    map[*Step][]string // explicit ordering: step -> names of steps before it
	inputs   map[*Step][]string // artifact names each step reads
	origin   map[*Step][]string // CUE path of what declared the step
	external map[*Step][]Input  // inputs from outside the DAG
}

func (b *builder) errorf(path []string, format string, args ...any) {
	pos, _ := b.loc.Lookup(path)
	b.ds.Errorf(pos, diag.JoinPath(path), RuleGraph, format, args...)
}

func (b *builder) add(s *Step, origin []string, inputs []string, after ...string) *Step {
	if other, dup := b.byName[s.Name]; dup {
		b.errorf(origin, "step name %q is already used by the %s step of %s", s.Name, other.Kind, diag.JoinPath(b.origin[other]))
		return nil
	}
	s.ID = b.p.Name + "/" + s.Name
	if s.Image == "" {
		s.Image = b.p.Image
		// Run exactly the image that was built and pushed, when known.
		if d := b.lk.ImageDigest(s.Image); d != "" && !strings.Contains(s.Image, "@") {
			s.Image += "@" + d
		}
		s.Command = []string{"slipway", "step", b.p.Name, s.Name}
		if s.Kind == KindPackage {
			// Remotely, the package step publishes to the repository.
			s.Command = append(s.Command, "--push")
		}
	}
	if s.Resources.CPU == "" {
		s.Resources = defaultResources
	}
	if s.TimeoutSeconds == 0 {
		s.TimeoutSeconds = int64(defaultTimeouts[s.Kind] / time.Second)
	}
	s.Outputs = slices.Sorted(slices.Values(s.Outputs))
	if s.Outputs == nil {
		s.Outputs = []string{}
	}
	for _, o := range s.Outputs {
		if prev, dup := b.producer[o]; dup {
			b.errorf(origin, "artifact %q is also written by step %q", o, prev.Name)
			continue
		}
		b.producer[o] = s
	}
	b.byName[s.Name] = s
	b.steps = append(b.steps, s)
	b.origin[s] = origin
	b.inputs[s] = inputs
	b.after[s] = after
	return s
}

func buildPipeline(p *spec.Pipeline, lk Resolver, loc Locator) (*Pipeline, diag.Diagnostics) {
	b := &builder{
		p: p, lk: lk, loc: loc,
		byName: map[string]*Step{}, producer: map[string]*Step{},
		after: map[*Step][]string{}, inputs: map[*Step][]string{},
		origin: map[*Step][]string{}, external: map[*Step][]Input{},
	}
	base := []string{"pipelines", p.Name}
	at := func(labels ...string) []string { return append(slices.Clone(base), labels...) }

	dsNames := slices.Sorted(maps.Keys(p.Datasets))
	for _, name := range dsNames {
		d := p.Datasets[name]
		digest, pinned := d.SHA256, true
		if digest == "" {
			digest = lk.DatasetDigest(p.Name, name)
		}
		if digest == "" {
			digest, pinned = "source:"+d.Source, false
		} else {
			digest = "sha256:" + digest
		}
		s := b.add(&Step{Name: "fetch-" + name, Kind: KindFetch, Retries: 2,
			Params:  FetchParams{Dataset: name, Source: d.Source, SHA256: d.SHA256, Format: d.Format},
			Outputs: []string{"raw/" + name}}, at("datasets", name), nil)
		if s != nil {
			b.external[s] = []Input{{Name: "source", Digest: digest, Pinned: pinned}}
		}
	}
	for _, name := range dsNames {
		d := p.Datasets[name]
		cols := make([]*spec.Column, 0, len(d.Columns))
		var pii []string
		for _, c := range slices.Sorted(maps.Keys(d.Columns)) {
			cols = append(cols, d.Columns[c])
			if d.Columns[c].PII {
				pii = append(pii, c)
			}
		}
		b.add(&Step{Name: "validate-" + name, Kind: KindValidate,
			Params:  ValidateParams{Dataset: name, Format: d.Format, Columns: cols, Expectations: d.Expectations, PII: pii},
			Outputs: []string{"dataset/" + name}}, at("datasets", name), []string{"raw/" + name})
	}

	t := p.Training
	feat := &Step{Name: "features", Kind: KindFeatures,
		Params:  FeaturesParams{Features: p.Features, Task: t.Task, Split: t.Split, Seed: t.Seed, Categorical: categorical(t)},
		Outputs: []string{"features"}}
	if p.Features.PII.Action == "pseudonymize" {
		feat.Secrets = map[string]string{"SLIPWAY_PII_KEY": p.Features.PII.KeySecret}
	}
	b.add(feat, at("features"), []string{"dataset/" + p.Features.Dataset})

	train := &Step{Name: "train", Kind: KindTrain, Retries: t.Retries,
		TimeoutSeconds: seconds(t.Timeout),
		Resources:      Resources{CPU: t.Resources.CPU, Memory: t.Resources.Memory, GPU: t.Resources.GPU},
		Params: TrainParams{Model: t.Model, Task: t.Task, Seed: t.Seed, Device: t.Device,
			CrossValidation: t.CrossValidation, ClassWeights: t.ClassWeights,
			Logistic: t.Logistic, GBDT: t.GBDT, MLP: t.MLP, Custom: t.Custom},
		Outputs: []string{"model"}}
	if c := t.Custom; c != nil {
		train.Image, train.Command, train.Env, train.Secrets = c.Image, c.Command, c.Env, c.Secrets
	}
	b.add(train, at("training"), []string{"features"})

	gates := make([]*spec.Gate, 0, len(p.Gates))
	for _, g := range slices.Sorted(maps.Keys(p.Gates)) {
		gates = append(gates, p.Gates[g])
	}
	champEnv := championEnvironment(p)
	b.add(&Step{Name: "evaluate", Kind: KindEvaluate,
		Params: EvaluateParams{Task: t.Task, Label: p.Features.Label, Positive: p.Features.Positive,
			Gates: gates, ChampionEnvironment: champEnv},
		Outputs: []string{"evaluation"}}, at("gates"), []string{"features", "model"})
	// The champion is not an input of evaluate: its metrics are read when
	// the gates are decided, on every run and outside the cache, so that a
	// new champion does not make an unchanged model evaluate, pack (and be
	// signed) again under another digest.

	release := []string{"model", "evaluation"}
	if a := p.Artifact; a != nil {
		pkg := &Step{Name: "package", Kind: KindPackage, Params: PackageParams{Artifact: *a}, Outputs: []string{"package"}}
		if a.Signing != nil {
			pkg.Secrets = map[string]string{"SLIPWAY_SIGNING_KEY": a.Signing.Key}
			if a.Signing.PasswordSecret != "" {
				pkg.Secrets["SLIPWAY_SIGNING_PASSWORD"] = a.Signing.PasswordSecret
			}
		}
		b.add(pkg, at("artifact"), []string{"evaluation", "features", "model"})
		release = []string{"package"}
	}

	var monitors []string
	if p.Deploy != nil {
		envs := slices.Sorted(maps.Keys(p.Deploy.Environments))
		for _, name := range envs {
			e := p.Deploy.Environments[name]
			rel := e.Release
			if rel == "" {
				rel = p.Name + "-" + name
			}
			var after []string
			if e.PromoteAfter != "" && e.PromoteAfter != name {
				after = []string{"deploy-" + e.PromoteAfter}
			}
			dp := DeployParams{Environment: *e, Release: rel}
			if p.Artifact != nil {
				dp.Repository = p.Artifact.Repository
			}
			if c, ok := lk.Champion(p.Name, name); ok {
				dp.Champion = c.Digest
			}
			b.add(&Step{Name: "deploy-" + name, Kind: KindDeploy, Environment: name,
				Params: dp, Outputs: []string{"release/" + name}},
				at("deploy", "environments", name), release, after...)
		}
		if m := p.Monitoring; m != nil {
			for _, name := range envs {
				mon := &Step{Name: "monitor-" + name, Kind: KindMonitor, Environment: name,
					Params: MonitorParams{Environment: name, Monitoring: *m}}
				if len(m.Notifications) > 0 {
					mon.Secrets = map[string]string{}
					for i, n := range m.Notifications {
						mon.Secrets[fmt.Sprintf("SLIPWAY_NOTIFY_%d", i)] = n.Secret
					}
				}
				if b.add(mon, at("monitoring"), []string{"release/" + name, "features"}) != nil {
					monitors = append(monitors, mon.Name)
				}
			}
		}
	}
	var trig Triggers
	if m := p.Monitoring; m != nil && m.Retraining != nil {
		r := m.Retraining
		trig = Triggers{Schedule: r.Schedule, OnDrift: r.OnDrift && m.Drift != nil, OnNewData: r.OnNewData}
		if trig.OnDrift {
			trig.Via = r.Via
		}
		b.add(&Step{Name: "retrain", Kind: KindRetrain, Params: RetrainParams{Triggers: trig}},
			at("monitoring", "retraining"), nil, monitors...)
	}

	for _, name := range slices.Sorted(maps.Keys(p.Steps)) {
		cs := p.Steps[name]
		outs := make([]string, len(cs.Outputs))
		for i, o := range cs.Outputs {
			outs[i] = "step/" + name + "/" + o
		}
		b.add(&Step{Name: name, Kind: KindCustom, Retries: cs.Retries, TimeoutSeconds: seconds(cs.Timeout),
			Resources: Resources{CPU: cs.Resources.CPU, Memory: cs.Resources.Memory, GPU: cs.Resources.GPU},
			Image:     cs.Image, Command: cs.Command, Env: cs.Env, Secrets: cs.Secrets,
			Params:  CustomParams{Image: cs.Image, Command: cs.Command},
			Outputs: outs}, at("steps", name), cs.Inputs)
	}

	b.link()
	order, ok := b.sort()
	if !ok {
		return nil, b.ds
	}
	b.keys(order)
	specDigest, err := digestJSON(p)
	if err != nil {
		b.ds.Errorf(diag.Pos{}, diag.JoinPath(base), RuleGraph, "cannot encode spec: %v", err)
		return nil, b.ds
	}
	return &Pipeline{Name: p.Name, SpecDigest: specDigest, Spec: p, Steps: order, Triggers: trig}, b.ds
}

// championEnvironment is the environment whose champion the gates compare
// against: the first production environment, else the first environment.
func championEnvironment(p *spec.Pipeline) string {
	if p.Deploy == nil || len(p.Deploy.Environments) == 0 {
		return ""
	}
	names := slices.Sorted(maps.Keys(p.Deploy.Environments))
	for _, n := range names {
		if p.Deploy.Environments[n].Production {
			return n
		}
	}
	return names[0]
}

// link resolves each step's inputs to their producers and fills DependsOn.
// Only a custom step's inputs are the user's words: a built-in step whose
// input is missing (features naming an unknown dataset) has already been
// reported by the checks, so it is skipped here.
func (b *builder) link() {
	for _, s := range b.steps {
		deps := map[string]bool{}
		s.Inputs = append([]Input(nil), b.external[s]...)
		for i, name := range b.inputs[s] {
			prod, ok := b.producer[name]
			if !ok {
				if s.Kind == KindCustom {
					b.errorf(append(slices.Clone(b.origin[s]), "inputs", fmt.Sprint(i)), "%s", b.unknownArtifact(name))
				}
				continue
			}
			if prod == s {
				b.errorf(append(slices.Clone(b.origin[s]), "inputs", fmt.Sprint(i)), "step %q reads its own output %q", s.Name, name)
				continue
			}
			s.Inputs = append(s.Inputs, Input{Name: name, From: prod.ID})
			deps[prod.ID] = true
		}
		for _, name := range b.after[s] {
			if prev, ok := b.byName[name]; ok {
				deps[prev.ID] = true
			}
		}
		slices.SortFunc(s.Inputs, func(a, c Input) int { return strings.Compare(a.Name, c.Name) })
		s.DependsOn = slices.Sorted(maps.Keys(deps))
		if s.DependsOn == nil {
			s.DependsOn = []string{}
		}
	}
}

// unknownArtifact words a custom step's input that no step writes, listing
// the artifacts a custom step may read (not fetch's raw files, which are
// unchecked) and the nearest one.
func (b *builder) unknownArtifact(name string) string {
	var known []string
	for a := range b.producer {
		if !strings.HasPrefix(a, "raw/") && !strings.HasPrefix(a, "release/") {
			known = append(known, a)
		}
	}
	slices.Sort(known)
	msg := fmt.Sprintf("no step writes %q", name)
	if s := suggest.Nearest(name, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg + "; a step may read: " + strings.Join(known, ", ")
}

// sort orders the steps topologically, breaking ties by the order they were
// added (the life cycle's order), and reports cycles.
func (b *builder) sort() ([]*Step, bool) {
	index := map[string]int{}
	for i, s := range b.steps {
		index[s.ID] = i
	}
	indeg := make([]int, len(b.steps))
	users := make([][]int, len(b.steps))
	for i, s := range b.steps {
		for _, d := range s.DependsOn {
			j := index[d]
			indeg[i]++
			users[j] = append(users[j], i)
		}
	}
	var ready []int
	for i := range b.steps {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	var order []*Step
	for len(ready) > 0 {
		slices.Sort(ready)
		i := ready[0]
		ready = ready[1:]
		order = append(order, b.steps[i])
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) == len(b.steps) {
		return order, !b.ds.HasErrors()
	}
	cycle := b.findCycle(index, indeg)
	names := make([]string, len(cycle))
	deploys := true
	for i, s := range cycle {
		names[i] = s.Name
		if s.Kind == KindDeploy {
			names[i] = s.Environment
		} else {
			deploys = false
		}
	}
	loop := strings.Join(append(names, names[0]), " → ")
	if deploys {
		b.errorf(append(slices.Clone(b.origin[cycle[0]]), "promoteAfter"), "environments are promoted after each other in a loop: %s; one environment must come first", loop)
	} else {
		b.errorf(b.origin[cycle[0]], "steps form a cycle: %s", loop)
	}
	return nil, false
}

// findCycle returns one cycle among the steps left with incoming edges,
// starting at the earliest such step.
func (b *builder) findCycle(index map[string]int, indeg []int) []*Step {
	start := -1
	for i := range b.steps {
		if indeg[i] > 0 {
			start = i
			break
		}
	}
	// Walk dependencies backwards from start until a step repeats.
	seen := map[int]int{}
	var path []int
	cur := start
	for {
		if at, ok := seen[cur]; ok {
			cyc := path[at:]
			slices.Reverse(cyc)
			out := make([]*Step, len(cyc))
			for i, j := range cyc {
				out[i] = b.steps[j]
			}
			// Rotate so the earliest declared step comes first.
			m := 0
			for i := range out {
				if index[out[i].ID] < index[out[m].ID] {
					m = i
				}
			}
			return append(out[m:], out[:m]...)
		}
		seen[cur] = len(path)
		path = append(path, cur)
		next := -1
		for _, d := range b.steps[cur].DependsOn {
			if j := index[d]; indeg[j] > 0 {
				next = j
				break
			}
		}
		if next < 0 {
			return []*Step{b.steps[start]}
		}
		cur = next
	}
}

// keys computes each step's cache key in topological order, and the digest
// of every produced input.
func (b *builder) keys(order []*Step) {
	byID := map[string]*Step{}
	for _, s := range order {
		byID[s.ID] = s
	}
	for _, s := range order {
		for i, in := range s.Inputs {
			if in.From != "" {
				prod := byID[in.From]
				s.Inputs[i].Digest = ArtifactDigest(prod.CacheKey, in.Name)
				s.Inputs[i].Pinned = allPinned(prod)
			}
		}
		key, err := CacheKey(s)
		if err != nil {
			b.errorf(b.origin[s], "cannot compute the cache key: %v", err)
			continue
		}
		s.CacheKey = key
	}
}

func allPinned(s *Step) bool {
	for _, in := range s.Inputs {
		if !in.Pinned {
			return false
		}
	}
	return true
}

// keyMaterial is what a cache key hashes.
type keyMaterial struct {
	Kind    Kind              `json:"kind"`
	Params  any               `json:"params"`
	Inputs  map[string]string `json:"inputs"`
	Version string            `json:"slipwayVersion"`
}

// CacheKey is the sha256 of the canonical JSON of the step's kind,
// parameters, input digests and Slipway's version.
func CacheKey(s *Step) (string, error) {
	inputs := make(map[string]string, len(s.Inputs))
	for _, in := range s.Inputs {
		inputs[in.Name] = in.Digest
	}
	return digestJSON(keyMaterial{Kind: s.Kind, Params: s.Params, Inputs: inputs, Version: version.Version})
}

// ArtifactDigest is the digest a produced artifact has at compile time:
// derived from its producer's cache key, so it changes exactly when the
// producer would run again.
func ArtifactDigest(producerKey, name string) string {
	sum := sha256.Sum256([]byte(producerKey + "\x00" + name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func digestJSON(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func seconds(d string) int64 {
	v, err := time.ParseDuration(d)
	if err != nil || v <= 0 {
		return 0
	}
	return int64(v / time.Second)
}

// categorical is how the features step encodes categorical columns for the
// model: native integer codes for a gbdt that splits on them natively,
// one-hot columns for every other model.
func categorical(t spec.Training) string {
	if t.Model == "gbdt" && (t.GBDT == nil || t.GBDT.Categorical != "onehot") {
		return "native"
	}
	return "onehot"
}
