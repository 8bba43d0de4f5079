// rows.cu: the kernels that move rows: GatherRows, ScatterRows and the embedding's gradient
// (one scatter-add), CopyRows, and SumRows.
#include "common.cuh"

// rows_gather copies row idx[r] of x (rows×C) into row r of out, for r < n. An index outside
// [0, rows) leaves its row of out as it was.
extern "C" __global__ void rows_gather(float* out, const float* x, const int* idx, int n, int C, int rows) {
  for_each_index(e, (long long)n * C) {
    const int r = e / C, c = e % C, i = idx[r];
    if (i >= 0 && i < rows) out[e] = x[(long long)i * C + c];
  }
}

#define SCATTER_THREADS 256

// rows_scatter_add adds row r of src (n×C) into row idx[r] of dst (rows×C), for every r, in
// the order of r, as the host does, so that the sums come out the same bits: each block owns
// rows of dst and scans the indices for them, no two threads add into one element, and nothing
// is atomic. With accumulate 0 the rows of dst start from zero (ScatterRows), with 1 from their
// values (the embedding's gradient). The block must have SCATTER_THREADS threads.
extern "C" __global__ void rows_scatter_add(float* dst, const float* src, const int* idx, int n, int rows, int C, int accumulate) {
  __shared__ int tile[SCATTER_THREADS];
  for (int row = blockIdx.x; row < rows; row += gridDim.x) {
    for (int c0 = 0; c0 < C; c0 += SCATTER_THREADS) {
      const int c = c0 + threadIdx.x;
      float* out = dst + (long long)row * C + c;
      float acc = accumulate && c < C ? *out : 0.0f;
      for (int r0 = 0; r0 < n; r0 += SCATTER_THREADS) {
        __syncthreads();
        if (r0 + threadIdx.x < n) tile[threadIdx.x] = idx[r0 + threadIdx.x];
        __syncthreads();
        const int m = min(SCATTER_THREADS, n - r0);
        if (c < C) {
          for (int k = 0; k < m; k++) {
            if (tile[k] == row) acc += src[(long long)(r0 + k) * C + c];
          }
        }
      }
      if (c < C) *out = acc;
    }
  }
}

// rows_copy copies C columns from row srcRows[i] of src to row dstRows[i] of dst, for i < n;
// rows start srcStride and dstStride elements apart, and an index beyond srcN or dstN rows
// copies nothing.
extern "C" __global__ void rows_copy(float* dst, int dstStride, const float* src, int srcStride,
                                     const int* dstRows, const int* srcRows, int n, int C, int dstN, int srcN) {
  for_each_index(e, (long long)n * C) {
    const int i = e / C, c = e % C, from = srcRows[i], to = dstRows[i];
    if (from >= 0 && from < srcN && to >= 0 && to < dstN) dst[(long long)to * dstStride + c] = src[(long long)from * srcStride + c];
  }
}

// rows_sum sets out[c] to the sum over the N rows of x (N×C) of column c, accumulated in
// double. A block of 32×32 threads owns 32 columns; its 32 rows of threads take every 32nd row,
// and their sums are added in a fixed order.
extern "C" __global__ void rows_sum(float* out, const float* x, int N, int C) {
  __shared__ double part[32][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  double acc = 0.0;
  if (c < C) {
    for (int i = threadIdx.y; i < N; i += 32) acc += x[(long long)i * C + c];
  }
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    double s = 0.0;
    for (int k = 0; k < 32; k++) s += part[k][threadIdx.x];
    out[c] = (float)s;
  }
}

// rows_embedding_forward sets row i of out to row tokens[i] of wte plus row pos[i] of wpe.
extern "C" __global__ void rows_embedding_forward(float* out, const float* wte, const float* wpe, const int* tokens,
                                                  const int* pos, int n, int C, int vocab, int positions) {
  for_each_index(e, (long long)n * C) {
    const int i = e / C, c = e % C, t = tokens[i], p = pos[i];
    if (t >= 0 && t < vocab && p >= 0 && p < positions) out[e] = wte[(long long)t * C + c] + wpe[(long long)p * C + c];
  }
}
