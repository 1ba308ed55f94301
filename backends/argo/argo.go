// Package argo renders Argo Workflows objects: per pipeline, a
// WorkflowTemplate whose DAG has one container task per IR step, a Workflow
// that runs it, a CronWorkflow for scheduled retraining when the pipeline
// has a schedule, and a CronWorkflow that runs the monitor steps
// periodically when it has any.
//
// Every step's container checks the repository out through a git input
// artifact (workflow parameters "repo" and "revision") and runs the step's
// command from the package directory. Secrets are referenced by name only,
// never by value. The objects are built from this package's own minimal
// types and marshalled with sigs.k8s.io/yaml, so the output is sorted and
// byte-identical for the same program.
package argo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/backends/helm"
	"github.com/slipway-ml/slipway/compiler/ir"
)

// Name is the target name.
const Name = "argo"

// APIVersion is the apiVersion of every rendered object.
const APIVersion = "argoproj.io/v1alpha1"

// ServiceAccountName is the Kubernetes service account every workflow pod
// runs as. The cluster operator creates it (with whatever RBAC the Argo
// executor and the steps need) in the namespace the workflows run in.
const ServiceAccountName = "slipway"

// SecretKey is the key read from each Kubernetes Secret a step references.
// A step's secret named NAME in the spec is the Kubernetes Secret named
// SecretName(NAME), which holds the value under this key, e.g.
// `kubectl create secret generic cosign-key --from-literal=value=...`.
const SecretKey = "value"

// ConfigMapName is the ConfigMap the CronWorkflows read the repository URL
// from (key ConfigMapRepoKey), since nobody passes `-p repo=...` to a
// scheduled run. Create it once per namespace:
// `kubectl create configmap slipway --from-literal=repo=https://...`.
const ConfigMapName = "slipway"

// ConfigMapRepoKey is the key of the repository URL in ConfigMapName.
const ConfigMapRepoKey = "repo"

// MonitorSchedule is the cron schedule of the monitoring CronWorkflow. The
// spec has no monitoring interval; every 15 minutes is fine-grained enough
// for drift and SLO checks over windows of hours or days, and cheap.
const MonitorSchedule = "*/15 * * * *"

// Timezone is the timezone of every CronWorkflow's schedule, so that the
// retraining schedule means the same as on the other targets (UTC).
const Timezone = "UTC"

// DefaultRevision is the default of the "revision" parameter: the tip of
// the repository's default branch. Pass a commit to pin a run.
const DefaultRevision = "HEAD"

// SourcePath is where the repository is checked out in every step's
// container; steps run from SourcePath/<package path>.
const SourcePath = "/src"

// EnvRunName carries the workflow's name to the package step, which tags
// the pushed model "run-<name>".
const EnvRunName = "SLIPWAY_RUN_NAME"

// EnvInputPrefix prefixes the environment variable that carries each
// input's digest into a step's container (SLIPWAY_INPUT_RAW_CUSTOMERS).
const EnvInputPrefix = "SLIPWAY_INPUT_"

// Labels and annotations set on the rendered objects and templates.
const (
	// LabelManagedBy is set to ManagedBy on every object.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy.
	ManagedBy = "slipway"
	// LabelPipeline is the pipeline's name, on every object and template.
	LabelPipeline = "slipway.dev/pipeline"
	// LabelStep is the task name, on each step's template.
	LabelStep = "slipway.dev/step"
	// LabelKind is the step's kind, on each step's template.
	LabelKind = "slipway.dev/kind"
	// LabelWorkflowKind tells training, retraining and monitoring runs apart.
	LabelWorkflowKind = "slipway.dev/workflow"
	// AnnotationStepID is the step's IR id, on each step's template.
	AnnotationStepID = "slipway.dev/step-id"
	// AnnotationCacheKey is the step's cache key, on each step's template;
	// an annotation, because "sha256:..." is not a valid label value.
	AnnotationCacheKey = "slipway.dev/cache-key"
	// AnnotationSpecDigest is the pipeline's spec digest, on the template.
	AnnotationSpecDigest = "slipway.dev/spec-digest"
)

// TTL of finished workflows, in seconds: successful runs are deleted after
// a day, failed ones are kept a week for debugging.
const (
	ttlSecondsAfterSuccess = 24 * 60 * 60
	ttlSecondsAfterFailure = 7 * 24 * 60 * 60
)

// Names of the entrypoint templates; step templates never take them.
const (
	mainTemplate    = "main"
	monitorTemplate = "monitor"
)

// The workflow parameters that select the source checkout.
const (
	paramRepo     = "repo"
	paramRevision = "revision"
)

// Backend renders Argo Workflows objects.
type Backend struct{}

// New returns the Argo Workflows backend.
func New() *Backend { return &Backend{} }

// Name returns "argo".
func (*Backend) Name() string { return Name }

// Render writes, per pipeline, argo/<pipeline>/workflowtemplate.yaml,
// workflow.yaml, cronworkflow.yaml (when the pipeline has a retraining
// schedule) and monitoring-cronworkflow.yaml (when it has monitor steps).
func (b *Backend) Render(prog *ir.Program) ([]backends.File, error) {
	var files []backends.File
	for _, p := range prog.Pipelines {
		objs, err := objects(prog, p)
		if err != nil {
			return nil, fmt.Errorf("render argo objects of pipeline %s: %w", p.Name, err)
		}
		for _, o := range objs {
			data, err := marshal(prog, o.obj, o.comment)
			if err != nil {
				return nil, fmt.Errorf("render argo %s of pipeline %s: %w", o.obj.Kind, p.Name, err)
			}
			files = append(files, backends.File{Path: "argo/" + p.Name + "/" + o.file, Data: data})
		}
	}
	return backends.SortFiles(files)
}

// File names within argo/<pipeline>/.
const (
	// FileWorkflowTemplate holds the WorkflowTemplate.
	FileWorkflowTemplate = "workflowtemplate.yaml"
	// FileWorkflow holds the Workflow that runs the template once.
	FileWorkflow = "workflow.yaml"
	// FileCronWorkflow holds the scheduled-retraining CronWorkflow.
	FileCronWorkflow = "cronworkflow.yaml"
	// FileMonitoringCronWorkflow holds the monitoring CronWorkflow.
	FileMonitoringCronWorkflow = "monitoring-cronworkflow.yaml"
)

// rendered is one object, the file it goes to and comment lines that
// follow the header.
type rendered struct {
	file    string
	obj     *object
	comment string
}

// objects builds the objects of one pipeline, in file order.
func objects(prog *ir.Program, p *ir.Pipeline) ([]rendered, error) {
	names, err := taskNames(p.Steps)
	if err != nil {
		return nil, err
	}
	secretNames, err := secretNamesOf(p.Steps)
	if err != nil {
		return nil, err
	}
	tmplName := objectName(p.Name, 63)
	labels := baseLabels(p.Name)

	// The DAG and one container template per step.
	tasks := make([]dagTask, 0, len(p.Steps))
	templates := []template{{Name: mainTemplate}}
	var monitorTasks []dagTask
	monitors := map[string]bool{}
	for _, s := range p.Steps {
		if s.Kind == ir.KindMonitor {
			monitors[s.ID] = true
		}
	}
	for _, s := range p.Steps {
		params, err := inputParams(s)
		if err != nil {
			return nil, err
		}
		t := dagTask{Name: names[s.ID], Template: names[s.ID]}
		var monDeps []string
		for _, d := range s.DependsOn {
			n, ok := names[d]
			if !ok {
				return nil, fmt.Errorf("step %s depends on unknown step %s", s.ID, d)
			}
			t.Dependencies = append(t.Dependencies, n)
			if monitors[d] {
				monDeps = append(monDeps, n)
			}
		}
		if len(params) > 0 {
			t.Arguments = &arguments{Parameters: params}
		}
		tasks = append(tasks, t)
		if monitors[s.ID] {
			mt := dagTask{
				Name:         t.Name,
				TemplateRef:  &templateRef{Name: tmplName, Template: t.Template},
				Dependencies: monDeps,
				Arguments:    t.Arguments,
			}
			monitorTasks = append(monitorTasks, mt)
		}
		ct, err := containerTemplate(prog, p, s, names[s.ID], secretNames)
		if err != nil {
			return nil, err
		}
		templates = append(templates, ct)
	}
	templates[0].DAG = &dagTemplate{Tasks: tasks}

	revision := DefaultRevision
	wt := &object{
		APIVersion: APIVersion,
		Kind:       "WorkflowTemplate",
		Metadata: objectMeta{
			Name:        tmplName,
			Labels:      labels,
			Annotations: map[string]string{AnnotationSpecDigest: p.SpecDigest},
		},
		Spec: &workflowSpec{
			Entrypoint: mainTemplate,
			Arguments: &arguments{Parameters: []parameter{
				{Name: paramRepo, Description: "URL of the git repository that holds " + repoDir(prog.Path) + "."},
				{Name: paramRevision, Value: &revision, Description: "Commit, branch or tag to check out."},
			}},
			Templates:          templates,
			ServiceAccountName: ServiceAccountName,
			PodGC:              &podGC{Strategy: "OnPodSuccess"},
			TTLStrategy:        &ttlStrategy{SecondsAfterSuccess: ttlSecondsAfterSuccess, SecondsAfterFailure: ttlSecondsAfterFailure},
			WorkflowMetadata:   &workflowMetadata{Labels: labels},
		},
	}
	wf := &object{
		APIVersion: APIVersion,
		Kind:       "Workflow",
		Metadata:   objectMeta{GenerateName: objectName(p.Name, 57) + "-", Labels: withLabel(labels, LabelWorkflowKind, "train")},
		Spec:       &workflowSpec{WorkflowTemplateRef: &workflowTemplateRef{Name: tmplName}},
	}
	out := []rendered{
		{file: FileWorkflowTemplate, obj: wt},
		{file: FileWorkflow, obj: wf, comment: "# Run with: kubectl apply -f " + FileWorkflowTemplate + " && argo submit " + FileWorkflow +
			" -p repo=<git URL> [-p revision=<commit>]\n"},
	}

	// Scheduled runs take the repository URL from a ConfigMap and check out
	// the tip of the default branch.
	cronArgs := &arguments{Parameters: []parameter{
		{Name: paramRepo, ValueFrom: &valueFrom{ConfigMapKeyRef: &keySelector{Name: ConfigMapName, Key: ConfigMapRepoKey}}},
		{Name: paramRevision, Value: &revision},
	}}
	cronComment := "# Scheduled runs read the repository URL from ConfigMap " + ConfigMapName + ", key " + ConfigMapRepoKey + ".\n"
	if p.Triggers.Schedule != "" {
		l := withLabel(labels, LabelWorkflowKind, "retrain")
		out = append(out, rendered{file: FileCronWorkflow, comment: cronComment, obj: &object{
			APIVersion: APIVersion,
			Kind:       "CronWorkflow",
			Metadata:   objectMeta{Name: objectName(p.Name, 44) + "-retrain", Labels: l},
			Spec: &cronWorkflowSpec{
				Schedules:                  []string{p.Triggers.Schedule},
				Timezone:                   Timezone,
				ConcurrencyPolicy:          "Forbid",
				SuccessfulJobsHistoryLimit: 3,
				FailedJobsHistoryLimit:     3,
				WorkflowMetadata:           &objectMeta{Labels: l},
				WorkflowSpec: &workflowSpec{
					WorkflowTemplateRef: &workflowTemplateRef{Name: tmplName},
					Arguments:           cronArgs,
				},
			},
		}})
	}
	if len(monitorTasks) > 0 {
		l := withLabel(labels, LabelWorkflowKind, "monitor")
		out = append(out, rendered{file: FileMonitoringCronWorkflow, comment: cronComment, obj: &object{
			APIVersion: APIVersion,
			Kind:       "CronWorkflow",
			Metadata:   objectMeta{Name: objectName(p.Name, 44) + "-monitor", Labels: l},
			Spec: &cronWorkflowSpec{
				Schedules:                  []string{MonitorSchedule},
				Timezone:                   Timezone,
				ConcurrencyPolicy:          "Forbid",
				SuccessfulJobsHistoryLimit: 3,
				FailedJobsHistoryLimit:     3,
				WorkflowMetadata:           &objectMeta{Labels: l},
				WorkflowSpec: &workflowSpec{
					Entrypoint:         monitorTemplate,
					Arguments:          cronArgs,
					Templates:          []template{{Name: monitorTemplate, DAG: &dagTemplate{Tasks: monitorTasks}}},
					ServiceAccountName: ServiceAccountName,
					PodGC:              &podGC{Strategy: "OnPodSuccess"},
					TTLStrategy:        &ttlStrategy{SecondsAfterSuccess: ttlSecondsAfterSuccess, SecondsAfterFailure: ttlSecondsAfterFailure},
				},
			},
		}})
	}
	return out, nil
}

// containerTemplate is the template that runs step s.
func containerTemplate(prog *ir.Program, p *ir.Pipeline, s *ir.Step, name string, secretNames map[string]string) (template, error) {
	if s.Image == "" {
		return template{}, fmt.Errorf("step %s has no image", s.ID)
	}
	if len(s.Command) == 0 {
		return template{}, fmt.Errorf("step %s has no command", s.ID)
	}
	c := &container{
		Name:       "main",
		Image:      s.Image,
		Command:    []string{s.Command[0]},
		Args:       slices.Clone(s.Command[1:]),
		WorkingDir: sourceDir(prog.Path),
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		c.Env = append(c.Env, envVar{Name: k, Value: s.Env[k]})
	}
	if s.Kind == ir.KindMonitor {
		// The monitor step reads the live drift report of the
		// environment's model server, in the cluster.
		if url := monitorServer(p, s.Environment); url != "" {
			c.Env = append(c.Env, envVar{Name: "SLIPWAY_MONITOR_SERVER", Value: url})
		}
	}
	if s.Kind == ir.KindPackage {
		// The package step tags the model it pushes with the workflow's
		// name, so that `slipway apply --executor argo` finds its digest.
		c.Env = append(c.Env, envVar{Name: EnvRunName, Value: "{{workflow.name}}"})
	}
	for _, k := range slices.Sorted(maps.Keys(s.Secrets)) {
		c.Env = append(c.Env, envVar{Name: k, ValueFrom: &envVarSource{
			SecretKeyRef: &keySelector{Name: secretNames[s.Secrets[k]], Key: SecretKey},
		}})
	}
	var declared []parameter
	for _, in := range s.Inputs {
		pn := paramName(in.Name)
		declared = append(declared, parameter{Name: pn})
		c.Env = append(c.Env, envVar{Name: EnvInputPrefix + envName(in.Name), Value: "{{inputs.parameters." + pn + "}}"})
	}
	if dup := duplicateEnv(c.Env); dup != "" {
		return template{}, fmt.Errorf("step %s sets environment variable %s twice", s.ID, dup)
	}

	res := &resourceRequirements{Requests: map[string]string{}, Limits: map[string]string{}}
	for k, v := range map[string]string{"cpu": s.Resources.CPU, "memory": s.Resources.Memory} {
		if v != "" {
			res.Requests[k] = v
			res.Limits[k] = v
		}
	}
	t := template{
		Name: name,
		Metadata: &metadata{
			Labels: withLabel(withLabel(baseLabels(p.Name), LabelStep, name), LabelKind, string(s.Kind)),
			Annotations: map[string]string{
				AnnotationStepID:   s.ID,
				AnnotationCacheKey: s.CacheKey,
			},
		},
		Inputs: &inputs{
			Parameters: declared,
			Artifacts: []artifact{{
				Name: "source",
				Path: SourcePath,
				Git: &gitArtifact{
					Repo:     "{{workflow.parameters." + paramRepo + "}}",
					Revision: "{{workflow.parameters." + paramRevision + "}}",
				},
			}},
		},
		Container: c,
	}
	if g := s.Resources.GPU; g != nil && g.Count > 0 {
		res.Limits["nvidia.com/gpu"] = strconv.Itoa(g.Count)
		if len(g.NodeSelector) > 0 {
			t.NodeSelector = maps.Clone(g.NodeSelector)
		}
		for _, tol := range g.Tolerations {
			t.Tolerations = append(t.Tolerations, toleration{Key: tol.Key, Operator: tol.Operator, Value: tol.Value, Effect: tol.Effect})
		}
	}
	if len(res.Requests) == 0 {
		res.Requests = nil
	}
	if len(res.Limits) > 0 {
		c.Resources = res
	}
	if s.TimeoutSeconds > 0 {
		t.ActiveDeadlineSeconds = strconv.FormatInt(s.TimeoutSeconds, 10)
	}
	if s.Retries > 0 {
		t.RetryStrategy = &retryStrategy{Limit: strconv.Itoa(s.Retries), RetryPolicy: "Always"}
	}
	return t, nil
}

// inputParams are the arguments that carry the digests of s's inputs.
func inputParams(s *ir.Step) ([]parameter, error) {
	var params []parameter
	seen := map[string]string{}
	for _, in := range s.Inputs {
		pn := paramName(in.Name)
		if prev, dup := seen[pn]; dup {
			return nil, fmt.Errorf("step %s: inputs %q and %q map to the same parameter %q", s.ID, prev, in.Name, pn)
		}
		seen[pn] = in.Name
		d := in.Digest
		params = append(params, parameter{Name: pn, Value: &d})
	}
	return params, nil
}

// marshal renders one object as YAML behind the generated-file header.
func marshal(prog *ir.Program, o *object, comment string) ([]byte, error) {
	data, err := yaml.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", o.Kind, err)
	}
	header := "# " + backends.Header(prog) + "\n" + comment
	return append([]byte(header), data...), nil
}

func baseLabels(pipeline string) map[string]string {
	return map[string]string{LabelManagedBy: ManagedBy, LabelPipeline: pipeline}
}

// withLabel returns a copy of labels with k set to v.
func withLabel(labels map[string]string, k, v string) map[string]string {
	l := maps.Clone(labels)
	l[k] = v
	return l
}

// repoDir names the package directory in the repository for humans.
func repoDir(path string) string {
	path = strings.Trim(path, "/")
	if path == "" || path == "." {
		return "the package at its root"
	}
	return path
}

func sourceDir(path string) string {
	path = strings.Trim(path, "/")
	if path == "" || path == "." {
		return SourcePath
	}
	return SourcePath + "/" + path
}

// taskNames gives every step a unique DNS-1123 label that does not start
// with a digit (Argo rejects such task names) and is neither of the
// entrypoint templates' names. Names are derived from step names in step
// order, so they are stable.
func taskNames(steps []*ir.Step) (map[string]string, error) {
	names := map[string]string{}
	used := map[string]bool{mainTemplate: true, monitorTemplate: true}
	for _, s := range steps {
		if _, dup := names[s.ID]; dup {
			return nil, fmt.Errorf("step %s appears twice", s.ID)
		}
		base := dnsLabel(s.Name, 63)
		if base[0] >= '0' && base[0] <= '9' {
			base = dnsLabel("s-"+base, 63)
		}
		n := base
		for i := 2; used[n]; i++ {
			suffix := "-" + strconv.Itoa(i)
			n = strings.TrimRight(base[:min(len(base), 63-len(suffix))], "-") + suffix
		}
		used[n] = true
		names[s.ID] = n
	}
	return names, nil
}

// secretNamesOf maps every secret a step references to the name of the
// Kubernetes Secret that holds it: lower case, with characters outside
// [a-z0-9.-] replaced by "-" (COSIGN_KEY -> cosign-key).
func secretNamesOf(steps []*ir.Step) (map[string]string, error) {
	names := map[string]string{}
	owner := map[string]string{}
	for _, s := range steps {
		for _, k := range slices.Sorted(maps.Keys(s.Secrets)) {
			secret := s.Secrets[k]
			n := SecretName(secret)
			if prev, ok := owner[n]; ok && prev != secret {
				return nil, fmt.Errorf("secrets %q and %q both map to the Kubernetes Secret %q", prev, secret, n)
			}
			owner[n] = secret
			names[secret] = n
		}
	}
	return names, nil
}

// SecretName is the Kubernetes Secret that holds the secret a spec names:
// a DNS-1123 subdomain derived from the name (COSIGN_KEY -> cosign-key).
func SecretName(secret string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(secret) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	n := strings.Trim(b.String(), "-.")
	if n == "" {
		n = "secret"
	}
	if len(n) > 253 {
		n = strings.Trim(n[:244], "-.") + "-" + shortHash(secret)
	}
	return n
}

// objectName is a DNS-1123 label of at most max characters derived from s.
func objectName(s string, max int) string { return dnsLabel(s, max) }

// dnsLabel lowercases s, replaces runs of characters outside [a-z0-9] with
// "-" and trims dashes; a name longer than max is cut and suffixed with a
// hash of s so that distinct long names stay distinct.
func dnsLabel(s string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	n := strings.Trim(b.String(), "-")
	if n == "" {
		n = "x" + shortHash(s)
	}
	if len(n) > max {
		n = strings.TrimRight(n[:max-9], "-") + "-" + shortHash(s)
	}
	return n
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// paramName is the Argo parameter that carries an input's digest: the
// input's name with characters outside [a-zA-Z0-9_-] replaced by "-"
// ("raw/customers" -> "raw-customers").
func paramName(input string) string {
	var b strings.Builder
	for _, r := range input {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "input"
	}
	return b.String()
}

// envName is the suffix of the environment variable that carries an
// input's digest: upper case, with characters outside [A-Z0-9] replaced by
// "_" ("raw/customers" -> "RAW_CUSTOMERS").
func envName(input string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(input) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func duplicateEnv(env []envVar) string {
	seen := map[string]bool{}
	for _, e := range env {
		if seen[e.Name] {
			return e.Name
		}
		seen[e.Name] = true
	}
	return ""
}

// monitorServer is the in-cluster address of the model server of a
// pipeline's environment, from its deploy step; "" when it has none.
func monitorServer(p *ir.Pipeline, env string) string {
	for _, d := range p.Steps {
		if d.Kind != ir.KindDeploy || d.Environment != env {
			continue
		}
		dp, ok := d.Params.(ir.DeployParams)
		if !ok {
			return ""
		}
		return helm.ServiceURL(p.Name, dp.Release, dp.Environment.Namespace)
	}
	return ""
}
