# Disk errors. An unwritable checkpoint directory fails at start-up, before
# any training step, with one line naming it. A write that fails mid-run (the
# file-size limit of `ulimit -f`, standing in for a full disk) on the writer
# thread ends the run with a clear error and leaves the earlier checkpoint and
# `latest` valid.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
fashion_subset 1024 500
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [256]}
train: {epochs: 1, max_steps: 20, batch_size: 16, seed: 2, log_every: 5}
optimizer: {name: sgd, lr: 0.02, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
checkpoint: {every_steps: 10}
YAML
mkdir -p "$WORK/bad"
touch "$WORK/bad/checkpoints"   # a file where the directory should be
expect_error "unwritable checkpoint directory" 1 "bad/checkpoints: checkpoints cannot be written there: Not a directory" \
  mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/bad"
if grep -q '"kind": "step"' "$WORK/bad/metrics.jsonl" 2>/dev/null; then fail "training ran before the error"
else pass "no training step ran before the error"; fi
mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/run" >/dev/null
ck="$WORK/run/checkpoints"
[ "$(cat "$ck/latest")" = "ckpt-20.h5" ] && pass "first run wrote ckpt-20.h5" || fail "latest is $(cat "$ck/latest")"
# A full disk, mid-run: once the resumed run is writing ckpt-30 (held 1 s by
# the test hook), ckpt-50's partial file becomes a link to /dev/full, where
# every write fails with ENOSPC.
HT_TEST_CKPT_STALL_MS=1000 "$MPIEXEC" -n 1 --oversubscribe --bind-to none "$HYTRAIN" train "$WORK/cfg.yaml" \
  --run-dir "$WORK/run" --resume auto --set train.max_steps=60 >"$WORK/full.out" 2>"$WORK/full.err" &
mp=$!
for _ in $(seq 300); do [ -e "$ck/ckpt-30.h5.partial" ] && break; sleep 0.05; done
ln -s /dev/full "$ck/ckpt-50.h5.partial"
rc=0; wait "$mp" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 75 ] && pass "the run failed (exit $rc) when a checkpoint write failed" || fail "exit code $rc"
grep -Eq "hytrain train: error: .*ckpt-50.h5.partial: .*(No space left on device|HDF5 error)" "$WORK/full.err" \
  && pass "$(grep -m1 'hytrain train: error' "$WORK/full.err" | head -c 300)" || fail "no clear write error: $(tail -c 500 "$WORK/full.err")"
[ "$(grep -c 'hytrain train: error' "$WORK/full.err")" = 1 ] && pass "exactly one error line" || fail "error lines: $(grep -c 'error' "$WORK/full.err")"
[ "$(cat "$ck/latest")" = "ckpt-40.h5" ] && pass "latest still names ckpt-40.h5" || fail "latest is $(cat "$ck/latest")"
for s in 30 40; do
  "$HYTRAIN" inspect "$ck/ckpt-$s.h5" >/dev/null && pass "ckpt-$s.h5 verifies" || fail "ckpt-$s.h5 does not verify"
done
[ ! -e "$ck/ckpt-50.h5" ] && [ ! -e "$ck/ckpt-50.h5.partial" ] && pass "no ckpt-50.h5 and no partial left behind" \
  || fail "left behind: $(ls "$ck")"
finish
