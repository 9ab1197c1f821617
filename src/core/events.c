/* Named events per thread, the end-of-run table and the Chrome trace. */
#include "hytrain/events.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/fileio.h"
#include "hytrain/timer.h"

static const char *const ht__event_names[HT_EV_COUNT] = {
#define HT__EV_NAME(id, name) name,
    HT_EVENT_MAP(HT__EV_NAME)
#undef HT__EV_NAME
};

const char *ht_event_name(ht_event_kind kind) {
  return kind >= 0 && kind < HT_EV_COUNT ? ht__event_names[kind] : "unknown";
}

int ht_events_create(ht_events *ev, int64_t capacity) {
  memset(ev, 0, sizeof *ev);
  ev->cap = capacity > 0 ? capacity : 0;
  ev->origin = ht_now();
  return 0;
}

ht_track *ht_events_track(ht_events *ev, int index, const char *name) {
  if (index < 0 || index >= HT_EV_MAX_TRACKS) return NULL;
  ht_track *t = &ev->tracks[index];
  snprintf(t->name, sizeof t->name, "%s", name);
  if (!t->used && ev->cap > 0) {
    /* Allocated once, before the thread records: the hot path never allocates.
     * Without memory the track still keeps its totals. */
    t->buf = malloc((size_t)ev->cap * sizeof *t->buf);
    t->cap = t->buf ? ev->cap : 0;
  }
  t->used = 1;
  return t;
}

int ht_events_start(ht_events *ev, MPI_Comm comm) {
  HT_CHECK_MPI(MPI_Barrier(comm));
  ev->origin = ht_now();
  for (int i = 0; i < HT_EV_MAX_TRACKS; i++) {
    ht_track *t = &ev->tracks[i];
    memset(t->stat, 0, sizeof t->stat);
    t->n = t->dropped = 0;
    t->depth = 0;
  }
  return 0;
}

void ht_track_span(ht_track *t, ht_event_kind kind, int arg, double t0, double t1) {
  if (!t) return;
  ht_event_stat *s = &t->stat[kind];
  double d = t1 - t0;
  s->count++;
  s->total += d;
  if (d > s->max) s->max = d;
  if (t->n < t->cap)
    t->buf[t->n++] = (ht_event_rec){.t0 = t0, .t1 = t1, .kind = kind, .arg = arg};
  else if (t->cap > 0)
    t->dropped++;
}

void ht_track_begin(ht_track *t, ht_event_kind kind, int arg) {
  if (!t) return;
  double now = ht_now();
  /* Deeper than the stack: the span is not recorded (its end is ignored too). */
  if (t->depth < HT_EV_MAX_DEPTH) {
    t->open_t0[t->depth] = now;
    t->open_kind[t->depth] = kind;
    t->open_arg[t->depth] = arg;
  }
  t->depth++;
}

void ht_track_end(ht_track *t) {
  if (!t || t->depth == 0) return;
  t->depth--;
  if (t->depth >= HT_EV_MAX_DEPTH) return;
  ht_track_span(t, (ht_event_kind)t->open_kind[t->depth], t->open_arg[t->depth], t->open_t0[t->depth], ht_now());
}

ht_event_stat ht_events_total(const ht_events *ev, ht_event_kind kind) {
  ht_event_stat s = {0, 0, 0};
  for (int i = 0; i < HT_EV_MAX_TRACKS; i++) {
    const ht_event_stat *x = &ev->tracks[i].stat[kind];
    s.count += x->count;
    s.total += x->total;
    if (x->max > s.max) s.max = x->max;
  }
  return s;
}

int ht_events_print_table(const ht_events *ev, MPI_Comm comm, FILE *out) {
  int rank, size;
  HT_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  HT_CHECK_MPI(MPI_Comm_size(comm, &size));
  /* Per kind: count, total, max of this rank. */
  double mine[HT_EV_COUNT][3];
  for (int k = 0; k < HT_EV_COUNT; k++) {
    ht_event_stat s = ht_events_total(ev, (ht_event_kind)k);
    mine[k][0] = (double)s.count, mine[k][1] = s.total, mine[k][2] = s.max;
  }
  double *all = NULL;
  if (rank == 0) {
    all = malloc(sizeof mine * (size_t)size);
    if (!all) return ht_error(HT_ENOMEM, "out of memory for the event table");
  }
  int rc = HT_MPI(MPI_Gather(mine, (int)(sizeof mine / sizeof(double)), MPI_DOUBLE, all,
                             (int)(sizeof mine / sizeof(double)), MPI_DOUBLE, 0, comm));
  if (rc < 0) {
    free(all);
    return rc;
  }
  if (rank != 0) return 0;
  fprintf(out, "events (%d rank%s; times in ms; total = mean over ranks)\n", size, size == 1 ? "" : "s");
  fprintf(out, "  %-15s %9s %11s %9s %9s %11s %11s\n", "event", "count", "total", "mean", "max", "min_rank",
          "max_rank");
  for (int k = 0; k < HT_EV_COUNT; k++) {
    double count = 0, total = 0, mx = 0, lo = 1e300, hi = 0;
    for (int r = 0; r < size; r++) {
      const double *x = all + ((size_t)r * HT_EV_COUNT + (size_t)k) * 3;
      count += x[0], total += x[1];
      if (x[2] > mx) mx = x[2];
      if (x[1] < lo) lo = x[1];
      if (x[1] > hi) hi = x[1];
    }
    if (count == 0) continue;
    fprintf(out, "  %-15s %9.0f %11.1f %9.3f %9.3f %11.1f %11.1f\n", ht__event_names[k], count / size,
            1e3 * total / size, 1e3 * total / count, 1e3 * mx, 1e3 * lo, 1e3 * hi);
  }
  free(all);
  return 0;
}

/* A timeline record tagged with its track, as sent to rank 0. */
typedef struct wire_rec {
  double t0, t1;
  int32_t kind, arg, track, pad;
} wire_rec;

static int cmp_rec(const void *pa, const void *pb) {
  const wire_rec *a = pa, *b = pb;
  if (a->track != b->track) return a->track < b->track ? -1 : 1;
  if (a->t0 != b->t0) return a->t0 < b->t0 ? -1 : 1;
  /* Same start: the longer span is the parent and opens first. */
  if (a->t1 != b->t1) return a->t1 > b->t1 ? -1 : 1;
  return 0;
}

static const char *arg_key(int kind) {
  switch (kind) {
  case HT_EV_BACKWARD:
    return "layer";
  case HT_EV_BUCKET_ENQUEUE:
  case HT_EV_ALLREDUCE:
  case HT_EV_BUCKET_WAIT:
  case HT_EV_OPTIMIZER:
    return "bucket";
  case HT_EV_LOAD_READ:
    return "piece";
  case HT_EV_LOAD_BATCH:
    return "batch";
  case HT_EV_CKPT_WRITE:
    return "step";
  }
  return "arg";
}

/* Writes rank r's records (sorted by track, then start) as complete events
 * ("ph":"X" with ts and dur, in microseconds). A viewer nests spans of one
 * thread by time, so a span must lie inside its parent: one that sticks out
 * by clock jitter is clipped to it. */
static void write_rank(FILE *f, int r, wire_rec *rec, int64_t n, int *first) {
  qsort(rec, (size_t)n, sizeof *rec, cmp_rec);
  wire_rec *stack[64];
  int depth = 0;
  for (int64_t i = 0; i < n; i++) {
    wire_rec *q = &rec[i];
    /* Leave the spans that ended before this one starts (all of them at a track change). */
    while (depth > 0 && (q->track != stack[depth - 1]->track || stack[depth - 1]->t1 <= q->t0)) depth--;
    if (depth > 0 && q->t1 > stack[depth - 1]->t1) q->t1 = stack[depth - 1]->t1;
    /* Whole nanoseconds, printed exactly as microseconds: a child's end
     * cannot round past its parent's. */
    long long a = llround(1e9 * q->t0), b = llround(1e9 * q->t1);
    if (b < a) b = a;
    fprintf(f, "%s\n{\"name\":\"%s\",\"cat\":\"hytrain\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%s%lld.%03lld,"
               "\"dur\":%lld.%03lld",
            *first ? "" : ",", ht__event_names[q->kind], r, q->track, a < 0 ? "-" : "", llabs(a) / 1000, llabs(a) % 1000,
            (b - a) / 1000, (b - a) % 1000);
    *first = 0;
    if (q->arg >= 0) fprintf(f, ",\"args\":{\"%s\":%d}", arg_key(q->kind), q->arg);
    fputc('}', f);
    if (depth < 64) stack[depth++] = q;
  }
}

int ht_events_write_trace(const ht_events *ev, MPI_Comm comm, const char *path) {
  int rank, size;
  HT_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  HT_CHECK_MPI(MPI_Comm_size(comm, &size));
  /* This rank's records, relative to the common origin. */
  int64_t n = 0;
  for (int i = 0; i < HT_EV_MAX_TRACKS; i++) n += ev->tracks[i].n;
  wire_rec *mine = malloc(((size_t)n + 1) * sizeof *mine);
  char names[HT_EV_MAX_TRACKS][16];
  int err = mine == NULL;
  memset(names, 0, sizeof names);
  int64_t j = 0;
  for (int i = 0; i < HT_EV_MAX_TRACKS && mine; i++) {
    const ht_track *t = &ev->tracks[i];
    if (t->used) snprintf(names[i], sizeof names[i], "%s", t->name);
    for (int64_t e = 0; e < t->n; e++)
      mine[j++] = (wire_rec){.t0 = t->buf[e].t0 - ev->origin, .t1 = t->buf[e].t1 - ev->origin,
                                 .kind = t->buf[e].kind, .arg = t->buf[e].arg, .track = i};
  }
  if (err) n = 0;
  int bytes = (int)((size_t)n * sizeof *mine);
  int *counts = NULL, *displs = NULL;
  char *allnames = NULL;
  wire_rec *all = NULL;
  if (rank == 0) {
    counts = calloc((size_t)size, sizeof *counts);
    displs = calloc((size_t)size, sizeof *displs);
    allnames = calloc((size_t)size, sizeof names);
  }
  HT_CHECK_MPI(MPI_Gather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
  HT_CHECK_MPI(MPI_Gather(names, (int)sizeof names, MPI_CHAR, allnames, (int)sizeof names, MPI_CHAR, 0, comm));
  int64_t total = 0;
  if (rank == 0) {
    for (int r = 0; r < size; r++) displs[r] = (int)total, total += counts[r];
    all = malloc((size_t)total + 1);
    if (!all) err = 1;
  }
  /* Everyone learns whether rank 0 can receive before sending to it. */
  int root_ok = rank == 0 ? !err : 1;
  HT_CHECK_MPI(MPI_Bcast(&root_ok, 1, MPI_INT, 0, comm));
  if (root_ok) HT_CHECK_MPI(MPI_Gatherv(mine, bytes, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, comm));
  free(mine);
  int rc = 0;
  if (rank == 0) {
    ht_file_out out;
    FILE *f = NULL;
    if (err)
      rc = ht_error(HT_ENOMEM, "out of memory writing the timeline %s", path);
    else if ((rc = ht_file_open(&out, path)) == 0)
      f = out.f;
    if (f) {
      int first = 1;
      fprintf(f, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
      for (int r = 0; r < size; r++) {
        fprintf(f, "%s\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":\"rank %d\"}}",
                first ? "" : ",", r, r);
        first = 0;
        fprintf(f, ",\n{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"sort_index\":%d}}", r, r);
        const char(*nm)[16] = (const char(*)[16])(allnames + (size_t)r * sizeof names);
        for (int i = 0; i < HT_EV_MAX_TRACKS; i++)
          if (nm[i][0])
            fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"%s\"}}",
                    r, i, nm[i]);
        write_rank(f, r, (wire_rec *)((char *)all + displs[r]), counts[r] / (int)sizeof(wire_rec),
                       &first);
      }
      fprintf(f, "\n]}\n");
      rc = ht_file_close_commit(&out);
    }
  }
  free(counts);
  free(displs);
  free(allnames);
  free(all);
  /* Everyone learns whether rank 0 managed to write it. */
  int any = rc;
  HT_CHECK_MPI(MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MIN, comm));
  if (any < 0 && rank != 0) {
    ht_error_defer(); /* rank 0 reports the failed write */
    return any;
  }
  return rc;
}

void ht_events_destroy(ht_events *ev) {
  for (int i = 0; i < HT_EV_MAX_TRACKS; i++) free(ev->tracks[i].buf);
  memset(ev, 0, sizeof *ev);
}
