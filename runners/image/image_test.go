package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func ExampleBuild() {
	// A minimal static linux/amd64 ELF file stands in for the binary.
	bin := fakeELF(staticSpec(elf.EM_X86_64))
	ca, err := os.ReadFile("testdata/ca.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	img, err := Build(Options{
		Binary:   bin,
		Platform: "linux/amd64",
		CACerts:  ca,
		Created:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Version:  "v0.1.0",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := img.Digest()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)
	// Output: sha256:fd7fcf5680b15532a7e782efee89fc15c86a134ff712bd059ec29b2ad75fb97c
}

func TestBuildIsDeterministic(t *testing.T) {
	base := testOptions(t)
	first := digest(t, mustBuild(t, base))
	if again := digest(t, mustBuild(t, base)); again != first {
		t.Fatalf("two builds of the same options differ: %s then %s", first, again)
	}
	later := base
	later.Created = base.Created.Add(time.Second)
	otherBinary := base
	otherBinary.Binary = append(fakeELF(staticSpec(elf.EM_X86_64)), 0)
	otherCA := base
	otherCA.CACerts = append(append([]byte{}, base.CACerts...), '\n')
	otherRevision := base
	otherRevision.Revision = "fedcba9876543210fedcba9876543210fedcba98"
	for name, opts := range map[string]Options{"created": later, "binary": otherBinary, "ca bundle": otherCA, "revision": otherRevision} {
		if d := digest(t, mustBuild(t, opts)); d == first {
			t.Errorf("changing the %s left the digest at %s", name, d)
		}
	}

	subSecond := base
	subSecond.Created = base.Created.Add(300 * time.Millisecond).In(time.FixedZone("CET", 3600))
	if d := digest(t, mustBuild(t, subSecond)); d != first {
		t.Errorf("the same second in another zone with a fraction gave %s, want %s", d, first)
	}

	epoch := base
	epoch.Created = time.Time{}
	cfg, err := mustBuild(t, epoch).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Created.Time.Equal(time.Unix(0, 0)) {
		t.Errorf("zero Created gave %s, want the Unix epoch", cfg.Created.Time)
	}
}

func TestGzipIsReproducible(t *testing.T) {
	input := bytes.Repeat([]byte("slipway reproducible layer "), 4096)
	a, err := gzipBytes(input)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gzipBytes(input)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("compressing the same bytes twice gave different output")
	}
	// ID1 ID2 CM=deflate FLG=0 (no name, comment or extra) MTIME=0
	// XFL=0 (neither fastest nor best) OS=255 (unknown).
	wantHeader := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	if !bytes.Equal(a[:10], wantHeader) {
		t.Errorf("gzip header = % x, want % x", a[:10], wantHeader)
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, input) {
		t.Error("the compressed bytes do not decompress to the input")
	}
	if zr.Header.Name != "" || !zr.Header.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q and mtime %s, want none", zr.Header.Name, zr.Header.ModTime)
	}

	// The layer bytes of two builds are identical, not only their digests.
	opts := testOptions(t)
	compressed := func() []byte {
		layers, err := mustBuild(t, opts).Layers()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := layers[0].Compressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(compressed(), compressed()) {
		t.Error("two builds wrote different layer bytes")
	}
}

func TestLayerContents(t *testing.T) {
	opts := testOptions(t)
	files := readLayer(t, mustBuild(t, opts))
	type want struct {
		name string
		typ  byte
		mode int64
	}
	wants := []want{
		{"etc/", tar.TypeDir, 0o755},
		{"etc/group", tar.TypeReg, 0o644},
		{"etc/passwd", tar.TypeReg, 0o644},
		{"etc/ssl/", tar.TypeDir, 0o755},
		{"etc/ssl/certs/", tar.TypeDir, 0o755},
		{"etc/ssl/certs/ca-certificates.crt", tar.TypeReg, 0o644},
		{"home/", tar.TypeDir, 0o755},
		{"home/nonroot/", tar.TypeDir, 0o755},
		{"tmp/", tar.TypeDir, 0o1777},
		{"usr/", tar.TypeDir, 0o755},
		{"usr/local/", tar.TypeDir, 0o755},
		{"usr/local/bin/", tar.TypeDir, 0o755},
		{"usr/local/bin/slipway", tar.TypeReg, 0o755},
		{"work/", tar.TypeDir, 0o755},
	}
	if len(files) != len(wants) {
		var names []string
		for _, f := range files {
			names = append(names, f.hdr.Name)
		}
		t.Fatalf("layer holds %d entries %v, want %d", len(files), names, len(wants))
	}
	bodies := map[string][]byte{}
	for i, w := range wants {
		h := files[i].hdr
		if h.Name != w.name || h.Typeflag != w.typ || h.Mode != w.mode {
			t.Errorf("entry %d = %s type %c mode %#o, want %s type %c mode %#o", i, h.Name, h.Typeflag, h.Mode, w.name, w.typ, w.mode)
		}
		// The nonroot user owns only /tmp, its home and the working
		// directory; root owns the binary and /etc.
		wantUID, wantUser := 0, "root"
		if h.Name == "tmp/" || h.Name == "home/nonroot/" || h.Name == "work/" {
			wantUID, wantUser = UID, "nonroot"
		}
		if h.Uid != wantUID || h.Gid != wantUID || h.Uname != wantUser || h.Gname != wantUser {
			t.Errorf("%s is owned by %d:%d (%s:%s), want %d:%d (%s)", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, wantUID, wantUID, wantUser)
		}
		if !h.ModTime.Equal(opts.Created) {
			t.Errorf("%s has mtime %s, want %s", h.Name, h.ModTime, opts.Created)
		}
		if h.Format != tar.FormatUSTAR {
			t.Errorf("%s is in tar format %s, want USTAR (no PAX records with access or change times)", h.Name, h.Format)
		}
		bodies[h.Name] = files[i].body
	}
	if !bytes.Equal(bodies["usr/local/bin/slipway"], opts.Binary) {
		t.Error("the layer's binary differs from Options.Binary")
	}
	if !bytes.Equal(bodies["etc/ssl/certs/ca-certificates.crt"], opts.CACerts) {
		t.Error("the layer's CA bundle differs from Options.CACerts")
	}
	if p := string(bodies["etc/passwd"]); !strings.Contains(p, "\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n") {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", p)
	}
	if g := string(bodies["etc/group"]); !strings.Contains(g, "\nnonroot:x:65532:\n") {
		t.Errorf("/etc/group has no nonroot group 65532:\n%s", g)
	}
}

func TestImageConfigAndManifest(t *testing.T) {
	opts := testOptions(t)
	img := mustBuild(t, opts)
	if err := validate.Image(img); err != nil {
		t.Fatalf("validate.Image: %v", err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("manifest %s with config %s, want %s with %s", m.MediaType, m.Config.MediaType, types.OCIManifestSchema1, types.OCIConfigJSON)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("layers = %+v, want one %s", m.Layers, types.OCILayer)
	}
	wantAnnotations := map[string]string{
		AnnotationCreated:  "2026-01-02T03:04:05Z",
		AnnotationSource:   opts.Source,
		AnnotationRevision: opts.Revision,
		AnnotationVersion:  opts.Version,
		AnnotationTitle:    "slipway",
	}
	if !reflect.DeepEqual(m.Annotations, wantAnnotations) {
		t.Errorf("manifest annotations = %v, want %v", m.Annotations, wantAnnotations)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	wantConfig := v1.Config{
		Entrypoint: []string{"/usr/local/bin/slipway"},
		User:       "65532:65532",
		WorkingDir: "/work",
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Labels:     wantAnnotations,
	}
	if !reflect.DeepEqual(cfg.Config, wantConfig) {
		t.Errorf("config = %+v\nwant %+v", cfg.Config, wantConfig)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" || !cfg.Created.Time.Equal(opts.Created) {
		t.Errorf("config says %s/%s created %s, want linux/amd64 created %s", cfg.OS, cfg.Architecture, cfg.Created.Time, opts.Created)
	}

	// Empty optional annotations are left out.
	bare := opts
	bare.Source, bare.Revision, bare.Version = "", "", ""
	bm, err := mustBuild(t, bare).Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{AnnotationCreated: "2026-01-02T03:04:05Z", AnnotationTitle: "slipway"}; !reflect.DeepEqual(bm.Annotations, want) {
		t.Errorf("annotations without source, revision and version = %v, want %v", bm.Annotations, want)
	}
}

func TestPlatform(t *testing.T) {
	tests := []struct {
		name     string
		machine  elf.Machine
		platform string
		wantArch string
	}{
		{"amd64 named", elf.EM_X86_64, "linux/amd64", "amd64"},
		{"arm64 named", elf.EM_AARCH64, "linux/arm64", "arm64"},
		{"amd64 from the binary", elf.EM_X86_64, "", "amd64"},
		{"arm64 from the binary", elf.EM_AARCH64, "", "arm64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t)
			opts.Binary = fakeELF(staticSpec(tc.machine))
			opts.Platform = tc.platform
			cfg, err := mustBuild(t, opts).ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Architecture != tc.wantArch || cfg.OS != "linux" {
				t.Errorf("platform %s/%s, want linux/%s", cfg.OS, cfg.Architecture, tc.wantArch)
			}
		})
	}
	if got, want := Platforms(), []string{"linux/amd64", "linux/arm64"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Platforms() = %v, want %v", got, want)
	}
}

func TestBuildRefuses(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-ca.crt")
	tests := []struct {
		name    string
		edit    func(*Options)
		hostCA  string // replaces the host bundle path when not empty
		wantErr string
	}{
		{"empty binary", func(o *Options) { o.Binary = nil }, "", "binary is empty"},
		{"not ELF", func(o *Options) { o.Binary = []byte("#!/bin/sh\necho hi\n") }, "", "not an ELF executable"},
		{"dynamic with loader", func(o *Options) {
			s := staticSpec(elf.EM_X86_64)
			s.progs = []elf.ProgType{elf.PT_INTERP, elf.PT_LOAD}
			s.interp = "/lib64/ld-linux-x86-64.so.2"
			o.Binary = fakeELF(s)
		}, "", `dynamically linked (it asks for the loader "/lib64/ld-linux-x86-64.so.2") but the image has no libraries: build it with CGO_ENABLED=0`},
		{"dynamic segment", func(o *Options) {
			s := staticSpec(elf.EM_X86_64)
			s.progs = []elf.ProgType{elf.PT_LOAD, elf.PT_DYNAMIC}
			o.Binary = fakeELF(s)
		}, "", "PT_DYNAMIC segment"},
		{"arm64 binary for amd64", func(o *Options) { o.Binary = fakeELF(staticSpec(elf.EM_AARCH64)) }, "", "built for linux/arm64 (ELF machine EM_AARCH64) but the image is for linux/amd64: build it with GOOS=linux GOARCH=amd64"},
		{"amd64 binary for arm64", func(o *Options) { o.Platform = "linux/arm64" }, "", "built for linux/amd64 (ELF machine EM_X86_64) but the image is for linux/arm64"},
		{"riscv binary", func(o *Options) { o.Binary = fakeELF(staticSpec(elf.EM_RISCV)); o.Platform = "" }, "", "ELF machine EM_RISCV"},
		{"32-bit binary", func(o *Options) {
			s := staticSpec(elf.EM_386)
			s.class = elf.ELFCLASS32
			o.Binary = fakeELF(s)
		}, "", "want a 64-bit little-endian one"},
		{"shared object", func(o *Options) {
			s := staticSpec(elf.EM_X86_64)
			s.typ = elf.ET_DYN
			o.Binary = fakeELF(s)
		}, "", "type ET_DYN: want an executable"},
		{"freebsd binary", func(o *Options) {
			s := staticSpec(elf.EM_X86_64)
			s.osabi = elf.ELFOSABI_FREEBSD
			o.Binary = fakeELF(s)
		}, "", "built for ELFOSABI_FREEBSD, not Linux"},
		{"windows platform", func(o *Options) { o.Platform = "windows/amd64" }, "", `platform "windows/amd64" is not supported: want one of linux/amd64, linux/arm64`},
		{"386 platform", func(o *Options) { o.Platform = "linux/386" }, "", `platform "linux/386" is not supported`},
		{"bare architecture", func(o *Options) { o.Platform = "amd64" }, "", `platform "amd64" is not supported`},
		{"empty CA bundle", func(o *Options) { o.CACerts = []byte{} }, "", "CA bundle Options.CACerts holds no PEM certificate"},
		{"CA bundle of garbage", func(o *Options) { o.CACerts = []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }, "", "holds no PEM certificate"},
		{"no host CA bundle", func(o *Options) { o.CACerts = nil }, missing, missing + " does not exist on this host: install the ca-certificates package or pass the bundle in Options.CACerts"},
		{"created before the epoch", func(o *Options) { o.Created = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }, "", "creation time 1969-12-31T00:00:00Z is outside what a tar header holds"},
		{"created too late", func(o *Options) { o.Created = time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC) }, "", "outside what a tar header holds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hostCA != "" {
				saved := hostCACerts
				hostCACerts = tc.hostCA
				t.Cleanup(func() { hostCACerts = saved })
			}
			opts := testOptions(t)
			tc.edit(&opts)
			img, err := Build(opts)
			if err == nil {
				t.Fatalf("Build succeeded with image %v, want an error containing %q", img, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestHostCABundle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ca-certificates.crt")
	if err := os.WriteFile(path, testCA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := hostCACerts
	hostCACerts = path
	t.Cleanup(func() { hostCACerts = saved })

	opts := testOptions(t)
	opts.CACerts = nil
	for _, f := range readLayer(t, mustBuild(t, opts)) {
		if f.hdr.Name == "etc/ssl/certs/ca-certificates.crt" {
			if !bytes.Equal(f.body, testCA(t)) {
				t.Error("the layer's CA bundle is not the host's")
			}
			return
		}
	}
	t.Fatal("the layer has no CA bundle")
}

// TestRealStaticBinary builds a real Go program with CGO_ENABLED=0 for
// linux/amd64 and puts it into an image.
func TestRealStaticBinary(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module tiny\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"tiny\") }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "tiny")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bin, err := readStatic(out, "amd64")
	if err != nil {
		t.Fatalf("readStatic refused a CGO_ENABLED=0 build: %v", err)
	}
	if _, err := readStatic(out, "arm64"); err == nil || !strings.Contains(err.Error(), "built for linux/amd64") {
		t.Errorf("readStatic for arm64 = %v, want a wrong-architecture error", err)
	}
	opts := testOptions(t)
	opts.Binary = bin
	opts.Platform = ""
	for _, f := range readLayer(t, mustBuild(t, opts)) {
		if f.hdr.Name == "usr/local/bin/slipway" {
			if !bytes.Equal(f.body, bin) {
				t.Error("the layer's binary differs from the built one")
			}
			return
		}
	}
	t.Fatal("the layer has no binary")
}

// TestCurrentBinary checks CurrentBinary against an independent reading of
// the test binary: it must return the bytes of a static executable and
// refuse a dynamic one with the CGO_ENABLED=0 hint.
func TestCurrentBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	dynamic := false
	for _, p := range f.Progs {
		dynamic = dynamic || p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC
	}
	f.Close()
	got, err := CurrentBinary()
	if dynamic {
		if err == nil || !strings.Contains(err.Error(), "build it with CGO_ENABLED=0") {
			t.Fatalf("CurrentBinary on a dynamic test binary = %v, want the CGO_ENABLED=0 hint", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("CurrentBinary on a static test binary: %v", err)
	}
	want, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("CurrentBinary returned bytes other than the executable's")
	}
}

func TestReadStaticRefusesDynamic(t *testing.T) {
	s := staticSpec(elf.EM_X86_64)
	s.progs = []elf.ProgType{elf.PT_INTERP, elf.PT_LOAD}
	s.interp = "/lib/ld-musl-x86_64.so.1"
	path := filepath.Join(t.TempDir(), "slipway")
	if err := os.WriteFile(path, fakeELF(s), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := readStatic(path, "amd64")
	if err == nil || !strings.Contains(err.Error(), path+": binary is dynamically linked") || !strings.Contains(err.Error(), "build it with CGO_ENABLED=0") {
		t.Fatalf("readStatic = %v, want a dynamic-linking error naming %s with the CGO_ENABLED=0 hint", err, path)
	}
}

func FuzzCheckStatic(f *testing.F) {
	f.Add(fakeELF(staticSpec(elf.EM_X86_64)), "linux/amd64")
	f.Add(fakeELF(staticSpec(elf.EM_AARCH64)), "")
	dyn := staticSpec(elf.EM_X86_64)
	dyn.progs = []elf.ProgType{elf.PT_INTERP, elf.PT_DYNAMIC, elf.PT_LOAD}
	dyn.interp = "/lib64/ld-linux-x86-64.so.2"
	f.Add(fakeELF(dyn), "linux/amd64")
	f.Add([]byte("\x7fELF"), "linux/arm64")
	f.Add([]byte{}, "windows/amd64")
	f.Fuzz(func(t *testing.T, bin []byte, platform string) {
		arch, perr := parsePlatform(platform)
		if perr != nil {
			return
		}
		got, err := checkStatic(bin, arch)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if arch != "" && got != arch {
			t.Fatalf("accepted a binary for %s as %s", got, arch)
		}
		// An accepted binary must really be a static executable.
		ef, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("accepted a file debug/elf cannot open: %v", err)
		}
		defer ef.Close()
		if ef.Type != elf.ET_EXEC || ef.Machine != machines[got] {
			t.Fatalf("accepted type %s machine %s as %s", ef.Type, ef.Machine, got)
		}
		for _, p := range ef.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Fatalf("accepted a binary with a %s segment", p.Type)
			}
		}
	})
}
