# Crash safety: kill -9 while a checkpoint is being written (the writer is
# held mid-file by the HT_TEST_CKPT_STALL_MS test hook). The previous
# checkpoint and `latest` still verify, the half-written file never got a
# checkpoint name, and --resume auto continues from the previous checkpoint
# to the same final weights as an uninterrupted run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
fashion_subset 2048 500
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [32]}
train: {epochs: 1, batch_size: 32, seed: 8, log_every: 8}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
checkpoint: {every_steps: 10, async: true}
YAML
HT_TEST_CKPT_STALL_MS=3000 "$MPIEXEC" -n 1 --oversubscribe --bind-to none "$HYTRAIN" train "$WORK/cfg.yaml" \
  --run-dir "$WORK/run" >"$WORK/run.out" 2>&1 &
mp=$!
ck="$WORK/run/checkpoints"
for _ in $(seq 300); do
  [ -f "$ck/ckpt-10.h5" ] && [ -f "$ck/ckpt-20.h5.partial" ] && break
  sleep 0.1
done
if [ -f "$ck/ckpt-20.h5.partial" ]; then pass "ckpt-20.h5.partial is being written after ckpt-10.h5 was committed"
else fail "never saw ckpt-10.h5 + ckpt-20.h5.partial: $(ls "$ck" 2>&1)"; fi
rank=$(pgrep -P "$mp" -f "hytrain train" || true)
[ -n "$rank" ] && kill -9 $rank
kill -9 "$mp" 2>/dev/null || true
wait "$mp" 2>/dev/null || true
[ "$(cat "$ck/latest")" = "ckpt-10.h5" ] && pass "latest still names ckpt-10.h5" || fail "latest is '$(cat "$ck/latest")'"
"$HYTRAIN" inspect "$ck/ckpt-10.h5" >"$WORK/inspect.txt" 2>&1 && pass "ckpt-10.h5 verifies after the crash" \
  || fail "ckpt-10.h5 does not verify: $(tail -3 "$WORK/inspect.txt")"
[ ! -e "$ck/ckpt-20.h5" ] && pass "no ckpt-20.h5 (the half-written file kept its .partial name)" || fail "ckpt-20.h5 exists"
mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/run" --resume auto >"$WORK/resume.log" 2>&1 || fail "resume failed: $(tail -c 400 "$WORK/resume.log")"
grep -q "removed 1 unfinished checkpoint file" "$WORK/resume.log" && pass "the leftover .partial is removed at start-up" \
  || fail "no note about the .partial: $(head -c 400 "$WORK/resume.log")"
grep -q "resuming from .*ckpt-10.h5" "$WORK/resume.log" && pass "resumed from ckpt-10.h5" || fail "resume log: $(head -c 400 "$WORK/resume.log")"
mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/full" >/dev/null
same_state "crash + resume vs uninterrupted" "$WORK/full/checkpoints/ckpt-64.h5" "$WORK/run/checkpoints/ckpt-64.h5"
finish
