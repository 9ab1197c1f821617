/*
 * compute.binding's split of a node's cores (hytrain/binding.h): which cpus
 * local rank i of n gets, on machines described by hand (SMT siblings, two
 * packages, fewer cores than ranks), and the topology order read from /sys.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "ht_test.h"
#include "hytrain/binding.h"

/* "0-3" style text of a set, for readable failures. */
static void text(const cpu_set_t *s, char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (int c = 0; c < 64 && used + 8 < len; c++)
    if (CPU_ISSET(c, s)) used += (size_t)snprintf(out + used, len - used, "%s%d", used ? "," : "", c);
}

static void expect_share(const ht_cpu_topo *topo, int ncpu, int i, int n, const char *want, int want_cores) {
  cpu_set_t s;
  int cores = ht_binding_share(topo, ncpu, i, n, &s);
  char got[256];
  text(&s, got, sizeof got);
  if (cores != want_cores || strcmp(got, want) != 0)
    fail_msg("rank %d of %d: cpus '%s' (%d cores), want '%s' (%d cores)", i, n, got, cores, want, want_cores);
}

/* 4 single-thread cores, 2 ranks: two cores each, contiguous. */
static void share_even(void **state) {
  (void)state;
  ht_cpu_topo t[4];
  for (int c = 0; c < 4; c++) t[c] = (ht_cpu_topo){.cpu = c, .core = c};
  expect_share(t, 4, 0, 2, "0,1", 4);
  expect_share(t, 4, 1, 2, "2,3", 4);
  /* 3 ranks on 4 cores: blocks of 1, 1, 2 cover every core once. */
  expect_share(t, 4, 0, 3, "0", 4);
  expect_share(t, 4, 1, 3, "1", 4);
  expect_share(t, 4, 2, 3, "2,3", 4);
}

/* Hyper-threads: cpus 0/4, 1/5, 2/6, 3/7 are siblings of one core (listed in
 * topology order, as ht_cpu_topology returns them). A rank gets whole cores. */
static void share_keeps_siblings(void **state) {
  (void)state;
  ht_cpu_topo t[8];
  int k = 0;
  for (int core = 0; core < 4; core++) {
    t[k++] = (ht_cpu_topo){.cpu = core, .core = core};
    t[k++] = (ht_cpu_topo){.cpu = core + 4, .core = core};
  }
  expect_share(t, 8, 0, 2, "0,1,4,5", 4);
  expect_share(t, 8, 1, 2, "2,3,6,7", 4);
  expect_share(t, 8, 3, 4, "3,7", 4);
}

/* Two packages whose core ids repeat (0, 1 on each): four cores, not two;
 * 2 ranks get one package each. */
static void share_packages(void **state) {
  (void)state;
  ht_cpu_topo t[4] = {{.cpu = 0, .package = 0, .core = 0}, {.cpu = 1, .package = 0, .core = 1},
                      {.cpu = 2, .package = 1, .core = 0}, {.cpu = 3, .package = 1, .core = 1}};
  expect_share(t, 4, 0, 2, "0,1", 4);
  expect_share(t, 4, 1, 2, "2,3", 4);
}

/* More ranks than cores: rank i shares core i * cores / n. */
static void share_fewer_cores(void **state) {
  (void)state;
  ht_cpu_topo t[2] = {{.cpu = 0, .core = 0}, {.cpu = 1, .core = 1}};
  expect_share(t, 2, 0, 4, "0", 2);
  expect_share(t, 2, 1, 4, "0", 2);
  expect_share(t, 2, 2, 4, "1", 2);
  expect_share(t, 2, 3, 4, "1", 2);
}

/* The communication thread's cpu in a share of 3 cores with SMT siblings
 * (cpus 2/6, 3/7, 4/8 in topology order): a spare core after the pinned team
 * when there is one, else the last core; an unpinned team floats over the
 * whole share, so the last core too; a one-core share has only that core. */
static void comm_cpu_spare_or_last(void **state) {
  (void)state;
  ht_cpu_topo t[6];
  int k = 0;
  for (int core = 2; core < 5; core++) {
    t[k++] = (ht_cpu_topo){.cpu = core, .core = core};
    t[k++] = (ht_cpu_topo){.cpu = core + 4, .core = core};
  }
  assert_int_equal(ht_binding_comm_cpu(t, 6, 1, 1), 3); /* team on core 2: core 3 is spare */
  assert_int_equal(ht_binding_comm_cpu(t, 6, 2, 1), 4); /* team on cores 2, 3: core 4 is spare */
  assert_int_equal(ht_binding_comm_cpu(t, 6, 3, 1), 4); /* no spare core: the last one */
  assert_int_equal(ht_binding_comm_cpu(t, 6, 8, 1), 4);
  assert_int_equal(ht_binding_comm_cpu(t, 6, 1, 0), 4); /* unpinned: the last core */
  assert_int_equal(ht_binding_comm_cpu(t, 2, 1, 1), 2); /* one core */
  assert_int_equal(ht_binding_comm_cpu(t, 0, 1, 1), -1);
}

/* This machine's cpus come back sorted, siblings of a core adjacent, and a
 * split of them covers each cpu exactly once. */
static void topology_of_this_machine(void **state) {
  (void)state;
  cpu_set_t all;
  CPU_ZERO(&all);
  assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
  static ht_cpu_topo t[CPU_SETSIZE];
  int n = ht_cpu_topology(&all, t, CPU_SETSIZE);
  assert_int_equal(n, CPU_COUNT(&all));
  for (int j = 1; j < n; j++) {
    int before = t[j - 1].node < t[j].node ||
                 (t[j - 1].node == t[j].node &&
                  (t[j - 1].package < t[j].package ||
                   (t[j - 1].package == t[j].package &&
                    (t[j - 1].l3 < t[j].l3 || (t[j - 1].l3 == t[j].l3 && t[j - 1].core <= t[j].core)))));
    if (!before) fail_msg("cpu %d listed after cpu %d out of topology order", t[j].cpu, t[j - 1].cpu);
  }
  for (int ranks = 1; ranks <= 3; ranks++) {
    cpu_set_t seen, s;
    CPU_ZERO(&seen);
    int total = 0;
    for (int i = 0; i < ranks; i++) {
      int cores = ht_binding_share(t, n, i, ranks, &s);
      if (cores < ranks) return; /* fewer cores than ranks: shares overlap by design */
      cpu_set_t both;
      CPU_AND(&both, &seen, &s);
      assert_int_equal(CPU_COUNT(&both), 0);
      CPU_OR(&seen, &seen, &s);
      total += CPU_COUNT(&s);
    }
    assert_int_equal(total, n);
  }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(share_even),
    cmocka_unit_test(share_keeps_siblings),
    cmocka_unit_test(share_packages),
    cmocka_unit_test(share_fewer_cores),
    cmocka_unit_test(comm_cpu_spare_or_last),
    cmocka_unit_test(topology_of_this_machine),
};

HT_TEST_MAIN("binding", tests)
