# The stall watchdog during start-up, before any communication thread
# exists: mpitest_stall agree runs 2 ranks with comm.stall_warn_s = 1 and
# comm.stall_timeout_s = 3; rank 1 stops itself with SIGSTOP before the first
# error agreement (ht_comm_agree, as every start-up phase ends with), rank 0
# waits in it. Rank 0's watchdog must
#  - warn once after 1 s, naming the error agreement;
#  - end the whole job after 3 s with one error line and a non-zero exit
#    code, leaving no process behind (not even the frozen one).
# Argument: the mpitest_stall program.
. "$(dirname "$0")/lib.sh"
PROG=$1
"$MPIEXEC" -n 2 --oversubscribe --bind-to none "$PROG" agree >"$WORK/out.txt" 2>"$WORK/err.txt" &
job=$!
t0=$(date +%s)
frozen() { pgrep -f "$PROG agree" | while read -r pid; do
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = T ] && echo "$pid"; done; }
cleanup() {
  for pid in $(frozen); do kill -CONT "$pid" 2>/dev/null || true; done
  kill "$job" 2>/dev/null || true
}
trap 'cleanup; rm -rf "$WORK"' EXIT
# The job must end by itself: give it 60 s (the timeout is 3 s).
for _ in $(seq 1 600); do
  kill -0 "$job" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$job" 2>/dev/null; then
  fail "the job still runs 60 s after start: $(head -c 1500 "$WORK/err.txt")"
  cleanup
fi
rc=0
wait "$job" || rc=$?
took=$(( $(date +%s) - t0 ))
[ "$rc" -ne 0 ] && pass "the job ended with exit code $rc after $took s" || fail "exit code 0: $(cat "$WORK/err.txt")"
expect_stall_lines "$WORK/err.txt" \
  'the main thread has waited [0-9]+ s in the error agreement \(MPI_Allreduce\), which every rank must join; (still waiting \(the job stops at comm.stall_timeout_s\)$|stopping the job)' 3
# mpirun continues the frozen rank while it kills the job, so the agreement
# may complete late; never before the watchdog's error.
first_err=$(grep -n -m1 '^hytrain: error:' "$WORK/err.txt" | cut -d: -f1 || true)
first_ret=$(grep -n -m1 'the agreement returned' "$WORK/err.txt" | cut -d: -f1 || true)
[ -n "$first_err" ] && { [ -z "$first_ret" ] || [ "$first_ret" -gt "$first_err" ]; } &&
  pass "no rank left the agreement before the watchdog's error" ||
  fail "a rank left the agreement before the watchdog ended the job: $(head -c 1500 "$WORK/err.txt")"
[ "$took" -ge 3 ] && [ "$took" -le 45 ] && pass "stopped after the timeout ($took s)" || fail "stopped after $took s"
sleep 1
pgrep -f "$PROG agree" >/dev/null && fail "processes left: $(pgrep -af "$PROG agree")" || pass "no process left"
finish
