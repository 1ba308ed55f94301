// Package plan compares what two revisions of a package compile to and
// records the difference as data: which pipelines are added, removed or
// changed, every changed field old → new, what each change sets off
// (retraining, a redeploy, a new schedule, a gate or policy change, or
// configuration only), the unified diff of every rendered file that
// changes, and the digests of everything the plan was made from, so that
// apply can refuse a plan that no longer matches the repository.
//
// A Plan is plain, versioned data with a deterministic JSON form; showing it
// as text or as a pull-request comment is the job of package view.
package plan

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway-ml/slipway/compiler/canonical"
	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/compiler/version"
)

// FormatVersion is the version of the plan's JSON form.
const FormatVersion = "slipway.dev/plan/v1"

// Plan is the difference between a base and a head revision.
type Plan struct {
	// FormatVersion is FormatVersion.
	FormatVersion string `json:"formatVersion"`
	// Inputs are the digests of everything the plan was made from.
	Inputs Inputs `json:"inputs"`
	// Pipelines of both revisions, sorted by name; unchanged ones too.
	Pipelines []*Pipeline `json:"pipelines"`
	// Files are the rendered files that differ, sorted by path.
	Files []*FileDiff `json:"files"`
	// Diagnostics are policy findings that name no pipeline.
	Diagnostics []*Diagnostic `json:"diagnostics,omitempty"`
}

// File is one rendered target file. backends.File converts to it
// directly: plan.File(f).
type File struct {
	// Path is slash-separated, relative to the output directory.
	Path string
	// Data is the file's content.
	Data []byte
}

// Action is what happens to a thing: it is created, deleted, updated, or
// left as it is.
type Action string

// The actions, shown as `+ - ~` and a blank.
const (
	Create Action = "create"
	Delete Action = "delete"
	Update Action = "update"
	NoOp   Action = "no-op"
)

// Symbol is the one-character mark of the action: + - ~ or a space.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Delete:
		return "-"
	case Update:
		return "~"
	}
	return " "
}

// Effect is what a change sets off when the plan is applied.
type Effect string

// The effects, in the order plans list them.
const (
	// Retrain: a fetch, validate, features or train step's cache key
	// changes, so the model is trained again.
	Retrain Effect = "retrain"
	// Redeploy: an environment's release changes, because its deploy
	// parameters change or it gets a different model.
	Redeploy Effect = "redeploy"
	// Schedule: what starts training changes (cron schedule, drift, new
	// data).
	Schedule Effect = "schedule"
	// Gate: the conditions a model must meet change.
	Gate Effect = "gate"
	// Policy: policy findings appear or go away.
	Policy Effect = "policy"
	// Rerun: a custom step runs again.
	Rerun Effect = "rerun"
	// Config: something changes that reruns nothing and redeploys nothing
	// (description, owner, labels, resources, monitoring settings).
	Config Effect = "config"
	// Remove: the pipeline is deleted.
	Remove Effect = "remove"
	// None: nothing changes.
	None Effect = "no-op"
)

// effectOrder ranks effects for sorting.
var effectOrder = []Effect{Retrain, Redeploy, Schedule, Gate, Policy, Rerun, Config, Remove, None}

func compareEffects(a, b Effect) int {
	return cmp.Compare(slices.Index(effectOrder, a), slices.Index(effectOrder, b))
}

// Pipeline is the plan of one pipeline.
type Pipeline struct {
	// Name of the pipeline.
	Name string `json:"name"`
	// Action is create, delete, update or no-op.
	Action Action `json:"action"`
	// Effects are what applying sets off, most consequential first; [no-op]
	// when nothing changes.
	Effects []Effect `json:"effects"`
	// Summary is one line for people: "learning rate 0.1 → 0.05, will
	// retrain; production canary step 1 weight 10% → 25%, will redeploy
	// production".
	Summary string `json:"summary"`
	// Changes are the changed fields of the pipeline's spec (paths
	// relative to the pipeline, like training.gbdt.learningRate) and of its
	// triggers, sorted by path.
	Changes []*Change `json:"changes"`
	// Retrain lists the root causes of retraining: the parameters and
	// external inputs (dataset digests) that changed a fetch, validate,
	// features or train step's cache key. Empty when nothing retrains.
	Retrain []*Reason `json:"retrain,omitempty"`
	// Environments are the deployment environments of both revisions,
	// sorted by name.
	Environments []*Environment `json:"environments,omitempty"`
	// Gates are the gates of both revisions, sorted by name.
	Gates []*GateChange `json:"gates,omitempty"`
	// Steps are the steps that are added, removed, run again or otherwise
	// changed, in the head's order (removed steps last).
	Steps []*Step `json:"steps"`
	// Diagnostics are the policy findings about the pipeline.
	Diagnostics []*Diagnostic `json:"diagnostics,omitempty"`
}

// Change is one changed field.
type Change struct {
	// Path locates the field, relative to the pipeline or to the step's
	// parameters: training.gbdt.learningRate,
	// deploy.environments.production.rollout.steps[0].weight,
	// gates."intl-plan-parity".max. Lists of named things are keyed by
	// name.
	Path string `json:"path"`
	// Action is create, delete or update.
	Action Action `json:"action"`
	// Old is the value before (absent when created), as JSON.
	Old any `json:"old,omitempty"`
	// New is the value after (absent when deleted), as JSON.
	New any `json:"new,omitempty"`
	// Effect is what the change sets off.
	Effect Effect `json:"effect"`
	// Environment is the deployment environment the change is about, if
	// any.
	Environment string `json:"environment,omitempty"`
}

// ReasonKind says what changed a step's cache key.
type ReasonKind string

// The reasons a step runs again.
const (
	// ReasonParam: a parameter changed.
	ReasonParam ReasonKind = "param"
	// ReasonInput: an input's digest changed, or an input was added or
	// removed.
	ReasonInput ReasonKind = "input"
	// ReasonVersion: Slipway's version changed.
	ReasonVersion ReasonKind = "version"
	// ReasonNew: the step is new.
	ReasonNew ReasonKind = "new"
)

// Reason is one cause of a step's cache key changing.
type Reason struct {
	// Step is the id of the step.
	Step string `json:"step"`
	// Kind is what changed.
	Kind ReasonKind `json:"kind"`
	// Path is the parameter's path (for param) or the input's name (for
	// input).
	Path string `json:"path,omitempty"`
	// From is the id of the step that produces the input, or "" for an
	// external input (a dataset's source).
	From string `json:"from,omitempty"`
	// Old is the value or digest before.
	Old any `json:"old,omitempty"`
	// New is the value or digest after.
	New any `json:"new,omitempty"`
}

// Environment is the plan of one deployment environment.
type Environment struct {
	// Name of the environment.
	Name string `json:"name"`
	// Action is create (first release), delete, update or no-op.
	Action Action `json:"action"`
	// Redeploy is set when the release changes.
	Redeploy bool `json:"redeploy"`
	// Production marks a production environment (at head, or at base when
	// deleted).
	Production bool `json:"production"`
	// Reasons say in words why the release changes.
	Reasons []string `json:"reasons,omitempty"`
}

// GateChange is one gate of either revision.
type GateChange struct {
	// Name of the gate.
	Name string `json:"name"`
	// Action is create, delete, update or no-op.
	Action Action `json:"action"`
	// Old is the condition before, in words ("roc_auc ≥ 0.85 on test").
	Old string `json:"old,omitempty"`
	// New is the condition after.
	New string `json:"new,omitempty"`
}

// Step is the plan of one step.
type Step struct {
	// ID is "<pipeline>/<name>".
	ID string `json:"id"`
	// Kind is the step's kind.
	Kind ir.Kind `json:"kind"`
	// Environment of deploy and monitor steps.
	Environment string `json:"environment,omitempty"`
	// Action is create, delete or update.
	Action Action `json:"action"`
	// Rerun is set when the step's cache key changes, so that it runs
	// again instead of reusing its cached outputs.
	Rerun bool `json:"rerun"`
	// OldKey and NewKey are the cache keys.
	OldKey string `json:"oldKey,omitempty"`
	NewKey string `json:"newKey,omitempty"`
	// Reasons are what changed the cache key: the step's own parameters,
	// its inputs' digests, Slipway's version.
	Reasons []*Reason `json:"reasons,omitempty"`
	// Fields are changes outside the cache key (resources, retries,
	// timeout, image, environment variables, dependencies): they change
	// the rendered targets but not the step's results.
	Fields []*Change `json:"fields,omitempty"`
	// Effect is what the step's change sets off.
	Effect Effect `json:"effect"`
}

// Diagnostic is a policy finding.
type Diagnostic struct {
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	// Pos is file:line:col, as the compiler reported it.
	Pos string `json:"pos,omitempty"`
	// Path is the CUE path of the offending value.
	Path string `json:"path,omitempty"`
	// Rule names the policy rule.
	Rule string `json:"rule"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Status is "new" (only at head), "unchanged" (at both) or
	// "resolved" (only at base).
	Status string `json:"status"`
}

// Diagnostic statuses.
const (
	StatusNew       = "new"
	StatusUnchanged = "unchanged"
	StatusResolved  = "resolved"
)

// FileDiff is one rendered file that differs.
type FileDiff struct {
	// Path is the file's path.
	Path string `json:"path"`
	// Action is create, delete or update.
	Action Action `json:"action"`
	// OldDigest and NewDigest are the sha256 digests of the contents.
	OldDigest string `json:"oldDigest,omitempty"`
	NewDigest string `json:"newDigest,omitempty"`
	// Added and Removed count the diff's lines.
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// Binary is set when a side is not text; Diff is then empty.
	Binary bool `json:"binary,omitempty"`
	// Diff is the unified diff, with three lines of context.
	Diff string `json:"diff,omitempty"`
}

// Inputs are the digests of everything a plan was made from.
type Inputs struct {
	// SlipwayVersion is the version of Slipway that made the plan.
	SlipwayVersion string `json:"slipwayVersion"`
	// Base is the revision compared against.
	Base Revision `json:"base"`
	// Head is the revision the plan applies.
	Head Revision `json:"head"`
}

// Revision identifies one side of a plan.
type Revision struct {
	// Ref is the revision as the user named it ("origin/main"); it is
	// informational and not compared by Verify.
	Ref string `json:"ref,omitempty"`
	// Commit is the Git commit hash, or "" for files not committed.
	Commit string `json:"commit,omitempty"`
	// Path is the package directory relative to the repository root.
	Path string `json:"path,omitempty"`
	// LockDigest is the digest of the lock the compilation read (see
	// LockDigest).
	LockDigest string `json:"lockDigest,omitempty"`
	// SpecDigests maps each pipeline to the digest of its spec.
	SpecDigests map[string]string `json:"specDigests,omitempty"`
	// FilesDigest is the digest of the rendered files (see FilesDigest).
	FilesDigest string `json:"filesDigest,omitempty"`
}

// NewRevision completes r from what a revision compiled and rendered to:
// its package path, spec digests and files digest. Ref, Commit and
// LockDigest are kept as given.
func NewRevision(r Revision, prog *ir.Program, files []File) Revision {
	r.SpecDigests = nil
	if prog != nil {
		r.Path = prog.Path
		for _, p := range prog.Pipelines {
			if r.SpecDigests == nil {
				r.SpecDigests = map[string]string{}
			}
			r.SpecDigests[p.Name] = p.SpecDigest
		}
	}
	r.FilesDigest = FilesDigest(files)
	return r
}

// FilesDigest is the sha256 of a set of files: their paths and contents,
// in path order. It is "" for no files.
func FilesDigest(files []File) string {
	if len(files) == 0 {
		return ""
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	h := sha256.New()
	for _, f := range sorted {
		fmt.Fprintf(h, "%s\x00%d\x00", f.Path, len(f.Data))
		h.Write(f.Data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// LockDigest is the sha256 of a lock's canonical form; "" for nil.
func LockDigest(l *lock.Lock) (string, error) {
	if l == nil {
		return "", nil
	}
	data, err := l.Marshal()
	if err != nil {
		return "", fmt.Errorf("digest the lock: %w", err)
	}
	return digest(data), nil
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Option changes what Diff takes into account.
type Option func(*options)

type options struct {
	baseDiags, headDiags diag.Diagnostics
}

// WithDiagnostics gives Diff the diagnostics of compiling each revision.
// Their policy findings (rules "policy" and "policy/…") are recorded, each
// marked new, unchanged or resolved; findings that appear or go away are a
// policy change. Default: none.
func WithDiagnostics(base, head diag.Diagnostics) Option {
	return func(o *options) { o.baseDiags, o.headDiags = base, head }
}

// Diff compares the base and head programs and their rendered files. A nil
// program is a revision where the package does not exist: every pipeline
// of the other side is created or deleted. inputs gives the revisions'
// refs, commits and lock digests; Diff completes the rest (NewRevision) and
// sets the Slipway version.
func Diff(base, head *ir.Program, baseFiles, headFiles []File, inputs Inputs, opts ...Option) *Plan {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p := &Plan{FormatVersion: FormatVersion, Pipelines: []*Pipeline{}}
	p.Inputs = Inputs{
		SlipwayVersion: version.Version,
		Base:           NewRevision(inputs.Base, base, baseFiles),
		Head:           NewRevision(inputs.Head, head, headFiles),
	}
	bp, hp := byName(base), byName(head)
	names := map[string]bool{}
	for n := range bp {
		names[n] = true
	}
	for n := range hp {
		names[n] = true
	}
	diags := policyDiagnostics(o.baseDiags, o.headDiags)
	for _, n := range slices.Sorted(maps.Keys(names)) {
		pl := diffPipeline(n, bp[n], hp[n], versionOf(base), versionOf(head))
		pl.Diagnostics = takeDiagnostics(&diags, n)
		finish(pl)
		p.Pipelines = append(p.Pipelines, pl)
	}
	p.Diagnostics = diags
	p.Files = diffFiles(baseFiles, headFiles)
	return p
}

func byName(prog *ir.Program) map[string]*ir.Pipeline {
	m := map[string]*ir.Pipeline{}
	if prog != nil {
		for _, p := range prog.Pipelines {
			m[p.Name] = p
		}
	}
	return m
}

func versionOf(prog *ir.Program) string {
	if prog == nil {
		return ""
	}
	return prog.SlipwayVersion
}

// Changed reports whether the plan has anything to show or apply: a
// pipeline that is not a no-op, a rendered file that differs, or a policy
// finding that appeared or went away.
func (p *Plan) Changed() bool {
	for _, pl := range p.Pipelines {
		if pl.Action != NoOp {
			return true
		}
	}
	for _, d := range p.Diagnostics {
		if d.Status != StatusUnchanged {
			return true
		}
	}
	return len(p.Files) > 0
}

// Counts returns how many pipelines are created, updated, deleted and
// unchanged.
func (p *Plan) Counts() (create, update, remove, unchanged int) {
	for _, pl := range p.Pipelines {
		switch pl.Action {
		case Create:
			create++
		case Update:
			update++
		case Delete:
			remove++
		default:
			unchanged++
		}
	}
	return
}

// Marshal encodes the plan as canonical JSON: sorted keys, two-space
// indentation, a trailing newline. Equal plans give equal bytes.
func (p *Plan) Marshal() ([]byte, error) {
	data, err := canonical.JSON(p)
	if err != nil {
		return nil, fmt.Errorf("encode the plan: %w", err)
	}
	return data, nil
}

// Unmarshal decodes a plan written by Marshal. It refuses another format
// version and unknown fields.
func Unmarshal(data []byte) (*Plan, error) {
	var head struct {
		FormatVersion string `json:"formatVersion"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("read the plan: not a JSON plan: %w", err)
	}
	if head.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("read the plan: format version is %q, but this Slipway reads %q; make the plan again with this version", head.FormatVersion, FormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("read the plan: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("read the plan: unexpected data after the plan")
	}
	if p.Pipelines == nil {
		p.Pipelines = []*Pipeline{}
	}
	return &p, nil
}

// WriteFile writes the plan's JSON to name through a temporary file in the
// same directory, renamed into place, so the file is never half-written.
func (p *Plan) WriteFile(name string) error {
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("write the plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write the plan to %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the plan to %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write the plan to %s: %w", name, err)
	}
	return nil
}

// StaleError says how the inputs a plan was made from differ from the
// current ones.
type StaleError struct {
	// Differences name each input that changed, old → new.
	Differences []string
}

// Error says what changed since the plan was made.
func (e *StaleError) Error() string {
	return "the plan is stale, its inputs changed since it was made: " + strings.Join(e.Differences, "; ") + "; make a new plan"
}

// Verify checks that current, the inputs as they are now (made with Diff
// or NewRevision), are the ones the plan was made from. It returns a
// *StaleError naming every difference, or nil. Refs are not compared: a
// branch name may point elsewhere as long as the commit is the same.
func (p *Plan) Verify(current Inputs) error {
	var diffs []string
	add := func(what, was, now string) {
		if was != now {
			diffs = append(diffs, fmt.Sprintf("%s was %s, is now %s", what, orNone(was), orNone(now)))
		}
	}
	add("the Slipway version", p.Inputs.SlipwayVersion, current.SlipwayVersion)
	for _, side := range []struct {
		name     string
		was, now Revision
	}{{"base", p.Inputs.Base, current.Base}, {"head", p.Inputs.Head, current.Head}} {
		add("the "+side.name+" commit", side.was.Commit, side.now.Commit)
		add("the "+side.name+" package path", side.was.Path, side.now.Path)
		add("the "+side.name+" lock digest", side.was.LockDigest, side.now.LockDigest)
		add("the "+side.name+" rendered files' digest", side.was.FilesDigest, side.now.FilesDigest)
		names := map[string]bool{}
		for n := range side.was.SpecDigests {
			names[n] = true
		}
		for n := range side.now.SpecDigests {
			names[n] = true
		}
		for _, n := range slices.Sorted(maps.Keys(names)) {
			add("the "+side.name+" spec digest of pipeline "+n, side.was.SpecDigests[n], side.now.SpecDigests[n])
		}
	}
	if len(diffs) > 0 {
		return &StaleError{Differences: diffs}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
