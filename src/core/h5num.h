/*
 * Reading numbers from HDF5 files without HDF5's datatype conversion.
 *
 * HDF5 1.10 converts between any two numeric types on read, trusting the
 * size, precision and bit layout a file declares; on a damaged file its
 * conversion path overflows its own buffers (the h5 fuzz target found a
 * float of 131076 bytes with 32 bits of precision that made H5Dread's
 * scatter/gather copy past a 16-byte buffer). hytrain therefore reads only
 * the standard numeric types (IEEE float32/float64 and 8- to 64-bit
 * integers, either byte order, identified with H5Tequal), always in the
 * file's own type, so that HDF5 copies bytes and converts nothing, and does
 * the byte swapping and widening or narrowing itself.
 *
 * Dataset files (not checkpoints) may also hold IEEE half-precision floats
 * (what h5py writes for numpy float16). HDF5 1.10 has no predefined half
 * type to H5Tequal against, so it is identified by its properties (see
 * ht__h5num_identify_data) and widened to float here, bit-exactly.
 */
#ifndef HT_CORE_H5NUM_H
#define HT_CORE_H5NUM_H

#include <hdf5.h>
#include <stddef.h>

/* What the caller wants in memory (native byte order). */
typedef enum ht_h5num_want {
  HT_H5NUM_FLOAT,  /* float */
  HT_H5NUM_DOUBLE, /* double */
  HT_H5NUM_INT32,  /* int32_t (and int) */
  HT_H5NUM_INT64,  /* int64_t (and long long) */
  HT_H5NUM_UINT64  /* uint64_t */
} ht_h5num_want;

/* How much of the file's type must match what is wanted. */
typedef enum ht_h5num_match {
  HT_H5NUM_SAME_CLASS, /* any standard float or IEEE half for a float, any standard integer for an integer */
  HT_H5NUM_EXACT       /* the same class, size and signedness (either byte order) */
} ht_h5num_match;

/* A standard numeric file type. */
typedef struct ht_h5num {
  int is_float;
  int is_signed;
  size_t size; /* bytes: 2 (IEEE half), 4 or 8 for floats, 1, 2, 4 or 8 for integers */
  int big_endian;
} ht_h5num;

/* Identifies `type` as one of HDF5's standard numeric types: 0, or -1 when
 * it is anything else (another class, or a float or integer of another
 * size, precision, offset, padding or bit layout). Records no error. */
int ht__h5num_identify(hid_t type, ht_h5num *out);

/* As ht__h5num_identify, and also IEEE half precision in either byte order
 * (size 2, precision 16, sign bit 15, exponent bits 10-14 with bias 15,
 * mantissa bits 0-9 with an implied leading 1): the types a dataset file
 * may hold. Records no error. */
int ht__h5num_identify_data(hid_t type, ht_h5num *out);

/* "float32", "float16", "uint8", "int64 (big-endian)", "float of 131076
 * bytes (not IEEE float16/float32/float64)", "string", ... for error
 * messages. */
void ht__h5num_describe(hid_t type, char *buf, size_t len);

/* Checks that `type` (a file type) can be read as `want` under `match`
 * (an IEEE half only under HT_H5NUM_SAME_CLASS); fills *src. Otherwise records HT_EDATA: "<what>: stored as <type>,
 * expected <...>" and returns it. */
int ht__h5num_check(hid_t type, ht_h5num_want want, ht_h5num_match match, ht_h5num *src, const char *what);

/* 1 when a file type described by src is byte for byte what `want` is in
 * memory here (the read then needs no conversion at all). */
int ht__h5num_is_native(const ht_h5num *src, ht_h5num_want want);

/* Converts n values of file type src (bytes in the file's order) into out
 * as `want`. Floats are cast (a float64 beyond float32's range becomes
 * +-inf; a half is exact, subnormals and +-inf included, and a NaN stays
 * a NaN); integers saturate at the limits of the wanted type. */
void ht__h5num_convert(const ht_h5num *src, const void *in, size_t n, ht_h5num_want want, void *out);

/* Reads the n elements selected by mspace/fspace (H5S_ALL: the whole
 * dataset, which must then hold n elements) of dataset dset into out as
 * `want`, after ht__h5num_check. HDF5 is given the file's own type, so it
 * converts nothing; a type other than the native one is read into a
 * temporary buffer of n file elements and converted here. A type hytrain
 * does not read is HT_EDATA naming `what`; a failed read is HT_EH5 with
 * HDF5's own text (callers that know better, e.g. a checksum, rephrase it). */
int ht__h5num_read_dataset(hid_t dset, hid_t mspace, hid_t fspace, size_t n, ht_h5num_want want, ht_h5num_match match,
                           void *out, const char *what);

/* Reads attribute attr, which must hold between 1 and max_n elements (its
 * count goes to *n when n is not NULL), into out (room for max_n values)
 * as `want`, in the same way. */
int ht__h5num_read_attr(hid_t attr, size_t max_n, size_t *n, ht_h5num_want want, ht_h5num_match match, void *out,
                        const char *what);

#endif
