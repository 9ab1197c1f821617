# A rank that dies in the middle of training (SIGKILL to rank 1, as an OOM
# kill would) must end the whole job within 30 s and FAILED, not leave the
# other rank holding the allocation; the job's output names the lost task and
# its node (srun's line), and the newest checkpoint (one every 50 steps)
# stays valid. The stall watchdog is switched off (comm.stall_timeout_s=0),
# so hytrain itself cannot end the job. tests/e2e/dead_rank.sh is the same
# under mpirun. jobs/train.sbatch runs srun --kill-on-bad-exit=1 for
# this. Measured on Slurm 22.05 with Debian's Open MPI: the PMIx plugin
# cancels the step after a rank's abnormal death even without that option
# (JOB_SCRIPT=<a copy without it> passes too), so this test guards the
# behaviour, not the option; install.layout checks the option is there.
# JOB_SCRIPT overrides the job script.
. "$(dirname "$0")/lib.sh"
fashion_data
slurm_start
small_config "$WORK/small.yaml" 1000000
# Epochs enough for an hour: the job must still train when rank 1 is killed.
script=${JOB_SCRIPT:-$JOBS/train.sbatch}
id=$(submit --ntasks=2 --cpus-per-task=1 -o "$WORK/train-%j.out" "$script" "$WORK/small.yaml" \
  --set train.epochs=10000 --set comm.stall_timeout_s=0 --set comm.stall_warn_s=0 --set checkpoint.every_steps=50)
log=$WORK/runs/small/$id/log.txt

# rank_pid N: the pid of hytrain rank N of this job (found by its environment,
# so only this job's process can match).
rank_pid() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(basename "$(readlink "$p/exe" 2>/dev/null)")" = hytrain ] || continue
    if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "SLURM_JOB_ID=$id" \
      && tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "SLURM_PROCID=$1"; then
      echo "${p#/proc/}"
      return 0
    fi
  done
  return 1
}

# Wait until the ranks train (log.txt has the "training ..." line, then 2 s
# more, so both are inside the step loop's collectives), then kill rank 1.
deadline=$(($(date +%s) + 120))
ckdir=$WORK/runs/small/$id/checkpoints
until [ -s "$log" ] && grep -q "^training " "$log" && [ -f "$ckdir/latest" ] && rank_pid 1 >/dev/null; do
  st=$(job_state "$id")
  case $st in PENDING | CONFIGURING | RUNNING) ;; *) fail "job $id ended ($st) before rank 1 could be killed"; finish ;; esac
  if [ "$(date +%s)" -ge "$deadline" ]; then fail "job $id did not start training within 120 s (state $st)"; finish; fi
  sleep 0.5
done
sleep 2
pid=$(rank_pid 1)
kill -KILL "$pid"
pass "killed rank 1 (pid $pid) of job $id while it trained"
start=$(date +%s)
wait_ended 30 "$id" || { scancel "$id" 2>/dev/null || true; finish; }
took=$(($(date +%s) - start))
st=$(job_state "$id")
[ "$st" = FAILED ] && pass "job $id ended FAILED ${took}s after rank 1 died" \
  || fail "job $id ended $st ${took}s after rank 1 died, expected FAILED"
out=$WORK/train-$id.out
node=$(hostname -s)
grep -Eq "^srun: error: $node: task 1: Killed" "$out" && pass "the job output names task 1 and node $node: $(grep -m1 'task 1' "$out")" ||
  fail "no line naming task 1 on $node in: $(cat "$out")"
latest=$(cat "$ckdir/latest")
"$HYTRAIN" inspect "$ckdir/$latest" >"$WORK/inspect.txt" 2>&1 && pass "newest checkpoint $latest verifies" ||
  fail "newest checkpoint $latest: $(tail -3 "$WORK/inspect.txt")"
finish
