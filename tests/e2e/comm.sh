# The communication thread seen from the command line (2 ranks, Fashion-MNIST):
#  - comm.mode sync and overlap (with different wait policies, summing in
#    shared memory or with MPI messages) write bit-identical final weights;
#    delayed does not (it is one step stale) but is the same with both
#    transports; the start-up table names the transport;
#  - --timeline writes valid Chrome trace JSON: one track per thread per rank,
#    properly nested begin/end pairs, the expected events and counts;
#  - the end-of-run event table and communication summary are printed;
#  - bad comm.* values are one-line config errors (exit 2).
. "$(dirname "$0")/lib.sh"
fashion_data
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [64, 32]}
train: {epochs: 1, max_steps: 20, batch_size: 50, seed: 5, log_every: 10}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/train.h5}
comm: {bucket_mb: 0.01, slice_mb: 0.05}
YAML
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/sync" --set comm.mode=sync >"$WORK/sync.log"
check_backend "$WORK/sync"
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/overlap" --set comm.mode=overlap \
  --timeline "$WORK/tl.json" >"$WORK/overlap.log"
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/block" --set comm.mode=overlap --set comm.wait=block >/dev/null
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/sleep" --set comm.mode=overlap --set comm.wait=sleep:50 >/dev/null
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/backoff" --set comm.mode=overlap --set comm.wait=backoff:20 >/dev/null
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/delayed" --set comm.mode=delayed >/dev/null
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/mpi" --set comm.mode=overlap --set comm.transport=mpi >"$WORK/mpi.log"
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/shm" --set comm.mode=overlap --set comm.transport=shm >"$WORK/shm.log"
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/delayed_mpi" --set comm.mode=delayed --set comm.transport=mpi >/dev/null

# Weights of two checkpoints: "same", or the largest difference.
compare() {
  $PY - "$1/checkpoints/ckpt-20.h5" "$2/checkpoints/ckpt-20.h5" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
diff, n = 0.0, 0
for name in a["model"]:
    for part in ("weight", "bias"):
        x, y = a["model"][name][part][()], b["model"][name][part][()]
        n += x.size
        if x.tobytes() != y.tobytes():
            diff = max(diff, float(np.max(np.abs(x - y))))
print("same" if diff == 0.0 and n > 0 else f"max diff {diff:g} over {n} weights")
PY
}
for v in overlap block sleep backoff mpi shm; do
  r=$(compare "$WORK/sync" "$WORK/$v")
  [ "$r" = same ] && pass "sync and overlap ($v) final weights bit-identical" || fail "sync vs $v: $r"
done
r=$(compare "$WORK/sync" "$WORK/delayed")
[ "$r" != same ] && pass "delayed differs from sync ($r): the update is one step late" || fail "delayed equals sync"
r=$(compare "$WORK/delayed" "$WORK/delayed_mpi")
[ "$r" = same ] && pass "delayed: shared memory and MPI messages bit-identical" || fail "delayed shm vs mpi: $r"
# The start-up table says how buckets are summed.
grep -q "^  gradient summing: shared memory (all 2 ranks on one node; comm.transport auto)" "$WORK/overlap.log" &&
  pass "auto sums in shared memory on one node" || fail "no shared-memory line in: $(head -20 "$WORK/overlap.log")"
grep -q "^  gradient summing: shared memory (all 2 ranks on one node; comm.transport shm)" "$WORK/shm.log" &&
  pass "comm.transport=shm reported" || fail "no shm line in: $(head -20 "$WORK/shm.log")"
grep -q "^  gradient summing: MPI messages (comm.transport mpi)" "$WORK/mpi.log" &&
  pass "comm.transport=mpi sums with messages" || fail "no MPI messages line in: $(head -20 "$WORK/mpi.log")"
ls /dev/shm | grep -q '^hytrain-grads' && fail "shared segments left in /dev/shm: $(ls /dev/shm)" ||
  pass "no shared-memory segment left in /dev/shm"

grep -q "^events (2 ranks" "$WORK/overlap.log" && grep -q "^  allreduce " "$WORK/overlap.log" &&
  grep -q "^  bucket_wait " "$WORK/overlap.log" && pass "event table printed" || fail "no event table in: $(cat "$WORK/overlap.log")"
grep -q "^communication (overlap, [0-9]* buckets" "$WORK/overlap.log" && pass "communication summary printed" ||
  fail "no communication summary"
grep -q '"kind": "comm", "mode": "overlap", "transport": "shm"' "$WORK/overlap/metrics.jsonl" &&
  pass "metrics.jsonl has the comm record (transport shm)" || fail "no comm record: $(tail -1 "$WORK/overlap/metrics.jsonl")"
grep -q '"kind": "comm", "mode": "overlap", "transport": "mpi"' "$WORK/mpi/metrics.jsonl" &&
  pass "comm record of comm.transport=mpi says mpi" || fail "comm record: $(tail -1 "$WORK/mpi/metrics.jsonl")"

# The timeline.
if out=$($PY - "$WORK/tl.json" "$WORK/overlap/metrics.jsonl" <<'PY'
import json, sys
tl = json.load(open(sys.argv[1]))             # valid JSON or an exception
comm = [json.loads(l) for l in open(sys.argv[2]) if '"comm"' in l][-1]
ev = tl["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
assert names == {(0, 0): "main", (0, 1): "comm", (0, 2): "loader", (0, 3): "ckpt", (1, 0): "main", (1, 1): "comm",
                 (1, 2): "loader"}, f"tracks {names}"
procs = {e["pid"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
assert procs == {0, 1}, f"processes {procs}"
count = {}
for key in names:
    stack, last = [], -1.0
    for e in (e for e in ev if (e.get("pid"), e.get("tid")) == key and e["ph"] != "M"):
        assert e["ph"] == "X" and e["dur"] >= 0, f"{key}: not a complete event: {e}"
        assert e["ts"] >= last, f"{key}: time goes back at {e}"
        last = e["ts"]
        # In whole nanoseconds: ts and dur are printed exactly to 3 decimals.
        t0, t1 = round(e["ts"] * 1000), round(e["ts"] * 1000) + round(e["dur"] * 1000)
        while stack and stack[-1] <= t0:
            stack.pop()
        assert not stack or t1 <= stack[-1], f"{key}: {e} sticks out of its parent"
        stack.append(t1)
        count[(key, e["name"])] = count.get((key, e["name"]), 0) + 1
steps, nb = int(comm["steps"]), int(comm["buckets"])
for r in (0, 1):
    for name in ("data_wait", "forward", "backward", "bucket_enqueue", "bucket_wait", "optimizer"):
        assert count.get(((r, 0), name), 0) > 0, f"rank {r} main: no {name}"
    assert count.get(((r, 0), "forward")) == steps, f"rank {r}: {count.get(((r, 0), 'forward'))} forward, {steps} steps"
    assert count.get(((r, 1), "allreduce")) == steps * nb, f"rank {r}: allreduce count {count.get(((r, 1), 'allreduce'))} != {steps}x{nb}"
    assert count.get(((r, 0), "bucket_wait")) == steps * nb
print(f"{len(ev)} events, {nb} buckets x {steps} steps per rank, nesting ok")
PY
); then pass "timeline: $out"; else fail "timeline check: $out"; fi

expect_error "bad comm.wait" 2 "comm.wait=spin: expected backoff\\[:<us>\\], adaptive\\[:<us>\\], yield, block or sleep:<us>" \
  mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/bad1" --set comm.wait=spin
expect_error "comm.wait backoff without a pause" 2 "got 'backoff:0'" \
  mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/bad1" --set comm.wait=backoff:0
expect_error "bad comm.transport" 2 "comm.transport.*auto\\|shm\\|mpi" \
  mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/bad4" --set comm.transport=ib
expect_error "bad comm.mode" 2 "comm.mode" mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/bad2" --set comm.mode=async
expect_error "bad comm.thread_core" 2 "comm.thread_core" \
  mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/bad3" --set comm.thread_core=5000
[ ! -e "$WORK/bad1" ] && pass "no run directory left by a bad config" || fail "bad config left $WORK/bad1"
finish
