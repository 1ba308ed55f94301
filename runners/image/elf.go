package image

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// machines maps each architecture an image can target to the ELF machine
// of a binary built for it.
var machines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// Platforms lists the platforms Build accepts, in the "os/arch" form of
// Options.Platform.
func Platforms() []string {
	out := make([]string, 0, len(machines))
	for arch := range machines {
		out = append(out, "linux/"+arch)
	}
	sort.Strings(out)
	return out
}

// parsePlatform returns the architecture named by an "os/arch" platform
// string; the empty string stands for "whatever the binary is built for".
func parsePlatform(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	osName, arch, ok := strings.Cut(p, "/")
	if ok && osName == "linux" {
		if _, known := machines[arch]; known {
			return arch, nil
		}
	}
	return "", fmt.Errorf("platform %q is not supported: want one of %s", p, strings.Join(Platforms(), ", "))
}

// checkStatic checks that bin is a statically linked 64-bit little-endian
// Linux ELF executable and returns the architecture it is built for. When
// arch is not empty the binary must be built for it.
func checkStatic(bin []byte, arch string) (string, error) {
	if len(bin) == 0 {
		return "", errors.New("binary is empty: want a static Linux ELF executable")
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return "", fmt.Errorf("binary is not an ELF executable (%v): want a static Linux ELF executable, built with GOOS=linux CGO_ENABLED=0", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return "", fmt.Errorf("binary is a %s %s ELF file: want a 64-bit little-endian one (linux/amd64 or linux/arm64)", f.Class, f.Data)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return "", fmt.Errorf("binary is built for %s, not Linux: build it with GOOS=linux CGO_ENABLED=0", f.OSABI)
	}
	got := ""
	for a, m := range machines {
		if f.Machine == m {
			got = a
		}
	}
	if got == "" {
		return "", fmt.Errorf("binary is built for the ELF machine %s: want %s or %s (%s)", f.Machine, elf.EM_X86_64, elf.EM_AARCH64, strings.Join(Platforms(), ", "))
	}
	if arch != "" && got != arch {
		return "", fmt.Errorf("binary is built for linux/%s (ELF machine %s) but the image is for linux/%s: build it with GOOS=linux GOARCH=%s CGO_ENABLED=0", got, f.Machine, arch, arch)
	}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			return "", fmt.Errorf("binary is dynamically linked (it asks for the loader %s) but the image has no libraries: build it with CGO_ENABLED=0", interpreter(p))
		case elf.PT_DYNAMIC:
			return "", errors.New("binary is dynamically linked (it has a PT_DYNAMIC segment) but the image has no libraries: build it with CGO_ENABLED=0")
		}
	}
	if s := f.Section(".dynamic"); s != nil {
		return "", errors.New("binary is dynamically linked (it has a .dynamic section) but the image has no libraries: build it with CGO_ENABLED=0")
	}
	if f.Type != elf.ET_EXEC {
		return "", fmt.Errorf("binary is an ELF file of type %s: want an executable (%s)", f.Type, elf.ET_EXEC)
	}
	return got, nil
}

// interpreter returns the loader path a PT_INTERP segment names, or
// "(unreadable)" when it cannot be read.
func interpreter(p *elf.Prog) string {
	const maxPath = 4096
	b, err := io.ReadAll(io.LimitReader(p.Open(), maxPath))
	if err != nil || len(b) == 0 {
		return "(unreadable)"
	}
	return fmt.Sprintf("%q", strings.TrimRight(string(b), "\x00"))
}
