# SIGTERM to ONE of 2 ranks mid-run: every rank agrees at the next step
# boundary, the checkpoint is committed, every rank exits 75; resuming ends
# with the same weights (byte for byte) and metrics as an uninterrupted run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
fashion_subset 4096 1000
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [64]}
train: {epochs: 12, batch_size: 16, seed: 3, log_every: 10}
optimizer: {name: sgd, lr: 0.02, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
checkpoint: {every_steps: 100}
YAML
# 4096 / 2 / 16 = 128 steps per epoch, 1536 in all.
"$MPIEXEC" -n 2 --oversubscribe --bind-to none "$HYTRAIN" train "$WORK/cfg.yaml" --run-dir "$WORK/cut" \
  >"$WORK/cut.out" 2>"$WORK/cut.err" &
mp=$!
# Wait until training is under way (a step record past step 50), then signal one rank.
for _ in $(seq 600); do
  if [ -s "$WORK/cut/metrics.jsonl" ] && [ "$(tail -1 "$WORK/cut/metrics.jsonl" | $PY -c 'import json,sys; print(json.loads(sys.stdin.read())["step"])')" -ge 50 ]; then break; fi
  sleep 0.1
done
ranks=$(pgrep -P "$mp" -f "hytrain train" || true)
victim=$(echo "$ranks" | tail -1)
if [ -z "$victim" ]; then fail "no rank process found under mpirun $mp"; wait "$mp" || true; finish; fi
kill -TERM "$victim"
rc=0; wait "$mp" || rc=$?
[ "$rc" = 75 ] && pass "mpirun exit code 75 after SIGTERM to rank pid $victim" \
  || fail "exit code $rc, expected 75; stderr: $(tail -c 600 "$WORK/cut.err")"
grep -Eq "stopped by (SIGTERM|a stop signal on another rank) at step [0-9]+" "$WORK/cut.err" \
  && pass "$(grep -Eo 'stopped by [^;]*' "$WORK/cut.err" | head -1)" || fail "no stop message: $(tail -c 400 "$WORK/cut.err")"
stop=$(grep -Eo "stopped by (SIGTERM|a stop signal on another rank) at step [0-9]+" "$WORK/cut.err" | head -1 | grep -Eo "[0-9]+$")
[ -n "$stop" ] && [ "$(cat "$WORK/cut/checkpoints/latest")" = "ckpt-$stop.h5" ] && pass "latest is ckpt-$stop.h5" \
  || fail "latest is '$(cat "$WORK/cut/checkpoints/latest" 2>/dev/null)', expected ckpt-$stop.h5"
[ -n "$stop" ] && [ "$stop" -lt 1536 ] && pass "stopped early at step $stop of 1536" || fail "stop step '$stop'"
"$HYTRAIN" inspect "$(latest_of "$WORK/cut")" >/dev/null && pass "the stop checkpoint verifies" || fail "stop checkpoint does not verify"
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/cut" --resume auto >/dev/null
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/full" >/dev/null
same_state "SIGTERM + resume vs uninterrupted" "$WORK/full/checkpoints/ckpt-1536.h5" "$WORK/cut/checkpoints/ckpt-1536.h5"
same_metrics "SIGTERM + resume vs uninterrupted" "$WORK/full/metrics.jsonl" "$WORK/cut/metrics.jsonl"
finish
