# hytrain across emulated nodes (scripts/emulate-cluster): one CTest entry
# per argument, all labelled `multinode`.
#   train  2 nodes x 2 ranks: the start-up table names hierarchical summing
#          and the node layout; two runs give identical checkpoints (/model,
#          /optimizer byte for byte); a run stopped at step 12 and resumed on
#          2 x 2 ends identical to the uninterrupted one; the same checkpoint
#          resumes elastically on 1 node x 2 ranks and converges; with
#          comm.dtype bf16 the table says so and training converges.
#   stall  2 x 2, the rank with local index 1 of node 2 (rank 3) frozen with
#          SIGSTOP: the watchdog warns naming a bucket and a rank, then ends
#          the whole job with an error and a non-zero exit code.
#   lost   2 x 2, rank 3 killed (SIGKILL): the job ends promptly, non-zero,
#          and the message names the lost rank and its node.
# The namespaces need root; without them the test fails saying so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
WHAT=${1:?usage: multinode.sh train|stall|lost}
CLUSTER=$HT_SOURCE_DIR/scripts/emulate-cluster
cluster() { EMU_TIMEOUT=${EMU_TIMEOUT:-240} "$CLUSTER" "$@"; }

# The emulated cluster must come up: a namespace problem is a failure with
# the script's own message, never a skip.
if ! out=$(cluster 2 1 /bin/true 2>&1); then
  fail "the emulated cluster cannot start (scripts/emulate-cluster 2 1 /bin/true): $out"
  finish
fi

# rank_pid CFG R: the process of rank R of the training of CFG.
rank_pid() {
  local pid
  for pid in $(pgrep -f "hytrain train $1"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$pid"; return; fi
  done
}

# run_in_background CFG RUN: 2 x 2 training; waits until a checkpoint exists.
job="" stopped=""
cleanup_job() {
  [ -n "$stopped" ] && kill -CONT "$stopped" 2>/dev/null || true
  [ -n "$job" ] && kill "$job" 2>/dev/null || true
}
trap 'cleanup_job; rm -rf "$WORK"' EXIT
start_and_wait_ckpt() {
  cluster --tries 1 2 2 "$HYTRAIN" train "$1" --run-dir "$2" >"$WORK/out.txt" 2>"$WORK/err.txt" &
  job=$!
  for _ in $(seq 1 900); do
    compgen -G "$2/checkpoints/ckpt-*.h5" >/dev/null && return 0
    kill -0 "$job" 2>/dev/null || break
    sleep 0.1
  done
  fail "no checkpoint after 90 s: $(tail -c 800 "$WORK/err.txt")"
  finish
}
# start_endless: a 2 x 2 training that runs until stopped, watchdog at 1 s /
# 4 s, started in the background and past its first checkpoint.
start_endless() {
  fashion_subset 4096 100
  cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [64]}
train: {epochs: 1000, batch_size: 32, seed: 3, log_every: 10}
optimizer: {name: sgd, lr: 0.01}
data: {train: $WORK/fm/train.h5}
checkpoint: {every_steps: 20}
comm: {stall_warn_s: 1, stall_timeout_s: 4}
YAML
  start_and_wait_ckpt "$WORK/cfg.yaml" "$WORK/run"
}
# wait_job SECONDS: the job's exit code into JOB_RC (timeout: "none", and
# the job is killed).
wait_job() {
  JOB_RC=0
  for _ in $(seq 1 $(($1 * 10))); do
    kill -0 "$job" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$job" 2>/dev/null; then
    cleanup_job
    JOB_RC=none
    return
  fi
  wait "$job" || JOB_RC=$?
  job=""
}

case "$WHAT" in
train)
  fashion_subset 2048 1000
  cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [32]}
train: {epochs: 2, batch_size: 32, seed: 4, log_every: 8}
optimizer: {name: adamw, lr: 0.003}
data: {train: $WORK/fm/train.h5, test: $WORK/fm/test.h5}
checkpoint: {every_steps: 4}
YAML
  cd "$WORK"
  for r in a b; do
    cluster 2 2 "$HYTRAIN" train "$WORK/cfg.yaml" --run-dir "run_$r" >"out_$r.txt" 2>&1 || fail "2x2 run $r failed: $(tail -c 800 "out_$r.txt")"
  done
  line=$(grep -m1 "gradient summing:" out_a.txt || true)
  [[ "$line" == *"hierarchical, 2 nodes x 2 ranks"*"comm.transport auto"* ]] && pass "start-up table: $line" ||
    fail "start-up table does not say hierarchical 2 x 2: '$line'"
  grep -q "node 0: ranks 0, 1" out_a.txt && grep -q "node 1: ranks 2, 3" out_a.txt && pass "start-up table: node layout 0,1 | 2,3" ||
    fail "no node layout in: $(grep -A3 'gradient summing' out_a.txt)"
  same_state "2x2 run twice" "$(latest_of run_a)" "$(latest_of run_b)"
  # 4 ranks x 32 = 128 samples a step, 16 steps an epoch, 32 in all.
  [ "$(latest_of run_a)" = "run_a/checkpoints/ckpt-32.h5" ] && pass "2x2 ran 32 steps" || fail "2x2 latest: $(latest_of run_a)"
  # Exact resume on 2 x 2.
  rc=0
  cluster 2 2 "$HYTRAIN" train "$WORK/cfg.yaml" --run-dir run_c --stop-at-step 12 >out_c1.txt 2>&1 || rc=$?
  [ "$rc" = 75 ] && pass "2x2 stopped at step 12 (exit 75)" || fail "2x2 stop: exit $rc: $(tail -c 600 out_c1.txt)"
  cp -r run_c run_e
  cluster 2 2 "$HYTRAIN" train "$WORK/cfg.yaml" --run-dir run_c --resume auto >out_c2.txt 2>&1 || fail "2x2 resume failed: $(tail -c 600 out_c2.txt)"
  same_state "2x2 stopped at 12 and resumed on 2x2 vs uninterrupted" "$(latest_of run_a)" "$(latest_of run_c)"
  # Elastic: the same step-12 checkpoint on 1 node x 2 ranks.
  cluster 1 2 "$HYTRAIN" train "$WORK/cfg.yaml" --run-dir run_e --resume auto >out_e.txt 2>&1 || fail "1x2 resume failed: $(tail -c 600 out_e.txt)"
  grep -q "the data order changed" out_e.txt && pass "1x2 elastic resume: the log says the data order changed" ||
    fail "1x2 elastic resume: no data-order note: $(head -c 400 out_e.txt)"
  got=$($PY -c 'import h5py,sys; f=h5py.File(sys.argv[1],"r"); print(f.attrs["samples_seen"], f.attrs["world_size"])' "$(latest_of run_e)")
  [ "$got" = "4096 2" ] && pass "1x2 elastic resume: samples_seen 4096 (2 epochs), world_size 2" || fail "1x2 elastic: samples_seen/world_size = $got"
  acc=$(last_epoch_field run_e/metrics.jsonl test_accuracy)
  ge "$acc" 0.65 && pass "1x2 elastic resume converges: test accuracy $acc" || fail "1x2 elastic: test accuracy $acc < 0.65"
  acc=$(last_epoch_field run_a/metrics.jsonl test_accuracy)
  ge "$acc" 0.65 && pass "2x2 converges: test accuracy $acc" || fail "2x2: test accuracy $acc < 0.65"
  # bf16 between nodes: said at start-up, and it still trains.
  cluster 2 2 "$HYTRAIN" train "$WORK/cfg.yaml" --run-dir run_bf16 --set comm.dtype=bf16 >out_bf16.txt 2>&1 ||
    fail "2x2 bf16 run failed: $(tail -c 600 out_bf16.txt)"
  grep -q "recursive halving/doubling between nodes in bf16" out_bf16.txt && pass "start-up table: bf16 between nodes" ||
    fail "no bf16 in: $(grep 'gradient summing' out_bf16.txt)"
  if h5diff -q "$(latest_of run_a)" "$(latest_of run_bf16)" /model >/dev/null 2>&1; then
    fail "bf16 between nodes gave the same weights as fp32: not in effect"
  else
    pass "bf16 between nodes changes the weights (the summing really rounds)"
  fi
  acc=$(last_epoch_field run_bf16/metrics.jsonl test_accuracy)
  ge "$acc" 0.65 && pass "2x2 bf16 converges: test accuracy $acc" || fail "2x2 bf16: test accuracy $acc < 0.65"
  ;;
stall)
  start_endless
  stopped=$(rank_pid "$WORK/cfg.yaml" 3)
  [ -n "$stopped" ] || { fail "rank 3's process not found"; finish; }
  kill -STOP "$stopped"
  t0=$(date +%s)
  wait_job 60
  took=$(($(date +%s) - t0))
  kill -CONT "$stopped" 2>/dev/null || true
  stopped=""
  [ "$JOB_RC" != none ] || fail "the job still ran 60 s after rank 3 froze"
  [ "$JOB_RC" != 0 ] && [ "$JOB_RC" != none ] && pass "the job ended with exit code $JOB_RC, $took s after rank 3 froze" ||
    fail "exit code $JOB_RC"
  [ "$took" -ge 4 ] && [ "$took" -le 45 ] && pass "stopped after the timeout ($took s)" || fail "stopped after $took s"
  waiting='(gradient bucket [0-9]+ of [0-9]+ has waited [0-9]+ s for ranks? [0-9, ]+ \(|the main thread has waited [0-9]+ s in )'
  warn=$(grep -E -m1 "^hytrain: warning: \[rank [0-9]\] $waiting" "$WORK/err.txt" || true)
  [ -n "$warn" ] && pass "warning: $warn" || fail "no stall warning in: $(head -c 1500 "$WORK/err.txt")"
  err=$(grep -E -m1 "^hytrain: error: \[rank [0-9]\] communication stalled: $waiting.*comm.stall_timeout_s = 4\)\$" "$WORK/err.txt" || true)
  [ -n "$err" ] && pass "error: $err" || fail "no stall error in: $(head -c 1500 "$WORK/err.txt")"
  ;;
lost)
  start_endless
  victim=$(rank_pid "$WORK/cfg.yaml" 3)
  [ -n "$victim" ] || { fail "rank 3's process not found"; finish; }
  kill -9 "$victim"
  t0=$(date +%s)
  wait_job 60
  took=$(($(date +%s) - t0))
  [ "$JOB_RC" != 0 ] && [ "$JOB_RC" != none ] && pass "the job ended with exit code $JOB_RC, $took s after rank 3 was killed" ||
    fail "exit code $JOB_RC after rank 3 was killed"
  named=$(grep -E -m1 "rank 3 .*node2|node2.*rank 3" "$WORK/err.txt" "$WORK/out.txt" || true)
  [ -n "$named" ] && pass "the lost rank and its node are named: $named" ||
    fail "no line names rank 3 on node2: $(head -c 1500 "$WORK/err.txt")"
  ;;
*) fail "unknown case '$WHAT'" ;;
esac
pgrep -f "hytrain train $WORK/cfg.yaml" >/dev/null && fail "hytrain processes left: $(pgrep -af "hytrain train $WORK/cfg.yaml")" ||
  pass "no hytrain process left"
finish
