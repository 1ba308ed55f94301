// Kernels of the multi-layer perceptron's training step, float32 throughout.
//
// Every floating-point operation is written out explicitly (fma.rn, mul.rn,
// add.rn, div.rn, sqrt.rn), so that no compiler contracts or reorders
// them: emulate.go repeats exactly these operations in the same order and
// gets the same bits. Each output element of a matrix product is summed by
// one thread, from its initial value, in order of the reduction index.
// The one exception is mlp_gemm_tf32, the tensor-core variant, whose
// mma.sync sums eight products at a time with the hardware's own rounding:
// the emulator matches its tf32 operands, and its sums to rounding only.

#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __launch_bounds__(n) __attribute__((launch_bounds(n)))
#define INLINE static __device__ __attribute__((always_inline)) inline

typedef unsigned long long u64;

INLINE int tid() { return __nvvm_read_ptx_sreg_tid_x(); }
INLINE int bidx() { return __nvvm_read_ptx_sreg_ctaid_x(); }
INLINE int bidy() { return __nvvm_read_ptx_sreg_ctaid_y(); }
INLINE int bidz() { return __nvvm_read_ptx_sreg_ctaid_z(); }
INLINE int bdim() { return __nvvm_read_ptx_sreg_ntid_x(); }
INLINE int gdim() { return __nvvm_read_ptx_sreg_nctaid_x(); }
INLINE void sync() { __nvvm_bar_sync(0); }

INLINE float mul(float a, float b) { float r; asm("mul.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b)); return r; }
INLINE float add(float a, float b) { float r; asm("add.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b)); return r; }
INLINE float sub(float a, float b) { float r; asm("sub.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b)); return r; }
INLINE float fma(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
INLINE float div(float a, float b) { return __nvvm_div_rn_f(a, b); }

// exp32 is e^x: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-7
// polynomial, then scaled by 2^n.
INLINE float exp32(float x) {
  if (x > 88.0f) return __builtin_inff();
  if (x < -87.0f) return 0.0f;
  float n = __builtin_rintf(mul(x, 1.44269502f));
  float r = fma(n, -0.693145752f, x);
  r = fma(n, -1.42860677e-06f, r);
  float p = 1.98412698e-04f;
  p = fma(p, r, 1.38888889e-03f);
  p = fma(p, r, 8.33333333e-03f);
  p = fma(p, r, 4.16666667e-02f);
  p = fma(p, r, 1.66666667e-01f);
  p = fma(p, r, 0.5f);
  p = fma(p, r, 1.0f);
  p = fma(p, r, 1.0f);
  int e = (int)n + 127;
  return mul(p, __builtin_bit_cast(float, e << 23));
}

// log1p32 is log(1+u) for 0 ≤ u ≤ 1: 2·atanh(u/(2+u)) by its series.
INLINE float log1p32(float u) {
  float f = div(u, add(2.0f, u));
  float f2 = mul(f, f);
  float p = 6.66666667e-02f;
  p = fma(p, f2, 7.69230769e-02f);
  p = fma(p, f2, 9.09090909e-02f);
  p = fma(p, f2, 1.11111111e-01f);
  p = fma(p, f2, 1.42857143e-01f);
  p = fma(p, f2, 2.0e-01f);
  p = fma(p, f2, 3.33333333e-01f);
  p = fma(p, f2, 1.0f);
  return mul(mul(2.0f, f), p);
}

INLINE float sigmoid32(float z) {
  if (z >= 0.0f) return div(1.0f, add(1.0f, exp32(-z)));
  float e = exp32(z);
  return div(e, add(1.0f, e));
}

INLINE float tanh32(float x) {
  float a = __builtin_fabsf(x);
  float t = sub(1.0f, div(2.0f, add(exp32(mul(2.0f, a)), 1.0f)));
  return x < 0.0f ? -t : t;
}

enum { RELU = 0, TANH = 1, SIGMOID = 2 };

INLINE float activate(float v, int act) {
  if (act == TANH) return tanh32(v);
  if (act == SIGMOID) return sigmoid32(v);
  return v > 0.0f ? v : 0.0f;
}

// mlp_gather copies the batch's rows perm[start..start+rows) of X (n×d,
// row-major) into A (rows×d) and their labels into yb.
extern "C" __global__ void mlp_gather(const float* X, const float* Y, const int* perm, int start, int rows, int d,
                                      float* A, float* yb) {
  long long total = (long long)rows * d;
  for (long long i = (long long)bidx() * bdim() + tid(); i < total; i += (long long)gdim() * bdim()) {
    int r = (int)(i / d), j = (int)(i % d);
    long long src = perm[start + r];
    A[i] = X[src * d + j];
    if (j == 0) yb[r] = Y[src];
  }
}

// PCG is math/rand/v2's PCG: a 128-bit LCG with the DXSM output.
struct pcg {
  u64 hi, lo;
};

INLINE u64 pcg_next(pcg* p) {
  const u64 mulHi = 2549297995355413924ull, mulLo = 4865540595714422341ull;
  const u64 incHi = 6364136223846793005ull, incLo = 1442695040888963407ull;
  u64 hi = __nvvm_mulhi_ull(p->lo, mulLo);
  u64 lo = p->lo * mulLo;
  hi += p->hi * mulLo + p->lo * mulHi;
  u64 lo2 = lo + incLo;
  hi += incHi + (lo2 < lo ? 1ull : 0ull);
  p->hi = hi;
  p->lo = lo2;
  hi ^= hi >> 32;
  hi *= 0xda942042e4dd58b5ull;
  hi ^= hi >> 48;
  hi *= (lo2 | 1ull);
  return hi;
}

// mlp_dropmask draws the dropout factors of hidden layer l for rows of n
// units: row r's stream is PCG(seed, r·layers+l), one draw per unit in
// order; a unit is dropped (factor 0) when its draw's top 53 bits are
// below thresh, and kept (factor keepf) otherwise.
extern "C" __global__ void mlp_dropmask(float* keep, int rows, int n, u64 seed, int layers, int l, u64 thresh,
                                        float keepf) {
  int r = bidx() * bdim() + tid();
  if (r >= rows) return;
  pcg p = {seed, (u64)r * (u64)layers + (u64)l};
  float* out = keep + (long long)r * n;
  for (int k = 0; k < n; k++) {
    u64 u = pcg_next(&p) << 11 >> 11;
    out[k] = u < thresh ? 0.0f : keepf;
  }
}

enum { STORE = 0, HIDDEN = 1, BACKWARD = 3 };

// epilogue applies mlp_gemm's epilogue of mode HIDDEN or BACKWARD to the
// sum v of element o and stores it in block z's output; it is called, not
// inlined, to keep the unrolled kernels small.
static __device__ __attribute__((noinline)) void epilogue(float* C, int z, int cz, long long o, float v, int mode, int act,
                                                    const float* keep, const float* aux) {
  if (mode == HIDDEN) {
    v = activate(v, act);
    if (keep != 0) v = mul(v, keep[o]);
  } else if (mode == BACKWARD) {
    float f = 1.0f;
    if (keep != 0) {
      f = keep[o];
      v = mul(v, f);
    }
    float y = aux[o];
    if (act == RELU) {
      v = y > 0.0f ? v : 0.0f;
    } else {
      if (keep != 0 && f != 0.0f) y = div(y, f);
      if (act == TANH) v = mul(v, sub(1.0f, mul(y, y)));
      else v = mul(v, mul(y, sub(1.0f, y)));
    }
  }
  C[(long long)z * cz + o] = v;
}

// finish stores the sum v of element o in block z's output, through
// epilogue for the modes that have one.
INLINE void finish(float* C, int z, int cz, long long o, float v, int mode, int act, const float* keep,
                   const float* aux) {
  if (mode == STORE) C[(long long)z * cz + o] = v;
  else epilogue(C, z, cz, o, v, mode, act, keep, aux);
}

#define BM 64
#define BN 64
#define BK 16

// gemm_tile computes tile (bx, by) of block z of mlp_gemm, which sets C[a][b] = init[b] + Σ_t P(a,t)·Q(t,b) for a < M, b < N,
// t in block z's share [z·kc, min((z+1)·kc, K)) of the reduction, with
// P(a,t) = P[a·pa + t·pt] for a < Mp and 1 for Mp ≤ a < M (the row that
// sums a bias gradient), Q(t,b) = Q[t·qt + b·qb], and C[a][b] at
// C[z·cz + a·ldc + b]. A nil init starts from 0. The epilogue by mode:
//   STORE     the sum;
//   HIDDEN    act(sum), times keep[a·ldc+b] when keep is not nil;
//   BACKWARD  the sum times keep (when not nil), times the derivative of
//             the activation whose output (after dropout) is aux[a·ldc+b].
// 256 threads compute a 64×64 tile, each 4×4 elements strided by 16.
INLINE void gemm_tile(int M, int Mp, int N, int K, int kc, const float* P, int pa, int pt, const float* Q, int qt,
                      int qb, float* C, int ldc, int cz, const float* init, int mode, int act, const float* keep,
                      const float* aux, int bx, int by, int z) {
  __shared__ float Ps[BK][BM + 1];
  __shared__ float Qs[BK][BN + 1];
  int t = tid(), tx = t % 16, ty = t / 16;
  int a0 = by * BM, b0 = bx * BN;
  int k0 = z * kc, k1 = k0 + kc < K ? k0 + kc : K;
  float acc[4][4];
  _Pragma("unroll") for (int i = 0; i < 4; i++)
    _Pragma("unroll") for (int j = 0; j < 4; j++) {
      int b = b0 + tx + 16 * j;
      acc[i][j] = (init != 0 && b < N) ? init[b] : 0.0f;
    }
  for (int c0 = k0; c0 < k1; c0 += BK) {
    int len = k1 - c0 < BK ? k1 - c0 : BK;
    for (int e = t; e < BM * BK; e += 256) {
      int ai, ti;
      if (pt == 1) { ai = e / BK; ti = e % BK; } else { ai = e % BM; ti = e / BM; }
      int a = a0 + ai, tt = c0 + ti;
      float v = 0.0f;
      if (a < M && ti < len) v = a < Mp ? P[(long long)a * pa + (long long)tt * pt] : 1.0f;
      Ps[ti][ai] = v;
    }
    for (int e = t; e < BN * BK; e += 256) {
      int bi, ti;
      if (qb == 1) { bi = e % BN; ti = e / BN; } else { bi = e / BK; ti = e % BK; }
      int b = b0 + bi, tt = c0 + ti;
      float v = 0.0f;
      if (b < N && ti < len) v = Q[(long long)tt * qt + (long long)b * qb];
      Qs[ti][bi] = v;
    }
    sync();
    for (int kk = 0; kk < len; kk++) {
      float p[4], q[4];
      _Pragma("unroll") for (int i = 0; i < 4; i++) p[i] = Ps[kk][ty + 16 * i];
      _Pragma("unroll") for (int j = 0; j < 4; j++) q[j] = Qs[kk][tx + 16 * j];
      _Pragma("unroll") for (int i = 0; i < 4; i++)
        _Pragma("unroll") for (int j = 0; j < 4; j++) acc[i][j] = fma(p[i], q[j], acc[i][j]);
    }
    sync();
  }
  _Pragma("unroll") for (int i = 0; i < 4; i++) {
    int a = a0 + ty + 16 * i;
    _Pragma("unroll") for (int j = 0; j < 4; j++) {
      int b = b0 + tx + 16 * j;
      if (a < M && b < N) finish(C, z, cz, (long long)a * ldc + b, acc[i][j], mode, act, keep, aux);
    }
  }
}

#define BM2 128
#define BN2 128
#define BK2 8

typedef float float4v __attribute__((ext_vector_type(4)));

// gemm_tile_big is gemm_tile with 128×128 tiles for large products: each
// of the 256 threads computes 8×8 elements, rows 4·ty..4·ty+3 and
// 64+4·ty..64+4·ty+3 by columns 4·tx..4·tx+3 and 64+4·tx..64+4·tx+3,
// reading its operands from shared memory four at a time. Every element is
// summed as in gemm_tile, so the results are the same bits.
INLINE void gemm_tile_big(int M, int Mp, int N, int K, int kc, const float* P, int pa, int pt, const float* Q, int qt,
                          int qb, float* C, int ldc, int cz, const float* init, int mode, int act, const float* keep,
                          const float* aux, int bx, int by, int z) {
  __shared__ __attribute__((aligned(16))) float Ps[BK2][BM2 + 4];
  __shared__ __attribute__((aligned(16))) float Qs[BK2][BN2 + 4];
  int t = tid(), tx = t % 16, ty = t / 16;
  int a0 = by * BM2, b0 = bx * BN2;
  int k0 = z * kc, k1 = k0 + kc < K ? k0 + kc : K;
  float acc[8][8];
  _Pragma("unroll") for (int i = 0; i < 8; i++)
    _Pragma("unroll") for (int j = 0; j < 8; j++) {
      int b = b0 + (j / 4) * 64 + tx * 4 + j % 4;
      acc[i][j] = (init != 0 && b < N) ? init[b] : 0.0f;
    }
  for (int c0 = k0; c0 < k1; c0 += BK2) {
    int len = k1 - c0 < BK2 ? k1 - c0 : BK2;
    for (int e = t; e < BM2 * BK2; e += 256) {
      int ai, ti;
      if (pt == 1) { ai = e / BK2; ti = e % BK2; } else { ai = e % BM2; ti = e / BM2; }
      int a = a0 + ai, tt = c0 + ti;
      float v = 0.0f;
      if (a < M && ti < len) v = a < Mp ? P[(long long)a * pa + (long long)tt * pt] : 1.0f;
      Ps[ti][ai] = v;
    }
    for (int e = t; e < BN2 * BK2; e += 256) {
      int bi, ti;
      if (qb == 1) { bi = e % BN2; ti = e / BN2; } else { bi = e / BK2; ti = e % BK2; }
      int b = b0 + bi, tt = c0 + ti;
      float v = 0.0f;
      if (b < N && ti < len) v = Q[(long long)tt * qt + (long long)b * qb];
      Qs[ti][bi] = v;
    }
    sync();
    for (int kk = 0; kk < len; kk++) {
      float4v p0 = *(const float4v*)&Ps[kk][ty * 4], p1 = *(const float4v*)&Ps[kk][64 + ty * 4];
      float4v q0 = *(const float4v*)&Qs[kk][tx * 4], q1 = *(const float4v*)&Qs[kk][64 + tx * 4];
      float p[8] = {p0.x, p0.y, p0.z, p0.w, p1.x, p1.y, p1.z, p1.w};
      float q[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
      _Pragma("unroll") for (int i = 0; i < 8; i++)
        _Pragma("unroll") for (int j = 0; j < 8; j++) acc[i][j] = fma(p[i], q[j], acc[i][j]);
    }
    sync();
  }
  _Pragma("unroll") for (int i = 0; i < 8; i++) {
    int a = a0 + (i / 4) * 64 + ty * 4 + i % 4;
    _Pragma("unroll") for (int j = 0; j < 8; j++) {
      int b = b0 + (j / 4) * 64 + tx * 4 + j % 4;
      if (a < M && b < N) finish(C, z, cz, (long long)a * ldc + b, acc[i][j], mode, act, keep, aux);
    }
  }
}

INLINE unsigned tf32(float v) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(v));
  return r;
}

// gemm_tile_tf32 is gemm_tile on the tensor cores: the operands rounded to
// tf32 (cvt.rna), products summed in float32 by mma.sync m16n8k8, eight
// reduction steps at a time; the epilogue is mlp_gemm's. Each of the 8
// warps computes a 32×16 part of the 64×64 tile: 2×2 mma tiles of 16×8.
INLINE void gemm_tile_tf32(int M, int Mp, int N, int K, int kc, const float* P, int pa, int pt, const float* Q,
                           int qt, int qb, float* C, int ldc, int cz, const float* init, int mode, int act,
                           const float* keep, const float* aux, int bx, int by, int z) {
  __shared__ unsigned Ps[BK][BM + 4];
  __shared__ unsigned Qs[BK][BN + 4];
  int t = tid(), lane = t % 32, w = t / 32, g = lane / 4, tg = lane % 4;
  int wm = (w % 2) * 32, wn = (w / 2) * 16;
  int a0 = by * BM, b0 = bx * BN;
  int k0 = z * kc, k1 = k0 + kc < K ? k0 + kc : K;
  float acc[2][2][4];
  _Pragma("unroll") for (int mi = 0; mi < 2; mi++)
    _Pragma("unroll") for (int ni = 0; ni < 2; ni++)
      _Pragma("unroll") for (int c = 0; c < 4; c++) {
        int b = b0 + wn + ni * 8 + 2 * tg + (c & 1);
        acc[mi][ni][c] = (init != 0 && b < N) ? init[b] : 0.0f;
      }
  for (int c0 = k0; c0 < k1; c0 += BK) {
    int len = k1 - c0 < BK ? k1 - c0 : BK;
    for (int e = t; e < BM * BK; e += 256) {
      int ai, ti;
      if (pt == 1) { ai = e / BK; ti = e % BK; } else { ai = e % BM; ti = e / BM; }
      int a = a0 + ai, tt = c0 + ti;
      float v = 0.0f;
      if (a < M && ti < len) v = a < Mp ? P[(long long)a * pa + (long long)tt * pt] : 1.0f;
      Ps[ti][ai] = tf32(v);
    }
    for (int e = t; e < BN * BK; e += 256) {
      int bi, ti;
      if (qb == 1) { bi = e % BN; ti = e / BN; } else { bi = e / BK; ti = e % BK; }
      int b = b0 + bi, tt = c0 + ti;
      float v = 0.0f;
      if (b < N && ti < len) v = Q[(long long)tt * qt + (long long)b * qb];
      Qs[ti][bi] = tf32(v);
    }
    sync();
    for (int kk = 0; kk < len; kk += 8) {
      unsigned fa[2][4], fb[2][2];
      _Pragma("unroll") for (int mi = 0; mi < 2; mi++) {
        int m0 = wm + mi * 16;
        fa[mi][0] = Ps[kk + tg][m0 + g];
        fa[mi][1] = Ps[kk + tg][m0 + g + 8];
        fa[mi][2] = Ps[kk + tg + 4][m0 + g];
        fa[mi][3] = Ps[kk + tg + 4][m0 + g + 8];
      }
      _Pragma("unroll") for (int ni = 0; ni < 2; ni++) {
        int n0 = wn + ni * 8;
        fb[ni][0] = Qs[kk + tg][n0 + g];
        fb[ni][1] = Qs[kk + tg + 4][n0 + g];
      }
      _Pragma("unroll") for (int mi = 0; mi < 2; mi++)
        _Pragma("unroll") for (int ni = 0; ni < 2; ni++)
          asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                       : "+f"(acc[mi][ni][0]), "+f"(acc[mi][ni][1]), "+f"(acc[mi][ni][2]), "+f"(acc[mi][ni][3])
                       : "r"(fa[mi][0]), "r"(fa[mi][1]), "r"(fa[mi][2]), "r"(fa[mi][3]), "r"(fb[ni][0]), "r"(fb[ni][1]));
    }
    sync();
  }
  _Pragma("unroll") for (int mi = 0; mi < 2; mi++)
    _Pragma("unroll") for (int ni = 0; ni < 2; ni++)
      _Pragma("unroll") for (int c = 0; c < 4; c++) {
        int a = a0 + wm + mi * 16 + g + (c / 2) * 8;
        int b = b0 + wn + ni * 8 + 2 * tg + (c & 1);
        if (a < M && b < N) finish(C, z, cz, (long long)a * ldc + b, acc[mi][ni][c], mode, act, keep, aux);
      }
}

// mlp_gemm computes the products gemm_tile describes: block (x, y, z) is
// tile (x, y) of split z.
extern "C" __global__ void __launch_bounds__(256) mlp_gemm(int M, int Mp, int N, int K, int kc, const float* P, int pa,
    int pt, const float* Q, int qt, int qb, float* C, int ldc, int cz, const float* init, int mode, int act,
    const float* keep, const float* aux) {
  gemm_tile(M, Mp, N, K, kc, P, pa, pt, Q, qt, qb, C, ldc, cz, init, mode, act, keep, aux, bidx(), bidy(), bidz());
}

// mlp_gemm_big is mlp_gemm with 128×128 tiles (gemm_tile_big).
extern "C" __global__ void __launch_bounds__(256) mlp_gemm_big(int M, int Mp, int N, int K, int kc, const float* P,
    int pa, int pt, const float* Q, int qt, int qb, float* C, int ldc, int cz, const float* init, int mode, int act,
    const float* keep, const float* aux) {
  gemm_tile_big(M, Mp, N, K, kc, P, pa, pt, Q, qt, qb, C, ldc, cz, init, mode, act, keep, aux, bidx(), bidy(), bidz());
}

// mlp_gemm_tf32 is mlp_gemm on the tensor cores (gemm_tile_tf32).
extern "C" __global__ void __launch_bounds__(256) mlp_gemm_tf32(int M, int Mp, int N, int K, int kc, const float* P,
    int pa, int pt, const float* Q, int qt, int qb, float* C, int ldc, int cz, const float* init, int mode, int act,
    const float* keep, const float* aux) {
  gemm_tile_tf32(M, Mp, N, K, kc, P, pa, pt, Q, qt, qb, C, ldc, cz, init, mode, act, keep, aux, bidx(), bidy(), bidz());
}

#define GROUP_WORDS 18

// mlp_gemm_group computes several independent STORE products (no initial
// values) in one launch. Product p is described by GROUP_WORDS words of
// table from 18·p: M, Mp, N, K, kc, P, pa, pt, Q, qt, qb, C, ldc, cz, its
// tiles across N and down M, its first block and its tile kind (0:
// gemm_tile, 1: gemm_tile_big, 2: gemm_tile_tf32); its blocks run its
// tiles across N first, then down M, then through the splits.
extern "C" __global__ void __launch_bounds__(256) mlp_gemm_group(const long long* table, int products) {
  int b = bidx(), p = 0;
  while (p + 1 < products && b >= table[GROUP_WORDS * (p + 1) + 16]) p++;
  const long long* d = table + GROUP_WORDS * p;
  int local = b - (int)d[16], tn = (int)d[14], tm = (int)d[15];
  int bx = local % tn, by = local / tn % tm, z = local / (tn * tm);
  int M = (int)d[0], Mp = (int)d[1], N = (int)d[2], K = (int)d[3], kc = (int)d[4], pa = (int)d[6], pt = (int)d[7];
  int qt = (int)d[9], qb = (int)d[10], ldc = (int)d[12], cz = (int)d[13];
  const float *P = (const float*)d[5], *Q = (const float*)d[8];
  float* C = (float*)d[11];
  if (d[17] == 2)
    gemm_tile_tf32(M, Mp, N, K, kc, P, pa, pt, Q, qt, qb, C, ldc, cz, 0, STORE, 0, 0, 0, bx, by, z);
  else if (d[17] == 1)
    gemm_tile_big(M, Mp, N, K, kc, P, pa, pt, Q, qt, qb, C, ldc, cz, 0, STORE, 0, 0, 0, bx, by, z);
  else
    gemm_tile(M, Mp, N, K, kc, P, pa, pt, Q, qt, qb, C, ldc, cz, 0, STORE, 0, 0, 0, bx, by, z);
}

// pointLoss is one row's loss (log loss on the logit z for task 0, half
// the squared error for task 1) and its gradient with respect to z.
INLINE void pointLoss(float z, float y, int task, float* loss, float* grad) {
  if (task == 1) {
    float e = sub(z, y);
    *loss = mul(0.5f, mul(e, e));
    *grad = e;
    return;
  }
  float u = log1p32(exp32(-__builtin_fabsf(z)));
  *loss = sub(z > 0.0f ? add(z, u) : u, mul(y, z));
  *grad = sub(sigmoid32(z), y);
}

#define OUT_ROWS 64

// mlp_output is the output layer (one unit, no activation) on rows rows of
// the last hidden layer's outputs A (rows×h, after dropout), its weights
// W[0..h) and bias W[h], with the loss and its gradients. Block b takes
// rows [64b, 64b+64): four threads per row sum the products of residues
// k ≡ q (mod 4) in order of k, then z = W[h] + ((s0+s1) + (s2+s3)). It
// writes z, the output's error term to delta (when not nil), the block's
// losses summed in row order to out[slot+b], and, when prevDelta is not
// nil, the last hidden layer's error terms: (g·W[k]) through mlp_gemm's
// BACKWARD epilogue with keep and A.
extern "C" __global__ void __launch_bounds__(256) mlp_output(const float* A, int h, const float* W, const float* y, int rows,
    int task, float* z, float* delta, float* prevDelta, int act, const float* keep, float* out, int slot) {
  __shared__ float part[OUT_ROWS][4];
  __shared__ float gs[OUT_ROWS];
  __shared__ float ls[OUT_ROWS];
  int t = tid(), base = bidx() * OUT_ROWS;
  int n = rows - base < OUT_ROWS ? rows - base : OUT_ROWS;
  {
    int r = t / 4, q = t % 4;
    float s = 0.0f;
    if (r < n) {
      const float* a = A + (long long)(base + r) * h;
      for (int k = q; k < h; k += 4) s = fma(a[k], W[k], s);
    }
    part[r][q] = s;
  }
  sync();
  if (t < n) {
    float zr = add(W[h], add(add(part[t][0], part[t][1]), add(part[t][2], part[t][3])));
    float l, g;
    pointLoss(zr, y[base + t], task, &l, &g);
    z[base + t] = zr;
    if (delta != 0) delta[base + t] = g;
    gs[t] = g;
    ls[t] = l;
  }
  sync();
  if (t == 0) {
    float s = 0.0f;
    for (int r = 0; r < n; r++) s = add(s, ls[r]);
    out[slot + bidx()] = s;
  }
  if (prevDelta != 0) {
    for (int e = t; e < n * h; e += 256) {
      int r = e / h, k = e % h;
      epilogue(prevDelta, 0, 0, (long long)(base + r) * h + k, mul(gs[r], W[k]), BACKWARD, act, keep, A);
    }
  }
}

// mlp_adam updates the parameters of layer blockIdx.y, described by the
// six words table[6·l ...]: the offset of its parameters in w, m and v,
// their number n, the number nW of them (the weights, before the biases)
// that take the L2 term l2·w, the number S of partial gradient sums, their
// stride cz and the offset of the first in part. Each parameter's
// gradient is the sum of its S partial sums, in order, over a batch of bs
// rows; lr is Adam's bias-corrected step.
extern "C" __global__ void mlp_adam(float* w, float* m, float* v, const float* part, const int* table, float l2,
                                    float bs, float lr) {
  const int* d = table + 6 * bidy();
  int i = bidx() * bdim() + tid();
  if (i >= d[1]) return;
  long long p = d[0] + i;
  const float* gp = part + d[5] + i;
  float g = 0.0f;
  for (int z = 0; z < d[3]; z++) g = add(g, gp[(long long)z * d[4]]);
  float wi = w[p];
  if (i < d[2]) g = fma(l2, wi, g);
  g = div(g, bs);
  float mi = fma(0.9f, m[p], mul(0.1f, g));
  float vi = fma(0.999f, v[p], mul(1.0e-3f, mul(g, g)));
  m[p] = mi;
  v[p] = vi;
  w[p] = sub(wi, mul(lr, div(mi, add(__nvvm_sqrt_rn_f(vi), 1.0e-8f))));
}
