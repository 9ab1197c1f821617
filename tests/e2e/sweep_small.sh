# The sweep queue thread (ht-sweep-queue) on a small synthetic set, quick
# enough for the sanitizer suites: 4 trials on 2 ranks in groups of 1 (rank 0's
# queue thread serves both groups) give the same results.csv, byte for byte,
# as 1 rank running them in turn, and every trial is done.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
small_data "$WORK/train.h5"
cat >base.yaml <<YAML
model: {type: softmax}
train: {epochs: 1, max_steps: 6, batch_size: 16, seed: 3, log_every: 100}
optimizer: {name: sgd, lr: 0.05}
data: {train: train.h5, test: train.h5}
YAML
cat >grid.yaml <<YAML
config: base.yaml
method: grid
params:
  optimizer.lr: [0.01, 0.1]
  optimizer.momentum: [0.0, 0.9]
YAML
mpi 2 sweep grid.yaml --group-size 1 --out p2g1 >p2g1.log 2>&1 || fail "2-rank sweep failed: $(tail -5 p2g1.log)"
mpi 1 sweep grid.yaml --out p1 >p1.log 2>&1 || fail "1-rank sweep failed: $(tail -5 p1.log)"
n=$(grep -c ',done,6,' p2g1/results.csv || true)
[ "$n" = 4 ] && pass "4 trials done with 6 steps" || fail "results.csv: $(cat p2g1/results.csv)"
cmp -s p2g1/results.csv p1/results.csv && pass "2 ranks in groups of 1 == 1 rank (results.csv)" ||
  fail "results differ: $(diff p2g1/results.csv p1/results.csv)"
finish
