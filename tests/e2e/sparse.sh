# The sparse engines end to end (docs/sparse.md), on a small planted problem
# from scripts/make-sparse-data:
#   - configs/sparse_logreg_hogwild.yaml (data paths overridden) runs on 2 ranks
#     x 2 threads: metrics.jsonl has an epoch record per epoch with test
#     loss/accuracy and updates/s, a checkpoint per epoch, a timeline with one
#     track per Hogwild thread, the weights identical on both ranks;
#   - `hytrain eval` on its last checkpoint gives the last test loss;
#   - serial: stopped after epoch 1 (--stop-at-step) and resumed, its final
#     weights are byte-identical to an uninterrupted run's;
#   - softmax (10 classes) and linear (regression) train and beat the zero model;
#   - a dense model on a CSR file, and a sparse engine with data.normalize
#     standard, fail with one clear line.
. "$(dirname "$0")/lib.sh"
D=$WORK/data
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 4000 --features 3000 --nnz 20 --out "$D/bin" >/dev/null
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 4000 --features 3000 --nnz 20 --classes 10 --out "$D/k10" >/dev/null
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 4000 --features 3000 --nnz 20 --classes 0 --out "$D/reg" >/dev/null
CFG=$HT_SOURCE_DIR/configs/sparse_logreg_hogwild.yaml
SETS=(--set data.train="$D/bin/train.h5" --set data.test="$D/bin/test.h5" --set train.epochs=3 --set hogwild.average_every=500)

OMP_NUM_THREADS=2 mpi 2 train "$CFG" "${SETS[@]}" --run-dir "$WORK/hw" --timeline "$WORK/hw.json" >"$WORK/hw.out" 2>&1 ||
  fail "hogwild 2x2 run failed: $(tail -c 800 "$WORK/hw.out")"
n=$(grep -c '"kind": "epoch"' "$WORK/hw/metrics.jsonl" || true)
[ "$n" -eq 3 ] && pass "3 epoch records" || fail "expected 3 epoch records, got $n"
acc=$(last_epoch_field "$WORK/hw/metrics.jsonl" test_accuracy)
ups=$(last_epoch_field "$WORK/hw/metrics.jsonl" updates_per_s)
loss=$(last_epoch_field "$WORK/hw/metrics.jsonl" test_loss)
ge "$acc" 0.7 && pass "test accuracy $acc >= 0.7" || fail "test accuracy $acc < 0.7"
ge "$ups" 1 && pass "updates/s $ups" || fail "no updates/s"
[ "$(cat "$WORK/hw/checkpoints/latest")" = "ckpt-6000.h5" ] && pass "latest is ckpt-6000.h5 (3 x 2000 updates per rank)" ||
  fail "latest: $(cat "$WORK/hw/checkpoints/latest")"
grep -q "weights identical on all 2 ranks" "$WORK/hw/log.txt" && pass "weights identical on both ranks" || fail "no identical-weights line"
tracks=$($PY -c 'import json,sys
t=json.load(open(sys.argv[1]))
ev=t["traceEvents"] if isinstance(t,dict) else t
print(len({(e.get("pid"),e.get("tid")) for e in ev if e.get("name")=="sgd_updates"}))' "$WORK/hw.json")
[ "$tracks" -eq 4 ] && pass "timeline: 4 Hogwild tracks (2 ranks x 2 threads)" || fail "timeline: $tracks Hogwild tracks"

out=$("$HYTRAIN" eval "$WORK/hw/checkpoints/ckpt-6000.h5" 2>&1) || fail "eval failed: $out"
got=$(echo "$out" | sed -n 's/.*loss \([0-9.]*\).*/\1/p')
$PY -c 'import sys; sys.exit(0 if abs(float(sys.argv[1])-float(sys.argv[2])) < 1e-5 else 1)' "$got" "$loss" &&
  pass "eval loss $got = the run's last test loss $loss" || fail "eval: $out (run: $loss)"

# Serial resume, bit-identical.
SER=("${SETS[@]}" --set train.engine=serial)
OMP_NUM_THREADS=1 "$HYTRAIN" train "$CFG" "${SER[@]}" --run-dir "$WORK/full" >/dev/null 2>&1 || fail "serial run failed"
rc=0
OMP_NUM_THREADS=1 "$HYTRAIN" train "$CFG" "${SER[@]}" --run-dir "$WORK/cut" --stop-at-step 4000 >/dev/null 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 75 ] && pass "stopped with exit 75" || fail "stop: exit $rc: $(tail -c 400 "$WORK/err.txt")"
OMP_NUM_THREADS=1 "$HYTRAIN" train "$CFG" "${SER[@]}" --run-dir "$WORK/cut" --resume auto >"$WORK/res.out" 2>&1 || fail "resume failed: $(tail -c 400 "$WORK/res.out")"
grep -q "resumed from .*ckpt-4000.h5 after epoch 1 (step 4000)" "$WORK/res.out" && pass "resumed after epoch 1" || fail "no resume line: $(head -c 600 "$WORK/res.out")"
h5diff "$WORK/full/checkpoints/ckpt-12000.h5" "$WORK/cut/checkpoints/ckpt-12000.h5" /sparse/weights && pass "resumed serial weights identical to the uninterrupted run" || fail "resumed weights differ"

# Multinomial and least squares.
OMP_NUM_THREADS=2 "$HYTRAIN" train "$CFG" --set data.train="$D/k10/train.h5" --set data.test="$D/k10/test.h5" \
  --set model.type=softmax --set train.epochs=3 --set optimizer.lr=0.5 --run-dir "$WORK/k10" >/dev/null 2>&1 || fail "softmax run failed"
l=$(last_epoch_field "$WORK/k10/metrics.jsonl" test_loss)
$PY -c 'import sys,math; sys.exit(0 if float(sys.argv[1]) < 0.9*math.log(10) else 1)' "$l" && pass "softmax test loss $l < 0.9 log 10" ||
  fail "softmax test loss $l"
OMP_NUM_THREADS=2 "$HYTRAIN" train "$CFG" --set data.train="$D/reg/train.h5" --set data.test="$D/reg/test.h5" \
  --set model.type=linear --set model.l2=0 --set train.epochs=3 --set optimizer.lr=0.5 --run-dir "$WORK/reg" >/dev/null 2>&1 || fail "linear run failed"
rmse=$(last_epoch_field "$WORK/reg/metrics.jsonl" test_rmse)
std=$($PY -c 'import h5py,sys; print(h5py.File(sys.argv[1])["labels"][:].std())' "$D/reg/test.h5")
$PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.8*float(sys.argv[2]) else 1)' "$rmse" "$std" &&
  pass "linear test rmse $rmse < 0.8 x target std $std" || fail "linear rmse $rmse, target std $std"

# Errors.
expect_error "dense model on CSR" 2 "is a sparse \(CSR\) dataset" "$HYTRAIN" train "$CFG" --set data.train="$D/bin/train.h5" \
  --set data.test= --set train.engine=sync --set model.type=logistic
expect_error "normalize with a sparse engine" 2 "data.normalize: train.engine hogwild reads sparse rows" "$HYTRAIN" train "$CFG" \
  --set data.train="$D/bin/train.h5" --set data.normalize=standard
finish
