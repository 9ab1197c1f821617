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

#endif
