# Exact resume in stream mode (issue 4 x issue 6): a 2-rank run stopped
# mid-epoch with --stop-at-step and resumed with --resume auto ends with the
# same /model and /optimizer, byte for byte, as an uninterrupted run, with the
# streaming shuffle (pieces of 500 rows, a 3-piece buffer) restored exactly.
. "$(dirname "$0")/lib.sh"
fashion_data
cat >"$WORK/s.yaml" <<YAML
model: {type: mlp, hidden: [32]}
train: {epochs: 2, batch_size: 32, seed: 4, log_every: 10}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/test.h5, mode: stream, chunk_rows: 500, shuffle_buffer_chunks: 3}
checkpoint: {every_steps: 50}
YAML
mpi 2 train "$WORK/s.yaml" --run-dir "$WORK/a" >/dev/null
rc=0; mpi 2 train "$WORK/s.yaml" --run-dir "$WORK/b" --stop-at-step 120 >/dev/null 2>&1 || rc=$?
[ "$rc" = 75 ] && pass "--stop-at-step 120 exits 75" || fail "--stop-at-step exit code $rc, expected 75"
mpi 2 train "$WORK/s.yaml" --run-dir "$WORK/b" --resume auto >"$WORK/b2.log"
grep -q "stream mode" "$WORK/b2.log" && pass "resumed run is in stream mode" || fail "resumed run not in stream mode"
la=$(cat "$WORK/a/checkpoints/latest"); lb=$(cat "$WORK/b/checkpoints/latest")
[ "$la" = "$lb" ] && pass "both end at $la" || fail "ends differ: $la vs $lb"
for g in /model /optimizer; do
  if h5diff "$WORK/a/checkpoints/$la" "$WORK/b/checkpoints/$lb" $g >"$WORK/d.txt"; then pass "$g identical after resume"
  else fail "$g differs after resume: $(head -3 "$WORK/d.txt")"; fi
done
finish
