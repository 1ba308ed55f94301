package image

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"os"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// elfSpec describes a minimal ELF file for the tests: a header and program
// headers, no sections.
type elfSpec struct {
	class   elf.Class
	osabi   elf.OSABI
	typ     elf.Type
	machine elf.Machine
	progs   []elf.ProgType
	interp  string // content of the PT_INTERP segment, when progs has one
}

// staticSpec is a static linux executable for machine.
func staticSpec(machine elf.Machine) elfSpec {
	return elfSpec{class: elf.ELFCLASS64, typ: elf.ET_EXEC, machine: machine, progs: []elf.ProgType{elf.PT_LOAD}}
}

// fakeELF builds the bytes of the ELF file s describes.
func fakeELF(s elfSpec) []byte {
	var buf bytes.Buffer
	le := binary.LittleEndian
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(s.class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(s.osabi)}
	payload := []byte(s.interp + "\x00")
	write := func(v any) {
		if err := binary.Write(&buf, le, v); err != nil {
			panic(err) // fixed-size values always encode
		}
	}
	if s.class == elf.ELFCLASS32 {
		const ehsize, phsize = 52, 32
		write(elf.Header32{Ident: ident, Type: uint16(s.typ), Machine: uint16(s.machine), Version: 1, Entry: 0x1000, Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: uint16(len(s.progs))})
		off := uint32(ehsize + phsize*len(s.progs))
		for _, p := range s.progs {
			write(elf.Prog32{Type: uint32(p), Off: off, Vaddr: 0x1000, Paddr: 0x1000, Filesz: uint32(len(payload)), Memsz: uint32(len(payload)), Flags: uint32(elf.PF_R), Align: 1})
		}
	} else {
		const ehsize, phsize = 64, 56
		write(elf.Header64{Ident: ident, Type: uint16(s.typ), Machine: uint16(s.machine), Version: 1, Entry: 0x401000, Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: uint16(len(s.progs))})
		off := uint64(ehsize + phsize*len(s.progs))
		for _, p := range s.progs {
			write(elf.Prog64{Type: uint32(p), Off: off, Vaddr: 0x400000, Paddr: 0x400000, Filesz: uint64(len(payload)), Memsz: uint64(len(payload)), Flags: uint32(elf.PF_R | elf.PF_X), Align: 1})
		}
	}
	buf.Write(payload)
	return buf.Bytes()
}

// testCA returns the CA bundle in testdata.
func testCA(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testOptions are Options for a fake static amd64 binary and the test CA.
func testOptions(t testing.TB) Options {
	return Options{
		Binary:   fakeELF(staticSpec(elf.EM_X86_64)),
		Platform: "linux/amd64",
		CACerts:  testCA(t),
		Created:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Source:   "https://github.com/slipway-ml/slipway",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Version:  "v0.1.0",
	}
}

// mustBuild builds opts or fails the test.
func mustBuild(t testing.TB, opts Options) v1.Image {
	t.Helper()
	img, err := Build(opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return img
}

// digest returns img's manifest digest or fails the test.
func digest(t testing.TB, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// tarFile is one entry read back from a layer.
type tarFile struct {
	hdr  *tar.Header
	body []byte
}

// readLayer returns the entries of img's only layer, in archive order.
func readLayer(t testing.TB, img v1.Image) []tarFile {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("image has %d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []tarFile
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarFile{hdr: h, body: b})
	}
}
