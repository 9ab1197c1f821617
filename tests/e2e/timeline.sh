# --timeline: every thread of every rank has its own track, and the file is a
# well-formed Chrome trace / Perfetto JSON file:
#  - traceEvents holds metadata ("M": process_name per rank, thread_name per
#    track) and complete events ("X") with name, cat, pid, tid, ts, dur >= 0;
#  - tracks: main, comm, loader on both ranks, ckpt on rank 0 (it writes the
#    checkpoints), each with its events (loader: load_batch, load_read in
#    stream mode; ckpt: one ckpt_write per checkpoint);
#  - spans of one track nest properly, start times do not go back;
#  - scripts/plot-timeline draws it into a PNG.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
$PY - "$WORK/d.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(4)
x = rng.standard_normal((2000, 16)).astype(np.float32)
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("features", data=x, chunks=(100, 16))
    f.create_dataset("labels", data=(x[:, 0] > 0).astype(np.int32), chunks=(100,))
    f.attrs["num_classes"] = 2
PY
cat >cfg.yaml <<YAML
model: {type: mlp, hidden: [16]}
train: {epochs: 1, max_steps: 30, batch_size: 20, seed: 1, log_every: 10}
data: {train: d.h5, mode: stream, chunk_rows: 100, shuffle_buffer_chunks: 2}
checkpoint: {every_steps: 10}
YAML
"$MPIEXEC" -n 2 --oversubscribe --bind-to none "$HYTRAIN" train cfg.yaml --run-dir "$WORK/run" --timeline "$WORK/tl.json" >run.out ||
  fail "training with --timeline failed: $(tail -5 run.out)"
if out=$($PY - "$WORK/tl.json" <<'PY'
import json, sys
tl = json.load(open(sys.argv[1]))  # well-formed JSON or an exception
assert isinstance(tl, dict) and isinstance(tl.get("traceEvents"), list), "no traceEvents list"
ev = tl["traceEvents"]
for e in ev:
    assert e.get("ph") in ("M", "X"), f"unexpected ph in {e}"
    assert isinstance(e.get("pid"), int) and isinstance(e.get("name"), str), f"pid/name missing in {e}"
    if e["ph"] == "X":
        for k in ("tid", "ts", "dur"):
            assert isinstance(e.get(k), (int, float)), f"{k} missing in {e}"
        assert e["dur"] >= 0 and e["cat"] == "hytrain", f"bad span {e}"
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
want = {(0, 0): "main", (0, 1): "comm", (0, 2): "loader", (0, 3): "ckpt", (1, 0): "main", (1, 1): "comm", (1, 2): "loader"}
assert names == want, f"tracks {names}, expected {want}"
procs = {e["pid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
assert procs == {0: "rank 0", 1: "rank 1"}, f"processes {procs}"
count = {}
for e in ev:
    if e["ph"] == "X":
        assert (e["pid"], e["tid"]) in names, f"span on an unnamed track: {e}"
        count[(e["pid"], e["tid"], e["name"])] = count.get((e["pid"], e["tid"], e["name"]), 0) + 1
for key in names:
    stack, last = [], -1.0
    for e in (e for e in ev if e["ph"] == "X" and (e["pid"], e["tid"]) == key):
        assert e["ts"] >= last, f"{key}: time goes back at {e}"
        last = e["ts"]
        # In whole nanoseconds: ts and dur are printed exactly to 3 decimals.
        t0, t1 = round(e["ts"] * 1000), round(e["ts"] * 1000) + round(e["dur"] * 1000)
        while stack and stack[-1] <= t0:
            stack.pop()
        assert not stack or t1 <= stack[-1], f"{key}: {e} sticks out of its parent"
        stack.append(t1)
for r in (0, 1):
    assert count.get((r, 0, "forward")) == 30, f"rank {r}: {count.get((r, 0, 'forward'))} forward spans, 30 steps"
    assert count.get((r, 1, "allreduce"), 0) >= 30, f"rank {r}: allreduce {count.get((r, 1, 'allreduce'))}"
    # Batches assembled after the clocks started: at least the ones trained on
    # after the prefetch (3 slots) made at start-up.
    assert count.get((r, 2, "load_batch"), 0) >= 30 - 3, f"rank {r}: load_batch {count.get((r, 2, 'load_batch'))}"
    assert count.get((r, 2, "load_read"), 0) >= 1, f"rank {r}: no load_read in stream mode"
assert count.get((0, 3, "ckpt_write")) == 3, f"ckpt_write {count.get((0, 3, 'ckpt_write'))}, 3 checkpoints"
print(f"{len(ev)} events, {len(names)} tracks, nesting ok")
PY
); then pass "timeline: $out"; else fail "timeline: $out"; fi
# scripts/plot-timeline draws it.
if /usr/bin/python3 "$HT_SOURCE_DIR/scripts/plot-timeline" "$WORK/tl.json" "$WORK/tl.png" --steps 2:3 >plot.out 2>&1; then
  if $PY -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(0 if d[:8] == b"\x89PNG\r\n\x1a\n" and len(d) > 5000 else 1)' "$WORK/tl.png"; then
    pass "plot-timeline wrote a PNG ($(stat -c %s "$WORK/tl.png") bytes)"
  else fail "plot-timeline: $WORK/tl.png is not a PNG"; fi
  $PY - "$WORK/tl.png" <<'PY' && pass "plot-timeline: the image has 7 rows' worth of height" || fail "plot-timeline: image too small"
import sys, matplotlib.image as mpimg
h, w = mpimg.imread(sys.argv[1]).shape[:2]
sys.exit(0 if w >= 1000 and h >= 0.6 * 110 + 0.55 * 110 * 7 - 10 else 1)
PY
else
  fail "plot-timeline failed: $(cat plot.out)"
fi
# A bad argument is a usage message, not a traceback.
/usr/bin/python3 "$HT_SOURCE_DIR/scripts/plot-timeline" >usage.out 2>&1 && fail "plot-timeline without arguments succeeded" ||
  { grep -q "usage: scripts/plot-timeline" usage.out && pass "plot-timeline without arguments prints its usage" || fail "plot-timeline usage: $(cat usage.out)"; }
finish
