package cuda

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

func TestOpenWithoutDriver(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libcuda.so.1")
	t.Setenv(LibraryEnv, missing)
	c, err := Open(0)
	if c != nil || err == nil {
		t.Fatalf("Open = %v, %v; want an error", c, err)
	}
	if !errors.Is(err, ErrNoDriver) {
		t.Errorf("error %v does not wrap ErrNoDriver", err)
	}
	for _, want := range []string{"no NVIDIA driver", missing, LibraryEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOpenNotALibrary(t *testing.T) {
	bogus := filepath.Join(t.TempDir(), "libcuda.so.1")
	if err := os.WriteFile(bogus, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(LibraryEnv, bogus)
	if _, err := Open(0); !errors.Is(err, ErrNoDriver) {
		t.Fatalf("Open on a non-library = %v; want ErrNoDriver", err)
	}
}

func TestResultNames(t *testing.T) {
	tests := []struct {
		r    Result
		name string
		err  string
	}{
		{0, "CUDA_SUCCESS", "CUDA_SUCCESS (0)"},
		{1, "CUDA_ERROR_INVALID_VALUE", "CUDA_ERROR_INVALID_VALUE (1)"},
		{100, "CUDA_ERROR_NO_DEVICE", "CUDA_ERROR_NO_DEVICE (100)"},
		{201, "CUDA_ERROR_INVALID_CONTEXT", "CUDA_ERROR_INVALID_CONTEXT (201)"},
		{218, "CUDA_ERROR_INVALID_PTX", "CUDA_ERROR_INVALID_PTX (218)"},
		{700, "CUDA_ERROR_ILLEGAL_ADDRESS", "CUDA_ERROR_ILLEGAL_ADDRESS (700)"},
		{999, "CUDA_ERROR_UNKNOWN", "CUDA_ERROR_UNKNOWN (999)"},
		{12345, "CUDA_ERROR_UNKNOWN_CODE(12345)", "CUDA_ERROR_UNKNOWN_CODE(12345)"},
		{-3, "CUDA_ERROR_UNKNOWN_CODE(-3)", "CUDA_ERROR_UNKNOWN_CODE(-3)"},
	}
	for _, tt := range tests {
		if got := tt.r.Name(); got != tt.name {
			t.Errorf("Result(%d).Name() = %q; want %q", int(tt.r), got, tt.name)
		}
		if got := tt.r.Error(); got != tt.err {
			t.Errorf("Result(%d).Error() = %q; want %q", int(tt.r), got, tt.err)
		}
	}
	// Every named code follows the CUDA_ naming and is unique.
	seen := map[string]Result{}
	for r, n := range resultNames {
		if !strings.HasPrefix(n, "CUDA_") {
			t.Errorf("code %d named %q", int(r), n)
		}
		if o, dup := seen[n]; dup {
			t.Errorf("%s names both %d and %d", n, int(o), int(r))
		}
		seen[n] = r
	}
	if len(resultNames) < 100 {
		t.Errorf("table has %d codes; cuda.h defines over 100", len(resultNames))
	}
}

func TestCallError(t *testing.T) {
	if err := check(Success, "cuInit"); err != nil {
		t.Fatalf("check(Success) = %v", err)
	}
	err := check(201, "cuMemAlloc_v2")
	if got, want := err.Error(), "CUDA_ERROR_INVALID_CONTEXT (201): cuMemAlloc_v2"; got != want {
		t.Errorf("error = %q; want %q", got, want)
	}
	var r Result
	if !errors.As(err, &r) || r != 201 {
		t.Errorf("errors.As found %v; want 201", r)
	}
	if !errors.Is(err, Result(201)) || errors.Is(err, Result(200)) {
		t.Error("errors.Is does not match the Result exactly")
	}
}

func TestPackArgs(t *testing.T) {
	args := []any{Ptr(0xdeadbeef00), int32(-2), uint32(7), int64(-5), uint64(1 << 40), float32(1.5), float64(-2.25)}
	p, err := packArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.ptrs) < len(args) {
		t.Fatalf("%d pointers for %d args", len(p.ptrs), len(args))
	}
	// Read each argument back through the pointer array, as the driver does.
	at := func(i int) unsafe.Pointer { return unsafe.Pointer(&p.slots[i]) }
	for i := range args {
		if p.ptrs[i] != uintptr(at(i)) {
			t.Fatalf("pointer %d does not point at slot %d", i, i)
		}
	}
	if got := *(*uint64)(at(0)); got != 0xdeadbeef00 {
		t.Errorf("Ptr = %#x", got)
	}
	if got := *(*int32)(at(1)); got != -2 {
		t.Errorf("int32 = %d", got)
	}
	if got := *(*uint32)(at(2)); got != 7 {
		t.Errorf("uint32 = %d", got)
	}
	if got := *(*int64)(at(3)); got != -5 {
		t.Errorf("int64 = %d", got)
	}
	if got := *(*uint64)(at(4)); got != 1<<40 {
		t.Errorf("uint64 = %d", got)
	}
	if got := *(*float32)(at(5)); got != 1.5 {
		t.Errorf("float32 = %v", got)
	}
	if got := *(*float64)(at(6)); got != -2.25 {
		t.Errorf("float64 = %v", got)
	}
	for _, bad := range []any{int(3), "x", []float32{1}, float32ptr()} {
		if _, err := packArgs([]any{Ptr(1), bad}); err == nil || !strings.Contains(err.Error(), "argument 1") {
			t.Errorf("packArgs(%T) = %v; want an error naming argument 1", bad, err)
		}
	}
	if p, err := packArgs(nil); err != nil || len(p.ptrs) == 0 {
		t.Errorf("packArgs(nil) = %v, %v; want an empty, addressable block", p, err)
	}
}

func float32ptr() *float32 { v := float32(1); return &v }

func TestViews(t *testing.T) {
	f := []float32{1, -2.5, float32(math.Inf(1))}
	b := Float32Bytes(f)
	if len(b) != 12 {
		t.Fatalf("len = %d", len(b))
	}
	back := BytesFloat32(b)
	back[1] = 4
	if f[1] != 4 {
		t.Error("BytesFloat32 copied instead of sharing")
	}
	d := []float64{math.Pi, -1}
	if got := BytesFloat64(Float64Bytes(d)); got[0] != math.Pi || len(got) != 2 {
		t.Errorf("float64 round trip = %v", got)
	}
	i := []int32{-7, 1 << 30}
	if got := BytesInt32(Int32Bytes(i)); got[0] != -7 || got[1] != 1<<30 {
		t.Errorf("int32 round trip = %v", got)
	}
	u := []uint32{math.MaxUint32, 3}
	if got := BytesUint32(Uint32Bytes(u)); got[0] != math.MaxUint32 {
		t.Errorf("uint32 round trip = %v", got)
	}
	if Float32Bytes(nil) != nil || BytesFloat32(nil) != nil {
		t.Error("empty views are not nil")
	}
	for name, f := range map[string]func(){
		"short": func() { BytesFloat32(make([]byte, 6)) },
		"align": func() { BytesFloat64(make([]byte, 24)[4:20]) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestClosedContext(t *testing.T) {
	c := &Context{closed: true}
	if err := c.Synchronize(); !errors.Is(err, ErrClosed) {
		t.Errorf("Synchronize on a closed context = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	q := &Queue{c: c}
	if err := q.Memset(1, 8); err == nil {
		t.Error("a dead Queue ran")
	}
}

// TestBuildsWithoutCgo builds and runs a program using the package with
// cgo off: it must load (or fail to load) the driver through purego alone.
func TestBuildsWithoutCgo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "probe")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	run := exec.Command(bin)
	run.Env = append(os.Environ(), LibraryEnv+"="+filepath.Join(t.TempDir(), "none.so"))
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "no GPU: no NVIDIA driver") {
		t.Errorf("probe printed %q; want the no-driver message", out)
	}
}
