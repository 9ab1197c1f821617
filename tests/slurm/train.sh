# jobs/train.sbatch on a local SLURM cluster: 2 ranks x 1 thread, config and
# --set override passed as job arguments; the run directory is
# runs/<experiment>/<job id> with config, metrics, log and checkpoint, the
# effective config shows the override, and the accuracy is sane. The same
# run launched with mpirun inside an allocation works too.
. "$(dirname "$0")/lib.sh"
fashion_data
slurm_start
small_config "$WORK/small.yaml" 1000
# max_steps from the file is overridden to 300 on the command line.
id=$(submit --ntasks=2 --cpus-per-task=1 -o "$WORK/train-%j.out" "$JOBS/train.sbatch" "$WORK/small.yaml" --set train.max_steps=300)
wait_jobs 240 "$id"
cat "$WORK/train-$id.out"
run=$WORK/runs/small/$id
check_run "$run" 300 0.75
grep -q "max_steps: 300" "$run/config.yaml" && pass "effective config has the --set override" || fail "config.yaml lacks max_steps: 300"
grep -q "2 ranks x 1 thread" "$run/log.txt" && pass "log shows 2 ranks x 1 thread" || fail "log.txt does not show 2 ranks x 1 thread: $(head -3 "$run/log.txt")"
# The other launcher: mpirun inside the allocation reads the 2 slots from Slurm.
id3=$(submit --ntasks=2 -o "$WORK/mpirun-%j.out" --wrap "mpirun $HYTRAIN train $WORK/small.yaml --set train.max_steps=300 --set run.name=viampirun")
wait_jobs 240 "$id3"
check_run "$WORK/runs/viampirun/$id3" 300 0.75
grep -q "2 ranks x 1 thread" "$WORK/runs/viampirun/$id3/log.txt" && pass "mpirun in the allocation started 2 ranks" \
  || fail "mpirun job log: $(head -3 "$WORK/runs/viampirun/$id3/log.txt")"
# A job without a config fails with the script's usage line.
id2=$(submit -o "$WORK/bad-%j.out" "$JOBS/train.sbatch")
wait_ended 60 "$id2"
st=$(job_state "$id2")
[ "$st" = FAILED ] && grep -q "usage: sbatch jobs/train.sbatch" "$WORK/bad-$id2.out" \
  && pass "train.sbatch without CONFIG fails with its usage line" || fail "train.sbatch without CONFIG: state $st, output $(cat "$WORK/bad-$id2.out")"
finish
