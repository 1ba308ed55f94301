package helm_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/backends/backendtest"
	"github.com/slipway-ml/slipway/backends/helm"
	"github.com/slipway-ml/slipway/compiler/compilertest"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// kubeVersion is the cluster version the charts are linted and rendered
// for; Helm's SDK defaults to 1.20, below the charts' kubeVersion.
var kubeVersion = &chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}

const examples = "../../examples"

func TestGoldenCharts(t *testing.T) {
	for _, dir := range compilertest.Examples(t, examples) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			prog := compilertest.Compile(t, dir).Program
			files := render(t, prog)
			if !deploys(prog) && len(files) != 0 {
				t.Fatalf("%s deploys nothing but rendered %d files", name, len(files))
			}
			got := map[string][]byte{}
			for _, f := range files {
				got[f.Path] = f.Data
			}
			compilertest.Golden(t, filepath.Join("testdata", name+".txtar"),
				"Helm charts of examples/"+name+"; rewrite with `make golden`.", got, *update)
		})
	}
}

// TestConformance runs the conformance suite on the examples that deploy:
// a program without deploy steps renders no chart, and the suite requires
// at least one file.
func TestConformance(t *testing.T) {
	for _, dir := range compilertest.Examples(t, examples) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			prog := compilertest.Compile(t, dir).Program
			if !deploys(prog) {
				// Nothing to conform: the target must render nothing at all.
				files, err := helm.New().Render(prog)
				if err != nil || len(files) != 0 {
					t.Fatalf("a program without deployments rendered %d files, err %v", len(files), err)
				}
				return
			}
			backendtest.Run(t, helm.New(), prog)
		})
	}
}

// TestLint runs `helm lint` through Helm's SDK on every chart, with its
// defaults and with each environment's values: no errors, no warnings.
func TestLint(t *testing.T) {
	for _, c := range deployedCharts(t) {
		for _, env := range append([]string{""}, c.envs...) {
			t.Run(c.name+"/"+orDefault(env), func(t *testing.T) {
				vals, ns := c.values(t, env)
				linter := lint.AllWithKubeVersion(c.dir, vals, ns, kubeVersion)
				for _, m := range linter.Messages {
					if m.Severity >= support.WarningSev {
						t.Errorf("lint: %v", m)
					}
				}
			})
		}
	}
}

// TestRender renders every chart client-only for each environment, with
// monitoring off and on, and decodes every manifest strictly.
func TestRender(t *testing.T) {
	for _, c := range deployedCharts(t) {
		for _, env := range c.envs {
			for _, mon := range []bool{false, true} {
				t.Run(c.name+"/"+env+"/monitoring="+map[bool]string{false: "off", true: "on"}[mon], func(t *testing.T) {
					vals, ns := c.values(t, env)
					if mon {
						vals["monitoring"] = map[string]any{"enabled": true}
					}
					m := renderChart(t, c.dir, c.release(env), ns, vals)
					if len(m.deployments) == 0 || len(m.services) != 1 || len(m.pdbs) != 1 {
						t.Fatalf("got %d deployments, %d services, %d PDBs", len(m.deployments), len(m.services), len(m.pdbs))
					}
					if mon != (len(m.serviceMonitors) == 1) {
						t.Errorf("monitoring %v: %d ServiceMonitors", mon, len(m.serviceMonitors))
					}
					if !mon && len(m.prometheusRules) > 0 {
						t.Errorf("PrometheusRule rendered with monitoring off")
					}
					for _, d := range m.deployments {
						checkDeployment(t, d)
					}
					if m.notes == "" {
						t.Error("no NOTES.txt output")
					}
				})
			}
		}
	}
}

// TestChurnProduction checks the production release of examples/churn: a
// canary, an HPA from 2 to 6, the OIP health probes, and the alerts.
func TestChurnProduction(t *testing.T) {
	c := chartOf(t, compilertest.Compile(t, examples+"/churn").Program, "churn")
	vals, ns := c.values(t, "production")
	if ns != "ml" {
		t.Errorf("namespace = %q, want ml", ns)
	}
	vals["monitoring"] = map[string]any{"enabled": true}
	m := renderChart(t, c.dir, "churn-production", ns, vals)

	stable, canary := m.deployment(t, "churn-production"), m.deployment(t, "churn-production-canary")
	if stable.Spec.Replicas != nil {
		t.Errorf("stable Deployment sets replicas (%d) though the HPA scales it", *stable.Spec.Replicas)
	}
	// Baseline 2 (minReplicas) at weight 10: ceil(2*10/100) = 1 canary pod.
	if canary.Spec.Replicas == nil || *canary.Spec.Replicas != 1 {
		t.Errorf("canary replicas = %v, want 1", canary.Spec.Replicas)
	}
	if got := canary.Spec.Template.Labels["slipway.dev/track"]; got != "canary" {
		t.Errorf("canary pods have track %q", got)
	}
	if len(m.hpas) != 1 {
		t.Fatalf("got %d HPAs, want 1", len(m.hpas))
	}
	h := m.hpas[0]
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != 2 || h.Spec.MaxReplicas != 6 {
		t.Errorf("HPA replicas %v..%d, want 2..6", h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	if h.Spec.ScaleTargetRef.Name != "churn-production" {
		t.Errorf("HPA scales %s", h.Spec.ScaleTargetRef.Name)
	}
	for _, d := range []*appsv1.Deployment{stable, canary} {
		ctr := d.Spec.Template.Spec.Containers[0]
		if p := ctr.ReadinessProbe.HTTPGet.Path; p != "/v2/health/ready" {
			t.Errorf("%s readiness path %s", d.Name, p)
		}
		if p := ctr.LivenessProbe.HTTPGet.Path; p != "/v2/health/live" {
			t.Errorf("%s liveness path %s", d.Name, p)
		}
		if ctr.Image != "ghcr.io/slipway-ml/slipway:v0.1.0" {
			t.Errorf("%s image %s", d.Name, ctr.Image)
		}
		if !slices.Contains(ctr.Args, "--model=ghcr.io/acme/models/churn") {
			t.Errorf("%s args %v lack the model", d.Name, ctr.Args)
		}
	}
	var alerts []string
	for _, r := range m.prometheusRules {
		for _, g := range r["spec"].(map[string]any)["groups"].([]any) {
			for _, rule := range g.(map[string]any)["rules"].([]any) {
				rule := rule.(map[string]any)
				alerts = append(alerts, rule["alert"].(string))
				if rule["alert"] == "SlipwayLatencyP95High" && !strings.HasSuffix(rule["expr"].(string), "> 0.25") {
					t.Errorf("latency alert expr %q", rule["expr"])
				}
				if rule["alert"] == "SlipwayErrorRateHigh" && !strings.HasSuffix(rule["expr"].(string), "> 0.005") {
					t.Errorf("error-rate alert expr %q", rule["expr"])
				}
				// 14.4 × 0.005 and 6 × 0.005: the burn-rate thresholds.
				if rule["alert"] == "SlipwayErrorBudgetFastBurn" && (!strings.Contains(rule["expr"].(string), "[1h]")) || rule["alert"] == "SlipwayErrorBudgetFastBurn" && !strings.HasSuffix(rule["expr"].(string), "> 0.072)") {
					t.Errorf("fast burn expr %q", rule["expr"])
				}
				if e, _ := rule["expr"].(string); rule["alert"] == "SlipwayScoreShift" && (!strings.HasPrefix(e, "abs(") || !strings.Contains(e, "slipway_score_sum{") ||
					!strings.Contains(e, "[1h]") || !strings.Contains(e, "[168h]") || !strings.HasSuffix(e, ") > 0.1")) {
					t.Errorf("score shift expr %q", e)
				}
				if rule["alert"] == "SlipwayErrorBudgetSlowBurn" && !strings.HasSuffix(rule["expr"].(string), "> 0.03)") {
					t.Errorf("slow burn expr %q", rule["expr"])
				}
			}
		}
	}
	slices.Sort(alerts)
	if want := []string{"SlipwayDataDrift", "SlipwayErrorBudgetFastBurn", "SlipwayErrorBudgetSlowBurn", "SlipwayErrorRateHigh", "SlipwayLatencyP95High", "SlipwayScoreShift"}; !slices.Equal(alerts, want) {
		t.Errorf("alerts %v, want %v", alerts, want)
	}

	// Staging rolls, without HPA or canary, on one replica.
	vals, ns = c.values(t, "staging")
	m = renderChart(t, c.dir, "churn-staging", ns, vals)
	if len(m.deployments) != 1 || len(m.hpas) != 0 {
		t.Errorf("staging: %d deployments, %d HPAs", len(m.deployments), len(m.hpas))
	}
	if r := m.deployment(t, "churn-staging").Spec.Replicas; r == nil || *r != 1 {
		t.Errorf("staging replicas = %v, want 1", r)
	}
}

// TestChampionPinned checks that a champion digest from the lock pins the
// model by digest and becomes the chart's appVersion, and that custom
// alerts and a custom server image come through.
func TestChampionPinned(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	prog := compilertest.Compile(t, examples+"/churn").Program
	p := prog.Pipelines[0]
	for _, s := range p.Steps {
		if s.Kind == ir.KindDeploy && s.Environment == "production" {
			dp := s.Params.(ir.DeployParams)
			dp.Champion = digest
			s.Params = dp
		}
	}
	c := chartOf(t, prog, "churn")
	chartYAML, err := os.ReadFile(filepath.Join(c.dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(chartYAML, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.AppVersion != "0123456789ab" {
		t.Errorf("appVersion = %q, want the digest's short form", meta.AppVersion)
	}
	vals, ns := c.values(t, "production")
	m := renderChart(t, c.dir, "churn-production", ns, vals)
	want := "--model=ghcr.io/acme/models/churn@" + digest
	for _, d := range m.deployments {
		ctr := d.Spec.Template.Spec.Containers[0]
		if !slices.Contains(ctr.Args, want) {
			t.Errorf("%s args %v, want %s", d.Name, ctr.Args, want)
		}
		if v := d.Spec.Template.Labels["app.kubernetes.io/version"]; v != "0123456789ab" {
			t.Errorf("%s version label %q", d.Name, v)
		}
	}
	if strings.Contains(m.notes, "not pinned") {
		t.Errorf("NOTES warn about an unpinned model:\n%s", m.notes)
	}
	// Staging has no champion: rendered, but not pinned, and NOTES say so.
	vals, ns = c.values(t, "staging")
	if m := renderChart(t, c.dir, "churn-staging", ns, vals); !strings.Contains(m.notes, "not pinned") {
		t.Errorf("NOTES of an unpinned release:\n%s", m.notes)
	}
}

// TestCustomServerAndAlerts renders a custom server image and spec alerts.
func TestCustomServerAndAlerts(t *testing.T) {
	prog := compilertest.Compile(t, examples+"/churn").Program
	p := prog.Pipelines[0]
	for _, s := range p.Steps {
		if s.Kind == ir.KindDeploy && s.Environment == "staging" {
			dp := s.Params.(ir.DeployParams)
			dp.Server.Kind, dp.Server.Image, dp.Server.Port = "custom", "ghcr.io/acme/servers/churn:2.0.1@sha256:"+strings.Repeat("ab", 32), 9000
			s.Params = dp
		}
	}
	ps := *p.Spec
	mon := *ps.Monitoring
	mon.Alerts = map[string]*spec.Alert{"queue-backlog": {Expr: `sum(slipway_queue{pipeline="churn"}) > 100`, For: "5m", Severity: "critical", Summary: "Backlog {{ $value }} on {{ $labels.pod }}"}}
	ps.Monitoring = &mon
	p.Spec = &ps
	c := chartOf(t, prog, "churn")
	vals, ns := c.values(t, "staging")
	vals["monitoring"] = map[string]any{"enabled": true}
	m := renderChart(t, c.dir, "churn-staging", ns, vals)
	ctr := m.deployment(t, "churn-staging").Spec.Template.Spec.Containers[0]
	if ctr.Image != "ghcr.io/acme/servers/churn@sha256:"+strings.Repeat("ab", 32) || len(ctr.Command) != 0 || len(ctr.Args) != 0 {
		t.Errorf("custom server: image %s, command %v, args %v", ctr.Image, ctr.Command, ctr.Args)
	}
	if ctr.Ports[0].ContainerPort != 9000 {
		t.Errorf("port %d, want 9000", ctr.Ports[0].ContainerPort)
	}
	var found bool
	for _, r := range m.prometheusRules {
		for _, g := range r["spec"].(map[string]any)["groups"].([]any) {
			for _, rule := range g.(map[string]any)["rules"].([]any) {
				rule := rule.(map[string]any)
				if rule["alert"] == "QueueBacklog" {
					found = true
					if rule["expr"] != `sum(slipway_queue{pipeline="churn"}) > 100` || rule["annotations"].(map[string]any)["summary"] != "Backlog {{ $value }} on {{ $labels.pod }}" {
						t.Errorf("custom alert %v", rule)
					}
				}
			}
		}
	}
	if !found {
		t.Error("custom alert QueueBacklog not rendered")
	}
	for _, env := range c.envs {
		vals, ns := c.values(t, env)
		for _, msg := range lint.AllWithKubeVersion(c.dir, vals, ns, kubeVersion).Messages {
			if msg.Severity >= support.WarningSev {
				t.Errorf("lint %s: %v", env, msg)
			}
		}
	}
}

// TestValuesSchemaRejects checks that values.schema.json catches a typo.
func TestValuesSchemaRejects(t *testing.T) {
	c := chartOf(t, compilertest.Compile(t, examples+"/churn").Program, "churn")
	vals, ns := c.values(t, "production")
	vals["canary"] = map[string]any{"wieght": 20}
	linter := lint.AllWithKubeVersion(c.dir, vals, ns, kubeVersion)
	if linter.HighestSeverity < support.ErrorSev {
		t.Errorf("a misspelt value passed the schema: %v", linter.Messages)
	}
}

// The helpers below write charts to disk and render them.

type chartDir struct {
	name string
	dir  string
	envs []string
	// releases maps environments to "namespace/release".
	releases map[string]string
}

func (c *chartDir) release(env string) string {
	_, rel, _ := strings.Cut(c.releases[env], "/")
	return rel
}

// values reads values-<env>.yaml (nothing for env "") and returns it with
// the environment's namespace.
func (c *chartDir) values(t *testing.T, env string) (map[string]any, string) {
	t.Helper()
	if env == "" {
		return map[string]any{}, "default"
	}
	vals, err := chartutil.ReadValuesFile(filepath.Join(c.dir, "values-"+env+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ns, _, _ := strings.Cut(c.releases[env], "/")
	return vals.AsMap(), ns
}

func orDefault(env string) string {
	if env == "" {
		return "defaults"
	}
	return env
}

func render(t *testing.T, prog *ir.Program) []backends.File {
	t.Helper()
	files, err := helm.New().Render(prog)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func deploys(prog *ir.Program) bool {
	for _, p := range prog.Pipelines {
		for _, s := range p.Steps {
			if s.Kind == ir.KindDeploy {
				return true
			}
		}
	}
	return false
}

// deployedCharts writes the charts of every example that deploys.
func deployedCharts(t *testing.T) []*chartDir {
	t.Helper()
	var charts []*chartDir
	for _, dir := range compilertest.Examples(t, examples) {
		prog := compilertest.Compile(t, dir).Program
		for _, p := range prog.Pipelines {
			if deploys(&ir.Program{Pipelines: []*ir.Pipeline{p}}) {
				charts = append(charts, chartOf(t, prog, p.Name))
			}
		}
	}
	if len(charts) == 0 {
		t.Fatal("no example deploys")
	}
	return charts
}

// chartOf renders prog and writes the chart of one pipeline to a temporary
// directory.
func chartOf(t *testing.T, prog *ir.Program, pipeline string) *chartDir {
	t.Helper()
	root := t.TempDir()
	c := &chartDir{name: pipeline, dir: filepath.Join(root, "helm", pipeline), releases: map[string]string{}}
	for _, f := range render(t, prog) {
		if !strings.HasPrefix(f.Path, "helm/"+pipeline+"/") {
			continue
		}
		path := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f.Path)
		if env, ok := strings.CutPrefix(base, "values-"); ok {
			c.envs = append(c.envs, strings.TrimSuffix(env, ".yaml"))
		}
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta helm.ChartFile
	if err := yaml.UnmarshalStrict(data, &meta); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	for _, env := range c.envs {
		c.releases[env] = meta.Annotations["slipway.dev/release."+env]
		if c.releases[env] == "" {
			t.Fatalf("Chart.yaml names no release for %s", env)
		}
	}
	return c
}

// manifests are the objects of one rendered release.
type manifests struct {
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	serviceAccounts []*corev1.ServiceAccount
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	pdbs            []*policyv1.PodDisruptionBudget
	serviceMonitors []map[string]any
	prometheusRules []map[string]any
	notes           string
}

func (m *manifests) deployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	for _, d := range m.deployments {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no Deployment %s", name)
	return nil
}

// renderChart installs the chart client-only (as `helm template` does) and
// decodes each manifest strictly into its k8s.io/api type; the Prometheus
// Operator's objects, which have no such type, are checked as YAML.
func renderChart(t *testing.T, dir, release, namespace string, vals map[string]any) *manifests {
	t.Helper()
	chrt, err := loader.Load(dir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.DryRun, inst.ClientOnly, inst.Replace, inst.IncludeCRDs = true, true, true, false
	inst.ReleaseName, inst.Namespace, inst.KubeVersion = release, namespace, kubeVersion
	rel, err := inst.Run(chrt, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	m := &manifests{notes: rel.Info.Notes}
	for _, doc := range strings.Split(rel.Manifest, "\n---") {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("manifest is not YAML: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Fatalf("manifest without kind:\n%s", doc)
			}
			continue
		}
		strict := func(v any) {
			t.Helper()
			if err := yaml.UnmarshalStrict([]byte(doc), v); err != nil {
				t.Fatalf("%s does not decode strictly: %v\n%s", head.Kind, err, doc)
			}
		}
		switch gvk := head.APIVersion + " " + head.Kind; gvk {
		case "apps/v1 Deployment":
			var d appsv1.Deployment
			strict(&d)
			m.deployments = append(m.deployments, &d)
		case "v1 Service":
			var s corev1.Service
			strict(&s)
			m.services = append(m.services, &s)
		case "v1 ServiceAccount":
			var s corev1.ServiceAccount
			strict(&s)
			m.serviceAccounts = append(m.serviceAccounts, &s)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			var h autoscalingv2.HorizontalPodAutoscaler
			strict(&h)
			m.hpas = append(m.hpas, &h)
		case "policy/v1 PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			strict(&p)
			m.pdbs = append(m.pdbs, &p)
		case "monitoring.coreos.com/v1 ServiceMonitor", "monitoring.coreos.com/v1 PrometheusRule":
			var obj map[string]any
			strict(&obj)
			if _, ok := obj["spec"].(map[string]any); !ok {
				t.Fatalf("%s has no spec:\n%s", head.Kind, doc)
			}
			if head.Kind == "ServiceMonitor" {
				m.serviceMonitors = append(m.serviceMonitors, obj)
			} else {
				m.prometheusRules = append(m.prometheusRules, obj)
			}
		default:
			t.Fatalf("unexpected object %s", gvk)
		}
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// checkDeployment checks what every serving Deployment must hold.
func checkDeployment(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "app.kubernetes.io/component", "app.kubernetes.io/part-of", "helm.sh/chart"} {
		if d.Labels[k] == "" {
			t.Errorf("%s lacks label %s", d.Name, k)
		}
	}
	pod := d.Spec.Template.Spec
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod security context %+v", d.Name, psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers", d.Name, len(pod.Containers))
	}
	ctr := pod.Containers[0]
	sc := ctr.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: container security context %+v", d.Name, sc)
	}
	if ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil {
		t.Errorf("%s: probes missing", d.Name)
	}
	if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() {
		t.Errorf("%s: resource requests %v", d.Name, ctr.Resources.Requests)
	}
	if len(ctr.Command) > 0 && (ctr.Command[0] != "slipway" || len(ctr.Args) == 0 || ctr.Args[0] != "serve") {
		t.Errorf("%s runs %v %v, want slipway serve", d.Name, ctr.Command, ctr.Args)
	}
	if len(ctr.Command) > 0 {
		// slipway serve listens on the container port and verifies the
		// model against the mounted public key (or says it does not).
		if want := fmt.Sprintf("--addr=:%d", ctr.Ports[0].ContainerPort); !slices.Contains(ctr.Args, want) {
			t.Errorf("%s: args %v lack %s", d.Name, ctr.Args, want)
		}
		verified := slices.Contains(ctr.Args, "--key=/etc/slipway/cosign/cosign.pub")
		if verified == slices.Contains(ctr.Args, "--allow-unsigned") {
			t.Errorf("%s: args %v: want exactly one of --key and --allow-unsigned", d.Name, ctr.Args)
		}
		mounted := false
		for _, m := range ctr.VolumeMounts {
			if m.MountPath != "/etc/slipway/cosign" {
				continue
			}
			for _, v := range pod.Volumes {
				if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName != "" {
					mounted = true
				}
			}
		}
		if verified != mounted {
			t.Errorf("%s: --key given %v, key secret mounted %v", d.Name, verified, mounted)
		}
	}
	sel := d.Spec.Selector.MatchLabels
	for k, v := range sel {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("%s: selector %s=%s does not match its pods", d.Name, k, v)
		}
	}
}

// TestCanaryReplicas checks the replica arithmetic documented in
// _helpers.tpl: canary = ceil(baseline*weight/100), at least 1; stable =
// the rest, at least 1 until weight 100.
func TestCanaryReplicas(t *testing.T) {
	c := chartOf(t, compilertest.Compile(t, examples+"/churn").Program, "churn")
	for _, tc := range []struct {
		replicas, weight, stable, canary int32
	}{
		{10, 10, 9, 1},
		{10, 25, 7, 3},
		{10, 50, 5, 5},
		{4, 10, 3, 1},
		{1, 10, 1, 1},
		{3, 100, 0, 3},
		{0, 50, 0, 0},
	} {
		vals, ns := c.values(t, "production")
		vals["replicas"] = tc.replicas
		vals["autoscaling"] = map[string]any{"enabled": false}
		vals["canary"].(map[string]any)["weight"] = tc.weight
		m := renderChart(t, c.dir, "churn-production", ns, vals)
		stable, canary := m.deployment(t, "churn-production").Spec.Replicas, m.deployment(t, "churn-production-canary").Spec.Replicas
		if stable == nil || canary == nil || *stable != tc.stable || *canary != tc.canary {
			t.Errorf("replicas %d at weight %d: stable %v canary %v, want %d and %d", tc.replicas, tc.weight, deref(stable), deref(canary), tc.stable, tc.canary)
		}
	}
}

func deref(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}
