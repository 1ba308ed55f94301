package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/local"
)

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		unit, want  string
	}{
		{0, 0, "trees", strings.Repeat(" ", 26)},
		{7, 0, "trees", "7 trees"},
		{150, 300, "trees", "[" + strings.Repeat("█", 12) + strings.Repeat("·", 12) + "] 150/300 trees"},
		{400, 300, "trees", "[" + strings.Repeat("█", 24) + "] 400/300 trees"},
		{1 << 20, 4 << 20, "B", "[" + strings.Repeat("█", 6) + strings.Repeat("·", 18) + "] 1.0/4.0 MiB"},
	} {
		if got := bar(tc.done, tc.total, tc.unit); got != tc.want {
			t.Errorf("bar(%d, %d, %s) = %q, want %q", tc.done, tc.total, tc.unit, got, tc.want)
		}
	}
}

// TestProgressTerminal drives the live view as on a terminal: running
// steps are drawn with their bars, and erased when a finished line is
// printed above them.
func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true, running: map[string]*live{}, stop: make(chan struct{})}
	p.event(local.Event{Step: "p/train", Type: "start"})
	p.event(local.Event{Step: "p/train", Type: "progress", Done: 50, Total: 100, Unit: "trees"})
	p.redraw()
	if !strings.Contains(buf.String(), "p/train") || !strings.Contains(buf.String(), "50/100 trees") {
		t.Fatalf("live line: %q", buf.String())
	}
	buf.Reset()
	p.event(local.Event{Step: "p/train", Type: "done", Result: &local.StepResult{ID: "p/train", Status: local.StatusRan, Seconds: 1.5, Reason: "never run"}})
	out := buf.String()
	if !strings.HasPrefix(out, "\x1b[1A\x1b[J") || !strings.Contains(out, "✓ p/train") || !strings.Contains(out, "never run") {
		t.Errorf("finished line: %q", out)
	}
	if p.drawn != 0 {
		t.Errorf("%d live lines left", p.drawn)
	}
	// Not a terminal: plain lines only, no escape codes.
	buf.Reset()
	plain := newProgress(&buf, false)
	plain.event(local.Event{Step: "p/a", Type: "start"})
	plain.event(local.Event{Step: "p/a", Type: "done", Result: &local.StepResult{ID: "p/a", Status: local.StatusFailed, Error: "boom"}})
	plain.close()
	if strings.Contains(buf.String(), "\x1b") || !strings.Contains(buf.String(), "✗ p/a") || !strings.Contains(buf.String(), "boom") {
		t.Errorf("plain output: %q", buf.String())
	}
}
