/*
 * Row-block slices of the weight gradient (the pieces the allreduce gets)
 * and the event recorder.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ht_test.h"
#include "hytrain/events.h"
#include "hytrain/model.h"
#include "hytrain/rng.h"

static ht_model make(int in, int h, int out, double l2, int B) {
  ht_model_spec s;
  memset(&s, 0, sizeof s);
  s.type = HT_MODEL_MLP;
  s.activation = HT_ACT_TANH;
  s.init = HT_INIT_AUTO;
  s.in = in, s.out = out, s.n_hidden = 1, s.hidden[0] = h, s.l2 = l2;
  ht_model m;
  assert_int_equal(ht_model_create(&m, &s, B), 0);
  ht_model_init(&m, 3);
  return m;
}

typedef struct seen {
  int n, marks;
  size_t lo[64], hi[64];
  int layer[64];
  float *snap;       /* grads[lo, hi) copied at report time */
  const ht_model *m;
} seen;

static void on_ready(void *user, int layer, size_t lo, size_t hi) {
  seen *s = user;
  if (layer < 0) {
    s->marks++;
    return;
  }
  if (s->n < 64) s->lo[s->n] = lo, s->hi[s->n] = hi, s->layer[s->n] = layer;
  s->n++;
  memcpy(s->snap + lo, s->m->grads + lo, (hi - lo) * sizeof(float));
}

/* Slices tile the buffer from the end without gaps, in the order
 * ht_model_slices announces; every slice (the bias included) is final when
 * reported; the gradient matches the unsliced one within float rounding. */
static void slices_tile_and_are_final(void **state) {
  enum { B = 6, IN = 10, H = 9, OUT = 4 };
  ht_model m = make(IN, H, OUT, 0.01, B), ref = make(IN, H, OUT, 0.01, B);
  m.slice_elems = 25; /* dense0 [9,10]: 3 rows (30 > 25 -> 2 rows) per block; dense1 [4,9]: 2 rows */
  ht_rng r;
  ht_rng_seed(&r, 9);
  float x[B * IN];
  int32_t y[B] = {0, 1, 2, 3, 0, 1};
  for (int i = 0; i < B * IN; i++) x[i] = (float)ht_rng_normal(&r);
  size_t lo[64], hi[64];
  int n = ht_model_slices(&m, lo, hi, 64);
  assert_true(n > 2);
  seen s = {0};
  s.snap = calloc(m.n_params, sizeof(float));
  s.m = &m;
  double loss = ht_model_step(&m, x, y, NULL, B, on_ready, &s);
  double loss_ref = ht_model_step(&ref, x, y, NULL, B, NULL, NULL);
  assert_int_equal(s.marks, 1);
  assert_int_equal(s.n, n);
  assert_int_equal(s.hi[0], m.n_params);
  for (int i = 0; i < n; i++) {
    assert_int_equal(s.lo[i], lo[i]);
    assert_int_equal(s.hi[i], hi[i]);
    assert_true(s.lo[i] < s.hi[i]);
    if (i > 0) assert_int_equal(s.hi[i], s.lo[i - 1]);
    /* No slice is bigger than the target unless it is one row (+ bias). */
    const ht_layer *l = &m.layers[s.layer[i]];
    assert_true(s.hi[i] - s.lo[i] <= m.slice_elems + (size_t)l->out || s.hi[i] - s.lo[i] <= (size_t)l->in + l->out);
  }
  assert_int_equal(s.lo[n - 1], 0);
  /* What each report exposed was already the final value. */
  assert_memory_equal(s.snap, m.grads, m.n_params * sizeof(float));
  ht_assert_close(loss, loss_ref, 1e-12, 1e-12);
  for (size_t i = 0; i < m.n_params; i++) ht_assert_close(m.grads[i], ref.grads[i], 1e-5, 1e-7);
  free(s.snap);
  ht_model_destroy(&m);
  ht_model_destroy(&ref);
}

/* Spans nest; totals count every span; a full buffer drops records but
 * keeps exact totals. */
static void events_nest_and_count(void **state) {
  ht_events ev;
  assert_int_equal(ht_events_create(&ev, 3), 0);
  ht_track *t = ht_events_track(&ev, 0, "main");
  assert_non_null(t);
  assert_null(ht_events_track(&ev, HT_EV_MAX_TRACKS, "nope"));
  ht_track_begin(t, HT_EV_FORWARD, -1);
  ht_track_begin(t, HT_EV_BACKWARD, 2);
  ht_track_end(t);
  ht_track_end(t);
  ht_track_span(t, HT_EV_ALLREDUCE, 0, 1.0, 1.5);
  ht_track_span(t, HT_EV_ALLREDUCE, 1, 2.0, 4.0);
  assert_int_equal(t->n, 3);
  assert_int_equal(t->dropped, 1);
  assert_int_equal(t->depth, 0);
  /* Records are appended as spans end: the inner one first. */
  assert_int_equal(t->buf[0].kind, HT_EV_BACKWARD);
  assert_int_equal(t->buf[0].arg, 2);
  assert_int_equal(t->buf[1].kind, HT_EV_FORWARD);
  assert_true(t->buf[1].t0 <= t->buf[0].t0 && t->buf[0].t1 <= t->buf[1].t1);
  ht_event_stat a = ht_events_total(&ev, HT_EV_ALLREDUCE);
  assert_int_equal(a.count, 2);
  ht_assert_close(a.total, 2.5, 0, 1e-12);
  ht_assert_close(a.max, 2.0, 0, 1e-12);
  assert_string_equal(ht_event_name(HT_EV_BUCKET_WAIT), "bucket_wait");
  assert_string_equal(ht_event_name(HT_EV_DATA_WAIT), "data_wait");
  /* An unmatched end is ignored. */
  ht_track_end(t);
  assert_int_equal(t->depth, 0);
  ht_events_destroy(&ev);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(slices_tile_and_are_final),
    cmocka_unit_test(events_nest_and_count),
};

HT_TEST_MAIN("slices", tests)
