# hytrain inspect and hytrain predict on checkpoints of sparse models
# (docs/sparse.md, "Inspecting and predicting"), and hytrain eval on them:
#   - inspect shows the sparse model (type, features, classes, engine, step,
#     epoch, weights shape) and verifies the weights' checksum;
#   - predict on the CSR test file: classes exactly and probabilities / scores
#     / values within 1e-6 of a NumPy reference computed from the checkpoint's
#     weights, for logistic, softmax (10 classes), svm and linear; 2 ranks
#     write the same file as 1; .csv has the same rows;
#   - the same rows as LIBSVM text and as a dense HDF5 file give the same
#     predictions;
#   - errors: a dense file, a CSR file or a LIBSVM line with the wrong feature
#     count each give one line naming the file, and leave no output file.
. "$(dirname "$0")/lib.sh"
D=$WORK/data
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 3000 --features 3000 --nnz 20 --out "$D/bin" >/dev/null
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 3000 --features 3000 --nnz 20 --classes 10 --out "$D/k10" >/dev/null
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 3000 --features 3000 --nnz 20 --classes 0 --out "$D/reg" >/dev/null
$PY "$HT_SOURCE_DIR/scripts/make-sparse-data" --rows 500 --features 2000 --nnz 20 --out "$D/narrow" >/dev/null
CFG=$HT_SOURCE_DIR/configs/sparse_logreg_hogwild.yaml
export OMP_NUM_THREADS=1
train() { # NAME DATA TYPE
  "$HYTRAIN" train "$CFG" --set data.train="$D/$2/train.h5" --set data.test="$D/$2/test.h5" --set model.type="$3" \
    --set train.engine=serial --set train.epochs=2 --set optimizer.lr=0.5 --run-dir "$WORK/$1" >"$WORK/$1.out" 2>&1 ||
    fail "$1: training failed: $(tail -c 600 "$WORK/$1.out")"
}
train log bin logistic
train k10 k10 softmax
train svm bin svm
train lin reg linear
CK=$WORK/log/checkpoints/ckpt-6000.h5   # 2 epochs x 3000 rows

out=$("$HYTRAIN" inspect "$CK" 2>&1) || fail "inspect failed: $out"
for want in "type +logistic" "num_features +3000" "num_classes +2" "engine +serial" "step +6000" "epoch +2" \
  "weights +3001 \(\[3000 \+ 1, 1\]" "/sparse/weights +float32 +\[3001, 1\] +fletcher32 ok" "verified: every dataset passed"; do
  echo "$out" | grep -Eq "$want" && pass "inspect: /$want/" || fail "inspect lacks /$want/: $out"
done
"$HYTRAIN" inspect "$WORK/k10/checkpoints/ckpt-6000.h5" | grep -Eq "weights +30010 \(\[3000 \+ 1, 10\]" &&
  pass "inspect softmax: [3000 + 1, 10] weights" || fail "inspect softmax"

# NumPy reference: z = x . w[:D] + w[D] from the checkpoint, outputs as docs/sparse.md says.
check() { # NAME CKPT DATA PRED
  $PY - "$2" "$3" "$4" <<'PY' && pass "$1: predictions match the NumPy reference" || fail "$1: predictions differ from the NumPy reference"
import sys, h5py, numpy as np
ck, data, pred = h5py.File(sys.argv[1]), h5py.File(sys.argv[2]), h5py.File(sys.argv[3])
w = ck["sparse/weights"][:].astype(np.float64); typ = ck["sparse"].attrs["type"]
typ = typ.decode() if isinstance(typ, bytes) else typ
ip, ix, v = data["csr/indptr"][:], data["csr/indices"][:], data["csr/values"][:].astype(np.float64)
d = w.shape[0] - 1
z = np.stack([v[ip[i]:ip[i+1]] @ w[ix[ip[i]:ip[i+1]]] for i in range(len(ip) - 1)]) + w[d]
if typ == "logistic":
    p = 1 / (1 + np.exp(-z[:, 0])); ref = np.stack([1 - p, p], 1); cls = (z[:, 0] > 0).astype(int); got = pred["probabilities"][:]
elif typ == "softmax":
    e = np.exp(z - z.max(1, keepdims=True)); ref = e / e.sum(1, keepdims=True); cls = z.argmax(1); got = pred["probabilities"][:]
elif typ == "svm":
    ref = z; cls = (z[:, 0] > 0).astype(int); got = pred["scores"][:]
else:
    ref = z; cls = None; got = pred["predictions"][:]
ok = got.shape == ref.shape and np.abs(got - ref).max() <= 1e-6 * max(1, np.abs(ref).max())
# A class may flip only where z is within rounding of the boundary.
if cls is not None:
    bad = pred["classes"][:] != cls
    ok = ok and (not bad.any() or np.abs(z[bad, 0]).max() < 1e-5)
print(typ, got.shape, "max |diff|", np.abs(got - ref).max())
sys.exit(0 if ok else 1)
PY
}
"$HYTRAIN" predict "$CK" --out "$WORK/log.h5" >/dev/null 2>"$WORK/err.txt" || fail "predict logistic: $(cat "$WORK/err.txt")"
check logistic "$CK" "$D/bin/test.h5" "$WORK/log.h5"
for m in k10 svm lin; do
  c=$WORK/$m/checkpoints/ckpt-6000.h5
  "$HYTRAIN" predict "$c" --out "$WORK/$m.h5" >/dev/null 2>"$WORK/err.txt" || fail "predict $m: $(cat "$WORK/err.txt")"
  data=$(h5dump -a /data_test "$c" 2>/dev/null | sed -n 's/.*"\(.*test.h5\)".*/\1/p' | head -1)
  check "$m" "$c" "$data" "$WORK/$m.h5"
done
mpi 2 predict "$CK" --out "$WORK/log2.h5" >/dev/null 2>"$WORK/err.txt" || fail "predict at 2 ranks: $(cat "$WORK/err.txt")"
h5diff "$WORK/log.h5" "$WORK/log2.h5" /probabilities && h5diff "$WORK/log.h5" "$WORK/log2.h5" /classes &&
  pass "2 ranks write the same predictions as 1" || fail "2-rank predictions differ"
"$HYTRAIN" predict "$CK" --out "$WORK/log.csv" >/dev/null || fail "predict .csv"
[ "$(head -1 "$WORK/log.csv")" = "class,p0,p1" ] && [ "$(wc -l <"$WORK/log.csv")" -eq 301 ] &&
  pass "csv: header class,p0,p1 and 300 rows" || fail "csv: $(head -2 "$WORK/log.csv"), $(wc -l <"$WORK/log.csv") lines"

# The same rows as LIBSVM text (1-based) and as a dense HDF5 file.
$PY - "$D/bin/test.h5" "$WORK/test.svm" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1]); ip, ix, v, y = f["csr/indptr"][:], f["csr/indices"][:], f["csr/values"][:], f["labels"][:]
with open(sys.argv[2], "w") as o:
    o.write("# the CSR test rows as LIBSVM text\n")
    for i in range(len(y)):
        o.write("%d %s\n" % (y[i], " ".join("%d:%r" % (ix[k] + 1, float(v[k])) for k in range(ip[i], ip[i + 1]))))
PY
"$HYTRAIN" predict "$CK" --data "$WORK/test.svm" --out "$WORK/svmtext.h5" >/dev/null 2>"$WORK/err.txt" || fail "predict LIBSVM: $(cat "$WORK/err.txt")"
h5diff "$WORK/log.h5" "$WORK/svmtext.h5" /probabilities && pass "LIBSVM text input: the same predictions" || fail "LIBSVM predictions differ"
"$HYTRAIN" convert libsvm "$WORK/test.svm" "$WORK/dense.h5" --format dense --dims 3000 >/dev/null
"$HYTRAIN" predict "$CK" --data "$WORK/dense.h5" --out "$WORK/densep.h5" >/dev/null 2>"$WORK/err.txt" || fail "predict dense: $(cat "$WORK/err.txt")"
h5diff "$WORK/log.h5" "$WORK/densep.h5" /probabilities && pass "dense HDF5 input: the same predictions" || fail "dense predictions differ"

# Errors: one line naming the file; no output left.
"$HYTRAIN" convert libsvm "$WORK/test.svm" "$WORK/wide.h5" --format dense --dims 3100 >/dev/null
expect_error "dense input, wrong features" 2 "^hytrain predict: error: $WORK/wide.h5: a dense file of 3100 features per row, but the sparse model $CK has 3000\$" \
  "$HYTRAIN" predict "$CK" --data "$WORK/wide.h5" --out "$WORK/bad1.h5"
expect_error "CSR input, wrong features" 2 "^hytrain predict: error: $D/narrow/test.h5: 2000 features per row, but the sparse model $CK has 3000\$" \
  "$HYTRAIN" predict "$CK" --data "$D/narrow/test.h5" --out "$WORK/bad2.h5"
printf '1 1:0.5 2:1\n0 3:0.25 3001:1\n' >"$WORK/bad.svm"
expect_error "LIBSVM input, index beyond the model" 2 "^hytrain predict: error: $WORK/bad.svm:2: index 3001 is greater than --dims 3000 \(the sparse model $CK has 3000 features\)\$" \
  "$HYTRAIN" predict "$CK" --data "$WORK/bad.svm" --out "$WORK/bad3.h5"
[ "$(grep -c error "$WORK/err.txt")" -eq 1 ] && pass "one error line" || fail "error lines: $(cat "$WORK/err.txt")"
ls "$WORK"/bad[123].h5* >/dev/null 2>&1 && fail "an output file was left behind" || pass "no output left behind"

# eval on the sparse checkpoint: the run's last test loss.
got=$("$HYTRAIN" eval "$CK" | sed -n 's/.*loss \([0-9.]*\).*/\1/p')
want=$(last_epoch_field "$WORK/log/metrics.jsonl" test_loss)
$PY -c 'import sys; sys.exit(0 if abs(float(sys.argv[1])-float(sys.argv[2])) < 1e-5 else 1)' "$got" "$want" &&
  pass "eval: loss $got = the run's last test loss" || fail "eval: $got vs $want"
finish
