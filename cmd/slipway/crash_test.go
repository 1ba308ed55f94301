package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/runners/local"
)

// copyExample copies examples/NAME into a temporary directory.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// runJSON runs slipway in process and decodes its JSON output.
func runJSON(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append(args, "-o", "json"), nil, &out, &errb)
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("slipway %v: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
	}
	return code, v
}

// TestKillAndResume kills `slipway run` with SIGKILL at several points and
// checks that a second run completes, with a cache whose every entry
// matches its manifest and nothing left in its temporary area.
func TestKillAndResume(t *testing.T) {
	if _, err := exec.LookPath("slipway"); err != nil {
		t.Fatalf("the slipway test command is not on PATH: %v", err)
	}
	dir := copyExample(t, "churn")
	// A clean run gives the metrics every resumed run must reproduce.
	code, clean := runJSON(t, "run", dir, "--state-dir", filepath.Join(t.TempDir(), "state"))
	if code != 0 {
		t.Fatalf("clean run: exit %d: %v", code, clean["error"])
	}
	for _, delay := range []time.Duration{30 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond, 900 * time.Millisecond, 1600 * time.Millisecond} {
		state := filepath.Join(t.TempDir(), "state")
		cmd := exec.Command("slipway", "run", dir, "--state-dir", state)
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		code, res := runJSON(t, "run", dir, "--state-dir", state)
		if code != 0 {
			t.Fatalf("after a kill at %s: exit %d: %v", delay, code, res["error"])
		}
		if got, want := res["metrics"].(map[string]any)["roc_auc"], clean["metrics"].(map[string]any)["roc_auc"]; got != want {
			t.Errorf("after a kill at %s: roc_auc %v, clean run %v", delay, got, want)
		}
		c, err := local.OpenCache(state)
		if err != nil {
			t.Fatal(err)
		}
		if problems, err := c.Verify(); err != nil || len(problems) > 0 {
			t.Errorf("after a kill at %s: cache problems %v %v", delay, problems, err)
		}
		if tmp, _ := os.ReadDir(filepath.Join(state, "cache", "tmp")); len(tmp) != 0 {
			t.Errorf("after a kill at %s: %d entries left in cache/tmp", delay, len(tmp))
		}
	}
}
