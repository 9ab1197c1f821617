# jobs/train.sbatch (srun --cpu-bind=cores, OMP_PLACES=cores,
# OMP_PROC_BIND=close) with 2 tasks x 1 cpu, on a local cluster that binds
# nothing (TaskPlugin=task/none: the issue's symptom, both ranks' thread 0 on
# cpu 0) and on one that binds (task/affinity, as clusters do):
#  - task/none: compute.binding auto splits the node's cores (distinct cpus,
#    a "binding:" line); launcher keeps the overlap and warns with srun's fix;
#  - task/affinity: srun's disjoint binding is kept, no note, no warning;
#  - under srun the progress output is plain lines (no redraw) and log.txt
#    holds the step lines.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
$PY - "$WORK/d.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(3)
x = rng.standard_normal((400, 8)).astype(np.float32)
with h5py.File(sys.argv[1], "w") as f:
    f["features"] = x
    f["labels"] = (x[:, 2] > 0).astype(np.int32)
    f.attrs["num_classes"] = 2
PY
cat >"$WORK/b.yaml" <<YAML
model: {type: softmax}
train: {epochs: 1, max_steps: 8, batch_size: 20, seed: 1, log_every: 2}
data: {train: $WORK/d.h5}
YAML
thread0() { awk -v r="$2" '$1 == "rank" && $2 == "comm" {t = 1; next} t && $1 == r {sub("t0:", "", $3); print $3; exit}' "$1"; }
redraws() { $PY -c 'import re, sys; print(len(re.findall(rb"\r(?!\n)", open(sys.argv[1], "rb").read())))' "$1"; }
# job NAME ARGS...: train.sbatch with 2 x 1 cpu; the run is $WORK/runs/NAME/<id>, the output NAME.out.
job() {
  local name=$1 id; shift
  id=$(submit --ntasks=2 --cpus-per-task=1 -o "$WORK/$name.out" "$JOBS/train.sbatch" "$WORK/b.yaml" --set run.name="$name" "$@")
  wait_jobs 120 "$id"
  RUN=$WORK/runs/$name/$id
}

SLURM_LOCAL_TASK_PLUGIN=task/none slurm_start
grep -q "^TaskPlugin=task/none" "$SLURM_CONF" && pass "cluster 1 binds nothing (task/none)" || fail "cluster 1: $(grep TaskPlugin "$SLURM_CONF")"
job none_auto
a0=$(thread0 "$RUN/log.txt" 0) a1=$(thread0 "$RUN/log.txt" 1)
[ -n "$a0" ] && [ "$a0" != "$a1" ] && pass "task/none, auto: threads 0 on cpus $a0 and $a1" ||
  fail "task/none, auto: threads 0 on '$a0' and '$a1': $(head -12 "$RUN/log.txt")"
grep -q "^  binding: compute.binding auto split the 2 cores" "$RUN/log.txt" && pass "task/none, auto: the table says so" ||
  fail "task/none, auto: no split line: $(head -8 "$RUN/log.txt")"
# Progress under srun: plain lines in the job output and in log.txt.
n=$(redraws "$WORK/none_auto.out")
[ "$n" -eq 0 ] && pass "srun: no redraws in the job output" || fail "srun: $n redraws in the job output"
[ "$(grep -c '^  epoch 1/1  step [0-9]*/8 ' "$WORK/none_auto.out")" -eq 4 ] && pass "srun: 4 step lines in the job output" ||
  fail "srun: step lines in the job output: $(grep step "$WORK/none_auto.out")"
[ "$(grep -c '^  epoch 1/1  step [0-9]*/8 ' "$RUN/log.txt")" -eq 4 ] && pass "srun: 4 step lines in log.txt" || fail "srun: log.txt step lines"
job none_launcher --set compute.binding=launcher
l0=$(thread0 "$RUN/log.txt" 0) l1=$(thread0 "$RUN/log.txt" 1)
[ "$l0" = "$l1" ] && pass "task/none, launcher: both threads 0 on cpu $l0" || fail "task/none, launcher: '$l0' '$l1'"
grep -Eq "warning: binding: ranks 0, 1 on host .* the same cpus \($l0\).*Fix: launch with srun --cpu-bind=cores --cpus-per-task=1" "$WORK/none_launcher.out" &&
  pass "task/none, launcher: warning with srun's fix" || fail "task/none, launcher: no warning: $(grep -i warn "$WORK/none_launcher.out")"
"$SLURM_LOCAL" stop "$SLURM_DIR"

slurm_start
grep -q "^TaskPlugin=task/affinity" "$SLURM_CONF" && pass "cluster 2 binds tasks (task/affinity, the default)" || fail "cluster 2: $(grep TaskPlugin "$SLURM_CONF")"
job affinity
f0=$(thread0 "$RUN/log.txt" 0) f1=$(thread0 "$RUN/log.txt" 1)
[ -n "$f0" ] && [ "$f0" != "$f1" ] && pass "task/affinity: srun bound the ranks to cpus $f0 and $f1" || fail "task/affinity: '$f0' '$f1'"
grep -q "binding:" "$RUN/log.txt" "$WORK/affinity.out" && fail "task/affinity: unexpected binding line: $(grep binding: "$WORK/affinity.out")" ||
  pass "task/affinity: the launcher's binding kept, no note, no warning"
finish
