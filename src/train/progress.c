/*
 * Progress output on rank 0: one line redrawn in place with an ETA when a
 * person watches (log.progress: bar | lines | auto), otherwise (SLURM logs,
 * files, pipes) a plain line every train.log_every steps. The run's log.txt
 * gets the plain line either way.
 *
 * Who watches (auto): without a launcher, the process's own stdout being a
 * terminal. Under srun the same test is right: srun hands a task a terminal
 * only with --pty. Under Open MPI's mpirun every rank's stdout is a
 * pseudo-terminal whatever mpirun writes to (`mpirun ... > run.log` too), and
 * mpirun sets no variable that tells the two apart; what does is mpirun's own
 * stdout. A rank started by mpirun on mpirun's node is its child, so rank 0
 * looks at /proc/<parent>/fd/1; on other nodes (the parent is orted) and
 * under other launchers it prints plain lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hytrain/error.h"
#include "hytrain/timer.h"
#include "train/internal.h"

/* A path a terminal device answers to: a pseudo-terminal or a console. */
static int is_terminal_path(const char *p) {
  return strncmp(p, "/dev/pts/", 9) == 0 || (strncmp(p, "/dev/tty", 8) == 0) || strcmp(p, "/dev/console") == 0;
}

/* mpirun's stdout is a terminal: the parent is mpirun (not orted) and its
 * fd 1 points at a terminal device. */
static int mpirun_on_terminal(void) {
  pid_t pp = getppid();
  char path[64], comm[32] = "", target[256];
  snprintf(path, sizeof path, "/proc/%d/comm", (int)pp);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  if (!fgets(comm, sizeof comm, f)) comm[0] = '\0';
  fclose(f);
  comm[strcspn(comm, "\n")] = '\0';
  if (strcmp(comm, "mpirun") != 0 && strcmp(comm, "mpiexec") != 0 && strcmp(comm, "orterun") != 0 &&
      strcmp(comm, "prterun") != 0)
    return 0;
  snprintf(path, sizeof path, "/proc/%d/fd/1", (int)pp);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = '\0';
  return is_terminal_path(target);
}

int ht__progress_watched(void) {
  if (getenv("OMPI_COMM_WORLD_SIZE")) return mpirun_on_terminal();
  /* Other MPI launchers (MPICH's hydra, PMIx's prun) may give a rank a
   * terminal of their own: plain lines are the safe choice there. */
  const char *ess = getenv("OMPI_MCA_ess"); /* Open MPI sets "singleton" (and PMIX_RANK) in a process run alone */
  int singleton = ess && strcmp(ess, "singleton") == 0;
  if (!singleton && !getenv("SLURM_STEP_ID") && (getenv("PMI_RANK") || getenv("PMIX_RANK"))) return 0;
  return isatty(STDOUT_FILENO);
}

void ht__progress_init(ht__progress *p, int64_t total_steps, ht_progress_mode mode) {
  switch (mode) {
  case HT_PROGRESS_BAR:
    p->tty = 1;
    break;
  case HT_PROGRESS_LINES:
    p->tty = 0;
    break;
  case HT_PROGRESS_AUTO:
    p->tty = ht__progress_watched();
    break;
  }
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
  char line[192];
  snprintf(line, sizeof line, "  epoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f samples/s  ETA %s",
           (long long)epoch + 1, (long long)epochs, (long long)step, (long long)p->total_steps, loss, samples_per_s, eta);
  if (p->tty && !log->quiet) {
    printf("\r%s   ", line);
    fflush(stdout);
    p->dirty = 1;
    ht_log_file(log, "%s", line);
  } else {
    ht_log_info(log, "%s", line);
  }
}

void ht__progress_clear(ht__progress *p) {
  if (p->dirty) {
    printf("\r%100s\r", "");
    fflush(stdout);
    p->dirty = 0;
  }
}
