// Package helmdeploy runs `helm upgrade --install` through Helm's SDK for a
// chart that Slipway rendered: it loads the chart from the rendered files in
// memory, merges one environment's values file over the chart's defaults,
// and installs the release, or upgrades it when the rendered manifest,
// hooks, chart metadata or values differ from the deployed revision.
package helmdeploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// DefaultTimeout is how long Helm waits for each Kubernetes operation when
// Options.Timeout is zero, as `helm upgrade` does.
const DefaultTimeout = 5 * time.Minute

// DefaultMaxHistory is how many revisions of a release are kept when
// Options.MaxHistory is zero, as `helm upgrade` does.
const DefaultMaxHistory = 10

// File is one file of a rendered chart.
type File struct {
	// Path is slash-separated and relative to the chart root
	// ("Chart.yaml", "templates/deployment.yaml").
	Path string
	// Data is the file's content.
	Data []byte
}

// Options say what to deploy, and where.
type Options struct {
	// Files are the chart's files. They must include Chart.yaml. Required.
	Files []File
	// Release is the release name. Required.
	Release string
	// Namespace is the release's namespace. Required.
	Namespace string
	// ValuesFile names the file among Files whose values are merged over
	// the chart's values.yaml ("values-staging.yaml"). Empty: the chart's
	// defaults only. Values of earlier revisions are never reused.
	ValuesFile string
	// Kubeconfig is the kubeconfig file's path. Empty: Kubernetes' default
	// loading rules ($KUBECONFIG, then ~/.kube/config).
	Kubeconfig string
	// KubeContext is the kubeconfig context. Empty: its current context.
	KubeContext string
	// Timeout bounds each Kubernetes operation. Default DefaultTimeout.
	Timeout time.Duration
	// Wait waits until the release's resources are ready.
	Wait bool
	// Atomic rolls a failed upgrade back to the last deployed revision, and
	// uninstalls a failed first install. It implies Wait.
	Atomic bool
	// CreateNamespace creates Namespace on first install when missing.
	CreateNamespace bool
	// MaxHistory is how many revisions are kept. Default DefaultMaxHistory.
	MaxHistory int
	// Config is the Helm configuration to use instead of connecting with
	// Kubeconfig and KubeContext (tests pass one with the memory release
	// driver and a fake kube client). Its Log is set when nil.
	Config *action.Configuration
	// Log receives Helm's progress messages. Default: discarded.
	Log func(format string, args ...any)
}

// Result is the deployed release.
type Result struct {
	// Release is the release name.
	Release string
	// Namespace is the release's namespace.
	Namespace string
	// Revision is the release's current revision.
	Revision int
	// Status is the revision's status ("deployed").
	Status string
	// Changed is false when the deployed revision already had the rendered
	// manifest, hooks, chart metadata and values: no revision was created.
	Changed bool
}

// Install installs the release, or upgrades it when it exists, and reports
// the revision now deployed.
func Install(ctx context.Context, o Options) (*Result, error) {
	res, err := install(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("helm upgrade --install release %q in namespace %q: %w", o.Release, o.Namespace, err)
	}
	return res, nil
}

func install(ctx context.Context, o Options) (*Result, error) {
	if o.Release == "" {
		return nil, errors.New("no release name given")
	}
	if err := chartutil.ValidateReleaseName(o.Release); err != nil {
		return nil, fmt.Errorf("release name %q: want lowercase letters, digits and '-' (at most 53): %w", o.Release, err)
	}
	if o.Namespace == "" {
		return nil, errors.New("no namespace given")
	}
	ch, vals, err := Load(o.Files, o.ValuesFile)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg, err := configure(o)
	if err != nil {
		return nil, err
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxHistory == 0 {
		o.MaxHistory = DefaultMaxHistory
	}

	hist := action.NewHistory(cfg)
	hist.Max = 1
	versions, err := hist.Run(o.Release)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
		return firstInstall(ctx, cfg, o, ch, vals, false)
	case err != nil:
		return nil, fmt.Errorf("read release history: %w", err)
	case uninstalled(versions):
		return firstInstall(ctx, cfg, o, ch, vals, true)
	}

	up := action.NewUpgrade(cfg)
	up.Namespace = o.Namespace
	up.ResetValues = true
	up.MaxHistory = o.MaxHistory
	up.DryRun = true
	planned, err := up.RunWithContext(ctx, o.Release, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("render upgrade: %w", err)
	}
	last, err := cfg.Releases.Last(o.Release)
	if err != nil {
		return nil, fmt.Errorf("read last revision: %w", err)
	}
	same, err := unchanged(last, planned)
	if err != nil {
		return nil, err
	}
	if same {
		return result(last, false), nil
	}

	up = action.NewUpgrade(cfg)
	up.Namespace = o.Namespace
	up.ResetValues = true
	up.MaxHistory = o.MaxHistory
	up.Timeout = o.Timeout
	up.Wait = o.Wait
	up.Atomic = o.Atomic
	rel, err := up.RunWithContext(ctx, o.Release, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("upgrade to revision %d: %w", planned.Version, err)
	}
	return result(rel, true), nil
}

func firstInstall(ctx context.Context, cfg *action.Configuration, o Options, ch *chart.Chart, vals map[string]any, replace bool) (*Result, error) {
	in := action.NewInstall(cfg)
	in.ReleaseName = o.Release
	in.Namespace = o.Namespace
	in.Timeout = o.Timeout
	in.Wait = o.Wait
	in.Atomic = o.Atomic
	in.CreateNamespace = o.CreateNamespace
	in.Replace = replace
	rel, err := in.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	return result(rel, true), nil
}

func result(rel *release.Release, changed bool) *Result {
	r := &Result{Release: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, Changed: changed}
	if rel.Info != nil {
		r.Status = rel.Info.Status.String()
	}
	return r
}

func uninstalled(versions []*release.Release) bool {
	return len(versions) > 0 && versions[len(versions)-1].Info != nil &&
		versions[len(versions)-1].Info.Status == release.StatusUninstalled
}

// unchanged reports whether last is deployed and planned would deploy the
// same manifest, hooks, chart metadata and values. Values are compared in
// their JSON form, which is how release drivers store them.
func unchanged(last, planned *release.Release) (bool, error) {
	if last.Info == nil || last.Info.Status != release.StatusDeployed || last.Manifest != planned.Manifest {
		return false, nil
	}
	type state struct {
		Hooks    []*release.Hook
		Metadata *chart.Metadata
		Config   map[string]any
	}
	encode := func(r *release.Release) ([]byte, error) {
		s := state{Hooks: hookSpecs(r.Hooks), Config: r.Config}
		if s.Config == nil {
			s.Config = map[string]any{}
		}
		if r.Chart != nil {
			s.Metadata = r.Chart.Metadata
		}
		return json.Marshal(s)
	}
	a, err := encode(last)
	if err != nil {
		return false, fmt.Errorf("encode revision %d: %w", last.Version, err)
	}
	b, err := encode(planned)
	if err != nil {
		return false, fmt.Errorf("encode planned revision: %w", err)
	}
	return bytes.Equal(a, b), nil
}

// hookSpecs drops what a hook's run records (its last run), keeping what
// the chart declares.
func hookSpecs(hs []*release.Hook) []*release.Hook {
	out := make([]*release.Hook, len(hs))
	for i, h := range hs {
		c := *h
		c.LastRun = release.HookExecution{}
		out[i] = &c
	}
	return out
}

func configure(o Options) (*action.Configuration, error) {
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if o.Config != nil {
		if o.Config.Log == nil {
			o.Config.Log = logf
		}
		if o.Config.Releases == nil || o.Config.KubeClient == nil {
			return nil, errors.New("the given Helm configuration has no release storage or kube client")
		}
		return o.Config, nil
	}
	cfg := new(action.Configuration)
	getter := kube.GetConfig(o.Kubeconfig, o.KubeContext, o.Namespace)
	if err := cfg.Init(getter, o.Namespace, "secret", logf); err != nil {
		return nil, fmt.Errorf("connect with kubeconfig %q context %q: %w", o.Kubeconfig, o.KubeContext, err)
	}
	return cfg, nil
}

// Load builds the chart from files and reads the values in the file named
// valuesFile among them (none when empty). Paths must be relative to the
// chart root; Chart.yaml must be there.
func Load(files []File, valuesFile string) (*chart.Chart, map[string]any, error) {
	var (
		buf     []*loader.BufferedFile
		hasMeta bool
		vals    map[string]any
		found   bool
	)
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if err := checkPath(f.Path); err != nil {
			return nil, nil, err
		}
		if seen[f.Path] {
			return nil, nil, fmt.Errorf("chart file %s is given twice", f.Path)
		}
		seen[f.Path] = true
		if f.Path == "Chart.yaml" {
			hasMeta = true
		}
		if valuesFile != "" && f.Path == valuesFile {
			v, err := chartutil.ReadValues(f.Data)
			if err != nil {
				return nil, nil, fmt.Errorf("read values file %s: %w", f.Path, err)
			}
			vals, found = v.AsMap(), true
		}
		buf = append(buf, &loader.BufferedFile{Name: f.Path, Data: f.Data})
	}
	if !hasMeta {
		return nil, nil, fmt.Errorf("no Chart.yaml at the chart root among %d files: want paths relative to the chart root (Chart.yaml, templates/...)", len(files))
	}
	if valuesFile != "" && !found {
		return nil, nil, fmt.Errorf("values file %s is not among the chart's files", valuesFile)
	}
	ch, err := loader.LoadFiles(buf)
	if err != nil {
		return nil, nil, fmt.Errorf("load chart: %w", err)
	}
	if vals == nil {
		vals = map[string]any{}
	}
	return ch, vals, nil
}

// checkPath accepts a clean, relative, slash-separated path inside the
// chart.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("a chart file has an empty path")
	case strings.Contains(p, `\`):
		return fmt.Errorf("chart file %q: want '/' as the separator, found '\\'", p)
	case path.IsAbs(p):
		return fmt.Errorf("chart file %q: want a path relative to the chart root, found an absolute one", p)
	case path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("chart file %q: want a clean path inside the chart root", p)
	}
	return nil
}
