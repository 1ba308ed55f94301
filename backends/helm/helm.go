// Package helm renders Helm charts: for each pipeline that deploys, a chart
// at helm/<pipeline>/ that serves the model with `slipway serve`, with a
// values file per deployment environment.
//
// The templates are the same for every pipeline (they are embedded from
// chart/templates); what differs is Chart.yaml, values.yaml (the defaults),
// values-<env>.yaml (one per environment) and values.schema.json. A chart
// renders a stable Deployment pinned to the champion model's digest, a
// canary Deployment during canary rollouts, a Service, a ServiceAccount, an
// HPA when the environment autoscales, a PodDisruptionBudget, and, behind
// monitoring.enabled, a ServiceMonitor and a PrometheusRule.
package helm

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/compiler/version"
)

// Name is the target name.
const Name = "helm"

// KubeVersion is the range of Kubernetes versions the charts support:
// autoscaling/v2 and policy/v1 are served from 1.23 on.
const KubeVersion = ">=1.23.0-0"

// Unreleased is a chart's appVersion before its model has a digest.
const Unreleased = "unreleased"

//go:embed all:chart/templates
var templates embed.FS

// Backend renders Helm charts.
type Backend struct{}

// New returns the Helm backend.
func New() *Backend { return &Backend{} }

// Name returns "helm".
func (*Backend) Name() string { return Name }

// Render writes helm/<pipeline>/ for every pipeline with deploy steps;
// pipelines that do not deploy render nothing.
func (b *Backend) Render(prog *ir.Program) ([]backends.File, error) {
	var files []backends.File
	for _, p := range prog.Pipelines {
		chart, err := Chart(prog, p)
		if err != nil {
			return nil, fmt.Errorf("render helm chart of %s: %w", p.Name, err)
		}
		files = append(files, chart...)
	}
	return backends.SortFiles(files)
}

// Deployment is one deploy step's environment.
type Deployment struct {
	// Step is the deploy step.
	Step *ir.Step
	// Params are its parameters.
	Params ir.DeployParams
}

// Deployments returns the deploy steps of p, sorted by environment name.
func Deployments(p *ir.Pipeline) ([]Deployment, error) {
	var ds []Deployment
	for _, s := range p.Steps {
		if s.Kind != ir.KindDeploy {
			continue
		}
		var dp ir.DeployParams
		switch v := s.Params.(type) {
		case ir.DeployParams:
			dp = v
		case *ir.DeployParams:
			if v == nil {
				return nil, fmt.Errorf("step %s: no deploy parameters", s.ID)
			}
			dp = *v
		default:
			return nil, fmt.Errorf("step %s: parameters are %T, want ir.DeployParams", s.ID, s.Params)
		}
		ds = append(ds, Deployment{Step: s, Params: dp})
	}
	slices.SortFunc(ds, func(a, b Deployment) int { return strings.Compare(a.Params.Name, b.Params.Name) })
	return ds, nil
}

// Chart renders the chart of one pipeline, or nothing when it does not
// deploy.
func Chart(prog *ir.Program, p *ir.Pipeline) ([]backends.File, error) {
	deps, err := Deployments(p)
	if err != nil {
		return nil, err
	}
	if len(deps) == 0 {
		return nil, nil
	}
	dir := "helm/" + p.Name
	var files []backends.File
	add := func(name string, data []byte) {
		files = append(files, backends.File{Path: dir + "/" + name, Data: data})
	}

	chartYAML, err := yaml.Marshal(chartFile(prog, p, deps))
	if err != nil {
		return nil, fmt.Errorf("encode Chart.yaml: %w", err)
	}
	add("Chart.yaml", chartYAML)

	defaults, err := DefaultValues(p, deps[0].Step.Image)
	if err != nil {
		return nil, err
	}
	data, err := yaml.Marshal(defaults)
	if err != nil {
		return nil, fmt.Errorf("encode values.yaml: %w", err)
	}
	add("values.yaml", data)

	for _, d := range deps {
		ev, err := EnvironmentValues(p, d.Params)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", d.Params.Name, err)
		}
		data, err := yaml.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode values-%s.yaml: %w", d.Params.Name, err)
		}
		add("values-"+d.Params.Name+".yaml", data)
	}

	schema, err := backends.CanonicalJSON(valuesSchema())
	if err != nil {
		return nil, fmt.Errorf("encode values.schema.json: %w", err)
	}
	add("values.schema.json", schema)

	err = fs.WalkDir(templates, "chart", func(name string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := templates.ReadFile(name)
		if err != nil {
			return err
		}
		add(strings.TrimPrefix(name, "chart/"), data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded templates: %w", err)
	}
	return files, nil
}

// ChartFile is the content of Chart.yaml.
type ChartFile struct {
	// APIVersion is "v2".
	APIVersion string `json:"apiVersion"`
	// Name is the pipeline's name.
	Name string `json:"name"`
	// Description is the pipeline's description.
	Description string `json:"description"`
	// Type is "application".
	Type string `json:"type"`
	// Version is Slipway's version.
	Version string `json:"version"`
	// AppVersion is the champion model's short digest, or "unreleased".
	AppVersion string `json:"appVersion"`
	// KubeVersion is the supported Kubernetes range.
	KubeVersion string `json:"kubeVersion"`
	// Keywords help find the chart.
	Keywords []string `json:"keywords"`
	// Maintainers is the pipeline's owner.
	Maintainers []Maintainer `json:"maintainers,omitempty"`
	// Annotations record where the chart came from.
	Annotations map[string]string `json:"annotations"`
}

// Maintainer is a chart maintainer.
type Maintainer struct {
	Name string `json:"name"`
}

// chartFile builds Chart.yaml. The annotations record where the chart came
// from: the package, the spec digest, each environment's release and
// namespace, and the pipeline's steps (the chart is the output of the deploy
// steps, which follow from all the others).
func chartFile(prog *ir.Program, p *ir.Pipeline, deps []Deployment) *ChartFile {
	desc := "Serves the " + p.Name + " model."
	if p.Spec != nil && p.Spec.Description != "" {
		desc = p.Spec.Description
	}
	c := &ChartFile{
		APIVersion:  "v2",
		Name:        p.Name,
		Description: desc,
		Type:        "application",
		Version:     version.Version,
		AppVersion:  AppVersion(deps),
		KubeVersion: KubeVersion,
		Keywords:    []string{"slipway", "machine-learning", "model-serving"},
		Annotations: map[string]string{
			"slipway.dev/pipeline":       p.Name,
			"slipway.dev/path":           prog.Path,
			"slipway.dev/spec-digest":    p.SpecDigest,
			"slipway.dev/slipwayVersion": version.Version,
		},
	}
	if p.Spec != nil && p.Spec.Owner != "" {
		c.Maintainers = []Maintainer{{Name: p.Spec.Owner}}
	}
	ids := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		ids[i] = s.ID
	}
	c.Annotations["slipway.dev/steps"] = strings.Join(ids, "\n")
	for _, d := range deps {
		c.Annotations["slipway.dev/release."+d.Params.Name] = d.Params.Namespace + "/" + d.Params.Release
	}
	return c
}

// AppVersion is the short form of the champion model's digest: that of the
// first production environment that has one, else of the first environment
// that has one (by name), else "unreleased".
func AppVersion(deps []Deployment) string {
	for _, prod := range []bool{true, false} {
		for _, d := range deps {
			if d.Params.Production == prod && d.Params.Champion != "" {
				return ShortDigest(d.Params.Champion)
			}
		}
	}
	return Unreleased
}

// ShortDigest returns the first 12 hex digits of a "sha256:..." digest, a
// form that is a valid label value.
func ShortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		hex = d
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

// Values are the chart's values.yaml: the pipeline's settings and, for the
// settings of an environment, the schema's defaults.
type Values struct {
	// NameOverride replaces the chart's name in object names.
	NameOverride string `json:"nameOverride"`
	// FullnameOverride replaces the full object name.
	FullnameOverride string `json:"fullnameOverride"`
	// Pipeline is the pipeline's name.
	Pipeline string `json:"pipeline"`
	// ImagePullSecrets name the secrets that pull the image.
	ImagePullSecrets []LocalRef `json:"imagePullSecrets"`
	// ServiceAccount configures the pods' service account.
	ServiceAccount ServiceAccount `json:"serviceAccount"`
	// Service configures the Service.
	Service Service `json:"service"`
	// SecurityContext is the non-root user the pods run as.
	SecurityContext SecurityContext `json:"securityContext"`
	// PDB configures the PodDisruptionBudget.
	PDB PDB `json:"podDisruptionBudget"`
	// PodAnnotations annotate the serving pods.
	PodAnnotations map[string]string `json:"podAnnotations"`
	// NodeSelector places the serving pods.
	NodeSelector map[string]string `json:"nodeSelector"`
	// Tolerations of the serving pods.
	Tolerations []any `json:"tolerations"`
	// Affinity of the serving pods.
	Affinity map[string]any `json:"affinity"`
	// Monitoring configures the Prometheus Operator objects and drift detection.
	Monitoring Monitoring `json:"monitoring"`
	EnvValues
}

// EnvValues are the settings of one environment: values-<env>.yaml.
type EnvValues struct {
	// Environment is the environment's name.
	Environment string `json:"environment"`
	// Production marks a production environment.
	Production bool `json:"production"`
	// Image is a custom server's image, or nil for the Slipway image.
	Image *Image `json:"image,omitempty"`
	// Model is the model artifact served.
	Model Model `json:"model"`
	// Server is the model server.
	Server Server `json:"server"`
	// Replicas is the number of serving pods without autoscaling.
	Replicas int `json:"replicas"`
	// Resources are each pod's resources.
	Resources Resources `json:"resources"`
	// Autoscaling configures the HPA.
	Autoscaling Autoscaling `json:"autoscaling"`
	// Rollout records the spec's rollout.
	Rollout Rollout `json:"rollout"`
	// Canary configures the canary Deployment.
	Canary Canary `json:"canary"`
	// Probes configure the health checks.
	Probes Probes `json:"probes"`
}

// LocalRef names a secret in the release's namespace.
type LocalRef struct {
	Name string `json:"name"`
}

// ServiceAccount configures the pods' service account.
type ServiceAccount struct {
	Create bool   `json:"create"`
	Name   string `json:"name"`
}

// Service configures the Service.
type Service struct {
	Type string `json:"type"`
	Port int    `json:"port"`
}

// SecurityContext is the user the pods run as.
type SecurityContext struct {
	RunAsUser int64 `json:"runAsUser"`
}

// PDB configures the PodDisruptionBudget.
type PDB struct {
	Enabled        bool `json:"enabled"`
	MaxUnavailable int  `json:"maxUnavailable"`
}

// Image is a container image, pinned by digest when Digest is set.
type Image struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	Digest     string `json:"digest"`
	PullPolicy string `json:"pullPolicy"`
}

// Model is the model artifact served.
type Model struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
}

// Server is the model server.
type Server struct {
	Kind string `json:"kind"`
	Port int    `json:"port"`
	// PublicKeySecret names the Kubernetes Secret whose cosign.pub the
	// built-in server verifies the model's signature against; "" when the
	// pipeline does not sign its models (the server then runs with
	// --allow-unsigned, which it logs loudly).
	PublicKeySecret string `json:"publicKeySecret"`
}

// Resources of each serving pod.
type Resources struct {
	Requests map[string]string `json:"requests"`
	Limits   map[string]string `json:"limits"`
}

// Autoscaling configures the HPA.
type Autoscaling struct {
	Enabled                        bool `json:"enabled"`
	MinReplicas                    int  `json:"minReplicas"`
	MaxReplicas                    int  `json:"maxReplicas"`
	TargetCPUUtilizationPercentage int  `json:"targetCPUUtilizationPercentage"`
}

// Rollout records the spec's rollout; the canary values follow it.
type Rollout struct {
	Strategy      string            `json:"strategy"`
	Steps         []spec.CanaryStep `json:"steps,omitempty"`
	MirrorPercent int               `json:"mirrorPercent,omitempty"`
}

// Canary configures the canary Deployment.
type Canary struct {
	Enabled bool   `json:"enabled"`
	Weight  int    `json:"weight"`
	Digest  string `json:"digest"`
}

// Probes configure the readiness and liveness probes.
type Probes struct {
	ReadinessPath       string `json:"readinessPath"`
	LivenessPath        string `json:"livenessPath"`
	InitialDelaySeconds int64  `json:"initialDelaySeconds"`
	PeriodSeconds       int    `json:"periodSeconds"`
	FailureThreshold    int    `json:"failureThreshold"`
}

// Monitoring configures the ServiceMonitor, the alert rules and the
// server's drift detection.
type Monitoring struct {
	Enabled  bool   `json:"enabled"`
	Interval string `json:"interval"`
	SLO      *SLO   `json:"slo,omitempty"`
	Drift    *Drift `json:"drift,omitempty"`
	// ScoreShift alerts when the mean score over Window moves more than
	// Max from its mean over Baseline.
	ScoreShift *ScoreShift      `json:"scoreShift,omitempty"`
	Alerts     map[string]Alert `json:"alerts"`
}

// SLO are the serving objectives alerted on.
type SLO struct {
	LatencyP95Seconds float64 `json:"latencyP95Seconds"`
	ErrorRate         float64 `json:"errorRate"`
	For               string  `json:"for"`
}

// Drift configures drift detection in the server and its alert.
type Drift struct {
	Method    string             `json:"method"`
	Window    string             `json:"window"`
	Reference string             `json:"reference"`
	Share     float64            `json:"share"`
	Threshold float64            `json:"threshold"`
	Features  map[string]float64 `json:"features"`
}

// ScoreShift is the score-shift alert's settings.
type ScoreShift struct {
	Max      float64 `json:"max"`
	Window   string  `json:"window"`
	Baseline string  `json:"baseline"`
}

// Alert is one of the spec's alert rules.
type Alert struct {
	Expr     string `json:"expr"`
	For      string `json:"for"`
	Severity string `json:"severity"`
	Summary  string `json:"summary,omitempty"`
}

// defaultEnvironment holds the schema's defaults of an environment
// (schema/slipway.cue #Environment).
func defaultEnvironment() ir.DeployParams {
	return ir.DeployParams{Environment: spec.Environment{
		Replicas:  1,
		Resources: spec.PodResources{CPU: "500m", Memory: "512Mi"},
		Rollout:   spec.Rollout{Strategy: "rolling"},
		Probes:    spec.Probes{ReadinessPath: "/v2/health/ready", LivenessPath: "/v2/health/live", InitialDelay: "5s"},
		Server:    spec.Server{Kind: "builtin", Port: 8080},
	}}
}

// DefaultValues builds values.yaml; image is the pipeline's Slipway image,
// which runs `slipway serve`.
func DefaultValues(p *ir.Pipeline, image string) (*Values, error) {
	def := defaultEnvironment()
	if p.Spec != nil && p.Spec.Artifact != nil {
		def.Repository = p.Spec.Artifact.Repository
	}
	ev, err := EnvironmentValues(p, def)
	if err != nil {
		return nil, fmt.Errorf("default values: %w", err)
	}
	img := SplitImage(image)
	ev.Image = &img
	v := &Values{
		Pipeline:         p.Name,
		ImagePullSecrets: []LocalRef{},
		ServiceAccount:   ServiceAccount{Create: true},
		Service:          Service{Type: "ClusterIP", Port: 80},
		SecurityContext:  SecurityContext{RunAsUser: 65532},
		PDB:              PDB{Enabled: true, MaxUnavailable: 1},
		PodAnnotations:   map[string]string{},
		NodeSelector:     map[string]string{},
		Tolerations:      []any{},
		Affinity:         map[string]any{},
		Monitoring:       Monitoring{Interval: "30s", Alerts: map[string]Alert{}},
		EnvValues:        *ev,
	}
	if p.Spec != nil && p.Spec.Monitoring != nil {
		m, err := monitoring(p.Spec.Monitoring)
		if err != nil {
			return nil, err
		}
		v.Monitoring = *m
	}
	return v, nil
}

// monitoring turns the spec's monitoring into values; enabled stays off.
func monitoring(m *spec.Monitoring) (*Monitoring, error) {
	out := &Monitoring{Interval: "30s", Alerts: map[string]Alert{}}
	if s := m.SLO; s != nil {
		d, err := time.ParseDuration(s.LatencyP95)
		if err != nil {
			return nil, fmt.Errorf("monitoring.slo.latencyP95: %w", err)
		}
		out.SLO = &SLO{LatencyP95Seconds: d.Seconds(), ErrorRate: s.ErrorRate, For: "10m"}
	}
	if d := m.Drift; d != nil {
		out.Drift = &Drift{Method: d.Method, Window: d.Window, Reference: d.Reference,
			Share: d.Share, Threshold: d.Threshold, Features: map[string]float64{}}
		for _, f := range slices.Sorted(maps.Keys(d.Features)) {
			out.Drift.Features[f] = d.Features[f].Threshold
		}
	}
	if s := m.ScoreShift; s != nil {
		for _, d := range []string{s.Window, s.Baseline} {
			if _, err := time.ParseDuration(d); err != nil {
				return nil, fmt.Errorf("monitoring.scoreShift: %w", err)
			}
		}
		out.ScoreShift = &ScoreShift{Max: s.Max, Window: s.Window, Baseline: s.Baseline}
	}
	for name, a := range m.Alerts {
		out.Alerts[name] = Alert{Expr: a.Expr, For: a.For, Severity: a.Severity, Summary: a.Summary}
	}
	return out, nil
}

// EnvironmentValues builds values-<env>.yaml from a deploy step's
// parameters.
func EnvironmentValues(p *ir.Pipeline, dp ir.DeployParams) (*EnvValues, error) {
	e := dp.Environment
	delay, err := time.ParseDuration(e.Probes.InitialDelay)
	if err != nil {
		return nil, fmt.Errorf("probes.initialDelay: %w", err)
	}
	ev := &EnvValues{
		Environment: e.Name,
		Production:  e.Production,
		Model:       Model{Repository: dp.Repository, Digest: dp.Champion},
		Server:      Server{Kind: e.Server.Kind, Port: e.Server.Port, PublicKeySecret: publicKeySecret(p)},
		Replicas:    e.Replicas,
		Resources: Resources{
			Requests: map[string]string{"cpu": e.Resources.CPU, "memory": e.Resources.Memory},
			// Memory is limited to the request; CPU is not limited, so a
			// pod may use idle CPU without being throttled.
			Limits: map[string]string{"memory": e.Resources.Memory},
		},
		Autoscaling: Autoscaling{Enabled: false, MinReplicas: max(1, e.Replicas), MaxReplicas: max(1, e.Replicas), TargetCPUUtilizationPercentage: 80},
		Rollout:     Rollout{Strategy: e.Rollout.Strategy, Steps: e.Rollout.Steps, MirrorPercent: e.Rollout.MirrorPercent},
		Probes: Probes{
			ReadinessPath:       e.Probes.ReadinessPath,
			LivenessPath:        e.Probes.LivenessPath,
			InitialDelaySeconds: int64((delay + time.Second - 1) / time.Second),
			PeriodSeconds:       10,
			FailureThreshold:    3,
		},
	}
	if a := e.Autoscaling; a != nil {
		ev.Autoscaling = Autoscaling{Enabled: true, MinReplicas: a.MinReplicas, MaxReplicas: a.MaxReplicas, TargetCPUUtilizationPercentage: a.TargetCPUPercent}
	}
	if e.Rollout.Strategy == "canary" && len(e.Rollout.Steps) > 0 {
		ev.Canary = Canary{Enabled: true, Weight: e.Rollout.Steps[0].Weight}
	}
	if e.Server.Kind == "custom" {
		if e.Server.Image == "" {
			return nil, fmt.Errorf("server: custom server without an image")
		}
		img := SplitImage(e.Server.Image)
		ev.Image = &img
	}
	return ev, nil
}

// SplitImage splits an image reference into repository, tag and digest;
// a reference with neither tag nor digest gets the tag "latest".
func SplitImage(ref string) Image {
	img := Image{PullPolicy: "IfNotPresent"}
	if r, d, ok := strings.Cut(ref, "@"); ok {
		ref, img.Digest = r, d
	}
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		ref, img.Tag = ref[:colon], ref[colon+1:]
	}
	img.Repository = ref
	if img.Tag == "" && img.Digest == "" {
		img.Tag = "latest"
	}
	return img
}

// publicKeySecret is the Secret holding the public half of the pipeline's
// signing key, <pipeline>-cosign-pub, or "" when it signs nothing.
func publicKeySecret(p *ir.Pipeline) string {
	if p.Spec == nil || p.Spec.Artifact == nil || p.Spec.Artifact.Signing == nil {
		return ""
	}
	return p.Name + "-cosign-pub"
}

// ServiceURL is the in-cluster address of an environment's model server:
// the chart's Service (named as the chart's fullname helper does: the
// release name when it contains the chart's name, the pipeline's, else
// "<pipeline>-<release>", at most 56 characters) in the environment's
// namespace, on the Service's port 80.
func ServiceURL(pipeline, release, namespace string) string {
	name := release
	if !strings.Contains(release, pipeline) {
		name = pipeline + "-" + release
	}
	if len(name) > 56 {
		name = name[:56]
	}
	name = strings.TrimSuffix(name, "-")
	if namespace == "" {
		namespace = "default"
	}
	return "http://" + name + "." + namespace + ".svc"
}
