"""Checks a checkpoint against docs/checkpoint-format.md, and predicts with
NumPy from the file alone (the docs' recipe). Usage:
  ckpt_layout.py CKPT OPTIMIZER STEP WORLD_SIZE TEST_H5
Prints the NumPy accuracy on the last line; exits 1 listing every mismatch."""
import sys
import h5py
import numpy as np

path, optim, step, world, test = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

with open(path, "rb") as fh:
    head = fh.read(9)
check(head[:8] == b"\x89HDF\r\n\x1a\n" and head[8] >= 2, f"superblock version {head[8]} (< 2: not the latest format)")

f = h5py.File(path, "r")
a = f.attrs
for k in ("format", "format_version", "step", "epoch", "samples_seen", "world_size", "batch_size", "created", "config", "data_test"):
    check(k in a, f"root attribute {k} missing")
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
check(s(a["format"]) == "hytrain-checkpoint", f"format {a['format']!r}")
check(int(a["format_version"]) == 2, f"format_version {a['format_version']}")
check(int(a["step"]) == step, f"step {a['step']} != {step}")
check(int(a["world_size"]) == world, f"world_size {a['world_size']}")
check(int(a["samples_seen"]) == step * world * int(a["batch_size"]), f"samples_seen {a['samples_seen']}")
check("optimizer:" in s(a["config"]) and "checkpoint:" in s(a["config"]), "config attribute is not the effective YAML")
check(len(s(a["created"])) == 20 and s(a["created"]).endswith("Z"), f"created {a['created']!r} not ISO 8601 UTC")

layers = sorted(f["model"].keys(), key=lambda n: int(n[5:]))
check(layers == [f"dense{i}" for i in range(len(layers))] and len(layers) >= 2, f"model layers {layers}")
for name in layers:
    w, b = f[f"model/{name}/weight"], f[f"model/{name}/bias"]
    check(w.dtype == np.float32 and b.dtype == np.float32, f"{name} dtype {w.dtype}/{b.dtype}")
    check(w.ndim == 2 and b.shape == (w.shape[0],), f"{name} shapes {w.shape} {b.shape}")

og = f["optimizer"]
check(s(og.attrs["name"]) == optim, f"optimizer name {og.attrs['name']!r}")
check(og["t"].dtype == np.int64 and og["t"].shape == (1,) and int(og["t"][0]) == step, f"optimizer/t {og['t'][:]}")
groups = {"adamw": ["m", "v"], "sgd": ["momentum"]}[optim]
check(sorted(k for k in og.keys() if k != "t") == groups, f"optimizer groups {list(og.keys())}")
for g in groups:
    for name in layers:
        for p in ("weight", "bias"):
            check(og[f"{g}/{name}/{p}"].shape == f[f"model/{name}/{p}"].shape, f"optimizer/{g}/{name}/{p} shape")
            check(og[f"{g}/{name}/{p}"].dtype == np.float32, f"optimizer/{g}/{name}/{p} dtype")

check(sorted(f["data"].keys(), key=int) == [str(r) for r in range(world)], f"/data ranks {list(f['data'].keys())}")
check(sorted(f["rng"].keys(), key=int) == [str(r) for r in range(world)], f"/rng ranks {list(f['rng'].keys())}")
seed = None
for r in range(world):
    d, k = f[f"data/{r}"], f[f"rng/{r}"]
    check(d.dtype == np.int64 and d.shape == (3,), f"data/{r} {d.dtype} {d.shape}")
    check(k.dtype == np.uint64 and k.shape == (3,), f"rng/{r} {k.dtype} {k.shape}")
    check(int(d[0]) == int(a["epoch"]), f"data/{r} epoch {d[0]} != {a['epoch']}")
    check(list(map(int, k[:])) == [int(d[2]), int(d[0]), r], f"rng/{r} {k[:]} vs data {d[:]}")
    seed = int(d[2])
check(f"seed: {seed}" in s(a["config"]), f"shuffle seed {seed} not the config's train.seed")
best = f["metrics/best"]
check(best.shape == (2,) and best.dtype == np.float64 and s(best.attrs["metric"]) == "test_accuracy", "metrics/best")
check(f["metrics/progress"].shape == (5,), "metrics/progress shape")
D = f["model/dense0/weight"].shape[1]
check(f["preprocess/mean"].shape == (D,) and f["preprocess/std"].shape == (D,), "preprocess shapes")
check(s(f["preprocess"].attrs["normalize"]) in ("standard", "none"), "preprocess normalize attribute")

def visit(name, obj):
    if isinstance(obj, h5py.Dataset):
        check(obj.chunks is not None, f"{name} is not chunked")
        check(obj.fletcher32, f"{name} has no fletcher32 checksum")
f.visititems(visit)

# The docs' NumPy recipe: predict on raw test inputs from the checkpoint alone.
t = h5py.File(test, "r")
x, y = t["features"][:], t["labels"][:]
h = (x - f["preprocess/mean"][:]) / f["preprocess/std"][:]
for i, name in enumerate(layers):
    h = h @ f[f"model/{name}/weight"][:].T + f[f"model/{name}/bias"][:]
    if i < len(layers) - 1:
        h = np.maximum(h, 0)
acc = float((h.argmax(1) == y).mean())
for e in errors:
    print("layout mismatch:", e)
print(f"numpy_accuracy {acc:.6f}")
sys.exit(1 if errors else 0)
