/* Reading numbers from HDF5 files without HDF5's conversion (h5num.h). */
#include "core/h5num.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"

static int host_big_endian(void) {
  const uint16_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  return first == 0;
}

int ht__h5num_identify(hid_t type, ht_h5num *out) {
  int cls = (int)HT_H5_QUIET(H5Tget_class(type));
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) return -1;
  /* The predefined ids are not constants, so the table is built per call;
   * twenty H5Tequal calls per read cost nothing next to the read. */
  const struct {
    hid_t id;
    ht_h5num num;
  } std[] = {
      {H5T_IEEE_F32LE, {1, 1, 4, 0}}, {H5T_IEEE_F32BE, {1, 1, 4, 1}}, {H5T_IEEE_F64LE, {1, 1, 8, 0}},
      {H5T_IEEE_F64BE, {1, 1, 8, 1}}, {H5T_STD_I8LE, {0, 1, 1, 0}},   {H5T_STD_I8BE, {0, 1, 1, 1}},
      {H5T_STD_U8LE, {0, 0, 1, 0}},   {H5T_STD_U8BE, {0, 0, 1, 1}},   {H5T_STD_I16LE, {0, 1, 2, 0}},
      {H5T_STD_I16BE, {0, 1, 2, 1}},  {H5T_STD_U16LE, {0, 0, 2, 0}},  {H5T_STD_U16BE, {0, 0, 2, 1}},
      {H5T_STD_I32LE, {0, 1, 4, 0}},  {H5T_STD_I32BE, {0, 1, 4, 1}},  {H5T_STD_U32LE, {0, 0, 4, 0}},
      {H5T_STD_U32BE, {0, 0, 4, 1}},  {H5T_STD_I64LE, {0, 1, 8, 0}},  {H5T_STD_I64BE, {0, 1, 8, 1}},
      {H5T_STD_U64LE, {0, 0, 8, 0}},  {H5T_STD_U64BE, {0, 0, 8, 1}},
  };
  for (size_t i = 0; i < sizeof std / sizeof std[0]; i++)
    if (std[i].num.is_float == (cls == H5T_FLOAT) && HT_H5_QUIET(H5Tequal(type, std[i].id)) > 0) {
      *out = std[i].num;
      return 0;
    }
  return -1;
}

/* IEEE half precision, by its properties: with precision 16 in 2 bytes
 * there is neither an offset nor padding, and sign, exponent and mantissa
 * then cover all 16 bits, so these fields fix the layout. */
static int identify_half(hid_t type, ht_h5num *out) {
  if (HT_H5_QUIET(H5Tget_class(type)) != H5T_FLOAT || HT_H5_QUIET(H5Tget_size(type)) != 2 ||
      HT_H5_QUIET(H5Tget_precision(type)) != 16 || HT_H5_QUIET(H5Tget_offset(type)) != 0)
    return -1;
  size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
  if (HT_H5_QUIET(H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize)) < 0 || spos != 15 || epos != 10 ||
      esize != 5 || mpos != 0 || msize != 10)
    return -1;
  if (HT_H5_QUIET(H5Tget_ebias(type)) != 15 || HT_H5_QUIET(H5Tget_norm(type)) != H5T_NORM_IMPLIED) return -1;
  H5T_order_t order = HT_H5_QUIET(H5Tget_order(type));
  if (order != H5T_ORDER_LE && order != H5T_ORDER_BE) return -1;
  *out = (ht_h5num){1, 1, 2, order == H5T_ORDER_BE};
  return 0;
}

int ht__h5num_identify_data(hid_t type, ht_h5num *out) {
  return ht__h5num_identify(type, out) == 0 || identify_half(type, out) == 0 ? 0 : -1;
}

void ht__h5num_describe(hid_t type, char *buf, size_t len) {
  ht_h5num n;
  if (ht__h5num_identify_data(type, &n) == 0) {
    snprintf(buf, len, "%s%zu%s", n.is_float ? "float" : n.is_signed ? "int" : "uint", 8 * n.size,
             n.big_endian != host_big_endian() ? (n.big_endian ? " (big-endian)" : " (little-endian)") : "");
    return;
  }
  size_t size = type >= 0 ? HT_H5_QUIET(H5Tget_size(type)) : 0;
  switch ((int)(type >= 0 ? HT_H5_QUIET(H5Tget_class(type)) : H5T_NO_CLASS)) {
  case H5T_FLOAT: snprintf(buf, len, "float of %zu bytes (not IEEE float16/float32/float64)", size); break;
  case H5T_INTEGER: snprintf(buf, len, "integer of %zu bytes (not a standard 8- to 64-bit integer)", size); break;
  case H5T_STRING: snprintf(buf, len, "string"); break;
  case H5T_COMPOUND: snprintf(buf, len, "compound"); break;
  case H5T_ENUM: snprintf(buf, len, "enum"); break;
  case H5T_ARRAY: snprintf(buf, len, "array"); break;
  case H5T_VLEN: snprintf(buf, len, "variable-length sequence"); break;
  default: snprintf(buf, len, "unknown type"); break;
  }
}

static ht_h5num native_of(ht_h5num_want want) {
  ht_h5num n = {0, 1, 4, host_big_endian()};
  switch (want) {
  case HT_H5NUM_FLOAT: n.is_float = 1; break;
  case HT_H5NUM_DOUBLE: n.is_float = 1, n.size = 8; break;
  case HT_H5NUM_INT32: break;
  case HT_H5NUM_INT64: n.size = 8; break;
  case HT_H5NUM_UINT64: n.size = 8, n.is_signed = 0; break;
  }
  return n;
}

static const char *want_name(ht_h5num_want want, ht_h5num_match match) {
  if (match == HT_H5NUM_SAME_CLASS)
    return want == HT_H5NUM_FLOAT || want == HT_H5NUM_DOUBLE ? "float16, float32 or float64"
                                                             : "an integer type (8 to 64 bits)";
  switch (want) {
  case HT_H5NUM_FLOAT: return "float32";
  case HT_H5NUM_DOUBLE: return "float64";
  case HT_H5NUM_INT32: return "int32";
  case HT_H5NUM_INT64: return "int64";
  case HT_H5NUM_UINT64: return "uint64";
  }
  return "?";
}

int ht__h5num_check(hid_t type, ht_h5num_want want, ht_h5num_match match, ht_h5num *src, const char *what) {
  ht_h5num want_n = native_of(want);
  /* A half only where any float will do: checkpoints keep their exact types. */
  int known = match == HT_H5NUM_SAME_CLASS ? ht__h5num_identify_data(type, src) : ht__h5num_identify(type, src);
  int ok = known == 0 && src->is_float == want_n.is_float;
  if (ok && match == HT_H5NUM_EXACT) ok = src->size == want_n.size && src->is_signed == want_n.is_signed;
  if (ok) return 0;
  char found[96];
  ht__h5num_describe(type, found, sizeof found);
  return ht_error(HT_EDATA, "%s: stored as %s, expected %s", what, found, want_name(want, match));
}

int ht__h5num_is_native(const ht_h5num *src, ht_h5num_want want) {
  ht_h5num n = native_of(want);
  return src->is_float == n.is_float && src->is_signed == n.is_signed && src->size == n.size &&
         src->big_endian == n.big_endian;
}

/* The float equal to IEEE half h (bits in native order). Every half is a
 * float: normals are rebiased (15 -> 127), subnormals (m * 2^-24) become
 * normal floats, and inf and NaN keep their sign and mantissa. */
static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | man << 13;
  } else if (exp != 0) {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  } else if (man == 0) {
    bits = sign;
  } else {
    /* Shift the leading 1 into the implied position (bit 10): the value
     * man * 2^-24 is then 1.f * 2^(-14 - k). */
    uint32_t k = 0;
    while (!(man & 0x400u)) man <<= 1, k++;
    bits = sign | (127 - 14 - k) << 23 | (man & 0x3ffu) << 13;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* One value of type s at p, into *f (floats) or *i / *u (integers). */
static void load(const ht_h5num *s, const unsigned char *p, int swap, double *f, int64_t *i, uint64_t *u, int *neg) {
  unsigned char b[8];
  for (size_t k = 0; k < s->size; k++) b[k] = swap ? p[s->size - 1 - k] : p[k];
  if (s->is_float) {
    if (s->size == 2) {
      uint16_t h;
      memcpy(&h, b, 2);
      *f = half_to_float(h);
    } else if (s->size == 4) {
      float v;
      memcpy(&v, b, 4);
      *f = v;
    } else {
      memcpy(f, b, 8);
    }
    return;
  }
  uint64_t raw = 0;
  /* Native order now: assemble the value from its bytes in that order. */
  for (size_t k = 0; k < s->size; k++) {
    size_t at = host_big_endian() ? k : s->size - 1 - k;
    raw = raw << 8 | b[at];
  }
  int bits = (int)(8 * s->size);
  if (s->is_signed && bits < 64 && (raw >> (bits - 1)) & 1) raw |= ~(uint64_t)0 << bits; /* sign-extend */
  *neg = s->is_signed && (int64_t)raw < 0;
  *u = raw;
  *i = (int64_t)raw;
}

void ht__h5num_convert(const ht_h5num *src, const void *in, size_t n, ht_h5num_want want, void *out) {
  const unsigned char *p = in;
  int swap = src->big_endian != host_big_endian();
  for (size_t k = 0; k < n; k++, p += src->size) {
    double f = 0;
    int64_t i = 0;
    uint64_t u = 0;
    int neg = 0;
    load(src, p, swap, &f, &i, &u, &neg);
    switch (want) {
    case HT_H5NUM_FLOAT: ((float *)out)[k] = (float)f; break;
    case HT_H5NUM_DOUBLE: ((double *)out)[k] = f; break;
    case HT_H5NUM_INT32:
      ((int32_t *)out)[k] = neg ? (i < INT32_MIN ? INT32_MIN : (int32_t)i) : (u > INT32_MAX ? INT32_MAX : (int32_t)u);
      break;
    case HT_H5NUM_INT64: ((int64_t *)out)[k] = neg ? i : (u > INT64_MAX ? INT64_MAX : (int64_t)u); break;
    case HT_H5NUM_UINT64: ((uint64_t *)out)[k] = neg ? 0 : u; break;
    }
  }
}

int ht__h5num_read_dataset(hid_t dset, hid_t mspace, hid_t fspace, size_t n, ht_h5num_want want, ht_h5num_match match,
                           void *out, const char *what) {
  hid_t ftype = HT_H5_OR(H5Dget_type(dset), HT_EDATA, "%s: the dataset has no type (corrupt file?)", what);
  if (ftype < 0) return HT_EDATA;
  ht_h5num src;
  int rc = ht__h5num_check(ftype, want, match, &src, what);
  if (rc == 0) {
    int native = ht__h5num_is_native(&src, want);
    void *buf = native ? out : malloc(src.size * (n ? n : 1));
    if (!buf) {
      rc = ht_error(HT_ENOMEM, "%s: out of memory reading %zu values", what, n);
    } else {
      /* The file's own type as the memory type: HDF5's no-op path, a copy. */
      if (HT_H5(H5Dread(dset, ftype, mspace, fspace, H5P_DEFAULT, buf), what) < 0)
        rc = HT_EH5;
      else if (!native)
        ht__h5num_convert(&src, buf, n, want, out);
      if (!native) free(buf);
    }
  }
  H5Tclose(ftype);
  return rc;
}

int ht__h5num_read_attr(hid_t attr, size_t max_n, size_t *n, ht_h5num_want want, ht_h5num_match match, void *out,
                        const char *what) {
  hid_t space = HT_H5_OR(H5Aget_space(attr), HT_EDATA, "%s: the attribute has no dataspace (corrupt file?)", what);
  if (space < 0) return HT_EDATA;
  hssize_t count = HT_H5_QUIET(H5Sget_simple_extent_npoints(space));
  H5Sclose(space);
  /* H5Aread writes every element: a damaged count must not reach out. */
  if (count < 1 || (size_t)count > max_n)
    return max_n == 1 ? ht_error(HT_EDATA, "%s: must be a single value, found %lld", what, (long long)count)
                      : ht_error(HT_EDATA, "%s: must hold 1 to %zu values, found %lld", what, max_n, (long long)count);
  hid_t ftype = HT_H5_OR(H5Aget_type(attr), HT_EDATA, "%s: the attribute has no type (corrupt file?)", what);
  if (ftype < 0) return HT_EDATA;
  ht_h5num src;
  int rc = ht__h5num_check(ftype, want, match, &src, what);
  if (rc == 0) {
    unsigned char *buf = malloc(src.size * (size_t)count);
    if (!buf) {
      rc = ht_error(HT_ENOMEM, "%s: out of memory", what);
    } else {
      if (HT_H5(H5Aread(attr, ftype, buf), what) < 0)
        rc = HT_EH5;
      else
        ht__h5num_convert(&src, buf, (size_t)count, want, out);
      free(buf);
    }
  }
  H5Tclose(ftype);
  if (rc == 0 && n) *n = (size_t)count;
  return rc;
}
