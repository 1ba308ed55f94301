package image

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// CurrentBinary returns the bytes of the running executable, so that the
// slipway running now can put itself into an image. It refuses a binary
// that Build would refuse: one not built for Linux, or one linked
// dynamically (build it with CGO_ENABLED=0).
func CurrentBinary() ([]byte, error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("this slipway is built for %s/%s: an image needs a static Linux binary, build one with GOOS=linux CGO_ENABLED=0 and pass its bytes", runtime.GOOS, runtime.GOARCH)
	}
	if _, ok := machines[runtime.GOARCH]; !ok {
		return nil, fmt.Errorf("this slipway is built for linux/%s: images are for %s, build one of those with CGO_ENABLED=0 and pass its bytes", runtime.GOARCH, strings.Join(Platforms(), " or "))
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the running executable: %w", err)
	}
	return readStatic(exe, runtime.GOARCH)
}

// readStatic reads the executable at path and checks that it is a static
// Linux ELF binary for arch.
func readStatic(path, arch string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the executable: %w", err)
	}
	if _, err := checkStatic(b, arch); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
