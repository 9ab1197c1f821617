# jobs/sweep-array.sbatch: a 4-trial grid as a SLURM array (one trial per
# task, 1 rank x 1 thread), gathered by a dependent `--collect` job, gives the
# same results.csv as `hytrain sweep` under mpirun with 2 groups of 1 rank.
. "$(dirname "$0")/lib.sh"
fashion_data
slurm_start
cd "$WORK"
cp "$HT_SOURCE_DIR/tests/data/sweep/base.yaml" "$HT_SOURCE_DIR/tests/data/sweep/grid.yaml" .
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
