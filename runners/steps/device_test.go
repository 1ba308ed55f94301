package steps

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
)

// TestPickDevice checks the step's device choice on this machine: without
// a usable GPU, "gpu" fails saying why and "auto" logs one line and
// trains on the CPU; with one, both name it.
func TestPickDevice(t *testing.T) {
	_, openErr := cuda.Open(0)
	var lines []string
	logf := func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }

	got, err := pickDevice("gpu", logf)
	if openErr != nil {
		if err == nil || !strings.Contains(err.Error(), `device "gpu": no NVIDIA`) {
			t.Errorf(`pickDevice("gpu") = %q, %v; want the reason there is no GPU`, got, err)
		}
	} else if err != nil || !strings.HasPrefix(got, "gpu:") {
		t.Errorf(`pickDevice("gpu") = %q, %v on a machine with a GPU`, got, err)
	}

	lines = nil
	got, err = pickDevice("auto", logf)
	if err != nil {
		t.Fatalf(`pickDevice("auto") = %v`, err)
	}
	if openErr != nil {
		if got != "cpu" || len(lines) != 1 || !strings.HasSuffix(lines[0], ": training on the CPU") {
			t.Errorf(`pickDevice("auto") = %q, log %q; want "cpu" and one line`, got, lines)
		}
	} else if !strings.HasPrefix(got, "gpu:") || len(lines) != 0 {
		t.Errorf(`pickDevice("auto") = %q, log %q on a machine with a GPU`, got, lines)
	}

	for _, want := range []string{"cpu", ""} {
		lines = nil
		if got, err := pickDevice(want, logf); got != "cpu" || err != nil || len(lines) != 0 {
			t.Errorf("pickDevice(%q) = %q, %v, log %q", want, got, err, lines)
		}
	}
	if _, err := pickDevice("tpu", logf); err == nil || !strings.Contains(err.Error(), `unknown device "tpu"`) {
		t.Errorf(`pickDevice("tpu") = %v`, err)
	}
}
