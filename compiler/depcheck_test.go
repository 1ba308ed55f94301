package compiler_test

import (
	"os/exec"
	"strings"
	"testing"
)

// gitfs reads specs at a Git revision from the local .git directory with
// go-git, whose root package links its network transports although gitfs
// never fetches; it is the one package allowed go-git, and no other
// compiler package may import it, so compiling stays pure.
const gitfs = "github.com/slipway-ml/slipway/compiler/gitfs"

// TestDependencies keeps compiler/ pure: it imports no backend, runner,
// network client or cloud SDK. CUE's loader links an OCI registry client
// for CUE modules; Slipway configures it to refuse every request, and this
// test forbids our own packages from using network packages directly.
func TestDependencies(t *testing.T) {
	var deps []string
	for _, line := range strings.Split(strings.TrimSpace(goList(t, "{{.ImportPath}}|{{join .Deps \",\"}}", "./...")), "\n") {
		pkg, list, _ := strings.Cut(line, "|")
		if pkg == gitfs {
			continue
		}
		for _, d := range strings.Split(list, ",") {
			if d == gitfs {
				t.Errorf("%s depends on %s: only the plan command may read Git", pkg, gitfs)
			}
			deps = append(deps, d)
		}
	}
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
	for _, d := range deps {
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
