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

int ht_loader_parse_augment(const char *text, int *flip, int *shift) {
  *flip = *shift = 0;
  if (strcmp(text, "none") == 0 || text[0] == '\0') return 0;
  char buf[64];
  snprintf(buf, sizeof buf, "%s", text);
  char *save = NULL;
  for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ') tok++;
    if (strcmp(tok, "flip") == 0 && !*flip) {
      *flip = 1;
    } else if (strncmp(tok, "shift:", 6) == 0 && !*shift) {
      char *end;
      long px = strtol(tok + 6, &end, 10);
      if (end == tok + 6 || *end != '\0' || px < 1 || px > 64) return HT_ECONFIG;
      *shift = (int)px;
    } else {
      return HT_ECONFIG;
    }
  }
  return 0;
}
