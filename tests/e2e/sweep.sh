# hytrain sweep: a 2x2 grid (4 trials) run with P=4 ranks in groups of G=2
# gives the same results.csv, byte for byte, as P=2 in one group of 2, and
# P=4 in groups of 1 the same as P=1 (each trial trains on the same number of
# ranks, so dynamic assignment must not change any trial). best.yaml is the
# config of the trial with the highest test accuracy; --list shows the trial
# definitions that results.csv records; --trial/--collect (SLURM array mode)
# reproduce the same rows; a random sweep draws the same trials every time,
# inside its ranges.
. "$(dirname "$0")/lib.sh"
fashion_data
cd "$WORK"
cp "$HT_SOURCE_DIR/tests/data/sweep/base.yaml" "$HT_SOURCE_DIR/tests/data/sweep/grid.yaml" .
sweep() { local np=$1; shift; mpi "$np" sweep grid.yaml "$@" >"$WORK/sweep-$np-$RANDOM.log" 2>&1; }
sweep 4 --group-size 2 --out p4g2
sweep 2 --group-size 2 --out p2g2
sweep 4 --group-size 1 --out p4g1
sweep 1 --out p1
n=$(($(wc -l <p4g2/results.csv) - 1))
[ "$n" = 4 ] && pass "results.csv has 4 trials" || fail "results.csv has $n rows: $(cat p4g2/results.csv)"
cmp -s p4g2/results.csv p2g2/results.csv && pass "P=4 G=2 results.csv == P=2 G=2" || fail "P=4 G=2 differs from P=2 G=2: $(diff p4g2/results.csv p2g2/results.csv)"
cmp -s p4g1/results.csv p1/results.csv && pass "P=4 G=1 results.csv == P=1" || fail "P=4 G=1 differs from P=1: $(diff p4g1/results.csv p1/results.csv)"
grep -c ',done,40,' p4g2/results.csv | grep -qx 4 && pass "all 4 trials done with 40 steps" || fail "not all trials done: $(cat p4g2/results.csv)"
# Each trial's test accuracy equals its own run directory's last epoch record.
for t in 0 1 2 3; do
  acc=$(last_epoch_field "p4g2/trial-000$t/metrics.jsonl" test_accuracy)
  row=$(sed -n "$((t + 2))p" p4g2/results.csv)
  $PY -c 'import sys; a=float(sys.argv[1]); b=float(sys.argv[2].split(",")[6]); sys.exit(0 if abs(a-b)<1e-9 else 1)' "$acc" "$row" \
    && pass "trial $t row matches its metrics.jsonl ($acc)" || fail "trial $t: row '$row' vs metrics $acc"
done
best=$($PY -c 'import csv,sys
rows=list(csv.DictReader(open(sys.argv[1])))
b=max(rows,key=lambda r:(float(r["test_accuracy"]),-int(r["trial"])))
print(b["trial"])' p4g2/results.csv)
cmp -s p4g2/best.yaml "p4g2/trial-000$best/config.yaml" && pass "best.yaml is trial $best's config" || fail "best.yaml is not trial $best's config"
# --list shows the same definitions as the results' columns.
"$HYTRAIN" sweep grid.yaml --list | awk '{gsub(/[a-z._]+=/,""); print $1","$2","$3}' >list.csv
cut -d, -f1-3 p4g2/results.csv | tail -n +2 >rows.csv
cmp -s list.csv rows.csv && pass "--list matches the results' trial definitions" || fail "--list differs: $(diff list.csv rows.csv)"
# Array mode: trials one by one, then --collect.
for t in 3 0 2; do mpi 1 sweep grid.yaml --trial $t --out arr >/dev/null; done
expect_error "collect with trial 1 missing" 2 "1 of 4 trials have no result \(first: trial 1" "$HYTRAIN" sweep grid.yaml --collect --out arr
mpi 1 sweep grid.yaml --trial 1 --out arr >/dev/null
"$HYTRAIN" sweep grid.yaml --collect --out arr >/dev/null
cmp -s arr/results.csv p1/results.csv && pass "--trial x4 + --collect == the P=1 sweep" || fail "array-mode results differ: $(diff arr/results.csv p1/results.csv)"
# Random search: reproducible and inside the ranges.
cat >rand.yaml <<YAML
config: base.yaml
method: random
count: 20
seed: 7
params:
  optimizer.lr: {min: 0.001, max: 0.5, log: true}
  train.batch_size: {min: 16, max: 64, int: true}
  optimizer.name: [sgd, adamw]
YAML
"$HYTRAIN" sweep rand.yaml --list >r1.txt
"$HYTRAIN" sweep rand.yaml --list >r2.txt
cmp -s r1.txt r2.txt && pass "random trials are reproducible" || fail "random --list differs between runs"
$PY - r1.txt <<'PY' && pass "random draws are inside their ranges and vary" || fail "random draws out of range: $(cat r1.txt)"
import sys
rows=[dict(kv.split("=") for kv in l.split()[1:]) for l in open(sys.argv[1])]
assert len(rows)==20
lrs=[float(r["optimizer.lr"]) for r in rows]; bs=[int(r["train.batch_size"]) for r in rows]
assert all(0.001<=x<=0.5 for x in lrs) and all(16<=b<=64 for b in bs)
assert len(set(lrs))==20 and len(set(bs))>5 and {r["optimizer.name"] for r in rows}=={"sgd","adamw"}
PY
finish
