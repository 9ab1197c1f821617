# Helpers for the SLURM end-to-end tests (sourced after tests/e2e/lib.sh).
# Each test starts its own cluster in $WORK/slurm with scripts/slurm-local
# (one node; two emulated nodes with SLURM_LOCAL_NODES=2, see two_nodes.sh)
# and stops it on exit, whether the test passed or not.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
SLURM_LOCAL=$HT_SOURCE_DIR/scripts/slurm-local
JOBS=$HT_SOURCE_DIR/jobs

slurm_cleanup() {
  local rc=$?
  if [ -n "${SLURM_DIR:-}" ]; then
    if [ "$rc" -ne 0 ] || [ "$FAILS" -ne 0 ]; then
      echo "--- slurmctld.log (tail) ---" >&2; tail -n 20 "$SLURM_DIR/log/slurmctld.log" >&2 2>/dev/null || true
      for f in "$SLURM_DIR"/log/slurmd*.log; do
        echo "--- ${f##*/} (tail) ---" >&2; tail -n 20 "$f" >&2 2>/dev/null || true
      done
    fi
    "$SLURM_LOCAL" stop "$SLURM_DIR" || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap slurm_cleanup EXIT

# Starts the cluster and points the clients at it.
slurm_start() {
  SLURM_DIR=$WORK/slurm
  "$SLURM_LOCAL" start "$SLURM_DIR"
  export SLURM_CONF=$SLURM_DIR/slurm.conf
}

# submit ARGS... : sbatch --parsable from $WORK; prints the job id.
submit() { (cd "$WORK" && sbatch --parsable "$@") | cut -d';' -f1; }

# job_state ID: the job's state (COMPLETED, FAILED, PENDING, ...).
job_state() { scontrol show job "$1" -o 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }

# wait_ended TIMEOUT ID... : waits until every job (array jobs: every task)
# has ended, whatever its state; fails the test after TIMEOUT s.
wait_ended() {
  local timeout=$1 t=0 id left s; shift
  while :; do
    left=0
    for id in "$@"; do
      for s in $(job_state "$id"); do
        case $s in PENDING | RUNNING | CONFIGURING | COMPLETING | REQUEUED | REQUEUE_HOLD | REQUEUE_FED | SUSPENDED | RESIZING | SIGNALING | STAGE_OUT) left=1 ;; esac
      done
    done
    [ "$left" -eq 0 ] && return 0
    if [ "$t" -ge "$((timeout * 2))" ]; then
      fail "jobs $* still not finished after ${timeout}s: $(squeue -h -o '%i %T %R' | tr '\n' ';')"
      return 1
    fi
    sleep 0.5
    t=$((t + 1))
  done
}

# wait_jobs TIMEOUT ID... : wait_ended, then every job (and array task) must
# have ended COMPLETED (exit code 0).
wait_jobs() {
  local timeout=$1 id states; shift
  wait_ended "$timeout" "$@" || return 1
  for id in "$@"; do
    states=$(scontrol show job "$id" -o | sed -n 's/.*JobId=\([0-9]*\).*JobState=\([A-Z_]*\).*ExitCode=\([0-9:]*\).*/\1 \2 exit \3/p')
    if [ -z "$states" ] || echo "$states" | grep -qv ' COMPLETED '; then
      fail "job $id did not complete: $(echo "$states" | tr '\n' ';')"
    else
      pass "job $id completed ($(echo "$states" | wc -l) task(s))"
    fi
  done
}

# A small Fashion-MNIST config: softmax, STEPS steps of 100 rows per rank.
small_config() {
  local out=$1 steps=$2
  cat >"$out" <<YAML
model: {type: softmax}
train: {epochs: 2, max_steps: $steps, batch_size: 100, seed: 3, log_every: 50}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: $WORK/fm/train.h5, test: $WORK/fm/test.h5}
YAML
}

# check_run DIR STEPS MIN_ACC: the run directory has the expected files, the
# last epoch record is at STEPS and its test accuracy is >= MIN_ACC.
check_run() {
  local dir=$1 steps=$2 min_acc=$3 f acc st
  for f in config.yaml metrics.jsonl log.txt checkpoints/latest "checkpoints/ckpt-$steps.h5"; do
    [ -s "$dir/$f" ] && pass "$dir has $f" || fail "$dir lacks $f"
  done
  [ -s "$dir/metrics.jsonl" ] || return 0
  acc=$(last_epoch_field "$dir/metrics.jsonl" test_accuracy)
  st=$(last_epoch_field "$dir/metrics.jsonl" step)
  [ "$st" = "$steps" ] && pass "$dir: last epoch record at step $st" || fail "$dir: last epoch record at step $st, expected $steps"
  if ge "$acc" "$min_acc"; then pass "$dir: test accuracy $acc >= $min_acc"; else fail "$dir: test accuracy $acc < $min_acc"; fi
}
