// Logistic regression's objective on the GPU: one fused pass over X per
// evaluation. Compiled to PTX by `make ptx` (clang-16, no CUDA headers);
// emulate.go reproduces this arithmetic operation for operation, so keep
// the two in step.
//
// X is float32, row-major n x d. Rows are cut into tiles of R rows (a
// contiguous R*d floats); block b handles tiles b, b+gridDim.x, ... For
// each row: eta = (float32 sum of float32 products x_j*w_j, in the fixed
// lane-then-butterfly order below) + b, then in float64 the weighted
// log-loss and residual r = c_y*(sigmoid(eta) - y). The gradient sums
// r*x_j (and r for the intercept) into float64 per-thread accumulators;
// at the end each block reduces them by a tree in shared memory and
// writes one row of partials; logistic_sum adds the block rows in block
// order. No atomics: the result is the same on every run and device.

// Every floating-point operation below is an explicit round-to-nearest
// instruction (mul.rn, add.rn, fma.rn, div.rn): ptxas may not fuse or
// reorder them, so the Go emulation can repeat them exactly.

#define GLOBAL extern "C" __attribute__((global))
#define DEVICE static __attribute__((device)) inline
#define SHARED __attribute__((shared))

#define THREADS 256
#define WARPS (THREADS / 32)
#define MAXCOLS 5 // ceil(1025 / THREADS): columns a thread owns when d+1 > THREADS

typedef float float4 __attribute__((ext_vector_type(4)));

DEVICE int tid() { return __nvvm_read_ptx_sreg_tid_x(); }
DEVICE int bid() { return __nvvm_read_ptx_sreg_ctaid_x(); }
DEVICE int nblocks() { return __nvvm_read_ptx_sreg_nctaid_x(); }
DEVICE void sync() { __syncthreads(); }

DEVICE float fmul(float a, float b) {
	float r;
	asm("mul.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
	return r;
}
DEVICE float fadd(float a, float b) {
	float r;
	asm("add.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
	return r;
}
DEVICE double dmul(double a, double b) {
	double r;
	asm("mul.rn.f64 %0, %1, %2;" : "=d"(r) : "d"(a), "d"(b));
	return r;
}
DEVICE double dadd(double a, double b) {
	double r;
	asm("add.rn.f64 %0, %1, %2;" : "=d"(r) : "d"(a), "d"(b));
	return r;
}
DEVICE double dsub(double a, double b) {
	double r;
	asm("sub.rn.f64 %0, %1, %2;" : "=d"(r) : "d"(a), "d"(b));
	return r;
}
DEVICE double dfma(double a, double b, double c) {
	double r;
	asm("fma.rn.f64 %0, %1, %2, %3;" : "=d"(r) : "d"(a), "d"(b), "d"(c));
	return r;
}
DEVICE double ddiv(double a, double b) {
	double r;
	asm("div.rn.f64 %0, %1, %2;" : "=d"(r) : "d"(a), "d"(b));
	return r;
}

// shflXor returns v from lane (lane ^ off) of the warp.
DEVICE float shflXor(float v, int off) {
	float r;
	asm volatile("shfl.sync.bfly.b32 %0, %1, %2, 0x1f, 0xffffffff;" : "=f"(r) : "f"(v), "r"(off));
	return r;
}

// expneg returns exp(x) for x <= 0: x = k*ln2 + r, |r| <= ln2/2, a degree
// 13 Taylor polynomial by Horner with fma, scaled by 2^k.
DEVICE double expneg(double x) {
	if (x < -745.0) return 0.0;
	double k = __builtin_rint(dmul(x, 1.4426950408889634));
	double r = dfma(-k, 6.93147180369123816490e-01, x);
	r = dfma(-k, 1.90821492927058770002e-10, r);
	double p = 1.6059043836821613e-10; // 1/13!
	p = dfma(p, r, 2.08767569878680989792e-09); // 1/12!
	p = dfma(p, r, 2.50521083854417187751e-08); // 1/11!
	p = dfma(p, r, 2.75573192239858906526e-07);
	p = dfma(p, r, 2.75573192239858906526e-06);
	p = dfma(p, r, 2.48015873015873015873e-05);
	p = dfma(p, r, 1.98412698412698412698e-04);
	p = dfma(p, r, 1.38888888888888888889e-03);
	p = dfma(p, r, 8.33333333333333333333e-03);
	p = dfma(p, r, 4.16666666666666666667e-02);
	p = dfma(p, r, 1.66666666666666666667e-01);
	p = dfma(p, r, 0.5);
	p = dfma(p, r, 1.0);
	p = dfma(p, r, 1.0);
	// 2^k in two steps, so that k down to -1075 stays representable.
	int ki = (int)k;
	int k1 = ki / 2, k2 = ki - k1;
	double s1 = __builtin_bit_cast(double, (unsigned long long)(k1 + 1023) << 52);
	double s2 = __builtin_bit_cast(double, (unsigned long long)(k2 + 1023) << 52);
	return dmul(dmul(p, s1), s2);
}

// log1p01 returns log(1+e) for e in [0, 1]: u = 1+e, log(u) by the
// atanh series in f = (m-1)/(m+1) after halving u when above sqrt(2),
// plus the rounding correction (e - (u-1))/u.
DEVICE double log1p01(double e) {
	double u = dadd(1.0, e);
	double c = ddiv(dsub(e, dsub(u, 1.0)), u);
	double m = u, kln2 = 0.0;
	if (u > 1.4142135623730951) {
		m = dmul(u, 0.5);
		kln2 = 6.93147180559945309417e-01;
	}
	double f = ddiv(dsub(m, 1.0), dadd(m, 1.0));
	double f2 = dmul(f, f);
	double s = 1.0 / 23.0;
	s = dfma(s, f2, 1.0 / 21.0);
	s = dfma(s, f2, 1.0 / 19.0);
	s = dfma(s, f2, 1.0 / 17.0);
	s = dfma(s, f2, 1.0 / 15.0);
	s = dfma(s, f2, 1.0 / 13.0);
	s = dfma(s, f2, 1.0 / 11.0);
	s = dfma(s, f2, 1.0 / 9.0);
	s = dfma(s, f2, 1.0 / 7.0);
	s = dfma(s, f2, 1.0 / 5.0);
	s = dfma(s, f2, 1.0 / 3.0);
	s = dfma(s, f2, 1.0);
	return dadd(dadd(kln2, dmul(dmul(2.0, f), s)), c);
}

// tileRows is the rows per tile: about 32 KiB of X, at most THREADS.
DEVICE int tileRows(int d) {
	int r = 8192 / d;
	if (r < 1) r = 1;
	if (r > THREADS) r = THREADS;
	return r;
}

// logistic_eval computes one block row of partials: for k < d the
// gradient sum over the block's rows of r*x_k, k = d the sum of r, k = d+1
// the sum of the weighted losses. partials is gridDim.x x (d+2) doubles.
// Dynamic shared memory: see the layout below (logisticShared in Go).
GLOBAL void logistic_eval(const float *__restrict__ x, const unsigned char *__restrict__ y, const float *__restrict__ w, double bias,
                          double w0, double w1, long long n, int d, double *__restrict__ partials) {
	extern SHARED double smem[];
	const int t = tid(), lane = t & 31, warp = t >> 5;
	const int R = tileRows(d);
	const int cols = d + 1;
	const int G = cols <= THREADS ? THREADS / cols : 1;
	const int redLen = cols <= THREADS ? G * cols : cols;
	double *red = smem;                // redLen
	double *res = red + redLen;        // R residuals
	double *lossw = res + R;           // WARPS
	float *ws = (float *)(smem + ((redLen + R + WARPS + 1) & ~1)); // d weights, 16-byte aligned
	int wpad = (d + 3) & ~3;
	float *tile = ws + wpad;           // R*d
	for (int j = t; j < d; j += THREADS) ws[j] = w[j];

	double acc[MAXCOLS];
	for (int k = 0; k < MAXCOLS; k++) acc[k] = 0.0;
	double lossAcc = 0.0;
	const int g = cols <= THREADS ? t / cols : 0;
	const bool active = cols <= THREADS ? t < G * cols : true;

	long long ntiles = (n + R - 1) / R;
	for (long long tl = bid(); tl < ntiles; tl += nblocks()) {
		long long r0 = tl * R;
		int rows = (int)((n - r0) < R ? (n - r0) : R);
		sync(); // the previous tile is consumed
		const float *src = x + r0 * d;
		int count = rows * d;
		if ((d & 3) == 0) {
			const float4 *s4 = (const float4 *)src;
			float4 *t4 = (float4 *)tile;
			for (int i = t; i < count / 4; i += THREADS) t4[i] = s4[i];
		} else {
			for (int i = t; i < count; i += THREADS) tile[i] = src[i];
		}
		sync();
		// Forward: warp per row, lanes over columns, then a butterfly.
		for (int r = warp; r < rows; r += WARPS) {
			const float *xr = tile + r * d;
			float part = 0.0f;
			for (int j = lane; j < d; j += 32) part = fadd(part, fmul(xr[j], ws[j]));
			for (int off = 16; off >= 1; off >>= 1)
				part = fadd(part, shflXor(part, off));
			if (lane == 0) {
				double eta = dadd((double)part, bias);
				double yi = (double)y[r0 + r];
				double cw = y[r0 + r] ? w1 : w0;
				double e = expneg(eta > 0.0 ? -eta : eta);
				double l1p = log1p01(e);
				double loss = eta > 0.0 ? dsub(dadd(eta, l1p), dmul(yi, eta)) : dsub(l1p, dmul(yi, eta));
				double sig = eta >= 0.0 ? ddiv(1.0, dadd(1.0, e)) : ddiv(e, dadd(1.0, e));
				lossAcc = dadd(lossAcc, dmul(cw, loss));
				res[r] = dmul(cw, dsub(sig, yi));
			}
		}
		sync();
		// Gradient: thread per (group, column); a group takes every G-th row.
		if (active) {
			for (int k = 0; k < MAXCOLS; k++) {
				int c = cols <= THREADS ? t % cols : t + k * THREADS;
				if (c >= cols || (cols <= THREADS && k > 0)) break;
				double a = acc[k];
				for (int r = g; r < rows; r += G) {
					double xv = c < d ? (double)tile[r * d + c] : 1.0;
					a = dadd(a, dmul(res[r], xv));
				}
				acc[k] = a;
			}
		}
	}
	// Block reduction: groups by a tree, warps' losses by a tree.
	sync();
	if (active) {
		for (int k = 0; k < MAXCOLS; k++) {
			int c = cols <= THREADS ? t % cols : t + k * THREADS;
			if (c >= cols || (cols <= THREADS && k > 0)) break;
			red[g * cols + c] = acc[k];
		}
	}
	if (lane == 0) lossw[warp] = lossAcc;
	sync();
	for (int s = 1; s < G; s *= 2) {
		if (active && g % (2 * s) == 0 && g + s < G) {
			int c = t % cols;
			red[g * cols + c] = dadd(red[g * cols + c], red[(g + s) * cols + c]);
		}
		sync();
	}
	for (int s = 1; s < WARPS; s *= 2) {
		if (t < WARPS && t % (2 * s) == 0 && t + s < WARPS) lossw[t] = dadd(lossw[t], lossw[t + s]);
		sync();
	}
	double *out = partials + (long long)bid() * (d + 2);
	for (int c = t; c < cols; c += THREADS) out[c] = red[c];
	if (t == 0) out[d + 1] = lossw[0];
}

// logistic_sum adds the blocks' partial rows in block order: out[k] =
// sum over b of partials[b][k], for k < width.
GLOBAL void logistic_sum(const double *partials, int blocks, int width, double *out) {
	int k = bid() * THREADS + tid();
	if (k >= width) return;
	double s = 0.0;
	for (int b = 0; b < blocks; b++) s = dadd(s, partials[(long long)b * width + k]);
	out[k] = s;
}
