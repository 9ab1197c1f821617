/*
 * bfloat16 rounding, shared by the GEMM backend (gemm.c rounds activations
 * and weights) and the optimizers (which round the weights they have just
 * updated in the same pass over memory; see docs/compute.md). One rule
 * everywhere, so a weight rounded by either is the same 16 bits.
 */
#ifndef HYTRAIN_BF16_H
#define HYTRAIN_BF16_H

#include <stdint.h>
#include <string.h>

/* One float rounded to bf16 (round to nearest even on the upper 16 bits; a
 * NaN keeps its sign and becomes a quiet NaN, since adding the rounding bias
 * could carry it into Inf): its 16-bit pattern. Integer arithmetic only, so
 * a vectorised loop gives the same bits as a scalar one. */
static inline uint16_t ht_bf16_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  uint32_t nan = (u >> 16) | 0x40u;
  return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

/* The float a bf16 pattern stands for (exact). */
static inline float ht_bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* Function multi-versioning for the streaming loops (bf16 rounding, the
 * optimizer updates): each is built for x86-64-v4 (AVX-512 with byte/word
 * ops, so 16 floats are narrowed to 16 bf16 patterns per instruction), AVX2
 * and the baseline, and the loader picks the best the CPU runs. The results
 * are the same bits in every version: the loops are elementwise, the float
 * operations are the same IEEE operations in the same order (C17 mode keeps
 * GCC from contracting a*b+c into an FMA), the rounding is integer
 * arithmetic. ThreadSanitizer builds define HT_NO_TARGET_CLONES: the clones'
 * IFUNC resolvers run while the dynamic loader relocates, before the TSan
 * runtime is set up, and crash the program at start. */
#ifdef HT_NO_TARGET_CLONES
#define HT_CLONES
#else
#define HT_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif

#endif
