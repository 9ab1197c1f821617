/*
 * Progress output on rank 0: on a terminal one line redrawn in place with an
 * ETA; otherwise (SLURM logs, pipes) a plain line every train.log_every steps.
 */
#include <stdio.h>
#include <unistd.h>

#include "hytrain/timer.h"
#include "train/internal.h"

void ht__progress_init(ht__progress *p, int64_t total_steps) {
  p->tty = isatty(STDOUT_FILENO);
  p->total_steps = total_steps;
  p->first_step = 0;
  p->t0 = ht_now();
  p->dirty = 0;
}

static void fmt_duration(double s, char *out, size_t len) {
  long t = (long)(s + 0.5);
  if (t >= 3600)
    snprintf(out, len, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    snprintf(out, len, "%ldm%02lds", t / 60, t % 60);
  else
    snprintf(out, len, "%lds", t);
}

void ht__progress_step(ht__progress *p, const ht_log *log, int64_t epoch, int64_t epochs, int64_t step, double loss,
                       double samples_per_s) {
  if (log->rank != 0) return;
  double elapsed = ht_now() - p->t0;
  char eta[32] = "?";
  int64_t done = step - p->first_step;
  if (done > 0 && p->total_steps > step) fmt_duration(elapsed / (double)done * (double)(p->total_steps - step), eta, sizeof eta);
  else if (p->total_steps <= step) snprintf(eta, sizeof eta, "0s");
  if (p->tty && !log->quiet) {
    printf("\r  epoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f samples/s  ETA %s   ", (long long)epoch + 1,
           (long long)epochs, (long long)step, (long long)p->total_steps, loss, samples_per_s, eta);
    fflush(stdout);
    p->dirty = 1;
  } else {
    ht_log_info(log, "  epoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f samples/s  ETA %s", (long long)epoch + 1,
                (long long)epochs, (long long)step, (long long)p->total_steps, loss, samples_per_s, eta);
  }
}

void ht__progress_clear(ht__progress *p) {
  if (p->dirty) {
    printf("\r%100s\r", "");
    fflush(stdout);
    p->dirty = 0;
  }
}
