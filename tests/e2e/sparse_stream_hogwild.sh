# data.mode stream with the hogwild engine, 2 ranks x 2 threads (also run by
# the TSan suite, tests/sanitizers/subset.cmake): the workers split each
# chunk's rows, the ranks average at every chunk's end and every
# hogwild.average_every updates; the run finishes with the weights identical
# on both ranks, rows_read 4000 per epoch, and a test loss within 3 % of the
# serial engine's in memory mode (the tolerance of mpi.hogwild for memory mode).
. "$(dirname "$0")/lib.sh"
D=$WORK/data
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 4000 --features 3000 --nnz 20 --out "$D" >/dev/null
CFG=$HT_SOURCE_DIR/configs/sparse_logreg_hogwild.yaml
SETS=(--set data.train="$D/train.h5" --set data.test="$D/test.h5" --set train.epochs=3)
OMP_NUM_THREADS=1 "$HYTRAIN" train "$CFG" "${SETS[@]}" --set train.engine=serial --set optimizer.lr=0.5 --run-dir "$WORK/ser" >"$WORK/ser.out" 2>&1 ||
  fail "serial run failed: $(tail -c 600 "$WORK/ser.out")"
OMP_NUM_THREADS=2 mpi 2 train "$CFG" "${SETS[@]}" --set hogwild.average_every=500 --set data.mode=stream --set data.chunk_rows=250 \
  --set data.shuffle_buffer_chunks=2 --run-dir "$WORK/hw" >"$WORK/hw.out" 2>&1 || fail "hogwild stream run failed: $(tail -c 800 "$WORK/hw.out")"
grep -q "weights identical on all 2 ranks" "$WORK/hw/log.txt" && pass "weights identical on both ranks" || fail "no identical-weights line"
grep -q "2 threads x 2 ranks" "$WORK/hw.out" && pass "2 threads x 2 ranks" || fail "not 2 threads x 2 ranks: $(grep training "$WORK/hw.out")"
rr=$($PY -c 'import json,sys
print(sorted({json.loads(l).get("rows_read") for l in open(sys.argv[1]) if "\"epoch\"" in l}))' "$WORK/hw/metrics.jsonl")
[ "$rr" = "[4000]" ] && pass "rows_read 4000 in every epoch" || fail "rows_read: $rr"
ls=$(last_epoch_field "$WORK/ser/metrics.jsonl" test_loss)
lh=$(last_epoch_field "$WORK/hw/metrics.jsonl" test_loss)
$PY -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b) <= 0.03*b else 1)' "$lh" "$ls" &&
  pass "hogwild stream test loss $lh within 3 % of serial memory mode's $ls" || fail "hogwild stream test loss $lh vs serial $ls"
finish
