//go:build hostkern

// The kernels' own source, run on the CPU: mlp.cu is rewritten into C++
// (block threads as std::threads meeting at a std::barrier, the inline PTX
// operations as single float operations, mma.sync as the PTX ISA's
// m16n8k8 tf32 fragment exchange), built with clang++ into a shared
// library, loaded with purego and driven by CheckStep's problems against
// the emulator. Run with
//
//	go test -tags hostkern -run TestKernelSourceOnHost ./runners/train/gpu/mlp/
//
// It needs clang++-16 (or $CXX) with C++20, and takes about a minute.
package gpumlp

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

// hostRewrites turn mlp.cu into host C++; each must match.
var hostRewrites = [][2]string{
	{`#define __global__ __attribute__((global))`, `#define __global__`},
	{`#define __device__ __attribute__((device))`, `#define __device__`},
	{`#define __shared__ __attribute__((shared))`, `#define __shared__ static`},
	{`#define __launch_bounds__(n) __attribute__((launch_bounds(n)))`, `#define __launch_bounds__(n)`},
	{`#define INLINE static __device__ __attribute__((always_inline)) inline`, `#define INLINE static inline`},
	{`__nvvm_read_ptx_sreg_tid_x()`, `T_tid`},
	{`__nvvm_read_ptx_sreg_ctaid_x()`, `T_bx`},
	{`__nvvm_read_ptx_sreg_ctaid_y()`, `T_by`},
	{`__nvvm_read_ptx_sreg_ctaid_z()`, `T_bz`},
	{`__nvvm_read_ptx_sreg_ntid_x()`, `T_bdim`},
	{`__nvvm_read_ptx_sreg_nctaid_x()`, `T_gdim`},
	{`__nvvm_bar_sync(0)`, `T_bar->arrive_and_wait()`},
	{`float r; asm("mul.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b)); return r;`, `volatile float r = a * b; return r;`},
	{`float r; asm("add.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b)); return r;`, `volatile float r = a + b; return r;`},
	{`float r; asm("sub.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b)); return r;`, `volatile float r = a - b; return r;`},
	{`return __nvvm_div_rn_f(a, b);`, `volatile float r = a / b; return r;`},
	{`static __device__ __attribute__((noinline)) void epilogue(`, `static void epilogue(`},
	{`__nvvm_sqrt_rn_f(`, `sqrtf(`},
	{`__builtin_rintf(`, `rintf(`},
	{`__builtin_bit_cast(float, e << 23)`, `bitcast_f(e << 23)`},
	{`asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(v));`, `memcpy(&r, &v, 4); if ((r & 0x7f800000u) != 0x7f800000u) r = (r + 0x1000u) & ~0x1fffu;`},
	{`extern "C" __global__ void __launch_bounds__(256) `, `static void `},
	{`extern "C" __global__ void `, `static void `},
}

var mmaAsm = regexp.MustCompile(`asm volatile\("mma\.sync[^;]*;"\s*:[^;]*;`)

const hostPrelude = `#include <barrier>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>
#define sync hk_sync
#define div hk_div
#define fma hk_fma
typedef long long i64;
static thread_local int T_tid, T_bx, T_by, T_bz, T_bdim, T_gdim;
static thread_local std::barrier<>* T_bar;
static unsigned long long __nvvm_mulhi_ull(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
static float bitcast_f(int v) { float f; memcpy(&f, &v, 4); return f; }
static float uf(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
// mma.sync.m16n8k8 with tf32 operands: A rows g, g+8 and columns t, t+4
// in a0..a3; B rows t, t+4 and column g in b0, b1; C rows g, g+8 and
// columns 2t, 2t+1 in c0..c3; each sum from c in order of k.
static unsigned SA[8][32][4], SB[8][32][2];
static void mma_shim(float* c, const unsigned* a, const unsigned* b) {
  int w = T_tid / 32, lane = T_tid % 32, g = lane / 4, tg = lane % 4;
  for (int i = 0; i < 4; i++) SA[w][lane][i] = a[i];
  for (int i = 0; i < 2; i++) SB[w][lane][i] = b[i];
  T_bar->arrive_and_wait();
  float d[4];
  for (int q = 0; q < 4; q++) {
    int row = g + (q / 2) * 8, col = 2 * tg + (q & 1);
    float acc = c[q];
    for (int k = 0; k < 8; k++)
      acc = fmaf(uf(SA[w][(row % 8) * 4 + k % 4][(row >= 8 ? 1 : 0) + (k >= 4 ? 2 : 0)]),
                 uf(SB[w][col * 4 + k % 4][k >= 4 ? 1 : 0]), acc);
    d[q] = acc;
  }
  T_bar->arrive_and_wait();
  for (int q = 0; q < 4; q++) c[q] = d[q];
}
`

const hostLaunchers = `
static void launch(int gx, int gy, int gz, int bd, std::function<void()> k) {
  for (int z = 0; z < gz; z++)
    for (int y = 0; y < gy; y++)
      for (int x = 0; x < gx; x++) {
        std::barrier<> bar(bd);
        std::vector<std::thread> th;
        for (int t = 0; t < bd; t++)
          th.emplace_back([&, t] { T_tid = t; T_bx = x; T_by = y; T_bz = z; T_bdim = bd; T_gdim = gx; T_bar = &bar; k(); });
        for (auto& t : th) t.join();
      }
}
#define P(i) ((float*)a[i])
#define I(i) ((int)a[i])
#define F(i) bitcast_f((int)a[i])
extern "C" {
void hk_gather(const i64* a) {
  launch(I(0), 1, 1, 256, [=] { mlp_gather(P(1), P(2), (const int*)a[3], I(4), I(5), I(6), P(7), P(8)); });
}
void hk_dropmask(const i64* a) {
  launch(I(0), 1, 1, 128, [=] { mlp_dropmask(P(1), I(2), I(3), (unsigned long long)a[4], I(5), I(6), (unsigned long long)a[7], F(8)); });
}
void hk_gemm(const i64* a) {
  auto k = I(22) == 2 ? mlp_gemm_tf32 : I(22) == 1 ? mlp_gemm_big : mlp_gemm;
  launch(I(0), I(1), I(2), 256, [=] {
    k(I(3), I(4), I(5), I(6), I(7), P(8), I(9), I(10), P(11), I(12), I(13), P(14), I(15), I(16), P(17), I(18), I(19), P(20), P(21));
  });
}
void hk_gemm_group(const i64* a) {
  launch(I(0), 1, 1, 256, [=] { mlp_gemm_group((const long long*)a[1], I(2)); });
}
void hk_output(const i64* a) {
  launch(I(0), 1, 1, 256, [=] { mlp_output(P(1), I(2), P(3), P(4), I(5), I(6), P(7), P(8), P(9), I(10), P(11), P(12), I(13)); });
}
void hk_adam(const i64* a) {
  launch(I(0), I(1), 1, 256, [=] { mlp_adam(P(2), P(3), P(4), P(5), (const int*)a[6], F(7), F(8), F(9)); });
}
}
`

// hostSource rewrites mlp.cu into host C++.
func hostSource(cu string) (string, error) {
	for _, r := range hostRewrites {
		if !strings.Contains(cu, r[0]) {
			return "", fmt.Errorf("mlp.cu no longer contains %q", r[0])
		}
		cu = strings.ReplaceAll(cu, r[0], r[1])
	}
	if !mmaAsm.MatchString(cu) {
		return "", fmt.Errorf("mlp.cu has no mma.sync statement")
	}
	cu = mmaAsm.ReplaceAllString(cu, "mma_shim(acc[mi][ni], fa[mi], fb[ni]);")
	return hostPrelude + cu + hostLaunchers, nil
}

// hostKernels runs the kernels compiled for the host on the emulator's
// buffers.
type hostKernels struct {
	*emulator
	big                                                     bool // 128×128 tiles for the float32 products
	gatherFn, dropmaskFn, gemmFn, groupFn, outputFn, adamFn func(args *int64)
}

// p is the address of r's words (0 for the null ref).
func (h *hostKernels) p(r ref) int64 {
	if r.b == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(&h.bufs[r.b][r.off])))
}

func (h *hostKernels) call(fn func(*int64), args ...int64) error {
	fn(&args[0])
	runtime.KeepAlive(h.bufs)
	return nil
}

func f32(v float32) int64 { return int64(math.Float32bits(v)) }

func (h *hostKernels) gather(x, y, perm ref, start, rows, d int, a, yb ref) error {
	g := min(blocks(rows*d, flatThreads), 65535)
	return h.call(h.gatherFn, int64(g), h.p(x), h.p(y), h.p(perm), int64(start), int64(rows), int64(d), h.p(a), h.p(yb))
}

func (h *hostKernels) dropmask(keep ref, rows, n int, seed uint64, layers, l int, thresh uint64, keepf float32) error {
	return h.call(h.dropmaskFn, int64(blocks(rows, 128)), h.p(keep), int64(rows), int64(n), int64(seed), int64(layers), int64(l), int64(thresh), f32(keepf))
}

// kind picks the tiles as the device would with h.big.
func (h *hostKernels) kind(g gemmArgs) int {
	switch {
	case g.tf32:
		return tileTF32
	case h.big:
		return tileBig
	}
	return tileSmall
}

func (h *hostKernels) gemm(g gemmArgs) error {
	kind := h.kind(g)
	across, down := g.tiles(kind)
	return h.call(h.gemmFn, int64(across), int64(down), int64(g.splits()),
		int64(g.m), int64(g.mp), int64(g.n), int64(g.k), int64(g.kc), h.p(g.p), int64(g.pa), int64(g.pt),
		h.p(g.q), int64(g.qt), int64(g.qb), h.p(g.c), int64(g.ldc), int64(g.cz), h.p(g.init),
		int64(g.mode), int64(g.act), h.p(g.keep), h.p(g.aux), int64(kind))
}

func (h *hostKernels) gemmGroup(_ int, gs []gemmArgs) error {
	words, blocks := groupTable(gs, h.p, h.kind)
	err := h.call(h.groupFn, int64(blocks), int64(uintptr(unsafe.Pointer(&words[0]))), int64(len(gs)))
	runtime.KeepAlive(words)
	return err
}

func (h *hostKernels) output(o outputArgs) error {
	return h.call(h.outputFn, int64(outputBlocks(o.rows)), h.p(o.a), int64(o.h), h.p(o.w), h.p(o.y), int64(o.rows), int64(o.task),
		h.p(o.z), h.p(o.delta), h.p(o.prev), int64(o.act), h.p(o.keep), h.p(o.out), int64(o.slot))
}

func (h *hostKernels) adam(a adamArgs) error {
	return h.call(h.adamFn, int64(blocks(a.most, flatThreads)), int64(a.layers), h.p(a.w), h.p(a.m), h.p(a.v), h.p(a.part),
		h.p(a.table), f32(a.l2), f32(a.bs), f32(a.lr))
}

func TestKernelSourceOnHost(t *testing.T) {
	cu, err := os.ReadFile("mlp.cu")
	if err != nil {
		t.Fatal(err)
	}
	src, err := hostSource(string(cu))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cpp, lib := filepath.Join(dir, "kernels.cpp"), filepath.Join(dir, "kernels.so")
	if err := os.WriteFile(cpp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cxx := os.Getenv("CXX")
	if cxx == "" {
		cxx = "clang++-16"
	}
	if out, err := exec.Command(cxx, "-std=c++20", "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-o", lib, cpp).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cxx, err, out)
	}
	handle, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		t.Fatal(err)
	}
	newHost := func(big bool) *hostKernels {
		h := &hostKernels{emulator: newEmulator(), big: big}
		for name, fn := range map[string]*func(*int64){"hk_gather": &h.gatherFn, "hk_dropmask": &h.dropmaskFn,
			"hk_gemm": &h.gemmFn, "hk_gemm_group": &h.groupFn, "hk_output": &h.outputFn, "hk_adam": &h.adamFn} {
			purego.RegisterLibFunc(fn, handle, name)
		}
		return h
	}
	for _, tc := range []struct {
		name string
		opts Options
		big  bool
	}{{"64×64 tiles", Options{}, false}, {"128×128 tiles", Options{}, true}, {"tf32", Options{TF32: true}, false}} {
		e, err := check(newHost(tc.big), tc.opts, 11)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("%s: relative difference from the emulator %g", tc.name, e)
		if e != 0 {
			t.Errorf("%s: the kernels' source computes other bits than the emulator (relative difference %g)", tc.name, e)
		}
	}
}
