# Every class of bad input ends the whole job (2 MPI ranks) with one clear
# line naming the input, the documented exit code, and no output left behind.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
$PY "$HT_SOURCE_DIR/tests/e2e/make_bad_data.py" "$WORK"
base='model: {type: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 16, log_every: 5}
run: {root: runs}'
cfg() { printf '%s\ndata: {train: %s, test: %s}\n%s\n' "$base" "$1" "$2" "${3:-}" >"$WORK/c.yaml"; }

# Config problems.
expect_error "missing config" 2 "nope\.yaml: cannot open" mpi 2 train nope.yaml
printf 'train:\n  epochs: 3\n   batch_size: 4\n' >bad.yaml
expect_error "malformed YAML" 2 "bad\.yaml:[0-9]+:[0-9]+: invalid YAML" mpi 2 train bad.yaml
printf 'train:\n  epoch: 3\n' >unk.yaml
expect_error "unknown key" 2 "unk\.yaml:2:3: unknown key 'train\.epoch'" mpi 2 train unk.yaml
printf 'train:\n  batch_size: lots\n' >type.yaml
expect_error "wrong type" 2 "type\.yaml:2:15: train\.batch_size: expected an integer" mpi 2 train type.yaml
cfg good.h5 good.h5
expect_error "bad --set" 2 "\-\-set train\.epochs=abc" mpi 2 train c.yaml --set train.epochs=abc
expect_error "bad enum" 2 "optimizer\.name=adam: expected one of sgd\|adamw" mpi 2 train c.yaml --set optimizer.name=adam
expect_error "usage" 2 "missing CONFIG" mpi 2 train

# Data problems.
cfg missing.h5 good.h5
expect_error "missing dataset" 2 "missing\.h5" mpi 2 train c.yaml
cfg not_hdf5.h5 good.h5
expect_error "not HDF5" 2 "not_hdf5\.h5: .*HDF5" mpi 2 train c.yaml
cfg no_labels.h5 good.h5
expect_error "missing labels" 2 "no_labels\.h5: .*labels" mpi 2 train c.yaml
cfg good.h5 wide.h5
expect_error "width mismatch" 2 "wide\.h5: 7 features per row, but the training data .*good\.h5 has 6" mpi 2 train c.yaml
cfg label_range.h5 good.h5
expect_error "label out of range" 2 "label_range\.h5: row 137: label 3 out of range \[0, 3\)" mpi 2 train c.yaml
cfg nan.h5 good.h5
expect_error "NaN feature" 2 "nan\.h5: row 151, column 4: feature is NaN" mpi 2 train c.yaml
cfg inf.h5 good.h5
expect_error "inf feature" 2 "inf\.h5: row 20, column 1: feature is inf" mpi 2 train c.yaml
cfg good.h5 good.h5
expect_error "batch larger than shard" 2 "train\.batch_size: 500 rows per rank" mpi 2 train c.yaml --set train.batch_size=500
expect_error "model does not fit data" 2 "logistic" mpi 2 train c.yaml --set model.type=logistic
if [ -e runs ]; then fail "input errors left a run directory: $(find runs | head -5)"; else pass "no run directory left by input errors"; fi
expect_error "diverging loss" 3 "diverged at step [0-9]+.*optimizer\.lr" mpi 2 train c.yaml --set optimizer.lr=1000 --set data.normalize=none --set model.init=he --set train.epochs=50

# Converters: malformed inputs, no output file left.
printf 'garbage' >bad.idx
expect_error "IDX bad magic" 2 "bad\.idx: .*magic" "$HYTRAIN" convert idx bad.idx bad.idx out1.h5
printf '\x00\x00\x08\x03\x00\x00\x00\x05\x00\x00\x00\x1c\x00\x00\x00\x1c\x01\x02' >short.idx
printf '\x00\x00\x08\x01\x00\x00\x00\x05\x00\x01\x02\x03\x04' >lab.idx
expect_error "IDX truncated" 2 "short\.idx: truncated" "$HYTRAIN" convert idx short.idx lab.idx out2.h5
printf 'a,b,label\n1,2,0\n3,4\n' >bad.csv
expect_error "CSV columns" 2 "bad\.csv:3: expected 3 columns, found 2" "$HYTRAIN" convert csv bad.csv out3.h5
printf '1,2,0\n1,x,1\n' >bad2.csv
expect_error "CSV number" 2 "bad2\.csv:2: column 2: expected a number, got 'x'" "$HYTRAIN" convert csv bad2.csv out4.h5 --header no
printf '1 1:0.5 3:1\n0 2:1 abc\n' >bad.svm
expect_error "LIBSVM token" 2 "bad\.svm:2: expected idx:value, got 'abc'" "$HYTRAIN" convert libsvm bad.svm out5.h5
for f in out1.h5 out2.h5 out3.h5 out4.h5 out5.h5; do
  if ls "$f"* >/dev/null 2>&1; then fail "failed conversion left $f"; fi
done
pass "failed conversions left no output files"
finish
