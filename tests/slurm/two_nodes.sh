# jobs/train-multinode.sbatch across two emulated SLURM nodes: one slurmd per
# node, each with its own host name (node1, node2) and its own core
# (scripts/slurm-local with SLURM_LOCAL_NODES=2, inside a mount and network
# namespace of this test's own). sbatch --nodes=2 --ntasks-per-node=1: srun
# must start one rank on each node, hytrain must see two hosts and sum
# hierarchically between them, and the run must finish with its files and a
# sane accuracy. A rank killed on one node must end the job on both
# (--kill-on-bad-exit=1) long before the stall watchdog.
if [ -z "${HT_TWO_NODES_NS:-}" ]; then
  # Outside a namespace of its own, slurm-local must refuse (it would bind-mount
  # over the machine's /etc/hosts) and start nothing.
  d=$(mktemp -d)
  out=$(SLURM_LOCAL_NODES=2 "$(dirname "$0")/../../scripts/slurm-local" start "$d/c" 2>&1) && rc=0 || rc=$?
  "$(dirname "$0")/../../scripts/slurm-local" stop "$d/c" >/dev/null 2>&1 || true
  rm -rf "$d"
  case "$rc:$out" in
    1:*"must start inside a private mount and network namespace"*) echo "ok: outside a namespace, SLURM_LOCAL_NODES=2 is refused: $out" ;;
    *) echo "FAIL: SLURM_LOCAL_NODES=2 outside a namespace gave exit $rc: $out" >&2; exit 1 ;;
  esac
  # Re-run in a private mount + network namespace: the nodes' addresses on
  # lo and the /etc/hosts naming them exist only there.
  unshare -m -n --propagation private true 2>/dev/null || {
    echo "FAIL: cannot create a mount and network namespace (unshare -m -n; needs root): the two-node SLURM cluster cannot run here" >&2
    exit 1
  }
  HT_TWO_NODES_NS=1 exec unshare -m -n --propagation private -- bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
# The nodes' only link is lo, which Open MPI's TCP transport leaves out by
# default; ranks started by srun inherit this through sbatch's environment.
export OMPI_MCA_btl_tcp_if_include=lo
fashion_data
SLURM_LOCAL_NODES=2 slurm_start
[ "$(sinfo -h -N -o %N | sort -u | tr '\n' ' ')" = "node1 node2 " ] && pass "the cluster has nodes node1 and node2" ||
  fail "sinfo lists nodes '$(sinfo -h -N -o %N | tr '\n' ' ')', expected node1 node2"

# start_job NAME UNTIL: submits train-multinode.sbatch NAME.yaml on 2 nodes x
# 1 rank and waits until its output shows UNTIL or the job ends. Open MPI
# 4.1 sometimes crashes in MPI_Init between these emulated nodes (1.0-1.3 %
# of 2-rank starts, docs/multinode.md): a job that ended with a segmentation
# fault before hytrain printed its start-up table is submitted again, at
# most 3 times in all, saying so. Sets ID.
start_job() {
  local name=$1 until=$2 try t out
  for try in 1 2 3; do
    ID=$(submit --nodes=2 --ntasks-per-node=1 -o "$WORK/$name-%j.out" "$JOBS/train-multinode.sbatch" "$WORK/$name.yaml")
    out=$WORK/$name-$ID.out
    for ((t = 0; t < 480; t++)); do
      grep -q "$until" "$out" 2>/dev/null && return 0
      case $(job_state "$ID") in PENDING | RUNNING | CONFIGURING | COMPLETING | "") ;; *) break ;; esac
      sleep 0.5
    done
    grep -q "$until" "$out" 2>/dev/null && return 0
    if grep -q "Segmentation fault" "$out" && ! grep -q "^hytrain: 2 ranks" "$out"; then
      echo "note: job $ID crashed in MPI start-up (try $try of 3): $(grep -m1 'Segmentation fault' "$out")"
      continue
    fi
    return 0 # any other outcome is the test's to judge
  done
}

small_config "$WORK/mn.yaml" 200
start_job mn "^done in"
id=$ID
wait_jobs 240 "$id"
cat "$WORK/mn-$id.out"
run=$WORK/runs/mn/$id
check_run "$run" 200 0.70
log=$run/log.txt
grep -q "2 nodes x 1 ranks x 1 threads" "$WORK/mn-$id.out" && pass "the job script saw 2 nodes x 1 rank" ||
  fail "the job output lacks '2 nodes x 1 ranks x 1 threads'"
for n in 0:node1 1:node2; do
  awk -v r="${n%%:*}" -v h="${n#*:}" '$1 == r && $2 == h {f = 1} END {exit !f}' "$log" &&
    pass "rank ${n%%:*} ran on ${n#*:}" || fail "log.txt does not show rank ${n%%:*} on host ${n#*:}"
done
grep -q "gradient summing: hierarchical, 2 nodes x 1 rank" "$log" && pass "hierarchical summing over 2 nodes" ||
  fail "log.txt lacks 'gradient summing: hierarchical, 2 nodes x 1 rank': $(grep 'gradient summing' "$log")"
c0=$(awk '$1 == "rank" && $2 == "comm" {t = 1; next} t && $1 == 0 {sub("t0:", "", $3); print $3; exit}' "$log")
c1=$(awk '$1 == "rank" && $2 == "comm" {t = 1; next} t && $1 == 1 {sub("t0:", "", $3); print $3; exit}' "$log")
[ -n "$c0" ] && [ "$c0" != "$c1" ] && pass "the two nodes' ranks ran on cores $c0 and $c1" ||
  fail "ranks' thread 0 on cpus '$c0' and '$c1', expected two different cores"

# A rank dying on node2: the whole job must end (FAILED) within seconds, not
# wait for the stall watchdog (comm.stall_timeout_s 120 here).
cat >"$WORK/die.yaml" <<YAML
model: {type: softmax}
train: {epochs: 1000, batch_size: 100, seed: 3, log_every: 50}
optimizer: {name: sgd, lr: 0.05}
data: {train: $WORK/fm/train.h5}
comm: {stall_timeout_s: 120}
YAML
start_job die 'step 50/'
id=$ID
grep -q 'step 50/' "$WORK/die-$id.out" || { fail "job $id did not reach step 50: $(tail -3 "$WORK/die-$id.out")"; finish; }
# The rank on node2 is the hytrain process whose host name (UTS namespace) is node2.
victim=""
for p in $(pgrep -x hytrain); do
  [ "$(nsenter -t "$p" -u hostname 2>/dev/null)" = node2 ] && victim=$p
done
[ -n "$victim" ] && pass "found the rank on node2 (pid $victim)" || fail "no hytrain process with host name node2"
start=$(date +%s)
[ -n "$victim" ] && kill -KILL "$victim"
wait_ended 60 "$id"
took=$(($(date +%s) - start))
state=$(job_state "$id")
[ "$state" = FAILED ] && pass "job $id ended FAILED after the kill" || fail "job $id ended $state, expected FAILED"
[ "$took" -lt 60 ] && pass "the job ended ${took}s after the kill (watchdog 120 s)" || fail "the job took ${took}s to end"
finish
