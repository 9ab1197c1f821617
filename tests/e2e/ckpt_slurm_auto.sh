# --resume auto under SLURM resumes only the job's own run: two jobs started
# from one config (SLURM_JOB_ID 111 and 222, simulated; one process each, no
# mpirun, which would look for srun when it sees SLURM variables) never pick up
# each other's checkpoints, and job 111 requeued finds its own.
. "$(dirname "$0")/lib.sh"
fashion_data
cd "$WORK"
cat >exp.yaml <<YAML
model: {type: softmax}
train: {epochs: 2, batch_size: 100, seed: 1, log_every: 50}
optimizer: {name: sgd, lr: 0.05}
data: {train: fm/test.h5}
run: {root: runs}
YAML
rc=0; SLURM_JOB_ID=111 "$HYTRAIN" train exp.yaml --stop-at-step 30 >a.log 2>&1 || rc=$?
[ "$rc" = 75 ] && pass "job 111 stopped at step 30 (exit 75)" || fail "job 111 exit $rc: $(tail -2 a.log)"
[ -f runs/exp/111/checkpoints/ckpt-30.h5 ] && pass "job 111 checkpoint in runs/exp/111" || fail "no runs/exp/111/checkpoints/ckpt-30.h5"
SLURM_JOB_ID=222 "$HYTRAIN" train exp.yaml --resume auto >b.log 2>&1
if grep -q "resuming from" b.log; then fail "job 222 resumed another job's checkpoint: $(grep resuming b.log)"
else pass "job 222 started from scratch"; fi
SLURM_JOB_ID=111 "$HYTRAIN" train exp.yaml --resume auto >c.log 2>&1
grep -q "resuming from runs/exp/111/checkpoints/ckpt-30.h5" c.log && pass "job 111 requeued resumes its own checkpoint" \
  || fail "job 111 did not resume its own checkpoint: $(grep -i 'resum\|scratch' c.log)"
finish
