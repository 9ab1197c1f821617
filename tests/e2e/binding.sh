# CPU binding of the ranks on one node (compute.binding), under mpirun:
#  - the issue's symptom: OMP_PLACES=cores OMP_PROC_BIND=close with
#    --bind-to none pinned thread 0 of both ranks to cpu 0. auto (the default)
#    now splits the node's cores (each rank's OpenMP thread on its own cpu,
#    a "binding:" line in the start-up table); launcher keeps the overlap and
#    warns, naming the ranks, the cpu and mpirun's fix; none does neither;
#  - a launcher's disjoint binding (--bind-to core) is kept, without a note or
#    a warning; unbound ranks without OMP_PROC_BIND are split too.
# Needs 2 cpus (the test machine has 2); with fewer it fails saying so.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
ncpu=$($PY -c "import os; print(len(os.sched_getaffinity(0)))")
if [ "$ncpu" -lt 2 ]; then fail "this test needs 2 cpus, the machine has $ncpu"; finish; fi
$PY - "$WORK/d.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(1)
x = rng.standard_normal((400, 8)).astype(np.float32)
y = (x[:, 0] > 0).astype(np.int32)
with h5py.File(sys.argv[1], "w") as f:
    f["features"] = x
    f["labels"] = y
    f.attrs["num_classes"] = 2
PY
cat >cfg.yaml <<YAML
model: {type: softmax}
train: {epochs: 1, max_steps: 5, batch_size: 20, seed: 1, log_every: 5}
data: {train: d.h5}
YAML
# run NAME [mpirun options] -- [hytrain options]: stdout in NAME.out, stderr in NAME.err.
run() {
  local name=$1; shift
  local mopts=()
  while [ "$1" != -- ]; do mopts+=("$1"); shift; done
  shift
  "$MPIEXEC" -n 2 --oversubscribe "${mopts[@]}" "$HYTRAIN" train cfg.yaml --run-dir "$WORK/$name" "$@" \
    >"$name.out" 2>"$name.err" || fail "$name: exit code $? ($(head -c 400 "$name.err"))"
}
# cpus NAME RANK: the cpus column of RANK in the start-up table.
cpus() { awk -v r="$2" '$1 == "rank" && $3 == "threads" {t = 1; next} t && $1 == r {print $4; exit}' "$1.out"; }
# commcpu NAME RANK: cpus of RANK's communication thread in the binding table.
commcpu() { awk -v r="$2" '$1 == "rank" && $2 == "comm" {t = 1; next} t && $1 == r {print $2; exit}' "$1.out"; }
# thread0 NAME RANK: cpus of RANK's OpenMP thread 0 in the binding table.
thread0() { awk -v r="$2" '$1 == "rank" && $2 == "comm" {t = 1; next} t && $1 == r {sub("t0:", "", $3); print $3; exit}' "$1.out"; }

export OMP_PLACES=cores OMP_PROC_BIND=close
run auto --bind-to none --
run launcher --bind-to none -- --set compute.binding=launcher
run none --bind-to none -- --set compute.binding=none
unset OMP_PLACES OMP_PROC_BIND

a0=$(thread0 auto 0) a1=$(thread0 auto 1)
[ -n "$a0" ] && [ -n "$a1" ] && [ "$a0" != "$a1" ] && pass "auto: thread 0 of rank 0 on cpu $a0, of rank 1 on cpu $a1" ||
  fail "auto: threads 0 on '$a0' and '$a1', expected different cpus: $(cat auto.out | head -12)"
grep -q "^  binding: compute.binding auto split the 2 cores of host .* among its 2 ranks: rank 0 cpus $a0, rank 1 cpus $a1" auto.out &&
  pass "auto: the start-up table says it split the cores" || fail "auto: no split line in: $(head -8 auto.out)"
[ "$(commcpu auto 0)" = "$a0" ] && [ "$(commcpu auto 1)" = "$a1" ] &&
  pass "auto: each rank's communication thread on its own block's core ($a0, $a1)" ||
  fail "auto: communication threads on '$(commcpu auto 0)' and '$(commcpu auto 1)', expected $a0 and $a1"
grep -q "warning: binding" auto.err && fail "auto: binding warning after the split: $(cat auto.err)" || pass "auto: no binding warning"
grep -q "^  binding: compute.binding auto split" auto/log.txt && pass "auto: the split line is in log.txt" || fail "auto: log.txt lacks the split line"

l0=$(thread0 launcher 0) l1=$(thread0 launcher 1)
[ "$l0" = "$l1" ] && pass "launcher: both threads 0 stay on cpu $l0 (the launcher's choice is kept)" ||
  fail "launcher: threads 0 on '$l0' and '$l1', expected the same cpu"
grep -Eq "warning: binding: ranks 0, 1 on host .* run threads on the same cpus \($l0\).*1 of the 2 cpus given to the node's ranks is idle. Fix: launch with mpirun --bind-to core --map-by slot:PE=1, or set compute.binding=auto" launcher.err &&
  pass "launcher: warning names the ranks, the cpu and mpirun's fix" || fail "launcher: warning missing or wrong: $(cat launcher.err)"
grep -q "binding: ranks 0, 1" launcher/log.txt && pass "launcher: the warning is in log.txt" || fail "launcher: log.txt lacks the warning"
grep -q "binding:" auto.err none.err none.out && fail "none: a binding line: $(grep binding: none.out none.err)" || pass "none: no binding line, no warning"
[ "$(thread0 none 0)" = "$(thread0 none 1)" ] && pass "none: nothing changed (both on cpu $(thread0 none 0))" || fail "none: the binding changed"

# A launcher's disjoint binding is kept.
run core --bind-to core --map-by core --
c0=$(cpus core 0) c1=$(cpus core 1)
[ -n "$c0" ] && [ "$c0" != "$c1" ] && pass "--bind-to core: ranks on cpus $c0 and $c1" || fail "--bind-to core: cpus '$c0' '$c1'"
grep -q "binding:" core.out core.err && fail "--bind-to core: unexpected binding line: $(grep binding: core.out core.err)" ||
  pass "--bind-to core: kept, no note, no warning"

# Unbound ranks, no OMP_PROC_BIND, one thread each on 2 cpus: split as well.
run unbound --bind-to none --
u0=$(cpus unbound 0) u1=$(cpus unbound 1)
[ -n "$u0" ] && [ "$u0" != "$u1" ] && pass "unbound: split to cpus $u0 and $u1" || fail "unbound: cpus '$u0' '$u1': $(head -8 unbound.out)"
finish
