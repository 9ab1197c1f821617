# The stall watchdog, with a real stalled rank: a 2-rank training runs, rank
# 1 is frozen with SIGSTOP mid-run, and rank 0's communication thread must
#  - warn after comm.stall_warn_s: where rank 0 waits for a gradient bucket,
#    naming the bucket and rank 1; where it waits in a collective of the main
#    thread (the step agreement, the checkpoint gather, the agreement on non-finite gradient sums), naming that
#    collective (which rank is missing is not known there);
#  - end the whole job after comm.stall_timeout_s with one error line saying
#    the same, and a non-zero exit code (no rank left hanging),
#  - leave the checkpoints written before the stall intact, nothing half-written.
# Argument: the comm.transport to run with (auto, i.e. shared memory, or mpi).
. "$(dirname "$0")/lib.sh"
TRANSPORT=${1:-auto}
fashion_data
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [64]}
train: {epochs: 1000, batch_size: 32, seed: 3, log_every: 10}
optimizer: {name: sgd, lr: 0.01}
data: {train: fm/train.h5}
checkpoint: {every_steps: 20}
comm: {stall_warn_s: 1, stall_timeout_s: 4, transport: $TRANSPORT}
YAML

run=$WORK/run
mpi 2 train "$WORK/cfg.yaml" --run-dir "$run" >"$WORK/out.txt" 2>"$WORK/err.txt" &
job=$!
stopped=""
cleanup_ranks() {
  # Whatever happens, never leave a frozen rank behind.
  [ -n "$stopped" ] && kill -CONT "$stopped" 2>/dev/null || true
  kill "$job" 2>/dev/null || true
}
trap 'cleanup_ranks; rm -rf "$WORK"' EXIT

# Wait until a checkpoint exists: both ranks are in the training loop.
have_ckpt() { compgen -G "$run/checkpoints/ckpt-*.h5" >/dev/null; }
for _ in $(seq 1 600); do
  have_ckpt && break
  sleep 0.1
done
have_ckpt || { fail "no checkpoint after 60 s: $(cat "$WORK/err.txt")"; finish; }

# Rank 1: the hytrain process whose environment says OMPI_COMM_WORLD_RANK=1
# and whose parent chain leads to this job's mpirun.
for pid in $(pgrep -f "hytrain train $WORK/cfg.yaml"); do
  if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then stopped=$pid; fi
done
[ -n "$stopped" ] || { fail "rank 1's process not found"; finish; }
kill -STOP "$stopped"
t0=$(date +%s)

# The job must end by itself: give it 60 s (the timeout is 4 s).
rc=0
for _ in $(seq 1 600); do
  kill -0 "$job" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$job" 2>/dev/null; then
  fail "the job still runs 60 s after rank 1 stalled"
  cleanup_ranks
fi
wait "$job" || rc=$?
took=$(( $(date +%s) - t0 ))
kill -CONT "$stopped" 2>/dev/null || true
stopped=""

[ "$rc" -ne 0 ] && pass "the job ended with exit code $rc, $took s after rank 1 stalled" || fail "exit code 0 after a stall"
# What rank 0 waits for: a bucket from rank 1, or a collective rank 1 did not join.
waiting='(gradient bucket [0-9]+ of [0-9]+ has waited [0-9]+ s for rank 1 \(|the main thread has waited [0-9]+ s in the (step agreement|checkpoint.s gather|error agreement|evaluation.s sums|agreement on non-finite gradient sums)[^,]*, which every rank must join)'
expect_stall_lines "$WORK/err.txt" "$waiting" 4
[ "$took" -ge 4 ] && [ "$took" -le 45 ] && pass "stopped after the timeout ($took s)" || fail "stopped after $took s"
pgrep -f "hytrain train $WORK/cfg.yaml" >/dev/null && fail "hytrain processes left: $(pgrep -af "hytrain train $WORK/cfg.yaml")" ||
  pass "no hytrain process left"
out=$($PY - "$run/checkpoints" <<'PY'
import glob, os, sys, h5py
d = sys.argv[1]
files = sorted(glob.glob(os.path.join(d, "ckpt-*.h5")))
assert files, "no checkpoint left"
others = [f for f in os.listdir(d) if not (f.startswith("ckpt-") and f.endswith(".h5")) and f != "latest"]
assert not others, f"half-written files left: {others}"
for p in files:
    with h5py.File(p, "r") as f:
        assert "model" in f and len(f["model"]) > 0, p
print(", ".join(os.path.basename(p) for p in files))
PY
) && pass "the checkpoints written before the stall load and nothing half-written is left: $out" ||
  fail "checkpoints after the stall: $out"
finish
