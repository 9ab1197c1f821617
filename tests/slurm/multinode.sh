# jobs/train-multinode.sbatch on the one-node local cluster (so --nodes=1):
# with --ntasks-per-node=1 the script must give the single rank all of the
# node's cores as OpenMP threads (SLURM_CPUS_ON_NODE / ranks per node), and
# the run must finish with its files and a sane accuracy.
. "$(dirname "$0")/lib.sh"
fashion_data
slurm_start
cpus=$(sinfo -h -o %c | head -n1)
small_config "$WORK/mn.yaml" 200
id=$(submit --nodes=1 --ntasks-per-node=1 -o "$WORK/mn-%j.out" "$JOBS/train-multinode.sbatch" "$WORK/mn.yaml")
wait_jobs 240 "$id"
cat "$WORK/mn-$id.out"
run=$WORK/runs/mn/$id
check_run "$run" 200 0.70
want="1 rank x $cpus thread"
grep -q "$want" "$run/log.txt" && pass "log shows $want" || fail "log.txt does not show '$want': $(head -3 "$run/log.txt")"
finish
