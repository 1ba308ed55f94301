package image

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDockerfileMatchesBuild checks that cmd/slipway/Dockerfile, the Docker
// route to the same image, keeps the entrypoint, user, working directory,
// environment and static build that Build uses.
func TestDockerfileMatchesBuild(t *testing.T) {
	b, err := os.ReadFile("../../cmd/slipway/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines and drop comments, then split the stages.
	var lines []string
	cur := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		lines = append(lines, cur+l)
		cur = ""
	}
	var stages [][]string
	for _, l := range lines {
		if strings.HasPrefix(l, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction %q comes before the first FROM", l)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], l)
	}
	if len(stages) != 2 {
		t.Fatalf("Dockerfile has %d stages, want a builder and a runtime stage", len(stages))
	}
	has := func(stage []string, want string) bool {
		for _, l := range stage {
			if strings.Contains(l, want) {
				return true
			}
		}
		return false
	}
	build, runtime := stages[0], stages[1]
	for _, want := range []string{"golang:1.26 AS build", "CGO_ENABLED=0", "-trimpath", "./cmd/slipway"} {
		if !has(build, want) {
			t.Errorf("the builder stage lacks %q", want)
		}
	}
	for _, want := range []string{
		"FROM gcr.io/distroless/static-debian12:nonroot",
		fmt.Sprintf("ENTRYPOINT [%q]", BinaryPath),
		fmt.Sprintf("USER %d:%d", UID, GID),
		"WORKDIR " + WorkingDir,
		"PATH=" + EnvPath,
		"SSL_CERT_FILE=" + CACertsPath,
		"/out/slipway " + BinaryPath,
		fmt.Sprintf("--chown=%d:%d /out/work %s", UID, GID, WorkingDir),
		AnnotationSource, AnnotationRevision, AnnotationVersion, AnnotationTitle,
	} {
		if !has(runtime, want) {
			t.Errorf("the runtime stage lacks %q", want)
		}
	}
	if !strings.Contains(string(b), "docker build -f cmd/slipway/Dockerfile") || !strings.Contains(string(b), "slipway image build") {
		t.Error("the Dockerfile's comment must give the build command from the repository root and name `slipway image build`")
	}
}
