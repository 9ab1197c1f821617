"""Data for and checks of `hytrain predict` (tests/e2e/predict.sh).

  predict_check.py make DIR
      writes small datasets: cls (3 classes), bin (2 classes), reg (2 targets),
      each as *_train.h5 and *_test.h5, and *_nolabels.h5 (the test rows'
      /features alone); wide.h5 has one feature too many.
  predict_check.py check CKPT DATA OUT.h5 OUT.csv [REF.h5]
      recomputes the predictions with the NumPy recipe of
      docs/checkpoint-format.md from CKPT and DATA alone and compares: classes
      exactly, probabilities within 1e-6, regression values and svm scores
      within 1e-6 relative to 1 + |value|; OUT.csv must hold the same numbers as OUT.h5; REF.h5 (another
      rank count's output) must be identical to OUT.h5.
Prints one line per check; exits 1 on any failure.
"""
import csv
import sys

import h5py
import numpy as np

errors = []


def check(cond, msg):
    print(("ok: " if cond else "FAIL: ") + msg)
    if not cond:
        errors.append(msg)


def write(path, x, y=None, num_classes=None):
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=x)
        if y is not None:
            f.create_dataset("labels", data=y)
        if num_classes is not None:
            f.attrs["num_classes"] = num_classes


def make(out):
    rng = np.random.default_rng(16)
    # 301 test rows: shards of 151 and 150 rows at 2 ranks, 101/100/100 at 3.
    n_train, n_test, d = 600, 301, 6
    centres = rng.normal(scale=2.0, size=(3, d))
    for name, k in (("cls", 3), ("bin", 2)):
        for split, n in (("train", n_train), ("test", n_test)):
            y = rng.integers(0, k, size=n).astype(np.int32)
            x = (centres[y] + rng.normal(size=(n, d)) * 1.5 + 3.0).astype(np.float32)
            write(f"{out}/{name}_{split}.h5", x, y, k)
            if split == "test":
                write(f"{out}/{name}_nolabels.h5", x)
    write(f"{out}/wide.h5", rng.normal(size=(20, d + 1)).astype(np.float32))
    w = rng.normal(size=(d, 2))
    for split, n in (("train", n_train), ("test", n_test)):
        x = (rng.normal(size=(n, d)) * 2.0 + 1.0).astype(np.float32)
        t = (x @ w + 0.05 * rng.normal(size=(n, 2))).astype(np.float32)
        write(f"{out}/reg_{split}.h5", x, t)
        if split == "test":
            write(f"{out}/reg_nolabels.h5", x)


def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def recipe(ckpt, data):
    """docs/checkpoint-format.md, "Predicting from a checkpoint with NumPy"."""
    f = h5py.File(ckpt, "r")
    x = h5py.File(data, "r")["features"][:]
    h = (x - f["preprocess/mean"][:]) / f["preprocess/std"][:]
    layers = sorted(f["model"].keys(), key=lambda n: int(n[5:]))
    act = s(f["model"].attrs["activation"])
    for i, name in enumerate(layers):
        h = h @ f[f"model/{name}/weight"][:].T + f[f"model/{name}/bias"][:]
        if i < len(layers) - 1:
            h = {"relu": lambda a: np.maximum(a, 0), "tanh": np.tanh,
                 "sigmoid": lambda a: 1 / (1 + np.exp(-a))}[act](h)
    kind = s(f["model"].attrs["type"])
    if int(f["model"].attrs["regression"]):
        return "predictions", None, h
    if kind == "logistic":
        p1 = 1 / (1 + np.exp(-h[:, 0].astype(np.float64)))
        return "probabilities", (h[:, 0] > 0).astype(np.int32), np.stack([1 - p1, p1], axis=1)
    if kind == "svm":
        return "scores", h.argmax(1), h
    z = h.astype(np.float64) - h.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    return "probabilities", h.argmax(1), p


def check_out(ckpt, data, out_h5, out_csv, ref):
    name, cls, want = recipe(ckpt, data)
    o = h5py.File(out_h5, "r")
    n = want.shape[0]
    check(s(o.attrs["format"]) == "hytrain-predictions", f"{out_h5}: format attribute")
    check(name in o and o[name].dtype == np.float32 and o[name].shape == want.shape,
          f"{out_h5}: /{name} float32 {want.shape}, found {list(o.keys())} "
          f"{o[name].shape if name in o else ''}")
    got = o[name][:]
    if cls is not None:
        gc = o["classes"][:]
        check(o["classes"].dtype == np.int32 and gc.shape == (n,), f"/classes int32 [{n}]")
        bad = np.nonzero(gc != cls)[0]
        check(len(bad) == 0, f"classes equal the recipe's in all {n} rows (first differing rows: {bad[:5]})")
    if name == "probabilities":
        err = float(np.abs(got - want).max())
        check(err <= 1e-6, f"probabilities within 1e-6 of the recipe's (max error {err:.2e})")
        check(float(np.abs(got.sum(1) - 1).max()) <= 1e-5, "probabilities sum to 1")
    else:
        err = float((np.abs(got - want) / (1 + np.abs(want))).max())
        check(err <= 1e-6, f"{name} within 1e-6 (relative to 1 + |value|) of the recipe's (max error {err:.2e})")
    rows = list(csv.reader(open(out_csv)))
    head = rows[0]
    body = np.array(rows[1:], dtype=np.float64) if len(rows) > 1 else np.zeros((0, len(head)))
    k = got.shape[1]
    if cls is not None:
        prefix = "p" if name == "probabilities" else "score"
        check(head == ["class"] + [f"{prefix}{c}" for c in range(k)], f"CSV header {head}")
        check(body.shape == (n, k + 1) and np.array_equal(body[:, 0].astype(np.int32), o["classes"][:]),
              f"CSV classes equal the HDF5 file's ({body.shape[0]} rows)")
        vals = body[:, 1:]
    else:
        check(head == (["prediction"] if k == 1 else [f"prediction{c}" for c in range(k)]), f"CSV header {head}")
        vals = body
    check(vals.shape == got.shape and np.array_equal(vals.astype(np.float32), got),
          "CSV values read back as the HDF5 file's float32 values exactly")
    if ref:
        r = h5py.File(ref, "r")
        same = sorted(r.keys()) == sorted(o.keys()) and all(np.array_equal(r[key][:], o[key][:]) for key in o.keys())
        check(same, f"{out_h5} is identical to {ref} (row order independent of the rank count)")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check_out(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] if len(sys.argv) > 6 else None)
    sys.exit(1 if errors else 0)
