/* xoshiro256** (Blackman & Vigna) seeded by splitmix64. */
#include "hytrain/rng.h"

#include <math.h>

static uint64_t splitmix64_next(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t ht_rng_mix(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = a;
  uint64_t h = splitmix64_next(&x);
  x = h ^ b;
  h = splitmix64_next(&x);
  x = h ^ c;
  return splitmix64_next(&x);
}

void ht_rng_seed(ht_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64_next(&x);
}

static inline uint64_t rotl(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

uint64_t ht_rng_next(ht_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t ht_rng_below(ht_rng *r, uint64_t n) {
  /* Rejection sampling: discard the top partial block so every value is equally likely. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v;
  do v = ht_rng_next(r);
  while (v >= limit);
  return v % n;
}

double ht_rng_uniform(ht_rng *r) { return (double)(ht_rng_next(r) >> 11) * 0x1.0p-53; }

double ht_rng_normal(ht_rng *r) {
  double u1 = ht_rng_uniform(r), u2 = ht_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void ht_rng_shuffle_i64(ht_rng *r, int64_t *idx, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)ht_rng_below(r, (uint64_t)i + 1);
    int64_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}
