# jobs/preemptible.sbatch, the Slurm side of preemption: `scancel --signal=USR1
# --batch` reaches the batch shell, which forwards SIGUSR1 through srun to
# every rank (and so does Slurm's own --signal=B:USR1@N before the time
# limit); a trainer exit code of 75 makes the script requeue the job, and
# the restarted job (same job id, SLURM_RESTART_COUNT=1) runs the same command
# with `--resume auto`. Any other exit code ends the job without a requeue.
#
# The trainer here is a stand-in script that implements exactly the interface
# the script relies on (SIGUSR1 -> exit 75; restarted -> exit 0), so this test
# checks the job script and the cluster, not the checkpoint code. The full
# end-to-end test with hytrain itself (real checkpoint, bit-identical weights,
# no lost or repeated step) is preempt_resume.sh.
. "$(dirname "$0")/lib.sh"
slurm_start
cat >"$WORK/trainer" <<'SH'
#!/bin/bash
log=$(dirname "$0")/calls.txt
echo "start rank=$SLURM_PROCID restart=${SLURM_RESTART_COUNT:-0} args=$*" >>"$log"
[ -n "${FAKE_EXIT:-}" ] && exit "$FAKE_EXIT"
[ "${SLURM_RESTART_COUNT:-0}" -ge 1 ] && exit 0
trap 'echo "usr1 rank=$SLURM_PROCID" >>"$log"; exit 75' USR1
for _ in $(seq 1 600); do sleep 0.1; done
echo "timeout rank=$SLURM_PROCID" >>"$log"
exit 1
SH
chmod +x "$WORK/trainer"
export HYTRAIN=$WORK/trainer
id=$(submit --ntasks=2 -o "$WORK/pre-%j.out" "$JOBS/preemptible.sbatch" cfg.yaml --set train.epochs=3)
# Wait for both ranks to start, then signal the batch shell only.
for _ in $(seq 1 120); do
  [ "$(grep -c '^start .*restart=0' "$WORK/calls.txt" 2>/dev/null || true)" = 2 ] && break
  sleep 0.5
done
scancel --signal=USR1 --batch "$id"
wait_jobs 120 "$id"
cat "$WORK/pre-$id.out"
cat "$WORK/calls.txt"
restarts=$(scontrol show job "$id" -o | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
[ "$restarts" = 1 ] && pass "job $id was requeued once" || fail "job $id: Restarts=$restarts, expected 1"
n_usr1=$(grep -c '^usr1 ' "$WORK/calls.txt" || true)
[ "$n_usr1" = 2 ] && pass "SIGUSR1 reached both ranks" || fail "SIGUSR1 reached $n_usr1 of 2 ranks"
n_again=$(grep -c '^start .*restart=1 args=train cfg.yaml --set train.epochs=3 --resume auto$' "$WORK/calls.txt" || true)
[ "$n_again" = 2 ] && pass "restarted ranks ran 'train CONFIG --set ... --resume auto'" || fail "restarted ranks: $n_again of 2 with the expected command"
grep -q "requeueing job $id" "$WORK/pre-$id.out" && pass "script logged the requeue" || fail "no requeue line in the job output"
# The time-limit path: with --time=1 --signal=B:USR1@50 Slurm itself signals
# the batch shell about 10-40 s after the start (its timer runs every ~30 s).
rm -f "$WORK/calls.txt"
id4=$(submit --ntasks=2 --time=1 --signal=B:USR1@50 -o "$WORK/tl-%j.out" "$JOBS/preemptible.sbatch" cfg.yaml)
wait_jobs 150 "$id4"
restarts=$(scontrol show job "$id4" -o | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
n_usr1=$(grep -c '^usr1 ' "$WORK/calls.txt" || true)
[ "$restarts" = 1 ] && [ "$n_usr1" = 2 ] && pass "time limit: USR1 before the limit reached both ranks, job requeued and finished" \
  || fail "time limit job $id4: Restarts=$restarts, USR1 on $n_usr1 ranks; $(cat "$WORK/tl-$id4.out")"
# A trainer failure (exit 2, bad input) is not requeued.
rm -f "$WORK/calls.txt"
id2=$(FAKE_EXIT=2 submit --ntasks=1 -o "$WORK/bad-%j.out" "$JOBS/preemptible.sbatch" cfg.yaml)
wait_ended 120 "$id2"
line=$(scontrol show job "$id2" -o)
case $line in
  *JobState=FAILED*Restarts=0*ExitCode=2:0* | *Restarts=0*JobState=FAILED*ExitCode=2:0*) pass "exit 2: job failed with exit code 2, not requeued" ;;
  *) fail "exit 2 job: $(echo "$line" | grep -oE '(JobState|Restarts|ExitCode)=[^ ]*' | tr '\n' ' ')" ;;
esac
finish
