#!/usr/bin/python3
"""Writes the malformed inputs of tests/bad-inputs/manifest.txt into DIR.

Usage: make_inputs.py DIR [HYTRAIN]
Small text inputs (configs, sweep files, converter inputs) and HDF5 datasets
are written directly; with HYTRAIN, a tiny model is also trained once so that
the checkpoint cases (ck_*.h5) can be derived from a real checkpoint.
"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

out = sys.argv[1]
hytrain = sys.argv[2] if len(sys.argv) > 2 else None
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)


def p(name):
    return os.path.join(out, name)


def text(name, body, mode="w"):
    with open(p(name), mode) as f:
        f.write(body)


def h5(name, features=None, labels=None, num_classes=3, **attrs):
    with h5py.File(p(name), "w") as f:
        if features is not None:
            f.create_dataset("features", data=features)
        if labels is not None:
            f.create_dataset("labels", data=labels)
        if num_classes is not None:
            f.attrs["num_classes"] = num_classes
        for k, v in attrs.items():
            f.attrs[k] = v


N, D = 64, 5
x = rng.normal(size=(N, D)).astype(np.float32)
y = rng.integers(0, 3, size=N).astype(np.int32)

# Datasets.
h5("good.h5", x, y)
h5("ds_no_features.h5", None, y)
h5("ds_no_labels.h5", x, None)
# Without num_classes the classes are inferred from the labels (docs/data-format.md);
# a negative label is then a data error naming its row.
yneg = y.copy()
yneg[5] = -1
h5("ds_no_num_classes.h5", x, yneg, num_classes=None)
h5("ds_num_classes_1.h5", x, np.zeros(N, np.int32), num_classes=1)
h5("ds_features_int.h5", (x * 10).astype(np.int32), y)
# A float type other than IEEE float16/float32/float64 (hytrain reads none:
# HDF5's own conversion of odd float types overflowed on a damaged file, fuzz
# finding): bfloat16, the top half of each float32, written in its own type.
bf16 = h5py.h5t.IEEE_F32LE.copy()
bf16.set_fields(15, 7, 8, 0, 7)
bf16.set_precision(16)
bf16.set_size(2)
bf16.set_ebias(127)
with h5py.File(p("ds_features_bfloat16.h5"), "w") as f:
    raw = (x.view(np.uint32) >> 16).astype("<u2")
    ds = h5py.h5d.create(f.id, b"features", bf16, h5py.h5s.create_simple(raw.shape))
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=bf16)
    f.create_dataset("labels", data=y)
    f.attrs["num_classes"] = 3
# float16 (IEEE half, as numpy writes it) is read, and its NaN caught by row.
xh = x.astype(np.float16)
xh[21, 3] = np.nan
h5("ds_half_nan.h5", xh, y)
h5("ds_features_1d.h5", x[:, 0].copy(), y)
h5("ds_features_3d.h5", x.reshape(N, D, 1), y)
h5("ds_labels_2d_int.h5", x, y.reshape(N, 1).repeat(2, axis=1))
h5("ds_labels_short.h5", x, y[: N - 3])
h5("ds_labels_string.h5", x, np.array([b"a"] * N))
yr = y.copy()
yr[17] = 3
h5("ds_label_high.h5", x, yr)
yn = y.copy()
yn[9] = -1
h5("ds_label_negative.h5", x, yn)
h5("ds_zero_rows.h5", np.zeros((0, D), np.float32), np.zeros(0, np.int32))
h5("ds_one_row.h5", x[:1], y[:1])
xn = x.copy()
xn[33, 2] = np.nan
h5("ds_nan.h5", xn, y)
xi = x.copy()
xi[40, 4] = -np.inf
h5("ds_inf.h5", xi, y)
h5("ds_wide.h5", rng.normal(size=(N, D + 1)).astype(np.float32), y)
with h5py.File(p("ds_features_group.h5"), "w") as f:
    f.create_group("features")
    f.create_dataset("labels", data=y)
    f.attrs["num_classes"] = 3
text("ds_text.h5", "features,labels\n1,2\n")
with open(p("good.h5"), "rb") as f:
    blob = f.read()
with open(p("ds_truncated.h5"), "wb") as f:
    f.write(blob[: len(blob) // 2])
with open(p("ds_header_only.h5"), "wb") as f:
    f.write(blob[:512])
text("ds_empty.h5", "")


def cfg(name, train="good.h5", test="good.h5", extra=""):
    text(name, "model: {type: mlp, hidden: [4]}\n"
               "train: {epochs: 1, batch_size: 8}\n"
               "run: {root: runs}\n"
               f"data: {{train: {train}, test: {test}}}\n" + extra)


cfg("ok.yaml")
cfg("c_missing.yaml", train="missing.h5")
for name in os.listdir(out):
    if name.startswith("ds_"):
        cfg("c_" + name[:-3] + ".yaml", train=name)
cfg("c_test_label_high.yaml", test="ds_label_high.h5")
cfg("c_big_batch.yaml", extra="")

# Configs.
text("cf_empty.yaml", "")
text("cf_only_comment.yaml", "# nothing here\n")
text("cf_syntax.yaml", "train:\n  epochs: 3\n   batch_size: 4\n")
text("cf_tab.yaml", "train:\n\tepochs: 3\n")
text("cf_unclosed.yaml", "train: {epochs: 3\n")
text("cf_unknown_key.yaml", "train:\n  epoch: 3\n")
text("cf_unknown_section.yaml", "trainer:\n  epochs: 3\n")
text("cf_duplicate_key.yaml", "train:\n  epochs: 3\n  epochs: 4\n")
text("cf_duplicate_section.yaml", "train:\n  epochs: 3\ntrain:\n  batch_size: 4\n")
text("cf_type_int.yaml", "train:\n  batch_size: lots\n")
text("cf_type_float.yaml", "optimizer:\n  lr: fast\n")
text("cf_type_list.yaml", "train:\n  epochs: [1, 2]\n")
text("cf_type_map.yaml", "train:\n  epochs: {a: 1}\n")
text("cf_negative.yaml", "train:\n  epochs: -1\n")
text("cf_zero_batch.yaml", "train:\n  batch_size: 0\n")
text("cf_huge_int.yaml", "train:\n  epochs: 99999999999999999999999\n")
text("cf_huge_float.yaml", "optimizer:\n  lr: 1e999\n")
text("cf_nan_float.yaml", "optimizer:\n  lr: .nan\n")
text("cf_bad_enum.yaml", "optimizer:\n  name: adam\n")
text("cf_root_list.yaml", "- train\n- epochs\n")
text("cf_root_scalar.yaml", "hello\n")
text("cf_nested.yaml", "train:\n  epochs:\n    deeper:\n      deepest: 1\n")
text("cf_deep.yaml", "a: " + "[" * 2000 + "]" * 2000 + "\n")
text("cf_binary.yaml", bytes(range(256)).decode("latin-1") * 4, mode="w")
with open(p("cf_binary.yaml"), "wb") as f:
    f.write(bytes(rng.integers(0, 256, size=2048, dtype=np.uint8)))
text("cf_nul.yaml", "train:\n  epochs: 3\x00\n")
text("cf_anchor_bomb.yaml", "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n")
os.makedirs(p("cf_dir.yaml"), exist_ok=True)

# Sweep files.
text("sw_empty.yaml", "")
text("sw_no_base.yaml", "grid:\n  optimizer.lr: [0.1, 0.01]\n")
text("sw_unknown_key.yaml", "base: ok.yaml\ngrid:\n  optimizer.lrr: [0.1]\n")
text("sw_bad_value.yaml", "base: ok.yaml\ngrid:\n  train.epochs: [1, abc]\n")
text("sw_empty_list.yaml", "base: ok.yaml\ngrid:\n  optimizer.lr: []\n")
text("sw_syntax.yaml", "base: ok.yaml\ngrid: [\n")
text("sw_missing_base.yaml", "base: nope.yaml\ngrid:\n  optimizer.lr: [0.1]\n")

# Converter inputs.
text("cv_good.csv", "1,2,0\n3,4,1\n")
text("cv_empty.csv", "")
text("cv_ragged.csv", "1,2,0\n3,4\n5,6,1\n")
text("cv_text_field.csv", "1,2,0\n3,abc,1\n")
text("cv_header_only.csv", "a,b,label\n")
text("cv_bad_label_col.csv", "1,2,0\n3,4,1\n")
text("cv_nan.csv", "1,2,0\nnan,4,1\n")
text("lv_bad_index.txt", "0 1:0.5 0:1.0\n")
text("lv_bad_pair.txt", "1 3-0.5\n")
text("lv_descending.txt", "1 3:0.5 2:1.0\n")
text("lv_empty.txt", "")
text("lv_zero_based.txt", "# 0-based\n1 2:1 10:0.5\n0 0:1 3:2\n")
text("lv_csr_token.txt", "1 1:1\n\n# comment\n0 qid:2 3:1 7:x\n")
text("lv_csr_order.txt", "1 1:1 4:2\n0 2:1 9:1 5:1\n")
text("lv_csr_dims.txt", "1 1:1\n0 qid:1 2:1\n1 3:1 12:1 # late\n")
text("idx_images_bad", "not an idx file at all")
text("idx_labels_bad", "nope")
idx_img = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]) + bytes(8)
with open(p("idx_images_ok"), "wb") as f:
    f.write(idx_img)
with open(p("idx_images_short"), "wb") as f:
    f.write(idx_img[:-3])
with open(p("idx_labels_3"), "wb") as f:
    f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 1]))

# Checkpoints, derived from a real one when the binary is given.
if hytrain:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run([hytrain, "train", p("ok.yaml"), "--run-dir", p("ckrun")], check=True, cwd=out, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck = sorted(f for f in os.listdir(p("ckrun/checkpoints")) if f.endswith(".h5"))[-1]
    good = p("ck_good.h5")
    shutil.copy(p(os.path.join("ckrun/checkpoints", ck)), good)
    shutil.rmtree(p("ckrun"))
    with open(good, "rb") as f:
        blob = f.read()
    with open(p("ck_truncated.h5"), "wb") as f:
        f.write(blob[: len(blob) * 2 // 3])
    with open(p("ck_half_header.h5"), "wb") as f:
        f.write(blob[:100])
    text("ck_text.h5", "this is not a checkpoint\n")
    shutil.copy(good, p("ck_future.h5"))
    with h5py.File(p("ck_future.h5"), "r+") as f:
        f.attrs["format_version"] = np.int64(999)
    shutil.copy(good, p("ck_wrong_format.h5"))
    with h5py.File(p("ck_wrong_format.h5"), "r+") as f:
        del f.attrs["format"]
        f.attrs["format"] = np.bytes_(b"someone-else")
    shutil.copy(good, p("ck_no_model.h5"))
    with h5py.File(p("ck_no_model.h5"), "r+") as f:
        del f["model"]
    # Another model's checkpoint: its first layer's weights have another shape.
    shutil.copy(good, p("ck_other_model.h5"))
    with h5py.File(p("ck_other_model.h5"), "r+") as f:
        names = []
        f["model"].visit(lambda n: names.append(n) if isinstance(f["model"][n], h5py.Dataset) else None)
        first = names[0]
        shape = f["model"][first].shape
        del f["model"][first]
        f["model"].create_dataset(first, data=np.zeros(tuple(s + 1 for s in shape), np.float32), chunks=True,
                                  fletcher32=True)
    # Weights stored as float64: the format says float32, and hytrain does not
    # let HDF5 convert (docs/checkpoint-format.md).
    shutil.copy(good, p("ck_weights_f64.h5"))
    with h5py.File(p("ck_weights_f64.h5"), "r+") as f:
        names = []
        f["model"].visit(lambda n: names.append(n) if isinstance(f["model"][n], h5py.Dataset) else None)
        first = names[0]
        data = f["model"][first][...]
        del f["model"][first]
        f["model"].create_dataset(first, data=data.astype(np.float64), chunks=True, fletcher32=True)
    # A scalar attribute turned into 100 values: H5Aread writes them all, so
    # hytrain must check the count before reading into its one int64.
    shutil.copy(good, p("ck_attr_array.h5"))
    with h5py.File(p("ck_attr_array.h5"), "r+") as f:
        del f["model"].attrs["in"]
        f["model"].attrs["in"] = np.arange(100, dtype=np.int64)
    # A flipped byte inside the first checksummed chunk of the weights.
    shutil.copy(good, p("ck_corrupt.h5"))
    with h5py.File(good, "r") as f:
        names = []
        f["model"].visit(lambda n: names.append(n) if isinstance(f["model"][n], h5py.Dataset) else None)
        ds = f["model"][names[0]]
        off = ds.id.get_chunk_info(0).byte_offset
    with open(p("ck_corrupt.h5"), "r+b") as f:
        f.seek(off + 4)
        b = f.read(1)
        f.seek(off + 4)
        f.write(bytes([b[0] ^ 0xFF]))
    # A foreign HDF5 file: valid HDF5, not a checkpoint.
    h5("ck_foreign.h5", x, y)
    cfg("c_ck_data_wide.yaml", train="ds_wide.h5", test="ds_wide.h5")
