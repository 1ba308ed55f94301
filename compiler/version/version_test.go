package version

import (
	"os"
	"regexp"
	"testing"
)

// TestCUEPinned checks that go.mod pins the CUE evaluator this package
// names.
func TestCUEPinned(t *testing.T) {
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*cuelang.org/go (v\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod does not require cuelang.org/go")
	}
	if string(m[1]) != CUE {
		t.Fatalf("go.mod pins cuelang.org/go %s, version.CUE says %s", m[1], CUE)
	}
	if !regexp.MustCompile(`(?m)^go 1\.26$`).Match(data) {
		t.Fatal("go.mod must stay on `go 1.26`")
	}
}
