// Gradient and hessian histograms of one tree node over uint8-binned
// features, on the GPU. Compiled to PTX by `make ptx` (clang-16, no CUDA
// headers); emulate.go repeats the arithmetic.
//
// Gradients and hessians arrive as 64-bit fixed point (value * 2^scale,
// rounded on the host), so every sum is an integer sum: exact, and the
// same whatever order the atomics land in. Block (bx, k) builds feature
// feats[k]'s histogram over the node rows bx*THREADS + i*gridDim.x*THREADS
// in shared memory, then adds it to the global histogram.

#define GLOBAL extern "C" __attribute__((global))
#define DEVICE static __attribute__((device)) inline
#define SHARED __attribute__((shared))

#define THREADS 256
#define BINS 256

DEVICE int tid() { return __nvvm_read_ptx_sreg_tid_x(); }
DEVICE void sync() { __syncthreads(); }

DEVICE void atomicAdd64(long long *p, long long v) {
	asm volatile("red.add.u64 [%0], %1;" : : "l"(p), "l"(v) : "memory");
}

// hist_build: bins is column-major (slot s's n bins at bins + s*n); slots
// maps each of the gridDim.y features to its column; rows lists the
// node's rows; gq and hq are the fixed-point gradients and hessians by
// row; out (zeroed by the caller) receives gridDim.y x BINS x 2 sums.
GLOBAL void hist_build(const unsigned char *__restrict__ bins, const int *__restrict__ slots,
                       const int *__restrict__ rows, int nrows, const long long *__restrict__ gq,
                       const long long *__restrict__ hq, long long n, long long *__restrict__ out) {
	SHARED long long h[2 * BINS];
	const int t = tid();
	const int k = __nvvm_read_ptx_sreg_ctaid_y();
	for (int i = t; i < 2 * BINS; i += THREADS) h[i] = 0;
	sync();
	const unsigned char *col = bins + (long long)slots[k] * n;
	const int stride = __nvvm_read_ptx_sreg_nctaid_x() * THREADS;
	for (int i = __nvvm_read_ptx_sreg_ctaid_x() * THREADS + t; i < nrows; i += stride) {
		int r = rows[i];
		int b = col[r];
		atomicAdd64(&h[2 * b], gq[r]);
		atomicAdd64(&h[2 * b + 1], hq[r]);
	}
	sync();
	long long *o = out + (long long)k * 2 * BINS;
	for (int i = t; i < 2 * BINS; i += THREADS)
		if (h[i] != 0) atomicAdd64(&o[i], h[i]);
}
