package githubactions_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/backends/backendtest"
	"github.com/slipway-ml/slipway/backends/githubactions"
	"github.com/slipway-ml/slipway/compiler/compilertest"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

const examples = "../../examples"

// programs compiles every example once per test binary.
var programs = map[string]*ir.Program{}

func program(t *testing.T, dir string) *ir.Program {
	t.Helper()
	if p, ok := programs[dir]; ok {
		return p
	}
	p := compilertest.Compile(t, dir).Program
	programs[dir] = p
	return p
}

func render(t *testing.T, prog *ir.Program) []backends.File {
	t.Helper()
	files, err := githubactions.New().Render(prog)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// forEachExample runs f on the rendered files of every example.
func forEachExample(t *testing.T, f func(t *testing.T, prog *ir.Program, files []backends.File)) {
	for _, dir := range compilertest.Examples(t, examples) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			prog := program(t, dir)
			f(t, prog, render(t, prog))
		})
	}
}

func TestGoldenWorkflows(t *testing.T) {
	forEachExample(t, func(t *testing.T, prog *ir.Program, files []backends.File) {
		name := filepath.Base(prog.Path)
		got := map[string][]byte{}
		for _, f := range files {
			got[f.Path] = f.Data
		}
		compilertest.Golden(t, filepath.Join("testdata", name+".txtar"),
			"GitHub Actions workflows of examples/"+name+"; rewrite with `make golden`.", got, *update)
	})
}

func TestConformance(t *testing.T) {
	for _, dir := range compilertest.Examples(t, examples) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			backendtest.Run(t, githubactions.New(), program(t, dir))
		})
	}
}

// runnerLabels are the labels of the self-hosted runners prog asks for;
// actionlint accepts them when its configuration lists them, as a project
// with self-hosted runners would.
func runnerLabels(prog *ir.Program) []string {
	var labels []string
	for _, p := range prog.Pipelines {
		for _, s := range p.Steps {
			labels = append(labels, githubactions.GPURunnerLabels(s.Resources)...)
		}
	}
	slices.Sort(labels)
	return slices.Compact(labels)
}

func TestActionlint(t *testing.T) {
	forEachExample(t, func(t *testing.T, prog *ir.Program, files []backends.File) {
		config := "self-hosted-runner:\n  labels:\n"
		for _, l := range runnerLabels(prog) {
			config += fmt.Sprintf("    - %q\n", l)
		}
		cfg := filepath.Join(t.TempDir(), "actionlint.yaml")
		if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{ConfigFile: cfg, LogWriter: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			// The path does not exist here, so actionlint looks for no
			// project around it.
			errs, err := linter.Lint(f.Path, f.Data, nil)
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			for _, e := range errs {
				t.Errorf("%s:%d:%d: %s [%s]", f.Path, e.Line, e.Column, e.Message, e.Kind)
			}
		}
	})
}

func TestWorkflowSchema(t *testing.T) {
	raw, err := os.Open(filepath.Join("testdata", "github-workflow.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	doc, err := jsonschema.UnmarshalJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://json.schemastore.org/github-workflow.json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	forEachExample(t, func(t *testing.T, prog *ir.Program, files []backends.File) {
		for _, f := range files {
			var v any
			if err := yaml.Unmarshal(f.Data, &v); err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Errorf("%s does not validate against the workflow schema: %v", f.Path, err)
			}
		}
	})
}

// workflow is the part of a workflow the tests read.
type workflow struct {
	On struct {
		Push struct {
			Branches []string `yaml:"branches"`
			Paths    []string `yaml:"paths"`
		} `yaml:"push"`
		Schedule []struct {
			Cron string `yaml:"cron"`
		} `yaml:"schedule"`
		WorkflowDispatch   *struct{} `yaml:"workflow_dispatch"`
		RepositoryDispatch *struct {
			Types []string `yaml:"types"`
		} `yaml:"repository_dispatch"`
		PullRequest *struct {
			Paths []string `yaml:"paths"`
		} `yaml:"pull_request"`
	} `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress bool   `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Jobs map[string]job `yaml:"jobs"`
}

type job struct {
	Name           string            `yaml:"name"`
	RunsOn         any               `yaml:"runs-on"`
	Needs          []string          `yaml:"needs"`
	If             string            `yaml:"if"`
	Environment    string            `yaml:"environment"`
	Permissions    map[string]string `yaml:"permissions"`
	TimeoutMinutes int               `yaml:"timeout-minutes"`
	Container      struct {
		Image   string `yaml:"image"`
		Options string `yaml:"options"`
	} `yaml:"container"`
	Steps []struct {
		Name             string            `yaml:"name"`
		Uses             string            `yaml:"uses"`
		With             map[string]any    `yaml:"with"`
		Env              map[string]string `yaml:"env"`
		Run              string            `yaml:"run"`
		WorkingDirectory string            `yaml:"working-directory"`
	} `yaml:"steps"`
}

func parse(t *testing.T, files []backends.File, path string) *workflow {
	t.Helper()
	for _, f := range files {
		if f.Path == path {
			var w workflow
			if err := yaml.Unmarshal(f.Data, &w); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return &w
		}
	}
	t.Fatalf("no file %s", path)
	return nil
}

// TestDAG checks that every step that runs as a job has exactly one, named
// after the step, that needs exactly the step's dependencies, and that no
// other job exists.
func TestDAG(t *testing.T) {
	forEachExample(t, func(t *testing.T, prog *ir.Program, files []backends.File) {
		for _, p := range prog.Pipelines {
			w := parse(t, files, githubactions.WorkflowPath(p.Name))
			byID := map[string]*ir.Step{}
			for _, s := range p.Steps {
				byID[s.ID] = s
			}
			jobs := 0
			for _, s := range p.Steps {
				if !githubactions.HasJob(s) {
					if s.Kind != ir.KindRetrain {
						t.Errorf("%s (%s) runs no job", s.ID, s.Kind)
					}
					continue
				}
				jobs++
				j, ok := w.Jobs[githubactions.JobID(s.Name)]
				if !ok {
					t.Errorf("no job for %s", s.ID)
					continue
				}
				if j.Name != s.ID {
					t.Errorf("job %s is named %q, want %q", githubactions.JobID(s.Name), j.Name, s.ID)
				}
				var want []string
				for _, d := range s.DependsOn {
					want = append(want, githubactions.JobID(byID[d].Name))
				}
				got := slices.Clone(j.Needs)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("job of %s needs %v, want %v", s.ID, got, want)
				}
				if last := j.Steps[len(j.Steps)-1]; !strings.Contains(last.Run, strings.Join(s.Command, " ")) {
					t.Errorf("job of %s does not run %q:\n%s", s.ID, s.Command, last.Run)
				}
				if j.Container.Image != s.Image {
					t.Errorf("job of %s runs in %q, want %q", s.ID, j.Container.Image, s.Image)
				}
				if want := (s.TimeoutSeconds*int64(s.Retries+1) + 59) / 60; int64(j.TimeoutMinutes) < want {
					t.Errorf("job of %s has timeout-minutes %d, want at least %d", s.ID, j.TimeoutMinutes, want)
				}
			}
			if len(w.Jobs) != jobs {
				t.Errorf("%d jobs for %d steps that run as jobs", len(w.Jobs), jobs)
			}
		}
	})
}

// TestTriggers checks the triggers, permissions and concurrency of the
// training workflows, and that deployments are gated by environments.
func TestTriggers(t *testing.T) {
	forEachExample(t, func(t *testing.T, prog *ir.Program, files []backends.File) {
		for _, p := range prog.Pipelines {
			w := parse(t, files, githubactions.WorkflowPath(p.Name))
			if !slices.Equal(w.On.Push.Branches, []string{"main"}) || !slices.Equal(w.On.Push.Paths, []string{prog.Path + "/**"}) {
				t.Errorf("push trigger = %+v", w.On.Push)
			}
			if w.On.WorkflowDispatch == nil {
				t.Error("no workflow_dispatch trigger")
			}
			if s := p.Triggers.Schedule; s != "" {
				if len(w.On.Schedule) != 1 || w.On.Schedule[0].Cron != githubactions.Cron(s) {
					t.Errorf("schedule = %+v, want %q", w.On.Schedule, s)
				}
			} else if len(w.On.Schedule) != 0 {
				t.Errorf("unexpected schedule %+v", w.On.Schedule)
			}
			if p.Triggers.OnDrift != (w.On.RepositoryDispatch != nil) {
				t.Errorf("onDrift %v, repository_dispatch %+v", p.Triggers.OnDrift, w.On.RepositoryDispatch)
			}
			if w.On.RepositoryDispatch != nil && !slices.Equal(w.On.RepositoryDispatch.Types, []string{"slipway-retrain-" + p.Name}) {
				t.Errorf("repository_dispatch types = %v", w.On.RepositoryDispatch.Types)
			}
			if len(w.Permissions) != 1 || w.Permissions["contents"] != "read" {
				t.Errorf("permissions = %v", w.Permissions)
			}
			if w.Concurrency.Group != "slipway-"+p.Name+"-${{ github.ref }}" || w.Concurrency.CancelInProgress {
				t.Errorf("concurrency = %+v", w.Concurrency)
			}
			for _, s := range p.Steps {
				if !githubactions.HasJob(s) {
					continue
				}
				j := w.Jobs[githubactions.JobID(s.Name)]
				if _, ok := j.Permissions["id-token"]; ok {
					t.Errorf("job of %s asks for id-token (the spec has no keyless signing)", s.ID)
				}
				for k, v := range j.Permissions {
					// Only a monitor job that sends the retraining event
					// writes (repository_dispatch needs contents: write).
					dispatch := s.Kind == ir.KindMonitor && p.Triggers.OnDrift && p.Triggers.Via == "github"
					if v != "read" && !(dispatch && k == "contents" && v == "write") {
						t.Errorf("job of %s has %s: %s", s.ID, k, v)
					}
					if dispatch && v != "write" {
						t.Errorf("monitor job of %s cannot send the retraining event: %s: %s", s.ID, k, v)
					}
				}
				if s.Kind == ir.KindDeploy {
					if j.Environment != s.Environment {
						t.Errorf("deploy job of %s has environment %q, want %q", s.ID, j.Environment, s.Environment)
					}
					if !strings.Contains(j.If, "github.ref == 'refs/heads/main'") {
						t.Errorf("deploy job of %s is not limited to main: if %q", s.ID, j.If)
					}
				} else if j.Environment != "" || j.If != "" {
					t.Errorf("job of %s has environment %q, if %q", s.ID, j.Environment, j.If)
				}
			}
		}
	})
}

func TestGPURunnerLabels(t *testing.T) {
	prog := program(t, examples+"/churn-gpu")
	files := render(t, prog)
	p := prog.Pipelines[0]
	w := parse(t, files, githubactions.WorkflowPath(p.Name))
	gpus := 0
	for _, s := range p.Steps {
		if !githubactions.HasJob(s) {
			continue
		}
		j := w.Jobs[githubactions.JobID(s.Name)]
		if s.Resources.GPU == nil {
			if j.RunsOn != "ubuntu-latest" {
				t.Errorf("job of %s runs on %v", s.ID, j.RunsOn)
			}
			continue
		}
		gpus++
		if got := fmt.Sprint(j.RunsOn); got != fmt.Sprint(s.Resources.GPU.RunnerLabels) || len(s.Resources.GPU.RunnerLabels) == 0 {
			t.Errorf("job of %s runs on %v, want %v", s.ID, got, s.Resources.GPU.RunnerLabels)
		}
		if j.Container.Options != fmt.Sprintf("--gpus %d", s.Resources.GPU.Count) {
			t.Errorf("job of %s has container options %q", s.ID, j.Container.Options)
		}
	}
	if gpus == 0 {
		t.Fatal("churn-gpu has no GPU step")
	}
	// Without labels, a GPU step runs on [self-hosted, linux, gpu-<type>].
	if got := githubactions.GPURunnerLabels(ir.Resources{GPU: &spec.GPU{Count: 1, Type: "nvidia-a10"}}); !slices.Equal(got, []string{"self-hosted", "linux", "gpu-nvidia-a10"}) {
		t.Errorf("default GPU labels = %v", got)
	}
}

// TestSecretsByName checks that secrets reach only the run step, as
// `${{ secrets.NAME }}` under the step's variable, and that no other value
// claims to be one.
func TestSecretsByName(t *testing.T) {
	prog := synthetic(t)
	files := render(t, prog)
	p := prog.Pipelines[0]
	w := parse(t, files, githubactions.WorkflowPath(p.Name))
	secretRef := regexp.MustCompile(`\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}`)
	for _, s := range p.Steps {
		if !githubactions.HasJob(s) {
			continue
		}
		j := w.Jobs[githubactions.JobID(s.Name)]
		for i, st := range j.Steps {
			last := i == len(j.Steps)-1
			for k, v := range st.Env {
				m := secretRef.FindStringSubmatch(v)
				switch {
				case m != nil && (!last || s.Secrets[k] != m[1] || v != "${{ secrets."+m[1]+" }}"):
					t.Errorf("job of %s: step %q has %s=%s", s.ID, st.Name, k, v)
				case m == nil && (!last || s.Env[k] != v):
					t.Errorf("job of %s: step %q has plain %s=%s", s.ID, st.Name, k, v)
				}
			}
			if last {
				for k, name := range s.Secrets {
					if st.Env[k] != "${{ secrets."+name+" }}" {
						t.Errorf("job of %s: %s = %q, want a reference to secret %s", s.ID, k, st.Env[k], name)
					}
				}
			}
		}
	}
	for _, f := range files {
		if bytes.Contains(f.Data, []byte(backendtest.SecretValue)) {
			t.Errorf("%s contains a secret value", f.Path)
		}
	}
}

// synthetic is the minimal example with a custom-ish step carrying plain
// environment variables, secrets, retries, a quoted argument and a GPU
// without runner labels.
func synthetic(t *testing.T) *ir.Program {
	t.Helper()
	base := program(t, examples+"/minimal")
	prog := *base
	p := *base.Pipelines[0]
	prog.Pipelines = []*ir.Pipeline{&p}
	p.Steps = nil
	for _, s := range base.Pipelines[0].Steps {
		c := *s
		p.Steps = append(p.Steps, &c)
	}
	p.Triggers = ir.Triggers{Schedule: "@daily", OnDrift: true}
	last := p.Steps[len(p.Steps)-1]
	last.Env = map[string]string{"MODE": "fast", "NOTE": "it's $HOME"}
	last.Secrets = map[string]string{"API_TOKEN": "MY_API_TOKEN", "DB_PASSWORD": "DB_PASS"}
	last.Retries = 3
	last.Command = append(slices.Clone(last.Command), "--note", "it's a test")
	last.Resources.GPU = &spec.GPU{Count: 2, Type: "nvidia-a10"}
	return &prog
}

func TestSyntheticLintsClean(t *testing.T) {
	prog := synthetic(t)
	files := render(t, prog)
	w := parse(t, files, githubactions.WorkflowPath(prog.Pipelines[0].Name))
	if len(w.On.Schedule) != 1 || w.On.Schedule[0].Cron != "0 0 * * *" {
		t.Errorf("@daily became %+v", w.On.Schedule)
	}
	last := prog.Pipelines[0].Steps[len(prog.Pipelines[0].Steps)-1]
	j := w.Jobs[githubactions.JobID(last.Name)]
	if fmt.Sprint(j.RunsOn) != "[self-hosted linux gpu-nvidia-a10]" {
		t.Errorf("runs-on = %v", j.RunsOn)
	}
	run := j.Steps[len(j.Steps)-1].Run
	if !strings.Contains(run, `--note 'it'\''s a test'`) || !strings.Contains(run, `-gt 3`) {
		t.Errorf("run script:\n%s", run)
	}
	if want := (last.TimeoutSeconds*4 + 10 + 20 + 30 + 59) / 60; int64(j.TimeoutMinutes) != want {
		t.Errorf("timeout-minutes = %d, want %d", j.TimeoutMinutes, want)
	}
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{LogWriter: io.Discard,
		IgnorePatterns: []string{`label "gpu-nvidia-a10" is unknown`}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		errs, err := linter.Lint(f.Path, f.Data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			t.Errorf("%s:%d:%d: %s", f.Path, e.Line, e.Column, e.Message)
		}
	}
	backendtest.Run(t, githubactions.New(), prog)
}

func TestPlanWorkflow(t *testing.T) {
	forEachExample(t, func(t *testing.T, prog *ir.Program, files []backends.File) {
		w := parse(t, files, githubactions.PlanWorkflowPath)
		if w.On.PullRequest == nil || !slices.Equal(w.On.PullRequest.Paths, []string{prog.Path + "/**"}) {
			t.Errorf("pull_request trigger = %+v", w.On.PullRequest)
		}
		if len(w.Permissions) != 2 || w.Permissions["contents"] != "read" || w.Permissions["pull-requests"] != "write" {
			t.Errorf("permissions = %v", w.Permissions)
		}
		j, ok := w.Jobs["plan"]
		if !ok || len(w.Jobs) != 1 {
			t.Fatalf("jobs = %v", w.Jobs)
		}
		if j.Container.Image != prog.Pipelines[0].Steps[0].Image {
			t.Errorf("plan runs in %q", j.Container.Image)
		}
		var plan, comment bool
		for _, s := range j.Steps {
			if strings.Contains(s.Run, `slipway plan --base "origin/$BASE_REF" --format markdown --out plan.json > plan.md || test $? -eq 2`) && s.Env["BASE_REF"] == "${{ github.base_ref }}" && s.WorkingDirectory == prog.Path {
				plan = true
			}
			if strings.HasPrefix(s.Uses, githubactions.GitHubScript.Uses()) {
				script, _ := s.With["script"].(string)
				comment = strings.Contains(script, githubactions.PlanMarker) &&
					strings.Contains(script, "updateComment") && strings.Contains(script, "createComment")
			}
		}
		if !plan || !comment {
			t.Errorf("plan step %v, comment step %v", plan, comment)
		}
	})
}

// TestPinnedActions checks that every action is pinned to a full commit SHA
// with its version as a comment.
func TestPinnedActions(t *testing.T) {
	usesLine := regexp.MustCompile(`(?m)^\s*(?:- )?uses: (\S+)(.*)$`)
	pinned := regexp.MustCompile(`^[a-z-]+/[a-z-]+(/[a-z-]+)?@[0-9a-f]{40}$`)
	forEachExample(t, func(t *testing.T, prog *ir.Program, files []backends.File) {
		for _, f := range files {
			ms := usesLine.FindAllStringSubmatch(string(f.Data), -1)
			if len(ms) == 0 {
				t.Errorf("%s uses no action", f.Path)
			}
			for _, m := range ms {
				if !pinned.MatchString(m[1]) || !regexp.MustCompile(`^ # v\d+\.\d+\.\d+$`).MatchString(m[2]) {
					t.Errorf("%s: uses %s%s is not pinned to a SHA with a version comment", f.Path, m[1], m[2])
				}
			}
		}
	})
}

func TestHeader(t *testing.T) {
	forEachExample(t, func(t *testing.T, prog *ir.Program, files []backends.File) {
		for _, f := range files {
			want := "# Generated by slipway " + prog.SlipwayVersion + " from " + prog.Path + "; do not edit.\n"
			if !bytes.HasPrefix(f.Data, []byte(want)) {
				t.Errorf("%s starts %q", f.Path, strings.SplitN(string(f.Data), "\n", 2)[0])
			}
		}
	})
}

func TestLimitations(t *testing.T) {
	prog := synthetic(t)
	last := prog.Pipelines[0].Steps[len(prog.Pipelines[0].Steps)-1]
	last.Secrets = map[string]string{"KEY": "my.key"}
	last.Env = map[string]string{"X": "${{ github.token }}"}
	ls := githubactions.New().Limitations(prog)
	if len(ls) != 2 {
		t.Fatalf("limitations = %+v", ls)
	}
	if _, err := githubactions.New().Render(prog); err == nil || !strings.Contains(err.Error(), "my.key") {
		t.Errorf("render error = %v", err)
	}
	var _ backends.Limiter = githubactions.New()
}

func TestJobID(t *testing.T) {
	for in, want := range map[string]string{"train": "train", "deploy-staging": "deploy-staging", "9lives": "_9lives", "a.b": "a-b", "": "_"} {
		if got := githubactions.JobID(in); got != want {
			t.Errorf("JobID(%q) = %q, want %q", in, got, want)
		}
	}
}
