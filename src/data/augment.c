/*
 * Image augmentation in the loader thread, on raw (not yet normalised) pixels
 * so that uncovered pixels get the raw background value 0.
 * One row is one side x side single-channel image, row-major.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/loader.h"

#include "data/loader_internal.h"

void ht__augment_image(float *img, float *tmp, int side, int flip, int shift, ht_rng *r) {
  /* Draw in a fixed order whatever is enabled, so the stream is reproducible. */
  int mirror = flip ? (int)(ht_rng_next(r) >> 63) : 0;
  int dx = shift ? (int)ht_rng_below(r, (uint64_t)(2 * shift + 1)) - shift : 0;
  int dy = shift ? (int)ht_rng_below(r, (uint64_t)(2 * shift + 1)) - shift : 0;
  if (!mirror && dx == 0 && dy == 0) return;
  memcpy(tmp, img, sizeof(float) * (size_t)side * (size_t)side);
  for (int y = 0; y < side; y++) {
    int sy = y - dy;
    for (int x = 0; x < side; x++) {
      int sx = x - dx;
      if (mirror) sx = side - 1 - sx;
      img[y * side + x] = (sy >= 0 && sy < side && sx >= 0 && sx < side) ? tmp[sy * side + sx] : 0.0f;
    }
  }
}
