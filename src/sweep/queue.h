/* The shared trial queue of a sweep (src/sweep/queue.c). Internal. */
#ifndef HT_SWEEP_QUEUE_H
#define HT_SWEEP_QUEUE_H

#include <pthread.h>

#include "hytrain/comm.h"

typedef struct ht_trial_queue {
  const ht_comm *world;
  MPI_Comm comm;      /* duplicate of world->main, queue messages only */
  int n_trials;
  int n_clients;      /* group leaders that will ask */
  pthread_t thread;   /* world rank 0 only */
  int have_thread;
} ht_trial_queue;

/* Collective on world->main: duplicates the queue communicator; world rank 0
 * starts the server thread. n_clients = number of groups (one leader each). */
int ht_trial_queue_open(ht_trial_queue *q, const ht_comm *world, int n_trials, int n_clients);

/* A group leader asks for the next trial: *trial = 0..n_trials-1, or -1 when
 * none are left (ask no more after that). Not collective. */
int ht_trial_queue_next(ht_trial_queue *q, int *trial);

/* Collective on the queue communicator, after this rank's leader was told -1:
 * waits (sleeping between polls) until every rank is done, rank 0 joins the
 * server thread, and all free the communicator. Returns 0 or HT_EMPI. */
int ht_trial_queue_close(ht_trial_queue *q);

#endif
