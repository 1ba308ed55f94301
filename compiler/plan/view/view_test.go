package view_test

import (
	"bytes"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/compiler/compilertest"
	"github.com/slipway-ml/slipway/compiler/plan"
	"github.com/slipway-ml/slipway/compiler/plan/internal/plantest"
	"github.com/slipway-ml/slipway/compiler/plan/view"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// cases are the plans the golden files show.
func cases(t *testing.T) map[string]*plan.Plan {
	src, data := plantest.Churn(t)
	base := plantest.Compile(t, src, data)
	lr := plantest.Compile(t, plantest.Edited(t, src, plantest.LearningRate), data)
	desc := plantest.Compile(t, plantest.Edited(t, src, plantest.Description), data)
	return map[string]*plan.Plan{
		"big":           plantest.Big(t),
		"learning-rate": plantest.Diff(base, lr),
		"description":   plantest.Diff(base, desc),
		"no-op":         plantest.Diff(base, base),
	}
}

func text(t *testing.T, p *plan.Plan, color bool) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := view.Text(&b, p, color); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for name, p := range cases(t) {
		t.Run(name, func(t *testing.T) {
			md, truncated := view.Markdown(p, 0)
			if truncated {
				t.Error("a small plan is truncated")
			}
			compilertest.Golden(t, filepath.Join("testdata", name+".txtar"), "Views of the "+name+" plan (go test -update rewrites this file).", map[string][]byte{
				"text.txt":       text(t, p, false),
				"text-color.txt": text(t, p, true),
				"comment.md":     []byte(md),
			}, *update)
		})
	}
}

// TestViewsOfDecodedPlan shows that views read only the plan's data: a
// plan read back from its JSON shows the same.
func TestViewsOfDecodedPlan(t *testing.T) {
	for name, p := range cases(t) {
		data, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		q, err := plan.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(text(t, p, true), text(t, q, true)) {
			t.Errorf("%s: the text of the decoded plan differs", name)
		}
		a, _ := view.Markdown(p, 0)
		b, _ := view.Markdown(q, 0)
		if a != b {
			t.Errorf("%s: the comment of the decoded plan differs", name)
		}
	}
}

func TestTextColor(t *testing.T) {
	p := plantest.Big(t)
	plain, colored := string(text(t, p, false)), string(text(t, p, true))
	if strings.Contains(plain, "\x1b[") {
		t.Error("plain text has escape sequences")
	}
	for _, want := range []string{"\x1b[32m+ ", "\x1b[31m- ", "\x1b[33m~ ", "\x1b[1m"} {
		if !strings.Contains(colored, want) {
			t.Errorf("coloured text lacks %q", want)
		}
	}
	if stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(colored, ""); stripped != plain {
		t.Error("colour changes the text itself")
	}
	for _, want := range []string{
		"~ churn [retrain, redeploy, schedule, gate, policy]",
		"    ~ training.gbdt.learningRate: 0.1 → 0.05  # retrain",
		"- lite [remove]",
		"+ lite2 [retrain]",
		"Plan: 1 to add, 1 to change, 1 to remove, 0 unchanged; 4 rendered files differ.",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

// checkComment checks what every comment must be: it begins with the
// marker, ends every fence and <details> it opens, and fits the limit.
func checkComment(t *testing.T, md string, limit int) {
	t.Helper()
	if !strings.HasPrefix(md, view.Marker+"\n") {
		t.Errorf("comment does not begin with the marker: %.60q", md)
	}
	if len(md) > limit {
		t.Errorf("comment has %d bytes, over the limit of %d", len(md), limit)
	}
	fence := ""
	opener := regexp.MustCompile("^(`{3,})diff$")
	for i, l := range strings.Split(md, "\n") {
		switch {
		case fence == "":
			if m := opener.FindStringSubmatch(l); m != nil {
				fence = m[1]
			} else if strings.HasPrefix(l, "```") {
				t.Errorf("line %d: a fence closes that was not opened: %q", i+1, l)
			}
		case l == fence:
			fence = ""
		}
	}
	if fence != "" {
		t.Error("the comment ends inside a fence")
	}
	if o, c := strings.Count(md, "<details>"), strings.Count(md, "</details>"); o != c {
		t.Errorf("%d <details> opened, %d closed", o, c)
	}
}

// hugePlan is the learning-rate plan with a rendered file so large that
// its diff alone is over GitHub's limit, and a few small files.
func hugePlan(t *testing.T) *plan.Plan {
	src, data := plantest.Churn(t)
	base := plantest.Compile(t, src, data)
	head := plantest.Compile(t, plantest.Edited(t, src, plantest.LearningRate), data)
	var a, b strings.Builder
	for i := range 6000 {
		fmt.Fprintf(&a, "value %d: %d\n", i, i)
		fmt.Fprintf(&b, "value %d: %d\n", i, i*2)
	}
	bf := append(base.Files, plan.File{Path: "huge.yaml", Data: []byte(a.String())}, plan.File{Path: "small.yaml", Data: []byte("a: 1\n")})
	hf := append(head.Files, plan.File{Path: "huge.yaml", Data: []byte(b.String())}, plan.File{Path: "small.yaml", Data: []byte("a: 2\n")})
	return plan.Diff(base.Program, head.Program, bf, hf, plantest.Inputs)
}

func TestMarkdownHugeDiff(t *testing.T) {
	p := hugePlan(t)
	full, truncated := view.Markdown(p, 1<<30)
	if truncated || len(full) <= view.GitHubLimit {
		t.Fatalf("the full comment has %d bytes, truncated=%v; want it over the limit", len(full), truncated)
	}
	md, truncated := view.Markdown(p, 0)
	if !truncated {
		t.Fatal("not truncated")
	}
	checkComment(t, md, view.GitHubLimit)
	for _, want := range []string{
		"| ~ | <code>churn</code> | retrain, redeploy |",
		"<details><summary><code>churn</code>",
		"- <code>huge.yaml</code> (+5999 −5999): diff left out",
		"the diffs of 1 of 3 rendered files",
		"the full plan is attached as a file",
		"+++ b/small.yaml\n@@ -1 +1 @@\n-a: 1\n+a: 2\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the truncated comment lacks %q", want)
		}
	}
	if strings.Contains(md, "value 5999") {
		t.Error("the huge diff is still there")
	}
	// A diff is kept whole or not at all.
	for _, f := range p.Files {
		if strings.Contains(md, "+++ b/"+f.Path+"\n") && !strings.Contains(md, f.Diff) {
			t.Errorf("the diff of %s is cut", f.Path)
		}
	}
}

// TestMarkdownLimits shrinks the limit step by step: every comment is
// well formed and fits, and what is dropped goes in order: diffs, then
// details, then the file list, then table rows.
func TestMarkdownLimits(t *testing.T) {
	p := plantest.Big(t)
	full, _ := view.Markdown(p, 1<<30)
	smallest, _ := view.Markdown(p, 1) // the introduction, the table's header, the note
	minimal := len(smallest)
	if minimal > 700 {
		t.Errorf("the smallest comment has %d bytes", minimal)
	}
	for limit := len(full); limit > 200; limit -= 97 {
		md, truncated := view.Markdown(p, limit)
		if truncated != (md != full) {
			t.Fatalf("limit %d: truncated=%v but the comment is %s", limit, truncated, map[bool]string{true: "cut", false: "whole"}[md != full])
		}
		if !strings.HasSuffix(md, "the full plan is attached as a file.\n") && truncated {
			t.Fatalf("limit %d: no note", limit)
		}
		if strings.Contains(md, "the list of rendered files") && strings.Contains(md, "diff left out") {
			t.Fatalf("limit %d: the file list is both dropped and shown", limit)
		}
		if strings.Contains(md, "rows of the table") && strings.Contains(md, "<details>") {
			t.Fatalf("limit %d: table rows dropped before details", limit)
		}
		if strings.Contains(md, "\n+++ b/") && strings.Contains(md, "the details of") {
			t.Fatalf("limit %d: details dropped while a diff is shown", limit)
		}
		checkComment(t, md, max(limit, minimal))
		if !strings.Contains(md, "| Pipeline | Effect | What changes |") {
			t.Fatalf("limit %d: the table is gone", limit)
		}
	}
}

func TestMarkdownManyPipelines(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion}
	for i := range 3000 {
		p.Pipelines = append(p.Pipelines, &plan.Pipeline{
			Name: fmt.Sprintf("pipeline-%04d", i), Action: plan.Update, Effects: []plan.Effect{plan.Config},
			Summary: strings.Repeat("owner changes ", 5),
			Changes: []*plan.Change{{Path: "owner", Action: plan.Update, Old: "a", New: "b", Effect: plan.Config}},
		})
	}
	md, truncated := view.Markdown(p, 0)
	if !truncated {
		t.Fatal("not truncated")
	}
	checkComment(t, md, view.GitHubLimit)
	if !strings.Contains(md, "| ~ | <code>pipeline-0000</code>") || strings.Contains(md, "pipeline-2999") {
		t.Error("want the first rows and not the last")
	}
	if !regexp.MustCompile(`\d+ of 3000 rows of the table`).MatchString(md) {
		t.Errorf("the note does not count the rows left out: %s", md[len(md)-300:])
	}
}

func TestMarkdownEscapes(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion,
		Pipelines: []*plan.Pipeline{{Name: "a<b>", Action: plan.Update, Effects: []plan.Effect{plan.Config},
			Summary: `description "x | <script>" changes`,
			Changes: []*plan.Change{{Path: "description", Action: plan.Update, Old: "```", New: "````", Effect: plan.Config}}}},
		Files: []*plan.FileDiff{{Path: "README.md", Action: plan.Update, Added: 1, Removed: 1,
			Diff: "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-```go\n+````go\n"}},
	}
	md, _ := view.Markdown(p, 0)
	checkComment(t, md, view.GitHubLimit)
	for _, want := range []string{"<code>a&lt;b&gt;</code>", `x \| &lt;script&gt;`, "`````diff\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("comment lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<script>") {
		t.Error("HTML passes through unescaped")
	}
}
