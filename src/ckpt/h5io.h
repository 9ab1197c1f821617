/*
 * Internal HDF5 helpers shared by the checkpoint writer, reader and
 * inspector: attributes, and checksummed datasets with shape checks. Every
 * error names `file` and the object.
 */
#ifndef HT_CKPT_H5IO_H
#define HT_CKPT_H5IO_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "core/h5num.h"
#include "hytrain/options.h"

int ht__attr_str(hid_t obj, const char *name, const char *val, const char *what);
int ht__attr_i64(hid_t obj, const char *name, int64_t v, const char *what);
int ht__attr_write(hid_t obj, const char *name, hid_t type, const void *val, hsize_t n, const char *what);
/* A numeric attribute holding one value (ht__attr_read) or 1 .. max_n
 * values (how many into *got when not NULL), of exactly the type the format gives it (core/h5num.h: no HDF5
 * conversion, either byte order), into out as `want`. */
int ht__attr_read(hid_t obj, const char *name, ht_h5num_want want, void *out, const char *what);
int ht__attr_read_n(hid_t obj, const char *name, ht_h5num_want want, void *out, size_t max_n, size_t *got, const char *what);
/* One fixed-length string attribute (anything else is HT_EDATA). */
int ht__attr_read_str(hid_t obj, const char *name, char *out, size_t len, const char *what);
/* As ht__attr_read_str, but an absent attribute gives "" and 0. */
int ht__attr_read_str_opt(hid_t obj, const char *name, char *out, size_t len, const char *what);
/* A string attribute holding a spelling of table t (hytrain/options.h), into
 * its C value; HT_EDATA names the attribute and the accepted spellings. */
int ht__attr_read_enum(hid_t obj, const char *name, const ht_enum_table *t, int *out, const char *what);

/* Creates (or opens) the group at path (intermediate groups created). */
hid_t ht__group(hid_t f, const char *path);

/* Writes dataset `name` (a full path) of `memtype` data stored as `filetype`,
 * shape dims[ndims], chunked (whole rows, <= ~1 MiB) with fletcher32. */
int ht__write_ds(hid_t f, const char *name, hid_t filetype, hid_t memtype, const void *data, int ndims,
                 const hsize_t *dims, const char *file);

/* Reads dataset `name` whose shape must equal dims[ndims] and whose type
 * must be exactly the format's one for `want` (float32, float64, int64,
 * uint64; either byte order), with no HDF5 conversion; a failed read
 * (fletcher32 mismatch, truncated file) is reported as corruption. */
int ht__read_ds(hid_t f, const char *name, ht_h5num_want want, void *out, int ndims, const hsize_t *dims,
                const char *file);

/* The root attributes of every checkpoint: format, format_version, step,
 * epoch, world_size, created (UTC now), config and data_test. */
int ht__ckpt_write_header(hid_t f, const char *path, int64_t step, int64_t epoch, int64_t world_size, const char *config,
                          const char *data_test);

/* Opens a checkpoint read-only and checks format and format_version. */
int ht__ckpt_open(const char *path, hid_t *out);

/* Writes (write = 1) or reads (0) <prefix>/<layer>/weight [out, in] and
 * <prefix>/<layer>/bias [out] of every dense layer of m, from or into a flat
 * buffer laid out like m's parameters. Returns 0 or the HDF5 error naming
 * path and the dataset. */
struct ht_model;
int ht__layers_io(hid_t f, const char *path, const struct ht_model *m, const char *prefix, float *flat, int write);

#endif
