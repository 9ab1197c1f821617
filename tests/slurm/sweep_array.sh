# jobs/sweep-array.sbatch: a 4-trial grid as a SLURM array (one trial per
# task, 1 rank x 1 thread), gathered by a dependent `--collect` job, gives the
# same results.csv as `hytrain sweep` under mpirun with 2 groups of 1 rank.
. "$(dirname "$0")/lib.sh"
fashion_data
slurm_start
cd "$WORK"
cat >base.yaml <<YAML
model: {type: softmax}
train: {epochs: 1, max_steps: 40, batch_size: 50, seed: 3, log_every: 1000}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
YAML
cat >grid.yaml <<YAML
config: base.yaml
method: grid
params:
  optimizer.lr: [0.01, 0.1]
  optimizer.momentum: [0.0, 0.9]
YAML
n=$("$HYTRAIN" sweep grid.yaml --list | wc -l)
arr=$(submit --array=0-$((n - 1)) --cpus-per-task=1 -o "$WORK/sweep-%A_%a.out" "$JOBS/sweep-array.sbatch" "$WORK/grid.yaml" --out "$WORK/arr")
col=$(submit --dependency=afterany:"$arr" -o "$WORK/collect-%j.out" --wrap "$HYTRAIN sweep $WORK/grid.yaml --collect --out $WORK/arr")
wait_jobs 300 "$arr" "$col"
cat "$WORK/collect-$col.out"
mpi 2 sweep "$WORK/grid.yaml" --group-size 1 --out "$WORK/mpi" >/dev/null
cmp -s arr/results.csv mpi/results.csv && pass "array results.csv == mpirun sweep results.csv ($n trials)" \
  || fail "array results differ: $(diff arr/results.csv mpi/results.csv 2>&1)"
cmp -s arr/best.yaml mpi/best.yaml && pass "array best.yaml == mpirun best.yaml" || fail "best.yaml differs"
for t in $(seq 0 $((n - 1))); do
  check_run "arr/trial-000$t" 40 0.5
done
finish
