package compiler_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps compiler/ pure: it imports no backend, runner,
// network client or cloud SDK. CUE's loader links an OCI registry client
// for CUE modules; Slipway configures it to refuse every request, and this
// test forbids our own packages from using network packages directly.
func TestDependencies(t *testing.T) {
	deps := goList(t, "{{join .Deps \"\\n\"}}", "./...")
	forbiddenDeps := []string{
		"github.com/slipway-ml/slipway/backends",
		"github.com/slipway-ml/slipway/runners",
		"github.com/slipway-ml/slipway/cmd",
		"github.com/hashicorp/go-getter",
		"github.com/google/go-containerregistry",
		"github.com/sigstore",
		"helm.sh/helm",
		"k8s.io/client-go",
		"github.com/go-git",
		"github.com/aws",
		"cloud.google.com",
		"google.golang.org/grpc",
		"github.com/Azure",
	}
	for _, d := range strings.Fields(deps) {
		for _, f := range forbiddenDeps {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("compiler/ depends on %s", d)
			}
		}
	}
	imports := goList(t, "{{.ImportPath}}: {{join .Imports \" \"}}", "./...")
	forbiddenImports := []string{"net", "net/http", "net/rpc", "net/smtp", "os/exec", "cuelang.org/go/mod/modregistry"}
	for _, line := range strings.Split(strings.TrimSpace(imports), "\n") {
		pkg, list, _ := strings.Cut(line, ": ")
		if strings.HasSuffix(pkg, "compilertest") {
			continue
		}
		for _, imp := range strings.Fields(list) {
			for _, f := range forbiddenImports {
				if imp == f {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
		}
	}
}

func goList(t *testing.T, format string, pkgs ...string) string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-f", format}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return string(out)
}
