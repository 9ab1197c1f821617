/*
 * The shared trial queue of a sweep: world rank 0 hands out trial numbers,
 * one at a time, to whichever group asks first, so a slow trial occupies only
 * its own group and the others keep taking work (dynamic assignment).
 *
 * Threads: world rank 0 trains in group 0 like every other rank, so the queue
 * is served by a thread of its own ("ht-sweep-queue", owned by this file). It
 * talks only on a communicator duplicated for the queue, and hands trial
 * numbers to the main threads (its own rank's included) only through MPI
 * messages on it: no memory is shared with the training code.
 *
 * Waiting without stealing: Open MPI's blocking calls spin, and on a machine
 * with no spare core a spinning queue thread (or a leader waiting for its
 * answer) would take a core from training. Both sides poll (MPI_Iprobe /
 * MPI_Test) with an exponential sleep between polls, from 20 us to 2 ms:
 * negligible latency next to a trial, and no busy core.
 */
#include "sweep/queue.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hytrain/error.h"

enum { HT__TAG_ASK = 701, HT__TAG_TRIAL = 702 };

static void backoff(long *ns) {
  struct timespec ts = {0, *ns};
  nanosleep(&ts, NULL);
  *ns = *ns * 2 > 2000000 ? 2000000 : *ns * 2;
}

/* Waits for a request to complete, sleeping between tests. */
static int wait_for_trial(MPI_Request *req) {
  long ns = 20000;
  for (;;) {
    int done = 0;
    HT_CHECK_MPI(MPI_Test(req, &done, MPI_STATUS_IGNORE));
    if (done) return 0;
    backoff(&ns);
  }
}

/* The server: answers every ASK with the next trial, or -1 once all are
 * handed out; ends when every client has been told -1. */
static int serve(ht_trial_queue *q) {
  int next = 0, finished = 0;
  long ns = 20000;
  while (finished < q->n_clients) {
    int flag = 0;
    MPI_Status st;
    HT_CHECK_MPI(MPI_Iprobe(MPI_ANY_SOURCE, HT__TAG_ASK, q->comm, &flag, &st));
    if (!flag) {
      backoff(&ns);
      continue;
    }
    ns = 20000;
    int ask = 0, answer;
    HT_CHECK_MPI(MPI_Recv(&ask, 1, MPI_INT, st.MPI_SOURCE, HT__TAG_ASK, q->comm, MPI_STATUS_IGNORE));
    answer = next < q->n_trials ? next++ : -1;
    if (answer < 0) finished++;
    MPI_Request req;
    HT_CHECK_MPI(MPI_Isend(&answer, 1, MPI_INT, st.MPI_SOURCE, HT__TAG_TRIAL, q->comm, &req));
    HT_CHECK(wait_for_trial(&req));
  }
  return 0;
}

static void *queue_main(void *arg) {
  ht_trial_queue *q = arg;
  pthread_setname_np(pthread_self(), "ht-sweep-queue");
  int rc = serve(q);
  /* A broken queue would leave every group waiting for an answer: end the job. */
  if (rc < 0) ht_comm_abort(q->world, rc, ht_error_message());
  return NULL;
}

int ht_trial_queue_open(ht_trial_queue *q, const ht_comm *world, int n_trials, int n_clients) {
  memset(q, 0, sizeof *q);
  q->comm = MPI_COMM_NULL;
  q->world = world;
  q->n_trials = n_trials;
  q->n_clients = n_clients;
  HT_CHECK_MPI(MPI_Comm_dup(world->main, &q->comm));
  int rc = HT_MPI(MPI_Comm_set_errhandler(q->comm, MPI_ERRORS_RETURN));
  if (rc == 0 && world->rank == 0) {
    if (pthread_create(&q->thread, NULL, queue_main, q) != 0) rc = ht_error(HT_EINTERNAL, "cannot start the sweep queue thread");
    else q->have_thread = 1;
  }
  return ht_comm_agree(world, rc);
}

int ht_trial_queue_next(ht_trial_queue *q, int *trial) {
  int ask = 0;
  MPI_Request req;
  HT_CHECK_MPI(MPI_Isend(&ask, 1, MPI_INT, 0, HT__TAG_ASK, q->comm, &req));
  HT_CHECK(wait_for_trial(&req));
  HT_CHECK_MPI(MPI_Irecv(trial, 1, MPI_INT, 0, HT__TAG_TRIAL, q->comm, &req));
  HT_CHECK(wait_for_trial(&req));
  return 0;
}

int ht_trial_queue_close(ht_trial_queue *q) {
  /* Groups that run out of trials first wait here for the others without
   * spinning (a blocking barrier would busy-poll a core the last trials
   * need). The server thread's point-to-point traffic on the same
   * communicator does not interfere with the barrier. */
  if (q->comm == MPI_COMM_NULL) return 0;
  MPI_Request req;
  int rc = HT_MPI(MPI_Ibarrier(q->comm, &req));
  if (rc == 0) rc = wait_for_trial(&req);
  if (q->have_thread) pthread_join(q->thread, NULL);
  q->have_thread = 0;
  if (q->comm != MPI_COMM_NULL) MPI_Comm_free(&q->comm);
  return rc;
}
