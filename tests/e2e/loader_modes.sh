# data.mode on Fashion-MNIST (2 ranks):
#  - stream mode whose shuffle buffer holds the whole shard gives memory
#    mode's weights bit for bit (h5diff on /model);
#  - stream mode with a small buffer (4 pieces of 1000 rows) reaches memory
#    mode's test accuracy within 0.5 % (same steps, another order);
#  - the same holds for a deflate-compressed copy with another chunk shape
#    (1000 rows, written by h5py), read in pieces of the automatic size;
#  - augmentation (flip,shift:2) is reproducible: two runs, same weights, in
#    both modes; and it changes the result;
#  - the start-up table says which mode auto picked, and epoch records carry
#    data_wait_s.
. "$(dirname "$0")/lib.sh"
fashion_data
cat >"$WORK/cfg.yaml" <<YAML
model: {type: softmax}
train: {epochs: 4, batch_size: 100, seed: 3, log_every: 300}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
schedule: {name: cosine}
data: {train: fm/train.h5, test: fm/test.h5}
YAML
mpi 2 train "$WORK/cfg.yaml" --set data.mode=memory --run-dir "$WORK/mem" >"$WORK/mem.log"
mpi 2 train "$WORK/cfg.yaml" --set data.mode=stream --set data.chunk_rows=1000 --set data.shuffle_buffer_chunks=30 \
  --run-dir "$WORK/whole" >"$WORK/whole.log"
mpi 2 train "$WORK/cfg.yaml" --set data.mode=stream --set data.chunk_rows=1000 --set data.shuffle_buffer_chunks=4 \
  --run-dir "$WORK/small" >"$WORK/small.log"
if h5diff "$WORK/mem/checkpoints/ckpt-1200.h5" "$WORK/whole/checkpoints/ckpt-1200.h5" /model >"$WORK/diff.txt"; then
  pass "stream mode with a whole-shard buffer gives memory mode's weights exactly"
else fail "stream (whole-shard buffer) and memory weights differ: $(head -3 "$WORK/diff.txt")"; fi
$PY - "$WORK/fm/train.h5" "$WORK/fm/gz.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as src, h5py.File(sys.argv[2], "w") as dst:
    for name in ("features", "labels"):
        d = src[name]
        dst.create_dataset(name, data=d[...], chunks=(1000,) + d.shape[1:], compression="gzip", compression_opts=1)
    for k, v in src.attrs.items():
        dst.attrs[k] = v
PY
mpi 2 train "$WORK/cfg.yaml" --set data.train="$WORK/fm/gz.h5" --set data.mode=stream --set data.shuffle_buffer_chunks=20 \
  --run-dir "$WORK/gz" >"$WORK/gz.log"
grep -q "pieces of 2000 rows" "$WORK/gz.log" && pass "automatic pieces follow the file's 1000-row chunks (2000 rows)" \
  || fail "automatic piece size: $(grep 'data:' "$WORK/gz.log")"
if h5diff "$WORK/mem/checkpoints/ckpt-1200.h5" "$WORK/gz/checkpoints/ckpt-1200.h5" /model >"$WORK/diff.txt"; then
  pass "a compressed, differently chunked copy streams to memory mode's weights exactly"
else fail "compressed copy (stream) and memory weights differ: $(head -3 "$WORK/diff.txt")"; fi
if h5diff -q "$WORK/mem/checkpoints/ckpt-1200.h5" "$WORK/small/checkpoints/ckpt-1200.h5" /model >/dev/null; then
  fail "a 4-piece shuffle buffer gave memory mode's exact weights (its order should differ)"
else pass "a 4-piece shuffle buffer visits rows in another order"; fi
am=$(last_epoch_field "$WORK/mem/metrics.jsonl" test_accuracy)
as=$(last_epoch_field "$WORK/small/metrics.jsonl" test_accuracy)
$PY -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<=0.005 and a>0.8 else 1)' "$am" "$as" \
  && pass "accuracy memory $am vs stream $as (within 0.005)" || fail "accuracy memory $am vs stream $as: not within 0.005 (or below 0.8)"
grep -q "data: stream mode (data.mode" "$WORK/small.log" && pass "start-up table names stream mode" \
  || fail "no stream-mode line in the start-up table: $(grep 'data:' "$WORK/small.log")"
mpi 1 train "$WORK/cfg.yaml" --set train.max_steps=5 --set data.memory_budget_mb=100 --run-dir "$WORK/auto" >"$WORK/auto.log"
grep -q "data: stream mode (auto: shard > budget" "$WORK/auto.log" && pass "auto streams a 180 MB shard with a 100 MB budget" \
  || fail "auto did not pick stream: $(grep 'data:' "$WORK/auto.log")"
grep -q "data: memory mode (auto: shard fits budget" "$WORK/mem.log" && fail "data.mode=memory reported as auto" || true
for m in memory stream memory-b; do
  mpi 1 train "$WORK/cfg.yaml" --set train.max_steps=60 --set data.augment=flip,shift:2 --set data.mode=${m%-b} \
    --set data.shuffle_buffer_chunks=100 --run-dir "$WORK/aug-$m" >/dev/null
done
mpi 1 train "$WORK/cfg.yaml" --set train.max_steps=60 --run-dir "$WORK/noaug" >/dev/null
if h5diff "$WORK/aug-memory/checkpoints/ckpt-60.h5" "$WORK/aug-memory-b/checkpoints/ckpt-60.h5" /model >/dev/null \
  && h5diff "$WORK/aug-memory/checkpoints/ckpt-60.h5" "$WORK/aug-stream/checkpoints/ckpt-60.h5" /model >/dev/null; then
  pass "augmented runs are reproducible (memory twice, stream with a whole-shard buffer: same weights)"
else fail "augmented runs differ between repeats or modes"; fi
if h5diff -q "$WORK/aug-memory/checkpoints/ckpt-60.h5" "$WORK/noaug/checkpoints/ckpt-60.h5" /model >/dev/null; then
  fail "data.augment=flip,shift:2 did not change the weights"
else pass "data.augment=flip,shift:2 changes the weights"; fi
w=$(last_epoch_field "$WORK/small/metrics.jsonl" data_wait_s)
ge "$w" 0 && pass "epoch records carry data_wait_s ($w s)" || fail "data_wait_s missing or negative: $w"
finish
