package gpu

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
)

// reset forgets the process's device so each case opens afresh.
func reset(t *testing.T) {
	t.Helper()
	once, shared, openErr = sync.Once{}, nil, nil
	t.Cleanup(func() { once, shared, openErr = sync.Once{}, nil, nil })
}

func TestPickWithoutDriver(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libcuda.so.1")
	t.Setenv(cuda.LibraryEnv, missing)
	tests := []struct {
		want    string
		err     string // substring of the error; "" for none
		logLine bool
	}{
		{"cpu", "", false},
		{"", "", false},
		{"auto", "", true},
		{"gpu", `device "gpu": no NVIDIA driver: cannot load ` + missing, false},
		{"tpu", `unknown device "tpu"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			reset(t)
			var lines []string
			c, err := Pick(tt.want, func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) })
			if c != nil {
				t.Fatalf("Pick(%q) opened a context without a driver", tt.want)
			}
			if tt.err == "" && err != nil {
				t.Fatalf("Pick(%q) = %v", tt.want, err)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Pick(%q) = %v; want an error containing %q", tt.want, err, tt.err)
			}
			if tt.want == "gpu" && !errors.Is(err, cuda.ErrNoDriver) {
				t.Errorf("error %v does not wrap cuda.ErrNoDriver", err)
			}
			if tt.logLine {
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "no NVIDIA GPU (no NVIDIA driver") || !strings.HasSuffix(lines[0], "): training on the CPU") {
					t.Errorf("log = %q; want one no-GPU line", lines)
				}
			} else if len(lines) != 0 {
				t.Errorf("log = %q; want none", lines)
			}
		})
	}
}

func TestPickOpensOnce(t *testing.T) {
	reset(t)
	calls := 0
	saved := open
	open = func(int) (*cuda.Context, error) { calls++; return nil, fmt.Errorf("%w: test", cuda.ErrNoDevice) }
	t.Cleanup(func() { open = saved })
	for range 3 {
		if _, err := Pick("gpu", nil); !errors.Is(err, cuda.ErrNoDevice) {
			t.Fatalf("Pick = %v", err)
		}
		if c, err := Pick("auto", nil); c != nil || err != nil {
			t.Fatalf("Pick(auto) = %v, %v", c, err)
		}
	}
	if calls != 1 {
		t.Errorf("opened %d times; want once per process", calls)
	}
	if got := Name(nil); got != "cpu" {
		t.Errorf("Name(nil) = %q", got)
	}
}
