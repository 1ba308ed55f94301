package plantest_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/compiler/plan"
	"github.com/slipway-ml/slipway/compiler/plan/internal/plantest"
)

func TestDeterministic(t *testing.T) {
	src, data := plantest.Churn(t)
	base := plantest.Compile(t, src+plantest.Lite, data)
	head := plantest.Compile(t, plantest.Edited(t, src, plantest.LearningRate, plantest.CanaryWeight, plantest.Schedule, plantest.GateMin, plantest.NoApproval), data)
	first, err := plantest.Diff(base, head, plan.WithDiagnostics(base.Diags, head.Diags)).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		// The order of the rendered files and of the diagnostics does not
		// matter.
		bf, hf := slices.Clone(base.Files), slices.Clone(head.Files)
		rng.Shuffle(len(bf), func(i, j int) { bf[i], bf[j] = bf[j], bf[i] })
		rng.Shuffle(len(hf), func(i, j int) { hf[i], hf[j] = hf[j], hf[i] })
		bd, hd := slices.Clone(base.Diags), slices.Clone(head.Diags)
		rng.Shuffle(len(hd), func(i, j int) { hd[i], hd[j] = hd[j], hd[i] })
		p := plan.Diff(base.Program, head.Program, bf, hf, plantest.Inputs, plan.WithDiagnostics(bd, hd))
		again, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two plans of the same inputs differ")
		}
	}
	// Keys are sorted at every level.
	if !bytes.Contains(first, []byte("{\n  \"diagnostics\"")) && !bytes.Contains(first, []byte("{\n  \"files\"")) {
		t.Errorf("the plan's first key is not the first in order:\n%.200s", first)
	}
}

func TestRoundTrip(t *testing.T) {
	p := plantest.Big(t)
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := plan.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Fatalf("decoding and encoding changes the plan:\n%s", firstDiff(string(data), string(again)))
	}
	if q.Changed() != p.Changed() || q.Pipelines[0].Summary != p.Pipelines[0].Summary {
		t.Error("the decoded plan says something else")
	}

}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return al[i] + "\n" + bl[i]
		}
	}
	return "lengths differ"
}

func TestVerify(t *testing.T) {
	src, data := plantest.Churn(t)
	base := plantest.Compile(t, src, data)
	head := plantest.Compile(t, plantest.Edited(t, src, plantest.LearningRate), data)
	p := plantest.Diff(base, head)
	if err := p.Verify(plantest.Diff(base, head).Inputs); err != nil {
		t.Fatalf("the same inputs are stale: %v", err)
	}
	moved := plantest.Inputs
	moved.Head.Ref = "feature" // refs are not compared
	if err := p.Verify(plan.Diff(base.Program, head.Program, base.Files, head.Files, moved).Inputs); err != nil {
		t.Errorf("another ref for the same commit is stale: %v", err)
	}

	newCommit := plantest.Inputs
	newCommit.Head.Commit = strings.Repeat("c", 40)
	other := plantest.Compile(t, plantest.Edited(t, src, plantest.CanaryWeight), data)
	l := &lock.Lock{Version: lock.Version, Champions: map[string]map[string]lock.Champion{"churn": {"production": {Digest: "sha256:" + strings.Repeat("d", 64)}}}}
	lockDigest, err := plan.LockDigest(l)
	if err != nil || !strings.HasPrefix(lockDigest, "sha256:") {
		t.Fatalf("LockDigest = %q, %v", lockDigest, err)
	}
	newCommit.Head.LockDigest = lockDigest
	current := plan.Diff(base.Program, other.Program, base.Files, other.Files, newCommit).Inputs
	err = p.Verify(current)
	var stale *plan.StaleError
	if !errors.As(err, &stale) {
		t.Fatalf("Verify = %v, want a *StaleError", err)
	}
	for _, want := range []string{"the head commit was " + strings.Repeat("b", 40), "the head lock digest", "the head spec digest of pipeline churn", "the head rendered files' digest"} {
		found := false
		for _, d := range stale.Differences {
			found = found || strings.Contains(d, want)
		}
		if !found {
			t.Errorf("differences %q do not say %q", stale.Differences, want)
		}
	}
	if !strings.Contains(err.Error(), "make a new plan") {
		t.Errorf("error %q does not say what to do", err)
	}
	if d, _ := plan.LockDigest(nil); d != "" {
		t.Errorf("LockDigest(nil) = %q", d)
	}
}
