/*
 * Inside the GEMM backend: the oneDNN half (gemm_onednn.c) as seen by the
 * dispatching half (gemm.c). Without HT_HAVE_ONEDNN the oneDNN half is a stub
 * whose create fails with a message saying the build has no oneDNN.
 */
#ifndef HT_MODEL_GEMM_INTERNAL_H
#define HT_MODEL_GEMM_INTERNAL_H

/* One matmul C[M,N] = A[M,K] . B[K,N] (+ bias[N]) (relu), described by its
 * dimensions and the element strides of A, B and C's rows. The whole struct is
 * the cache key of a oneDNN primitive, so unused fields must be zero. */
typedef struct ht__mm_shape {
  long M, N, K;
  long as0, as1;   /* A[m, k] is at A + m*as0 + k*as1 */
  long bs0, bs1;   /* B[k, n] is at B + k*bs0 + n*bs1 */
  long ldc;        /* C[m, n] is at C + m*ldc + n */
  int bf16;        /* A and B are bf16 (16-bit patterns), else float */
  int bias;        /* add bias[n] */
  int relu;        /* relu post-op */
  int pad;         /* keeps the key free of padding bytes */
} ht__mm_shape;

typedef struct ht__onednn ht__onednn;

/* Opens the CPU engine and a stream. Errors: HT_ECONFIG without oneDNN,
 * HT_EINTERNAL / HT_ENOMEM otherwise. */
int ht__onednn_create(ht__onednn **e);
void ht__onednn_destroy(ht__onednn **e);

/* Runs one matmul on the calling thread's OpenMP team. The primitive for s is
 * created at the first call with that shape and kept (with its memory objects)
 * until destroy; the scratchpad is one buffer shared by all primitives of e. */
int ht__onednn_matmul(ht__onednn *e, const ht__mm_shape *s, const void *A, const void *B, const float *bias, float *C);

/* The oneDNN kernel ISA ("avx512_bf16", "avx512", "avx2", ...), "" without oneDNN. */
const char *ht__onednn_isa(void);

#endif
