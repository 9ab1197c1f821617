/*
 * Seeded random numbers: xoshiro256** seeded through splitmix64. Every random
 * choice in hytrain (weight init, shuffles) derives its stream from the config
 * seed and a purpose tag, so runs are reproducible and ranks independent.
 */
#ifndef HYTRAIN_RNG_H
#define HYTRAIN_RNG_H

#include <stdint.h>

typedef struct ht_rng {
  uint64_t s[4];
} ht_rng;

/* Mixes up to three words into one 64-bit seed (splitmix64 finaliser chain). */
uint64_t ht_rng_mix(uint64_t a, uint64_t b, uint64_t c);

/* Seeds the generator from one 64-bit value. */
void ht_rng_seed(ht_rng *r, uint64_t seed);

/* The next 64 random bits (advances r). */
uint64_t ht_rng_next(ht_rng *r);

/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t ht_rng_below(ht_rng *r, uint64_t n);

/* Uniform double in [0, 1). */
double ht_rng_uniform(ht_rng *r);

/* Standard normal (Box-Muller, one value per call). */
double ht_rng_normal(ht_rng *r);

/* Fisher-Yates shuffle of idx[0..n). */
void ht_rng_shuffle_i64(ht_rng *r, int64_t *idx, int64_t n);

#endif
