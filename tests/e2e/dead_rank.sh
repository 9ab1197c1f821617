# A rank that dies mid-training under mpirun (SIGKILL to rank 1, as an OOM
# kill would): every rank ends within 30 s, the job's output names the lost
# rank and its host (Open MPI's line), the exit code is non-zero, and the
# newest checkpoint stays valid (it verifies and resumes). The stall watchdog
# is off, so the launcher alone must end the job. tests/slurm/dead_rank.sh is
# the same under srun.
. "$(dirname "$0")/lib.sh"
small_data "$WORK/train.h5"
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [16]}
train: {epochs: 100000, batch_size: 8, seed: 4, log_every: 10}
data: {train: $WORK/train.h5}
checkpoint: {every_steps: 20, keep: 2}
comm: {stall_timeout_s: 0, stall_warn_s: 0}
YAML
"$MPIEXEC" -n 2 --oversubscribe --bind-to none "$HYTRAIN" train "$WORK/cfg.yaml" --run-dir "$WORK/run" \
  >"$WORK/out.txt" 2>"$WORK/err.txt" &
mp=$!
for _ in $(seq 600); do
  [ -f "$WORK/run/checkpoints/latest" ] && grep -q '"step": [0-9]*[5-9]0,' "$WORK/run/metrics.jsonl" 2>/dev/null && break
  sleep 0.1
done
victim=$(pgrep -P "$mp" -f "hytrain train" | tail -1 || true)
[ -n "$victim" ] || { fail "no rank process under mpirun $mp"; kill "$mp"; finish; }
# The ranks are started in order, so the later pid is rank 1; check it.
rank=$(tr '\0' '\n' <"/proc/$victim/environ" | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
kill -KILL "$victim"
t0=$(date +%s)
rc=0
for _ in $(seq 300); do kill -0 "$mp" 2>/dev/null || break; sleep 0.1; done
took=$(($(date +%s) - t0))
if kill -0 "$mp" 2>/dev/null; then
  fail "mpirun still runs 30 s after rank $rank died"
  kill -KILL "$mp"
fi
wait "$mp" || rc=$?
[ "$rc" -ne 0 ] && pass "mpirun exited $rc, ${took}s after rank $rank (pid $victim) was killed" || fail "mpirun exited 0"
pgrep -f "$WORK/cfg.yaml" >/dev/null && fail "a rank is left: $(pgrep -af "$WORK/cfg.yaml")" || pass "no rank left running"
host=$(hostname)
grep -Eq "rank $rank .*on node $host(\.[^ ]*)? exited on signal 9" "$WORK/err.txt" &&
  pass "the output names rank $rank and host $host: $(grep -Eo "process rank $rank .*signal 9[^.]*" "$WORK/err.txt" | head -1)" ||
  fail "no line naming rank $rank and host $host: $(cat "$WORK/err.txt")"
latest=$(cat "$WORK/run/checkpoints/latest")
"$HYTRAIN" inspect "$WORK/run/checkpoints/$latest" >"$WORK/inspect.txt" 2>&1 && pass "newest checkpoint $latest verifies" ||
  fail "newest checkpoint $latest: $(tail -3 "$WORK/inspect.txt")"
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/run" --resume auto --set train.max_steps=$((${latest//[^0-9]/} + 10)) \
  >"$WORK/resume.txt" 2>&1 && pass "resumes from $latest" || fail "resume failed: $(tail -3 "$WORK/resume.txt")"
# A write the kill cut short may leave a .partial file; the next start removes it.
ls "$WORK/run/checkpoints" | grep -q partial && fail "a partial file is left after resuming: $(ls "$WORK/run/checkpoints")" ||
  pass "no partial checkpoint left after resuming"
finish
