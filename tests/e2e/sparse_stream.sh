# data.mode stream for the sparse engines (docs/sparse.md, "Stream mode"), on
# a small planted problem (4000 rows), serial engine:
#   - a shuffle window holding the whole shard visits memory mode's order, so
#     with model.l2 0 the final weights are byte-identical to memory mode's;
#     with l2 > 0 they differ by rounding only (the lazy L2 catch-up runs at
#     each chunk's end instead of the epoch's): max |diff| <= 1e-5 x max |w|;
#   - small windows (2 chunks of 250 rows) shuffle differently: the test loss
#     is within 2 % of memory mode's;
#   - every epoch record says data_mode stream and rows_read 4000 (every row
#     read once per epoch); the timeline has the loader's load_read spans;
#   - stopped after epoch 1 and resumed, the weights are byte-identical to an
#     uninterrupted stream run's;
#   - a loader that cannot fit data.memory_budget_mb stops with one line.
. "$(dirname "$0")/lib.sh"
D=$WORK/data
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 4000 --features 3000 --nnz 20 --out "$D" >/dev/null
CFG=$HT_SOURCE_DIR/configs/sparse_logreg_hogwild.yaml
SER=(--set data.train="$D/train.h5" --set data.test="$D/test.h5" --set train.epochs=3 --set train.engine=serial)
WHOLE=(--set data.mode=stream --set data.chunk_rows=300 --set data.shuffle_buffer_chunks=100)
SMALL=(--set data.mode=stream --set data.chunk_rows=250 --set data.shuffle_buffer_chunks=2)
export OMP_NUM_THREADS=1
run() { # NAME ARGS...: a serial run into $WORK/NAME
  local name=$1; shift
  "$HYTRAIN" train "$CFG" "${SER[@]}" "$@" --run-dir "$WORK/$name" >"$WORK/$name.out" 2>&1 ||
    fail "$name failed: $(tail -c 600 "$WORK/$name.out")"
}
W=/sparse/weights
run mem0 --set model.l2=0
run whole0 --set model.l2=0 "${WHOLE[@]}" --timeline "$WORK/whole0.json"
grep -q "data: stream mode (data.mode; .*chunks of 300 rows, shuffle windows of 100 chunks (the whole shard: memory mode's order)" "$WORK/whole0.out" &&
  pass "start-up line names stream mode" || fail "no stream start-up line: $(grep 'data:' "$WORK/whole0.out")"
h5diff "$WORK/mem0/checkpoints/ckpt-12000.h5" "$WORK/whole0/checkpoints/ckpt-12000.h5" $W &&
  pass "l2 0, whole-shard window: stream weights identical to memory mode's" || fail "stream and memory weights differ (l2 0)"

run mem
run whole "${WHOLE[@]}"
$PY - "$WORK/mem/checkpoints/ckpt-12000.h5" "$WORK/whole/checkpoints/ckpt-12000.h5" <<'PY' && pass "l2 > 0: weights agree to 1e-5 relative" || fail "l2 > 0: weights differ beyond rounding"
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1])["sparse/weights"][:]; b = h5py.File(sys.argv[2])["sparse/weights"][:]
d = np.abs(a - b).max(); print("max |diff|", d, "max |w|", np.abs(a).max())
sys.exit(0 if 0 < np.abs(a).max() and d <= 1e-5 * np.abs(a).max() else 1)
PY

run small "${SMALL[@]}"
lm=$(last_epoch_field "$WORK/mem/metrics.jsonl" test_loss)
ls=$(last_epoch_field "$WORK/small/metrics.jsonl" test_loss)
$PY -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b) <= 0.02*b else 1)' "$ls" "$lm" &&
  pass "small windows: test loss $ls within 2 % of memory mode's $lm" || fail "small windows: test loss $ls vs memory $lm"
bad=$($PY -c 'import json,sys
recs=[json.loads(l) for l in open(sys.argv[1]) if "\"epoch\"" in l]
print(sum(1 for r in recs if r.get("data_mode")!="stream" or r.get("rows_read")!=4000), len(recs))' "$WORK/small/metrics.jsonl")
[ "$bad" = "0 3" ] && pass "3 epoch records, each with data_mode stream and rows_read 4000" || fail "epoch records: $bad (bad, total)"
n=$($PY -c 'import json,sys
t=json.load(open(sys.argv[1])); ev=t["traceEvents"] if isinstance(t,dict) else t
names={e["args"]["name"] for e in ev if e.get("name")=="thread_name"}
print(len([e for e in ev if e.get("name")=="load_read"]), "loader" in names)' "$WORK/whole0.json")
case "$n" in [1-9]*" True") pass "timeline: loader track with load_read spans ($n)" ;; *) fail "timeline: $n" ;; esac

# Resume in stream mode, bit-identical for serial.
rc=0
"$HYTRAIN" train "$CFG" "${SER[@]}" "${SMALL[@]}" --run-dir "$WORK/cut" --stop-at-step 4000 >/dev/null 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 75 ] && pass "stopped with exit 75" || fail "stop: exit $rc: $(tail -c 400 "$WORK/err.txt")"
"$HYTRAIN" train "$CFG" "${SER[@]}" "${SMALL[@]}" --run-dir "$WORK/cut" --resume auto >"$WORK/res.out" 2>&1 ||
  fail "resume failed: $(tail -c 400 "$WORK/res.out")"
grep -q "resumed from .*ckpt-4000.h5 after epoch 1" "$WORK/res.out" && pass "resumed after epoch 1" || fail "no resume line"
h5diff "$WORK/small/checkpoints/ckpt-12000.h5" "$WORK/cut/checkpoints/ckpt-12000.h5" $W &&
  pass "resumed stream weights identical to the uninterrupted stream run" || fail "resumed stream weights differ"

expect_error "loader over budget" 2 "data.memory_budget_mb: stream mode needs about [0-9]+ MB on rank 0 .*lower data.shuffle_buffer_chunks" \
  "$HYTRAIN" train "$CFG" "${SER[@]}" --set data.mode=stream --set data.chunk_rows=100000 --set data.memory_budget_mb=1
finish
