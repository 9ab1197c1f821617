/*
 * The oneDNN half of the GEMM backend: matmul primitives, created once per
 * shape and cached, run on the OpenMP team of the calling thread (Debian's
 * libdnnl is built with DNNL_CPU_RUNTIME=OMP, i.e. the same libgomp team as
 * our own loops and OpenBLAS).
 *
 * No allocation per call: each cache entry owns its primitive and memory
 * objects; a call only points the memory objects at this call's buffers
 * (dnnl_memory_set_data_handle, which for plain CPU layouts stores a pointer)
 * and executes. The scratchpad is user-managed: one buffer, grown (only when
 * a new shape needs more) to the largest any primitive asked for.
 *
 * Determinism: oneDNN's brgemm matmul (the kernel it picks on AVX-512 and
 * AVX2 CPUs) splits the work over blocks of C and, when it splits K over
 * threads, adds the partial sums in thread order; for a fixed thread count
 * the same shape gives bit-identical results on every call (tested in
 * tests/unit/test_gemm.c, case onednn_deterministic).
 */
#include "model/gemm_internal.h"

#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"

#ifndef HT_HAVE_ONEDNN

int ht__onednn_create(ht__onednn **e) {
  *e = NULL;
  return ht_error(HT_ECONFIG, "compute.backend onednn: this hytrain was built without oneDNN "
                              "(install libdnnl-dev and rebuild, or use compute.backend=openblas)");
}
void ht__onednn_destroy(ht__onednn **e) { *e = NULL; }
int ht__onednn_matmul(ht__onednn *e, const ht__mm_shape *s, const void *A, const void *B, const float *bias, float *C) {
  return ht_error(HT_EINTERNAL, "oneDNN matmul called in a build without oneDNN");
}
const char *ht__onednn_isa(void) { return ""; }

#else

#include <oneapi/dnnl/dnnl.h>

typedef struct mm_entry {
  ht__mm_shape key;
  dnnl_primitive_t prim;
  dnnl_memory_t a, b, bias, c, scratch; /* bias is NULL without a bias term */
  size_t scratch_bytes;
} mm_entry;

struct ht__onednn {
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  mm_entry *entries;
  int n, cap;
  void *scratch;        /* shared scratchpad, 64-byte aligned */
  size_t scratch_bytes;
};

static int dnnl_fail(dnnl_status_t st, const char *call) {
  return ht_error(st == dnnl_out_of_memory ? HT_ENOMEM : HT_EINTERNAL, "oneDNN: %s failed (status %d)", call, (int)st);
}

#define HT__DNNL(call)                                   \
  do {                                                   \
    dnnl_status_t ht__st = (call);                       \
    if (ht__st != dnnl_success) return dnnl_fail(ht__st, #call); \
  } while (0)

int ht__onednn_create(ht__onednn **out) {
  *out = NULL;
  ht__onednn *e = calloc(1, sizeof *e);
  if (!e) return ht_error(HT_ENOMEM, "oneDNN: out of memory for the backend context");
  dnnl_status_t st = dnnl_engine_create(&e->engine, dnnl_cpu, 0);
  if (st == dnnl_success) st = dnnl_stream_create(&e->stream, e->engine, dnnl_stream_default_flags);
  if (st != dnnl_success) {
    ht__onednn_destroy(&e);
    return dnnl_fail(st, "dnnl_engine_create/dnnl_stream_create");
  }
  *out = e;
  return 0;
}

static void entry_free(mm_entry *en) {
  if (en->prim) dnnl_primitive_destroy(en->prim);
  dnnl_memory_t mems[5] = {en->a, en->b, en->bias, en->c, en->scratch};
  for (int i = 0; i < 5; i++)
    if (mems[i]) dnnl_memory_destroy(mems[i]);
  memset(en, 0, sizeof *en);
}

void ht__onednn_destroy(ht__onednn **pe) {
  ht__onednn *e = *pe;
  if (!e) return;
  for (int i = 0; i < e->n; i++) entry_free(&e->entries[i]);
  free(e->entries);
  free(e->scratch);
  if (e->stream) dnnl_stream_destroy(e->stream);
  if (e->engine) dnnl_engine_destroy(e->engine);
  free(e);
  *pe = NULL;
}

/* Builds the primitive and memory objects of s into en (zeroed on failure by the caller). */
static int entry_build(ht__onednn *e, const ht__mm_shape *s, mm_entry *en) {
  dnnl_data_type_t in_t = s->bf16 ? dnnl_bf16 : dnnl_f32;
  dnnl_memory_desc_t a_md, b_md, bias_md, c_md;
  dnnl_dims_t a_dims = {s->M, s->K}, a_str = {s->as0, s->as1};
  dnnl_dims_t b_dims = {s->K, s->N}, b_str = {s->bs0, s->bs1};
  dnnl_dims_t c_dims = {s->M, s->N}, c_str = {s->ldc, 1};
  dnnl_dims_t bias_dims = {1, s->N}, bias_str = {s->N, 1};
  HT__DNNL(dnnl_memory_desc_init_by_strides(&a_md, 2, a_dims, in_t, a_str));
  HT__DNNL(dnnl_memory_desc_init_by_strides(&b_md, 2, b_dims, in_t, b_str));
  HT__DNNL(dnnl_memory_desc_init_by_strides(&c_md, 2, c_dims, dnnl_f32, c_str));
  HT__DNNL(dnnl_memory_desc_init_by_strides(&bias_md, 2, bias_dims, dnnl_f32, bias_str));
  dnnl_matmul_desc_t desc;
  HT__DNNL(dnnl_matmul_desc_init(&desc, &a_md, &b_md, s->bias ? &bias_md : NULL, &c_md));

  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t ops = NULL;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_status_t st = dnnl_primitive_attr_create(&attr);
  if (st == dnnl_success) st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  if (st == dnnl_success && s->relu) {
    st = dnnl_post_ops_create(&ops);
    if (st == dnnl_success) st = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, ops);
  }
  if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &desc, attr, e->engine, NULL);
  if (st == dnnl_success) st = dnnl_primitive_create(&en->prim, pd);
  const dnnl_memory_desc_t *sp_md = st == dnnl_success ? dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) : NULL;
  if (st == dnnl_success && sp_md) {
    en->scratch_bytes = dnnl_memory_desc_get_size(sp_md);
    st = dnnl_memory_create(&en->scratch, sp_md, e->engine, DNNL_MEMORY_NONE);
  }
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (ops) dnnl_post_ops_destroy(ops);
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (st != dnnl_success) return dnnl_fail(st, "creating the matmul primitive");

  HT__DNNL(dnnl_memory_create(&en->a, &a_md, e->engine, DNNL_MEMORY_NONE));
  HT__DNNL(dnnl_memory_create(&en->b, &b_md, e->engine, DNNL_MEMORY_NONE));
  HT__DNNL(dnnl_memory_create(&en->c, &c_md, e->engine, DNNL_MEMORY_NONE));
  if (s->bias) HT__DNNL(dnnl_memory_create(&en->bias, &bias_md, e->engine, DNNL_MEMORY_NONE));
  en->key = *s;
  return 0;
}

/* The cache entry of s, built at the first call with this shape. */
static int entry_get(ht__onednn *e, const ht__mm_shape *s, mm_entry **out) {
  for (int i = 0; i < e->n; i++)
    if (memcmp(&e->entries[i].key, s, sizeof *s) == 0) {
      *out = &e->entries[i];
      return 0;
    }
  if (e->n == e->cap) {
    int cap = e->cap ? 2 * e->cap : 16;
    mm_entry *grown = realloc(e->entries, (size_t)cap * sizeof *grown);
    if (!grown) return ht_error(HT_ENOMEM, "oneDNN: out of memory for the primitive cache");
    e->entries = grown;
    e->cap = cap;
  }
  mm_entry *en = &e->entries[e->n];
  memset(en, 0, sizeof *en);
  int rc = entry_build(e, s, en);
  if (rc < 0) {
    entry_free(en);
    return rc;
  }
  if (en->scratch_bytes > e->scratch_bytes) {
    size_t bytes = (en->scratch_bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, bytes);
    if (!p) {
      entry_free(en);
      return ht_error(HT_ENOMEM, "oneDNN: out of memory for a %zu-byte scratchpad", bytes);
    }
    free(e->scratch);
    e->scratch = p;
    e->scratch_bytes = en->scratch_bytes;
  }
  e->n++;
  *out = en;
  return 0;
}

int ht__onednn_matmul(ht__onednn *e, const ht__mm_shape *s, const void *A, const void *B, const float *bias, float *C) {
  mm_entry *en = NULL;
  HT_CHECK(entry_get(e, s, &en));
  /* oneDNN only reads A, B and bias; its handles are not const-qualified. */
  HT__DNNL(dnnl_memory_set_data_handle(en->a, (void *)A));
  HT__DNNL(dnnl_memory_set_data_handle(en->b, (void *)B));
  HT__DNNL(dnnl_memory_set_data_handle(en->c, C));
  HT__DNNL(dnnl_memory_set_data_handle(en->scratch, e->scratch));
  dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, en->a},
                             {DNNL_ARG_WEIGHTS, en->b},
                             {DNNL_ARG_DST, en->c},
                             {DNNL_ARG_SCRATCHPAD, en->scratch},
                             {DNNL_ARG_BIAS, en->bias}};
  int nargs = 4;
  if (en->bias) {
    HT__DNNL(dnnl_memory_set_data_handle(en->bias, (void *)bias));
    nargs = 5;
  }
  HT__DNNL(dnnl_primitive_execute(en->prim, e->stream, nargs, args));
  /* A CPU stream in the default (in-order, blocking) mode has finished here;
   * the wait is the documented way to be sure. */
  HT__DNNL(dnnl_stream_wait(e->stream));
  return 0;
}

const char *ht__onednn_isa(void) {
  /* dnnl_cpu_isa_t is a set of bits that grows with the ISA, and holds
   * hint values besides: compare, not switch. */
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  if (isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx) return "avx512_bf16";
  if (isa == dnnl_cpu_isa_avx512_core || isa == dnnl_cpu_isa_avx512_core_vnni || isa == dnnl_cpu_isa_avx512_mic ||
      isa == dnnl_cpu_isa_avx512_mic_4ops)
    return "avx512";
  if (isa == dnnl_cpu_isa_avx2 || isa == dnnl_cpu_isa_avx2_vnni) return "avx2";
  if (isa == dnnl_cpu_isa_avx) return "avx";
  if (isa == dnnl_cpu_isa_sse41) return "sse";
  return "";
}

#endif
