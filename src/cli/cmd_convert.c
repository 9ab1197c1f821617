/*
 * hytrain convert: turns IDX, CSV or LIBSVM files into a hytrain dataset
 * (docs/data-format.md). A serial tool: it never touches MPI.
 *
 *   hytrain convert idx IMAGES LABELS OUT.h5
 *   hytrain convert csv IN.csv OUT.h5 [--label-col N|first|last] [--header yes|no|auto]
 *                                     [--task classify|regress] [--delimiter C]
 *   hytrain convert libsvm IN.txt OUT.h5 [--dims N] [--task classify|regress]
 *                                        [--format csr|dense|auto] [--base 0|1|auto]
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/convert.h"
#include "hytrain/csr.h"
#include "hytrain/error.h"

static const char convert_usage[] =
    "usage: hytrain convert idx IMAGES LABELS OUT.h5\n"
    "       hytrain convert csv IN.csv OUT.h5 [--label-col N|first|last] [--header yes|no|auto]\n"
    "                                         [--task classify|regress] [--delimiter C]\n"
    "       hytrain convert libsvm IN.txt OUT.h5 [--dims N] [--task classify|regress]\n"
    "                                            [--format csr|dense|auto] [--base 0|1|auto]\n"
    "\n"
    "Writes OUT.h5 (/features float32 [N, D], /labels; or a sparse CSR file)\n"
    "atomically: a failed conversion leaves no file. IDX files may be gzipped.\n"
    "\n"
    "csv options:\n"
    "  --label-col N|first|last   column holding the label, counted from 1 (default: last)\n"
    "  --header yes|no|auto       first row is a header; auto: when it has a non-numeric field\n"
    "                             (default: auto)\n"
    "  --delimiter C              field separator, one character or 'tab' (default: ,)\n"
    "libsvm options:\n"
    "  --dims N                   number of features; 0: the largest index in the file (default)\n"
    "  --format csr|dense|auto    csr: /csr/indptr, /csr/indices, /csr/values (sparse models);\n"
    "                             auto: csr when under a quarter of the entries are non-zero\n"
    "                             (default: auto)\n"
    "  --base 0|1|auto            index of the first feature; auto: 0 when some index is 0\n"
    "                             (default: auto)\n"
    "csv and libsvm:\n"
    "  --task classify|regress    classify: integer labels, their sorted distinct values\n"
    "                             become classes 0..K-1; regress: one float target\n"
    "                             (default: classify)\n"
    "\n"
    "See docs/data-format.md.\n";

typedef enum { FORMAT_IDX, FORMAT_CSV, FORMAT_LIBSVM } input_format;

/* The spellings of an argument's values and what they mean; a table ends
 * with a NULL name. */
typedef struct name_value {
  const char *name;
  int value;
} name_value;

static const name_value formats[] = {{"idx", FORMAT_IDX}, {"csv", FORMAT_CSV}, {"libsvm", FORMAT_LIBSVM}, {NULL, 0}};
static const name_value tasks[] = {{"classify", HT_TASK_CLASSIFY}, {"regress", HT_TASK_REGRESS}, {NULL, 0}};
static const name_value headers[] = {{"yes", 1}, {"no", 0}, {"auto", -1}, {NULL, 0}};
static const name_value label_cols[] = {{"last", -1}, {"first", 0}, {NULL, 0}};
static const name_value svm_formats[] = {
    {"auto", HT_LIBSVM_OUT_AUTO}, {"dense", HT_LIBSVM_OUT_DENSE}, {"csr", HT_LIBSVM_OUT_CSR}, {NULL, 0}};
static const name_value svm_bases[] = {
    {"auto", HT_LIBSVM_BASE_AUTO}, {"0", HT_LIBSVM_BASE_0}, {"1", HT_LIBSVM_BASE_1}, {NULL, 0}};
static const name_value delimiters[] = {{"tab", '\t'}, {"\\t", '\t'}, {NULL, 0}};

/* 1 and *value when text is one of the table's names, else 0. */
static int lookup(const name_value *table, const char *text, int *value) {
  for (const name_value *e = table; e->name; e++)
    if (strcmp(e->name, text) == 0) {
      *value = e->value;
      return 1;
    }
  return 0;
}

/* The parsed command line. */
typedef struct convert_args {
  const char *format;
  int fmt;            /* input_format of format */
  const char *pos[3]; /* positional arguments after the format */
  int npos;
  ht_csv_opts csv;
  ht_libsvm_opts svm;
} convert_args;

static int parse_int(const char *opt, const char *text, int min, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || v < min || v > INT_MAX)
    return ht_error(HT_EUSAGE, "%s expects an integer >= %d, got '%s'", opt, min, text);
  *out = (int)v;
  return 0;
}

static int parse_task(const char *text, ht_task *task) {
  int v;
  if (!lookup(tasks, text, &v)) return ht_error(HT_EUSAGE, "--task expects classify or regress, got '%s'", text);
  *task = (ht_task)v;
  return 0;
}

/* Applies one "--name value" option valid for the format in a->format. */
static int apply_option(convert_args *a, const char *name, const char *value) {
  int is_csv = a->fmt == FORMAT_CSV, is_svm = a->fmt == FORMAT_LIBSVM;
  if (strcmp(name, "--task") == 0 && (is_csv || is_svm)) {
    HT_CHECK(parse_task(value, &a->csv.task));
    a->svm.task = a->csv.task;
  } else if (strcmp(name, "--label-col") == 0 && is_csv) {
    if (!lookup(label_cols, value, &a->csv.label_col)) {
      int col = 0;
      HT_CHECK(parse_int(name, value, 1, &col));
      a->csv.label_col = col - 1;
    }
  } else if (strcmp(name, "--header") == 0 && is_csv) {
    if (!lookup(headers, value, &a->csv.header))
      return ht_error(HT_EUSAGE, "--header expects yes, no or auto, got '%s'", value);
  } else if (strcmp(name, "--delimiter") == 0 && is_csv) {
    int tab;
    if (lookup(delimiters, value, &tab))
      a->csv.delimiter = (char)tab;
    else if (strlen(value) == 1 && value[0] != '"' && value[0] != '\n' && value[0] != '\r')
      a->csv.delimiter = value[0];
    else
      return ht_error(HT_EUSAGE, "--delimiter expects one character or 'tab', got '%s'", value);
  } else if (strcmp(name, "--dims") == 0 && is_svm) {
    HT_CHECK(parse_int(name, value, 0, &a->svm.dims));
  } else if (strcmp(name, "--format") == 0 && is_svm) {
    int v;
    if (!lookup(svm_formats, value, &v)) return ht_error(HT_EUSAGE, "--format expects csr, dense or auto, got '%s'", value);
    a->svm.format = (ht_libsvm_out)v;
  } else if (strcmp(name, "--base") == 0 && is_svm) {
    int v;
    if (!lookup(svm_bases, value, &v)) return ht_error(HT_EUSAGE, "--base expects 0, 1 or auto, got '%s'", value);
    a->svm.base = (ht_libsvm_base)v;
  } else {
    return ht_error(HT_EUSAGE, "unknown option '%s' for %s (see hytrain convert --help)", name, a->format);
  }
  return 0;
}

static int parse_args(convert_args *a, int argc, char **argv) {
  a->format = argv[1];
  if (!lookup(formats, a->format, &a->fmt))
    return ht_error(HT_EUSAGE, "unknown input format '%s' (expected idx, csv or libsvm)", a->format);
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (strncmp(arg, "--", 2) == 0 && arg[2]) {
      /* Both "--name value" and "--name=value". */
      char name[64];
      const char *eq = strchr(arg, '='), *value;
      size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
      if (len >= sizeof name) return ht_error(HT_EUSAGE, "unknown option '%s'", arg);
      memcpy(name, arg, len);
      name[len] = '\0';
      if (eq) {
        value = eq + 1;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return ht_error(HT_EUSAGE, "option %s needs a value", name);
      }
      HT_CHECK(apply_option(a, name, value));
    } else {
      if (a->npos == 3) return ht_error(HT_EUSAGE, "unexpected argument '%s' (see hytrain convert --help)", arg);
      a->pos[a->npos++] = arg;
    }
  }
  int want = a->fmt == FORMAT_IDX ? 3 : 2;
  if (a->npos != want) {
    if (want == 3) return ht_error(HT_EUSAGE, "usage: hytrain convert idx IMAGES LABELS OUT.h5");
    return ht_error(HT_EUSAGE, "usage: hytrain convert %s %s OUT.h5 [options] (see hytrain convert --help)", a->format,
                    a->fmt == FORMAT_CSV ? "IN.csv" : "IN.txt");
  }
  return 0;
}

int ht_cmd_convert(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(convert_usage, stdout);
      return 0;
    }
  if (argc < 2)
    return ht_cli_fail("convert", ht_error(HT_EUSAGE, "missing input format: idx, csv or libsvm (see hytrain convert --help)"));

  convert_args a = {0};
  a.csv = (ht_csv_opts){.header = -1, .label_col = -1, .task = HT_TASK_CLASSIFY, .delimiter = ','};
  a.svm = (ht_libsvm_opts){.dims = 0, .task = HT_TASK_CLASSIFY};
  int rc = parse_args(&a, argc, argv);
  if (rc < 0) return ht_cli_fail("convert", rc);

  const char *out = a.pos[a.npos - 1];
  int csr = 0;
  if (a.fmt == FORMAT_IDX)
    rc = ht_convert_idx(a.pos[0], a.pos[1], out);
  else if (a.fmt == FORMAT_CSV)
    rc = ht_convert_csv(a.pos[0], out, &a.csv);
  else
    rc = ht_convert_libsvm_ex(a.pos[0], out, &a.svm, &csr);
  if (rc < 0) return ht_cli_fail("convert", rc);

  /* The summary comes from the written file itself, as training will see it. */
  if (csr) {
    ht_csr cs;
    rc = ht_csr_probe(&cs, out);
    if (rc < 0) return ht_cli_fail("convert", rc);
    printf("wrote %s (sparse CSR): %lld rows, %d features, %lld non-zeros, ", out, (long long)cs.n_total, cs.d,
           (long long)cs.nnz_total);
    if (cs.task == HT_TASK_CLASSIFY)
      printf("%d classes\n", cs.num_classes);
    else
      printf("1 regression target\n");
    return 0;
  }
  ht_dataset ds;
  rc = ht_dataset_probe(&ds, out);
  if (rc < 0) return ht_cli_fail("convert", rc);
  if (ds.task == HT_TASK_CLASSIFY)
    printf("wrote %s: %lld rows, %d features, %d classes\n", out, (long long)ds.n_total, ds.d, ds.num_classes);
  else
    printf("wrote %s: %lld rows, %d features, %d regression target%s\n", out, (long long)ds.n_total, ds.d, ds.t,
           ds.t == 1 ? "" : "s");
  return 0;
}
