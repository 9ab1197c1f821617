# Every combination of comm.transport (shm, mpi), data.mode (memory, stream)
# and checkpoint.async (true, false) for one comm.mode (the argument), on 2
# ranks with a small synthetic data set, so that a sanitizer build
# (scripts/check-sanitizers) runs every thread (main, comm, loader, ckpt
# writer, stall watchdog) in every such combination in seconds. Checks per
# run: exit 0, the checkpoints of steps 4 and 8 exist, the comm record names
# the transport and the start-up table the data mode. Within the mode, runs
# that differ only in checkpoint.async or data.mode (stream with a buffer that
# holds the whole shard) end with bit-identical weights.
# comm.transport auto and data.mode auto resolve to shm and memory here; they
# are the defaults of every other end-to-end test.
. "$(dirname "$0")/lib.sh"
MODE=${1:?usage: mode_matrix.sh sync|overlap|delayed}
small_data "$WORK/train.h5"
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [16]}
train: {epochs: 1, max_steps: 8, batch_size: 16, seed: 5, log_every: 4}
optimizer: {name: adamw, lr: 0.01}
data: {train: $WORK/train.h5, chunk_rows: 32, shuffle_buffer_chunks: 4}
comm: {mode: $MODE, bucket_mb: 0.0005}
checkpoint: {every_steps: 4, keep: 2}
YAML
for transport in shm mpi; do
  for data in memory stream; do
    for async in true false; do
      name=$transport-$data-$async
      if mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/$name" --set comm.transport=$transport \
        --set data.mode=$data --set checkpoint.async=$async >"$WORK/$name.log" 2>&1; then
        pass "$MODE $name: trained"
      else
        fail "$MODE $name: exit code non-zero: $(tail -5 "$WORK/$name.log")"
        continue
      fi
      [ -f "$WORK/$name/checkpoints/ckpt-4.h5" ] && [ -f "$WORK/$name/checkpoints/ckpt-8.h5" ] &&
        pass "$MODE $name: checkpoints 4 and 8 written" || fail "$MODE $name: checkpoints: $(ls "$WORK/$name/checkpoints")"
      grep -q "\"kind\": \"comm\", \"mode\": \"$MODE\", \"transport\": \"$transport\"" "$WORK/$name/metrics.jsonl" &&
        pass "$MODE $name: comm record says $transport" || fail "$MODE $name: comm record: $(grep comm "$WORK/$name/metrics.jsonl")"
      grep -q "^  data: $data mode" "$WORK/$name.log" && pass "$MODE $name: start-up table says $data mode" ||
        fail "$MODE $name: data line: $(grep '^  data:' "$WORK/$name.log")"
    done
  done
done
same() { # A B: the final weights are bit-identical
  if h5diff "$WORK/$1/checkpoints/ckpt-8.h5" "$WORK/$2/checkpoints/ckpt-8.h5" /model >"$WORK/diff.txt" 2>&1; then
    pass "$MODE: $1 and $2 end with the same weights"
  else fail "$MODE: $1 and $2 weights differ: $(head -3 "$WORK/diff.txt")"; fi
}
for transport in shm mpi; do
  same "$transport-memory-true" "$transport-memory-false"
  same "$transport-memory-true" "$transport-stream-true"
  same "$transport-stream-true" "$transport-stream-false"
done
same shm-memory-true mpi-memory-true
finish
