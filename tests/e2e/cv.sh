# hytrain cv: 4-fold cross-validation of a softmax model on Fashion-MNIST's
# 60000 training rows, 4 ranks in groups of 2. Each fold is evaluated on
# exactly its 15000 rows (accuracy x 15000 is a whole number of samples, up
# to the 9 digits of results.csv),
# results.csv has folds 0..3, summary.yaml holds their mean and std, and the
# fold keys are validated.
. "$(dirname "$0")/lib.sh"
fashion_data
cd "$WORK"
cat >cfg.yaml <<YAML
model: {type: softmax}
train: {epochs: 1, max_steps: 60, batch_size: 100, seed: 3, log_every: 1000, eval_batch_size: 1000}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
YAML
mpi 4 cv cfg.yaml --folds 4 --group-size 2 --out cvout >cv.log 2>&1 || { cat cv.log; fail "hytrain cv failed"; }
grep -E '^cv: ' cv.log || fail "no cv summary line: $(tail -3 cv.log)"
$PY - cvout <<'PY' && pass "4 folds, each evaluated on its 15000 rows; summary mean/std match the rows" || fail "cv results wrong: $(cat cvout/results.csv cvout/summary.yaml)"
import csv, sys, math
out = sys.argv[1]
rows = list(csv.DictReader(open(out + "/results.csv")))
assert [r["data.fold"] for r in rows] == ["0", "1", "2", "3"], rows
accs = [float(r["test_accuracy"]) for r in rows]
assert all(r["status"] == "done" and r["steps"] == "60" for r in rows), rows
for a in accs:
    assert abs(a * 15000 - round(a * 15000)) < 1e-4 and 0.5 < a < 1, a
s = dict(l.split(": ") for l in open(out + "/summary.yaml").read().split("\n") if l)
mean = sum(accs) / 4
std = math.sqrt(sum((a - mean) ** 2 for a in accs) / 4)
assert s["folds"] == "4" and s["done"] == "4" and s["metric"] == "test_accuracy", s
assert abs(float(s["mean"]) - mean) < 1e-9 and abs(float(s["std"]) - std) < 1e-7, (s, mean, std)
PY
for k in 0 1 2 3; do
  grep -q "^  folds: 4" "cvout/trial-000$k/config.yaml" && grep -q "^  fold: $k" "cvout/trial-000$k/config.yaml" \
    && pass "fold $k config has data.folds 4, data.fold $k" || fail "fold $k config: $(grep -A8 '^data:' "cvout/trial-000$k/config.yaml")"
done
expect_error "folds with a test file" 2 "data.test: must be empty with data.folds" mpi 1 train cfg.yaml --set data.folds=3
expect_error "fold out of range" 2 "data.fold: 3 is not a fold of data.folds 3" mpi 1 train cfg.yaml --set data.folds=3 --set data.fold=3 --set data.test=
expect_error "one fold" 2 "data.folds=1: 1 fold leaves nothing to train on" mpi 1 train cfg.yaml --set data.folds=1 --set data.test=
expect_error "cv without --folds" 2 "missing --folds K" mpi 1 cv cfg.yaml
finish
