// Package githubactions renders GitHub Actions workflows: per pipeline, a
// workflow that runs the training DAG (one job per step, deploy jobs gated
// by GitHub environments, monitoring after each deployment) and, per
// program, a pull-request workflow that keeps one `slipway plan` comment
// up to date.
//
// Every action is pinned to a full commit SHA, secrets are referenced by
// name only (`${{ secrets.NAME }}`), permissions are read-only except where
// a job needs more, and output is byte-identical for the same program.
package githubactions

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/version"
)

// Name is the target name.
const Name = "github-actions"

// DefaultBranch is the branch whose pushes train and deploy.
const DefaultBranch = "main"

// PlanMarker marks the pull-request comment the plan workflow keeps up to
// date.
const PlanMarker = "<!-- slipway-plan -->"

// Action is an action pinned to a full commit SHA; Version is the release
// the SHA was tagged with, written as a comment next to it.
type Action struct {
	// Repo is "owner/name" or "owner/name/path".
	Repo string
	// SHA is the full commit SHA.
	SHA string
	// Version is the release tag of SHA.
	Version string
}

// Uses is the value of a step's `uses:`.
func (a Action) Uses() string { return a.Repo + "@" + a.SHA }

// The pinned actions. Each SHA is the commit its release tag points to.
var (
	// Checkout is actions/checkout v4.4.0.
	Checkout = Action{Repo: "actions/checkout", SHA: "11d5960a326750d5838078e36cf38b85af677262", Version: "v4.4.0"}
	// Cache is actions/cache v4.3.0 (restore, then save after the job).
	Cache = Action{Repo: "actions/cache", SHA: "0057852bfaa89a56745cba8c7296529d2fc39830", Version: "v4.3.0"}
	// CacheRestore is actions/cache/restore v4.3.0 (restore only).
	CacheRestore = Action{Repo: "actions/cache/restore", SHA: "0057852bfaa89a56745cba8c7296529d2fc39830", Version: "v4.3.0"}
	// GitHubScript is actions/github-script v8.0.0.
	GitHubScript = Action{Repo: "actions/github-script", SHA: "ed597411d8f924073f98dfc5c65a23a2325f34cd", Version: "v8.0.0"}
)

// Backend renders GitHub Actions workflows.
type Backend struct{}

// New returns the GitHub Actions backend.
func New() *Backend { return &Backend{} }

// Name returns "github-actions".
func (*Backend) Name() string { return Name }

// WorkflowPath is the path of pipeline's training workflow.
func WorkflowPath(pipeline string) string {
	return ".github/workflows/slipway-" + pipeline + ".yml"
}

// PlanWorkflowPath is the path of the pull-request plan workflow.
const PlanWorkflowPath = ".github/workflows/slipway-plan.yml"

// Render writes one training workflow per pipeline and the plan workflow.
func (b *Backend) Render(prog *ir.Program) ([]backends.File, error) {
	if len(prog.Pipelines) == 0 {
		return nil, fmt.Errorf("render github-actions workflows of %s: the program has no pipelines", prog.Path)
	}
	if ls := b.Limitations(prog); len(ls) > 0 {
		return nil, fmt.Errorf("render github-actions workflows of %s: %s", prog.Path, ls[0].Message)
	}
	var files []backends.File
	for _, p := range prog.Pipelines {
		doc, err := pipelineWorkflow(prog, p)
		if err != nil {
			return nil, fmt.Errorf("render github-actions workflow of %s: %w", p.Name, err)
		}
		data, err := encode(doc)
		if err != nil {
			return nil, fmt.Errorf("encode github-actions workflow of %s: %w", p.Name, err)
		}
		files = append(files, backends.File{Path: WorkflowPath(p.Name), Data: data})
	}
	data, err := encode(planWorkflow(prog))
	if err != nil {
		return nil, fmt.Errorf("encode github-actions plan workflow of %s: %w", prog.Path, err)
	}
	files = append(files, backends.File{Path: PlanWorkflowPath, Data: data})
	return backends.SortFiles(files)
}

// secretName is what GitHub accepts as a secret name.
var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Limitations lists what prog asks for that GitHub Actions cannot express:
// secret names GitHub does not allow, and `${{` in commands or plain
// environment values, which GitHub would evaluate as an expression.
func (*Backend) Limitations(prog *ir.Program) []backends.Limitation {
	var ls []backends.Limitation
	for _, p := range prog.Pipelines {
		for _, s := range p.Steps {
			at := []string{"pipelines", p.Name}
			if s.Kind == ir.KindCustom {
				at = append(at, "steps", s.Name)
			}
			for _, env := range sortedKeys(s.Secrets) {
				name := s.Secrets[env]
				if !secretName.MatchString(name) || strings.HasPrefix(strings.ToUpper(name), "GITHUB_") {
					ls = append(ls, backends.Limitation{Path: at, Message: fmt.Sprintf(
						"step %s uses secret %q, which is not a valid GitHub Actions secret name (letters, digits and _, not starting with a digit or GITHUB_); rename the secret", s.ID, name)})
				}
			}
			for _, arg := range s.Command {
				if strings.Contains(arg, "${{") {
					ls = append(ls, backends.Limitation{Path: at, Message: fmt.Sprintf(
						"the command of step %s contains \"${{\", which GitHub Actions would evaluate as an expression", s.ID)})
				}
			}
			for _, k := range sortedKeys(s.Env) {
				if strings.Contains(s.Env[k], "${{") {
					ls = append(ls, backends.Limitation{Path: at, Message: fmt.Sprintf(
						"environment variable %s of step %s contains \"${{\", which GitHub Actions would evaluate as an expression", k, s.ID)})
				}
			}
		}
	}
	return ls
}

// JobID is the job id of a step: its name, with characters GitHub does not
// allow in job ids replaced by "-", prefixed with "_" when it does not
// start with a letter or "_".
func JobID(stepName string) string {
	var b strings.Builder
	for _, r := range stepName {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	id := b.String()
	if id == "" || !(id[0] == '_' || id[0] >= 'a' && id[0] <= 'z' || id[0] >= 'A' && id[0] <= 'Z') {
		id = "_" + id
	}
	return id
}

// HasJob says whether a step runs as a job. Retrain steps do not: the
// workflow's triggers (schedule, repository_dispatch) are the retraining.
func HasJob(s *ir.Step) bool { return s.Kind != ir.KindRetrain }

// DispatchType is the repository_dispatch event type that retrains
// pipeline when monitoring reports drift.
func DispatchType(pipeline string) string { return "slipway-retrain-" + pipeline }

// GPURunnerLabels are the runner labels of a GPU request: the labels the
// spec names, or [self-hosted, linux, gpu-<type>].
func GPURunnerLabels(r ir.Resources) []string {
	if r.GPU == nil {
		return nil
	}
	if len(r.GPU.RunnerLabels) > 0 {
		return r.GPU.RunnerLabels
	}
	return []string{"self-hosted", "linux", "gpu-" + r.GPU.Type}
}

// cronMacros are the macros GitHub's schedule does not accept, as the five
// fields it does.
var cronMacros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
	"@hourly": "0 * * * *",
}

// Cron is a schedule as GitHub accepts it: five fields, macros expanded.
func Cron(schedule string) string {
	s := strings.TrimSpace(schedule)
	if c, ok := cronMacros[s]; ok {
		return c
	}
	return strings.Join(strings.Fields(s), " ")
}

// pipelineWorkflow builds the training workflow of p.
func pipelineWorkflow(prog *ir.Program, p *ir.Pipeline) (*yaml.Node, error) {
	steps := map[string]*ir.Step{}
	ids := map[string]string{} // job id -> step id
	for _, s := range p.Steps {
		steps[s.ID] = s
		if !HasJob(s) {
			continue
		}
		id := JobID(s.Name)
		if other, dup := ids[id]; dup {
			return nil, fmt.Errorf("steps %s and %s both map to job id %q", other, s.ID, id)
		}
		ids[id] = s.ID
	}

	on := mapping(
		"push", mapping(
			"branches", flowSeq(DefaultBranch),
			"paths", seq(pathsGlob(prog.Path)),
		),
	)
	var triggerNotes []string
	if p.Triggers.Schedule != "" {
		on.Content = append(on.Content, key("schedule"), seq(mapping("cron", str(Cron(p.Triggers.Schedule)))))
		triggerNotes = append(triggerNotes, fmt.Sprintf("on the schedule %q (UTC)", p.Triggers.Schedule))
	}
	on.Content = append(on.Content, key("workflow_dispatch"), &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Tag: "!!map"})
	if p.Triggers.OnDrift && p.Triggers.Via == "github" {
		on.Content = append(on.Content, key("repository_dispatch"), mapping("types", flowSeq(DispatchType(p.Name))))
		triggerNotes = append(triggerNotes, fmt.Sprintf("on drift, by a repository_dispatch event of type %s", DispatchType(p.Name)))
	}
	if p.Triggers.OnNewData {
		triggerNotes = append(triggerNotes, "on new data, by a push that changes a dataset's digest in "+prog.Path)
	}
	onKey := key("on")
	onKey.HeadComment = "Triggers: a push to " + DefaultBranch + " that changes " + pathsGlob(prog.Path) + ", a manual dispatch"
	if len(triggerNotes) > 0 {
		onKey.HeadComment += ", and retraining " + strings.Join(triggerNotes, "; ") + "."
	} else {
		onKey.HeadComment += "."
	}
	for _, s := range p.Steps {
		if !HasJob(s) {
			onKey.HeadComment += fmt.Sprintf("\nStep %s (%s) runs no job: these triggers are the retraining.", s.ID, s.Kind)
		}
	}

	jobs := mapping()
	for _, s := range p.Steps {
		if !HasJob(s) {
			continue
		}
		job, err := stepJob(prog, p, s, steps)
		if err != nil {
			return nil, err
		}
		k := key(JobID(s.Name))
		jobs.Content = append(jobs.Content, k, job)
	}

	doc := mapping(
		"name", str("slipway "+p.Name),
	)
	doc.Content = append(doc.Content, onKey, on)
	doc.Content = append(doc.Content,
		key("permissions"), mapping("contents", str("read")),
		key("concurrency"), mapping(
			"group", str("slipway-"+p.Name+"-${{ github.ref }}"),
			"cancel-in-progress", boolean(false),
		),
		key("defaults"), mapping("run", mapping("shell", str("bash"))),
		key("jobs"), jobs,
	)
	return document(prog, doc), nil
}

// stepJob builds the job that runs s.
func stepJob(prog *ir.Program, p *ir.Pipeline, s *ir.Step, steps map[string]*ir.Step) (*yaml.Node, error) {
	job := mapping("name", str(s.ID))
	if labels := GPURunnerLabels(s.Resources); labels != nil {
		job.Content = append(job.Content, key("runs-on"), flowSeq(labels...))
	} else {
		job.Content = append(job.Content, key("runs-on"), str("ubuntu-latest"))
	}
	job.Content[0].HeadComment = resourceNote(s)
	if len(s.DependsOn) > 0 {
		var needs []string
		for _, d := range s.DependsOn {
			dep, ok := steps[d]
			if !ok {
				return nil, fmt.Errorf("step %s depends on unknown step %s", s.ID, d)
			}
			if !HasJob(dep) {
				return nil, fmt.Errorf("step %s depends on %s, which runs no job", s.ID, d)
			}
			needs = append(needs, JobID(dep.Name))
		}
		job.Content = append(job.Content, key("needs"), flowSeq(needs...))
	}
	if s.Kind == ir.KindDeploy {
		job.Content = append(job.Content,
			key("if"), str("github.ref == 'refs/heads/"+DefaultBranch+"' && (github.event_name == 'push' || github.event_name == 'workflow_dispatch' || github.event_name == 'repository_dispatch' || github.event_name == 'schedule')"),
			key("environment"), str(s.Environment),
		)
	}
	contents := "read"
	if dispatches(p, s) {
		// The monitor job sends the retraining event on drift.
		contents = "write"
	}
	job.Content = append(job.Content,
		key("permissions"), mapping("contents", str(contents)),
		key("timeout-minutes"), integer(timeoutMinutes(s)),
	)
	container := mapping("image", str(s.Image))
	if s.Resources.GPU != nil && s.Resources.GPU.Count > 0 {
		container.Content = append(container.Content, key("options"), str("--gpus "+strconv.Itoa(s.Resources.GPU.Count)))
	}
	job.Content = append(job.Content, key("container"), container)

	cachePath := path.Join(workDir(prog.Path), ".slipway")
	stepsSeq := seq(mapping(
		"name", str("Check out"),
		"uses", uses(Checkout),
		"with", mapping("persist-credentials", boolean(false)),
	))
	// Restore the artifacts of the steps this one reads from, then the
	// step's own cache; a hit on its own key lets `slipway step` reuse its
	// outputs.
	seen := map[string]bool{}
	for _, in := range s.Inputs {
		if in.From == "" || seen[in.From] {
			continue
		}
		seen[in.From] = true
		from, ok := steps[in.From]
		if !ok {
			return nil, fmt.Errorf("step %s reads %s from unknown step %s", s.ID, in.Name, in.From)
		}
		stepsSeq.Content = append(stepsSeq.Content, mapping(
			"name", str("Restore the outputs of "+from.ID),
			"uses", uses(CacheRestore),
			"with", mapping("path", str(cachePath), "key", str(cacheKey(p, from))),
		))
	}
	if s.Kind == ir.KindMonitor {
		// The drift episode's state carries over from the last run, so
		// that drift fires one retraining per episode across scheduled
		// runs: restored from the newest earlier save, saved after the job.
		prefix := "slipway-" + p.Name + "-monitor-" + s.Environment + "-"
		stepsSeq.Content = append(stepsSeq.Content, mapping(
			"name", str("Keep the drift episode of "+s.ID),
			"uses", uses(Cache),
			"with", mapping("path", str(path.Join(cachePath, "monitor")),
				"key", str(prefix+"${{ github.run_id }}-${{ github.run_attempt }}"),
				"restore-keys", str(prefix)),
		))
	}
	if cached(s) {
		stepsSeq.Content = append(stepsSeq.Content, mapping(
			"name", str("Cache the outputs of "+s.ID),
			"uses", uses(Cache),
			"with", mapping("path", str(cachePath), "key", str(cacheKey(p, s))),
		))
	}
	run := mapping("name", str("Run "+s.ID))
	if wd := workDir(prog.Path); wd != "." {
		run.Content = append(run.Content, key("working-directory"), str(wd))
	}
	if env := stepEnv(p, s); env != nil {
		run.Content = append(run.Content, key("env"), env)
	}
	run.Content = append(run.Content, key("run"), str(runScript(s)))
	stepsSeq.Content = append(stepsSeq.Content, run)
	job.Content = append(job.Content, key("steps"), stepsSeq)
	return job, nil
}

// cached says whether a step saves its outputs under its cache key. Deploy
// and monitor steps act on the world, so they always run; they only
// restore their inputs.
func cached(s *ir.Step) bool { return s.Kind != ir.KindDeploy && s.Kind != ir.KindMonitor }

// cacheKey is the actions/cache key of a step's outputs.
func cacheKey(p *ir.Pipeline, s *ir.Step) string {
	return "slipway-" + p.Name + "-" + s.Name + "-" + s.CacheKey
}

// resourceNote records the resources a step asks for. GitHub-hosted runners
// have fixed sizes, so CPU and memory are documented rather than enforced;
// GPU requests choose the runner.
func resourceNote(s *ir.Step) string {
	note := fmt.Sprintf("%s (%s): cpu %s, memory %s", s.ID, s.Kind, s.Resources.CPU, s.Resources.Memory)
	if g := s.Resources.GPU; g != nil {
		note += fmt.Sprintf(", gpu %d x %s", g.Count, g.Type)
	}
	switch {
	case s.Retries == 1:
		note += ", 1 retry"
	case s.Retries > 1:
		note += fmt.Sprintf(", %d retries", s.Retries)
	}
	return note + "."
}

// backoff is the pause before retry n (from 1), in seconds.
func backoff(n int) int { return 10 * n }

// timeoutMinutes is the job's time limit: every attempt's timeout plus the
// pauses between attempts, rounded up to whole minutes.
func timeoutMinutes(s *ir.Step) int64 {
	total := s.TimeoutSeconds * int64(s.Retries+1)
	for n := 1; n <= s.Retries; n++ {
		total += int64(backoff(n))
	}
	m := (total + 59) / 60
	return max(m, 1)
}

// runScript is the shell script of a step's run: its command, in a retry
// loop with a per-attempt timeout when the step has retries.
func runScript(s *ir.Step) string {
	cmd := shellJoin(s.Command)
	if s.Retries <= 0 {
		return cmd
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Up to %d attempts of at most %d seconds each.\n", s.Retries+1, s.TimeoutSeconds)
	b.WriteString("attempt=1\n")
	fmt.Fprintf(&b, "until timeout %d %s; do\n", s.TimeoutSeconds, cmd)
	fmt.Fprintf(&b, "  if [ \"$attempt\" -gt %d ]; then\n", s.Retries)
	fmt.Fprintf(&b, "    echo \"::error::%s failed after $attempt attempts\"\n", s.ID)
	b.WriteString("    exit 1\n")
	b.WriteString("  fi\n")
	fmt.Fprintf(&b, "  echo \"::warning::%s failed (attempt $attempt of %d); retrying in $((attempt * %d))s\"\n", s.ID, s.Retries+1, backoff(1))
	fmt.Fprintf(&b, "  sleep $((attempt * %d))\n", backoff(1))
	b.WriteString("  attempt=$((attempt + 1))\n")
	b.WriteString("done\n")
	return b.String()
}

// shellSafe are arguments that need no quoting.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// shellJoin quotes args for a POSIX shell.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if shellSafe.MatchString(a) {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// stepEnv is the environment of a step's run: plain variables, then
// secrets by reference; nil when there is none.
//
// A monitor step also reads its current data from the repository
// variables SLIPWAY_MONITOR_CURRENT_<ENV> or SLIPWAY_MONITOR_SERVER_<ENV>,
// and gets the job's token when it sends the retraining event.
func stepEnv(p *ir.Pipeline, s *ir.Step) *yaml.Node {
	vals := map[string]string{}
	for k, v := range s.Env {
		vals[k] = v
	}
	if s.Kind == ir.KindMonitor {
		suffix := strings.ToUpper(strings.ReplaceAll(s.Environment, "-", "_"))
		vals["SLIPWAY_MONITOR_CURRENT"] = "${{ vars.SLIPWAY_MONITOR_CURRENT_" + suffix + " }}"
		vals["SLIPWAY_MONITOR_SERVER"] = "${{ vars.SLIPWAY_MONITOR_SERVER_" + suffix + " }}"
		if dispatches(p, s) {
			vals["GITHUB_TOKEN"] = "${{ github.token }}"
		}
	}
	if len(vals) == 0 && len(s.Secrets) == 0 {
		return nil
	}
	env := mapping()
	for k, name := range s.Secrets {
		vals[k] = "${{ secrets." + name + " }}"
	}
	for _, k := range sortedKeys(vals) {
		env.Content = append(env.Content, key(k), str(vals[k]))
	}
	return env
}

// workDir is the package directory as a working directory.
func workDir(p string) string {
	if p == "" {
		return "."
	}
	return path.Clean(p)
}

// pathsGlob matches every file of the package.
func pathsGlob(p string) string {
	if wd := workDir(p); wd != "." {
		return wd + "/**"
	}
	return "**"
}

// planScript finds the comment carrying the marker and updates it, or
// creates it.
const planScript = `const fs = require('fs');
const marker = '` + PlanMarker + `';
const plan = fs.readFileSync(process.env.PLAN_FILE, 'utf8');
const body = plan.startsWith(marker) ? plan : marker + '\n' + plan;
const { owner, repo } = context.repo;
const issue_number = context.issue.number;
const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
const existing = comments.find((c) => c.body && c.body.includes(marker));
if (existing) {
  await github.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
} else {
  await github.rest.issues.createComment({ owner, repo, issue_number, body });
}
`

// planWorkflow builds the pull-request workflow of prog.
func planWorkflow(prog *ir.Program) *yaml.Node {
	wd := workDir(prog.Path)
	planFile := "plan.md"
	if wd != "." {
		planFile = wd + "/plan.md"
	}
	plan := mapping("name", str("Plan"))
	if wd != "." {
		plan.Content = append(plan.Content, key("working-directory"), str(wd))
	}
	plan.Content = append(plan.Content,
		key("env"), mapping("BASE_REF", str("${{ github.base_ref }}")),
		// Exit 2 means "changes present", not a failure.
		key("run"), str("slipway plan --base \"origin/$BASE_REF\" --format markdown --out plan.json > plan.md || test $? -eq 2\ncat plan.md >> \"$GITHUB_STEP_SUMMARY\"\n"),
	)
	comment := mapping(
		"name", str("Update the plan comment"),
		// Pull requests from forks get a read-only token; their plan is in
		// the job summary.
		"if", str("github.event.pull_request.head.repo.full_name == github.repository"),
		"uses", uses(GitHubScript),
		"env", mapping("PLAN_FILE", str(planFile)),
		"with", mapping("script", str(planScript)),
	)
	job := mapping(
		"name", str("slipway plan"),
		"runs-on", str("ubuntu-latest"),
		"permissions", mapping("contents", str("read"), "pull-requests", str("write")),
		"timeout-minutes", integer(15),
		"container", mapping("image", str(slipwayImage(prog))),
		"steps", seq(
			mapping(
				"name", str("Check out"),
				"uses", uses(Checkout),
				"with", mapping("fetch-depth", integer(0), "persist-credentials", boolean(false)),
			),
			plan,
			comment,
		),
	)
	doc := mapping("name", str("slipway plan"))
	onKey := key("on")
	onKey.HeadComment = fmt.Sprintf("Plans every pull request that changes %s and keeps one comment, marked %s, up to date.", pathsGlob(prog.Path), PlanMarker)
	doc.Content = append(doc.Content,
		onKey, mapping("pull_request", mapping("paths", seq(pathsGlob(prog.Path)))),
		key("permissions"), mapping("contents", str("read"), "pull-requests", str("write")),
		key("concurrency"), mapping(
			"group", str("slipway-plan-${{ github.event.pull_request.number }}"),
			"cancel-in-progress", boolean(true),
		),
		key("defaults"), mapping("run", mapping("shell", str("bash"))),
		key("jobs"), mapping("plan", job),
	)
	return document(prog, doc)
}

// slipwayImage is the image the plan runs in: the first pipeline's.
func slipwayImage(prog *ir.Program) string {
	p := prog.Pipelines[0]
	if p.Spec != nil && p.Spec.Image != "" {
		return p.Spec.Image
	}
	for _, s := range p.Steps {
		if s.Kind != ir.KindCustom && s.Image != "" {
			return s.Image
		}
	}
	return "ghcr.io/slipway-ml/slipway:v" + version.Version
}

// document wraps a workflow with the generated-file header.
func document(prog *ir.Program, root *yaml.Node) *yaml.Node {
	return &yaml.Node{
		Kind:        yaml.DocumentNode,
		HeadComment: backends.Header(prog),
		Content:     []*yaml.Node{root},
	}
}

// encode writes a document as YAML with two-space indentation.
func encode(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	// The encoder quotes the key "on" for YAML 1.1 readers; GitHub reads
	// it as a string either way, and the plain form is the familiar one.
	return bytes.Replace(buf.Bytes(), []byte("\n\"on\":\n"), []byte("\non:\n"), 1), nil
}

// The YAML node helpers.

func key(s string) *yaml.Node { return str(s) }

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func integer[T int | int64](i T) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(i), 10)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func uses(a Action) *yaml.Node {
	n := str(a.Uses())
	n.LineComment = a.Version
	return n
}

// mapping builds a mapping from alternating keys (strings) and values
// (nodes).
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, key(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

// seq builds a block sequence of strings or nodes.
func seq(items ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, it := range items {
		switch v := it.(type) {
		case string:
			n.Content = append(n.Content, str(v))
		case *yaml.Node:
			n.Content = append(n.Content, v)
		}
	}
	return n
}

// flowSeq builds a flow sequence of strings: [a, b].
func flowSeq(items ...string) *yaml.Node {
	n := seq()
	n.Style = yaml.FlowStyle
	for _, it := range items {
		n.Content = append(n.Content, str(it))
	}
	return n
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// dispatches says whether a step sends the retraining event: a monitor
// step of a pipeline that retrains on drift through GitHub.
func dispatches(p *ir.Pipeline, s *ir.Step) bool {
	return s.Kind == ir.KindMonitor && p.Triggers.OnDrift && p.Triggers.Via == "github"
}
