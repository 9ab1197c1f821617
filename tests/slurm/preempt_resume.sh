# Preemption end to end with the real trainer: jobs/preemptible.sbatch gets
# `scancel --signal=USR1 --batch` about a third of the way through; hytrain
# checkpoints and exits 75, the script requeues the job, the restarted job
# (same job id, same run directory runs/<experiment>/<job id>) resumes with
# `--resume auto` and finishes. Its final /model and /optimizer equal, byte for
# byte, those of an uninterrupted run of the same config, and metrics.jsonl
# holds every step 1..N exactly once and the same records as that run (timing
# fields and the per-segment "comm" summaries aside).
#
# The reference runs as a job of jobs/train.sbatch, not under mpirun in the
# test's shell: it then gets exactly the preemptible job's launch (srun
# --mpi=pmix, 2 tasks x 1 cpu, OMP_NUM_THREADS from SLURM_CPUS_PER_TASK,
# --cpu-bind=cores), so the only difference left between the two runs is the
# preemption. Its --run-dir keeps it out of runs/<experiment>/, where the
# preemptible job's `--resume auto` looks for the newest run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../e2e/ckpt_lib.sh"
fashion_subset 4096 1000
slurm_start
# 4096 rows / 2 ranks / 64 = 32 steps per epoch, N = 48 epochs = 1536 steps.
# The model is sized so that a step takes milliseconds, not microseconds:
# the run lasts several seconds and the signal lands well inside it. (With
# 24 epochs a quiet machine ran the whole job in 3.4 s: the poll below first
# saw step 512 of 768, and the job ended before the signal, which goes
# through slurmctld, slurmd and the batch shell, reached the ranks.) At that
# size compute.backend auto times both GEMM backends and may pick either in
# two separate runs (their results differ in rounding), so the backend is
# pinned: the reference and the preempted job must compute alike. (A resumed
# segment keeps its checkpoint's backend under auto: e2e.resume_backend.)
N=1536
cat >"$WORK/pre.yaml" <<YAML
model: {type: mlp, hidden: [512, 512]}
train: {epochs: 48, batch_size: 64, seed: 5, log_every: 1}
optimizer: {name: sgd, lr: 0.02, momentum: 0.9}
data: {train: $WORK/fm/train.h5, test: $WORK/fm/test.h5}
checkpoint: {every_steps: 100}
compute: {backend: openblas}
YAML

ref=$(submit --ntasks=2 --cpus-per-task=1 -o "$WORK/ref-%j.out" "$JOBS/train.sbatch" "$WORK/pre.yaml" --run-dir "$WORK/ref")
wait_jobs 200 "$ref"
[ "$(cat "$WORK/ref/checkpoints/latest" 2>/dev/null)" = "ckpt-$N.h5" ] && pass "reference run ended at step $N" \
  || fail "reference: latest is '$(cat "$WORK/ref/checkpoints/latest" 2>/dev/null)'; $(tail -c 600 "$WORK/ref-$ref.out")"

id=$(submit --ntasks=2 --cpus-per-task=1 -o "$WORK/pre-%j.out" "$JOBS/preemptible.sbatch" "$WORK/pre.yaml")
run=$WORK/runs/pre/$id
# last_step: the step of the newest record in the run's metrics.jsonl (0 if none).
last_step() { tail -n 1 "$run/metrics.jsonl" 2>/dev/null | sed -n 's/.*"step": \([0-9]*\).*/\1/p' | grep . || echo 0; }
seen=0
for _ in $(seq 1 1200); do # 0.1 s each: at most 2 minutes
  seen=$(last_step)
  [ "$seen" -ge $((N / 3)) ] && break
  case $(job_state "$id") in PENDING | RUNNING | CONFIGURING) ;; *) break ;; esac
  sleep 0.1
done
if [ "$seen" -ge $((N / 3)) ] && [ "$seen" -lt "$N" ]; then
  scancel --signal=USR1 --batch "$id"
  pass "sent SIGUSR1 to the batch shell of job $id at step $seen of $N"
else
  fail "job $id never passed step $((N / 3)) while running (last step $seen, state $(job_state "$id"))"
fi
wait_jobs 200 "$id"
out=$WORK/pre-$id.out
cat "$out"
restarts=$(scontrol show job "$id" -o | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
[ "$restarts" = 1 ] && pass "job $id restarted once" || fail "job $id: Restarts=$restarts, expected 1"

# The job output (appended over both starts) tells the story in order:
# forward, stop + checkpoint at step K, requeue, second start, resume from K.
# srun signals both ranks; one that sees the other's flag at the step
# agreement before its own signal arrived says "a stop signal on another rank".
stop=$(grep -Eo 'stopped by (SIGUSR1|a stop signal on another rank) at step [0-9]+' "$out" | grep -Eo '[0-9]+$' | head -1 || true)
if [ -n "$stop" ] && [ "$stop" -ge "$seen" ] && [ "$stop" -lt "$N" ]; then
  pass "hytrain stopped by SIGUSR1 at step $stop (signal sent at step $seen)"
else
  fail "no 'stopped by SIGUSR1 at step K' with $seen <= K < $N in the job output (K='$stop')"
  stop=-1
fi
story=$($PY - "$out" "$id" "$stop" <<'PY'
import re, sys
out, job, stop = sys.argv[1], sys.argv[2], sys.argv[3]
want = [r"job %s start 0:" % job,
        r"got SIGUSR1, forwarding it to the ranks",
        r"stopped by (SIGUSR1|a stop signal on another rank) at step %s; checkpoint .*/ckpt-%s\.h5" % (stop, stop),
        r"checkpoint written, requeueing job %s" % job,
        r"job %s start 1:" % job,
        r"resuming from (\S*/)?runs/pre/%s/checkpoints/ckpt-%s\.h5: step %s," % (job, stop, stop)]
lines = open(out, errors="replace").read().splitlines()
i = 0
for pat in want:
    while i < len(lines) and not re.search(pat, lines[i]):
        i += 1
    if i == len(lines):
        print("missing (in this order): " + pat); sys.exit(1)
    i += 1
print("forward, stop at %s, requeue, restart, resume from ckpt-%s" % (stop, stop))
PY
) && pass "job output: $story" || fail "job output: $story"

for d in "$WORK/ref" "$run"; do
  [ "$(cat "$d/checkpoints/latest" 2>/dev/null)" = "ckpt-$N.h5" ] || fail "$d: latest is not ckpt-$N.h5"
done
same_state "preempted+requeued vs uninterrupted" "$WORK/ref/checkpoints/ckpt-$N.h5" "$run/checkpoints/ckpt-$N.h5"
same_metrics "preempted+requeued vs uninterrupted" "$WORK/ref/metrics.jsonl" "$run/metrics.jsonl"
# Step records 1..N, each exactly once and in order (log_every: 1): the
# records of the two segments were joined, none lost or repeated.
steps=$($PY - "$run/metrics.jsonl" "$N" <<'PY'
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
steps = [r["step"] for r in recs if r["kind"] == "step"]
c = collections.Counter(steps)
missing = [s for s in range(1, n + 1) if s not in c]
repeated = sorted(s for s, k in c.items() if k > 1)
extra = sorted(s for s in c if not 1 <= s <= n)
ordered = steps == sorted(steps)
if missing or repeated or extra or not ordered:
    print("missing %s, repeated %s, out of range %s, in order %s"
          % (missing[:10], repeated[:10], extra[:10], ordered)); sys.exit(1)
print("steps 1..%d once each, in order" % n)
PY
) && pass "metrics.jsonl: $steps" || fail "metrics.jsonl: $steps"

"$HYTRAIN" runs list "$WORK/runs" >"$WORK/list.txt"
cat "$WORK/list.txt"
row=$(grep -E "^pre/$id " "$WORK/list.txt" | tr -s ' ' || true)
case $row in
  "pre/$id done test_accuracy "*" $N "*) pass "runs list: $row" ;;
  *) fail "runs list row for pre/$id: '$row', expected done with $N steps" ;;
esac
finish
