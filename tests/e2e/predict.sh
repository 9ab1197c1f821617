# hytrain predict: tiny models (mlp classifier, logistic, svm, 2-target linear
# regression) trained on generated data, then predicted at 1 and 2 ranks into
# .h5 and .csv, from a file with /labels and from one with /features alone.
# predict_check.py recomputes every row with the NumPy recipe of
# docs/checkpoint-format.md (classes exactly, probabilities within 1e-6), reads
# the CSV back, and requires the 2-rank file to equal the 1-rank file; a file
# with two rows swapped must fail that check. Bad input: one error line,
# non-zero exit, no output (nor .partial) left.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
CHECK="$HT_SOURCE_DIR/tests/e2e/predict_check.py"
$PY "$CHECK" make "$WORK"
for m in "cls mlp" "bin logistic" "cls svm" "reg linear"; do
  set -- $m
  cat >"$1_$2.yaml" <<YAML
model: {type: $2, hidden: [8]}
train: {epochs: 3, batch_size: 16, seed: 5, log_every: 50}
optimizer: {name: sgd, lr: 0.05}
data: {train: $1_train.h5, test: $1_test.h5}
YAML
  "$HYTRAIN" train "$1_$2.yaml" --run-dir "run_$1_$2" >/dev/null
  ck="run_$1_$2/checkpoints/$(cat "run_$1_$2/checkpoints/latest")"
  # 1 rank on the labelled file, 2 ranks on the features-only file: the
  # 2-rank files must equal the 1-rank ones, so labels change nothing either.
  for run in "1 test" "2 nolabels"; do
    set -- $1 $2 $run
    np=$3 data=$4
    for ext in h5 csv; do
      out="p$np.$1_$2.$data.$ext"
      if mpi $np predict "$ck" --data "$1_$data.h5" --out "$out" >"$out.txt" 2>&1; then
        grep -Eq "^predict .*: 301 rows, forward .* \([0-9]+ rows/s over $np ranks?\).*; wrote $out\$" "$out.txt" \
          && pass "$2 at $np rank(s) on $data -> $out: $(grep -o '([0-9]* rows/s[^)]*)' "$out.txt")" \
          || fail "$2: predict printed: $(head -c 400 "$out.txt")"
      else
        fail "$2: predict --data $1_$data.h5 --out $out at $np rank(s) failed: $(head -c 600 "$out.txt")"
      fi
    done
    # Each file against the recipe, its CSV twin and the 1-rank, labelled run's file.
    if $PY "$CHECK" check "$ck" "$1_test.h5" "p$np.$1_$2.$data.h5" "p$np.$1_$2.$data.csv" "p1.$1_$2.test.h5" \
      >"check.txt" 2>&1; then
      pass "$2 at $np rank(s) on $data: $(grep -E 'within|equal the recipe' check.txt | tr '\n' ';')"
    else
      fail "$2 at $np rank(s) on $data: $(grep -E 'FAIL|Error' check.txt | head -5 | tr '\n' ';')"
    fi
  done
done

# The checks can fail: rows 0 and 151 (the two ranks' first rows) swapped.
cp p2.cls_mlp.nolabels.h5 swapped.h5
$PY -c 'import h5py,sys
f=h5py.File(sys.argv[1],"r+")
for k in ("classes","probabilities"):
    a=f[k][:]; a[[0,151]]=a[[151,0]]; f[k][:]=a' swapped.h5
if $PY "$CHECK" check run_cls_mlp/checkpoints/ckpt-111.h5 cls_test.h5 swapped.h5 p2.cls_mlp.nolabels.csv p1.cls_mlp.test.h5 \
  >check.txt 2>&1; then
  fail "a file with rows 0 and 151 swapped passed the check"
else
  pass "a file with two rows swapped fails: $(grep -c FAIL check.txt) checks"
fi

# Bad input: one error line, non-zero exit, nothing written.
ck=run_cls_mlp/checkpoints/ckpt-111.h5
# expect_error, and the 2 ranks printed one error line between them.
expect_error1() {
  expect_error "$@"
  [ "$(grep -c '^hytrain predict: error:' "$WORK/err.txt")" -eq 1 ] && pass "$1: one error line from 2 ranks" \
    || fail "$1: error lines: $(grep '^hytrain' "$WORK/err.txt" | head -3)"
}
noout() {
  if ls "$1"* >/dev/null 2>&1; then fail "$2 left $(ls "$1"*)"; else pass "$2 left no $1 or $1.partial"; fi
}
expect_error1 "missing checkpoint" 2 "^hytrain predict: error: nope\.h5: cannot open checkpoint" mpi 2 predict nope.h5 --data cls_test.h5 --out e1.h5
noout e1.h5 "missing checkpoint"
expect_error1 "missing data" 2 "^hytrain predict: error: nope\.h5: cannot open: No such file" mpi 2 predict "$ck" --data nope.h5 --out e2.csv
noout e2.csv "missing data"
expect_error1 "wrong feature count" 2 "^hytrain predict: error: wide\.h5: 7 features per row, but the model in .*ckpt-111\.h5 has 6" \
  mpi 2 predict "$ck" --data wide.h5 --out e3.h5
noout e3.h5 "wrong feature count"
expect_error1 "unwritable output (h5)" 2 "^hytrain predict: error: nodir/e4\.h5: cannot create: No such file or directory" \
  mpi 2 predict "$ck" --data cls_test.h5 --out nodir/e4.h5
expect_error1 "unwritable output (csv)" 1 "^hytrain predict: error: cls_test\.h5/e5\.csv.*: Not a directory" \
  mpi 2 predict "$ck" --data cls_test.h5 --out cls_test.h5/e5.csv
expect_error1 "output is the input" 2 "^hytrain predict: error: --out cls_test\.h5 is the input data itself" \
  mpi 2 predict "$ck" --data cls_test.h5 --out cls_test.h5
$PY -c 'import h5py,sys; h5py.File(sys.argv[1],"r")["labels"]' cls_test.h5 && pass "the input is untouched" || fail "cls_test.h5 was damaged"
expect_error1 "unknown extension" 2 "^hytrain predict: error: --out e6\.txt: expected a file name ending in \.h5, \.hdf5 or \.csv" \
  mpi 2 predict "$ck" --data cls_test.h5 --out e6.txt
noout e6.txt "unknown extension"
expect_error1 "missing --out" 2 "^hytrain predict: error: missing --out" mpi 2 predict "$ck" --data cls_test.h5
finish
