"""Writes small good and deliberately broken datasets for tests/e2e/errors.sh.

Usage: make_bad_data.py DIR
"""
import sys

import h5py
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(0)


def write(name, x, y, num_classes=3, **extra):
    with h5py.File(f"{out}/{name}", "w") as f:
        f.create_dataset("features", data=x)
        f.create_dataset("labels", data=y)
        f.attrs["num_classes"] = num_classes
        f.attrs["source"] = "tests/e2e/make_bad_data.py"
        for k, v in extra.items():
            f.attrs[k] = v


x = rng.normal(size=(200, 6)).astype(np.float32)
y = rng.integers(0, 3, size=200).astype(np.int32)
write("good.h5", x, y)
write("wide.h5", rng.normal(size=(50, 7)).astype(np.float32), y[:50])
bad = y.copy()
bad[137] = 3
write("label_range.h5", x, bad)
xn = x.copy()
xn[151, 4] = np.nan
write("nan.h5", xn, y)
xi = x.copy()
xi[20, 1] = np.inf
write("inf.h5", xi, y)
with h5py.File(f"{out}/no_labels.h5", "w") as f:
    f.create_dataset("features", data=x)
    f.attrs["num_classes"] = 3
with open(f"{out}/not_hdf5.h5", "w") as f:
    f.write("this is not an HDF5 file\n")
