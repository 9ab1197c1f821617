/*
 * hytrain convert: turns IDX, CSV or LIBSVM files into a hytrain dataset
 * (docs/data-format.md). A serial tool: it never touches MPI.
 *
 *   hytrain convert idx IMAGES LABELS OUT.h5
 *   hytrain convert csv IN.csv OUT.h5 [--label-col N|first|last] [--header yes|no|auto]
 *                                     [--task classify|regress] [--delimiter C]
 *   hytrain convert libsvm IN.txt OUT.h5 [--dims N] [--task classify|regress]
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/convert.h"
#include "hytrain/error.h"

static const char convert_usage[] =
    "usage: hytrain convert idx IMAGES LABELS OUT.h5\n"
    "       hytrain convert csv IN.csv OUT.h5 [--label-col N|first|last] [--header yes|no|auto]\n"
    "                                         [--task classify|regress] [--delimiter C]\n"
    "       hytrain convert libsvm IN.txt OUT.h5 [--dims N] [--task classify|regress]\n"
    "\n"
    "Writes OUT.h5 (/features float32 [N, D], /labels) atomically: a failed\n"
    "conversion leaves no file. IDX files may be gzipped.\n"
    "\n"
    "csv options:\n"
    "  --label-col N|first|last   column holding the label, counted from 1 (default: last)\n"
    "  --header yes|no|auto       first row is a header; auto: when it has a non-numeric field\n"
    "                             (default: auto)\n"
    "  --delimiter C              field separator, one character or 'tab' (default: ,)\n"
    "libsvm options:\n"
    "  --dims N                   number of features; 0: the largest index in the file (default)\n"
    "csv and libsvm:\n"
    "  --task classify|regress    classify: integer labels, their sorted distinct values\n"
    "                             become classes 0..K-1; regress: one float target\n"
    "                             (default: classify)\n"
    "\n"
    "See docs/data-format.md.\n";

/* The parsed command line. */
typedef struct convert_args {
  const char *format;
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
  if (strcmp(text, "classify") == 0)
    *task = HT_TASK_CLASSIFY;
  else if (strcmp(text, "regress") == 0)
    *task = HT_TASK_REGRESS;
  else
    return ht_error(HT_EUSAGE, "--task expects classify or regress, got '%s'", text);
  return 0;
}

/* Applies one "--name value" option valid for the format in a->format. */
static int apply_option(convert_args *a, const char *name, const char *value) {
  int is_csv = strcmp(a->format, "csv") == 0, is_svm = strcmp(a->format, "libsvm") == 0;
  if (strcmp(name, "--task") == 0 && (is_csv || is_svm)) {
    HT_CHECK(parse_task(value, &a->csv.task));
    a->svm.task = a->csv.task;
  } else if (strcmp(name, "--label-col") == 0 && is_csv) {
    if (strcmp(value, "last") == 0) {
      a->csv.label_col = -1;
    } else if (strcmp(value, "first") == 0) {
      a->csv.label_col = 0;
    } else {
      int col = 0;
      HT_CHECK(parse_int(name, value, 1, &col));
      a->csv.label_col = col - 1;
    }
  } else if (strcmp(name, "--header") == 0 && is_csv) {
    if (strcmp(value, "yes") == 0)
      a->csv.header = 1;
    else if (strcmp(value, "no") == 0)
      a->csv.header = 0;
    else if (strcmp(value, "auto") == 0)
      a->csv.header = -1;
    else
      return ht_error(HT_EUSAGE, "--header expects yes, no or auto, got '%s'", value);
  } else if (strcmp(name, "--delimiter") == 0 && is_csv) {
    if (strcmp(value, "tab") == 0 || strcmp(value, "\\t") == 0)
      a->csv.delimiter = '\t';
    else if (strlen(value) == 1 && value[0] != '"' && value[0] != '\n' && value[0] != '\r')
      a->csv.delimiter = value[0];
    else
      return ht_error(HT_EUSAGE, "--delimiter expects one character or 'tab', got '%s'", value);
  } else if (strcmp(name, "--dims") == 0 && is_svm) {
    HT_CHECK(parse_int(name, value, 0, &a->svm.dims));
  } else {
    return ht_error(HT_EUSAGE, "unknown option '%s' for %s (see hytrain convert --help)", name, a->format);
  }
  return 0;
}

static int parse_args(convert_args *a, int argc, char **argv) {
  a->format = argv[1];
  if (strcmp(a->format, "idx") != 0 && strcmp(a->format, "csv") != 0 && strcmp(a->format, "libsvm") != 0)
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
  int want = strcmp(a->format, "idx") == 0 ? 3 : 2;
  if (a->npos != want) {
    if (want == 3) return ht_error(HT_EUSAGE, "usage: hytrain convert idx IMAGES LABELS OUT.h5");
    return ht_error(HT_EUSAGE, "usage: hytrain convert %s %s OUT.h5 [options] (see hytrain convert --help)", a->format,
                    strcmp(a->format, "csv") == 0 ? "IN.csv" : "IN.txt");
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
  if (strcmp(a.format, "idx") == 0)
    rc = ht_convert_idx(a.pos[0], a.pos[1], out);
  else if (strcmp(a.format, "csv") == 0)
    rc = ht_convert_csv(a.pos[0], out, &a.csv);
  else
    rc = ht_convert_libsvm(a.pos[0], out, &a.svm);
  if (rc < 0) return ht_cli_fail("convert", rc);

  /* The summary comes from the written file itself, as training will see it. */
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
