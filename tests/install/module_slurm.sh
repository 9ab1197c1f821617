# The install as a cluster user meets it: cmake --install into a temporary
# prefix; in a clean login shell (env -i, an empty HOME: nothing of this
# test's environment but SLURM_CONF) `module use P/share/modulefiles; module
# load hytrain` puts the installed hytrain on PATH and its man page on
# MANPATH; that shell converts Fashion-MNIST with the installed binary and
# submits the installed job script with the installed example config to a
# local SLURM cluster, from a directory without build/hytrain. The job must
# complete, say it runs the installed binary, and leave a complete run
# directory with a sane accuracy. Everything lives under $WORK and the
# cluster is stopped on exit (tests/slurm/lib.sh).
. "$(dirname "$0")/../slurm/lib.sh"
. "$(dirname "$0")/lib.sh"
P="$WORK/pre fix"
install_into "$P"
need_man_page "$P"
slurm_start
SUB=$WORK/submit
mkdir -p "$SUB" "$WORK/home"
FM=/usr/share/datasets/fashion-mnist

# The commands a user types after logging in; values are quoted into the file.
{
  echo 'set -eu'
  printf 'P=%q SUB=%q FM=%q\n' "$P" "$SUB" "$FM"
  cat <<'SH'
if ! type module >/dev/null 2>&1; then
  echo "no 'module' command in a login shell"
  exit 90
fi
echo "before load: $(type -P hytrain || echo 'hytrain not on PATH')"
module use "$P/share/modulefiles"
module load hytrain
echo "which: $(which hytrain)"
echo "man: $(man -w hytrain)"
echo "root: $HYTRAIN_ROOT"
cd "$SUB"
mkdir -p data/fashion-mnist
hytrain convert idx "$FM/train-images-idx3-ubyte.gz" "$FM/train-labels-idx1-ubyte.gz" data/fashion-mnist/train.h5 >/dev/null
hytrain convert idx "$FM/t10k-images-idx3-ubyte.gz" "$FM/t10k-labels-idx1-ubyte.gz" data/fashion-mnist/test.h5 >/dev/null
echo "job: $(sbatch --parsable --ntasks=2 --cpus-per-task=1 -o "$SUB/job-%j.out" \
  "$HYTRAIN_ROOT/share/hytrain/jobs/train.sbatch" "$HYTRAIN_ROOT/share/hytrain/configs/fashion_softmax.yaml" \
  --set train.max_steps=200 --set train.epochs=1 | cut -d';' -f1)"
SH
} >"$WORK/login.sh"
rc=0
env -i HOME="$WORK/home" PATH=/usr/bin:/bin SLURM_CONF="$SLURM_CONF" bash -l "$WORK/login.sh" >"$WORK/login.out" 2>"$WORK/login.err" || rc=$?
cat "$WORK/login.out"
if [ "$rc" -eq 90 ]; then
  fail "no 'module' command in a clean login shell (env -i bash -l): install environment-modules (scripts/install-deps), which adds /etc/profile.d/modules.sh"
  finish
elif [ "$rc" -ne 0 ]; then
  fail "the login shell failed (exit $rc): $(tail -5 "$WORK/login.err")"
  finish
fi
field() { sed -n "s/^$1: //p" "$WORK/login.out"; }

[ "$(field 'before load')" = "hytrain not on PATH" ] && pass "clean shell: no hytrain on PATH before module load" \
  || fail "clean shell already finds hytrain before module load: $(field 'before load')"
[ "$(field which)" = "$P/bin/hytrain" ] && pass "after module load: which hytrain = $P/bin/hytrain" \
  || fail "after module load: which hytrain = '$(field which)', expected $P/bin/hytrain"
[ "$(field man)" = "$P/share/man/man1/hytrain.1" ] && pass "after module load: man -w hytrain = $P/share/man/man1/hytrain.1" \
  || fail "after module load: man -w hytrain = '$(field man)', expected $P/share/man/man1/hytrain.1"
[ "$(field root)" = "$P" ] && pass "HYTRAIN_ROOT = $P" || fail "HYTRAIN_ROOT = '$(field root)', expected $P"

id=$(field job)
case $id in '' | *[!0-9_]*) fail "sbatch in the login shell printed no job id: '$id'"; finish ;; esac
wait_jobs 300 "$id"
out=$SUB/job-$id.out
cat "$out" 2>/dev/null || true
grep -qxF "train.sbatch: hytrain: $P/bin/hytrain (installed with this script)" "$out" \
  && pass "the installed job script ran the installed binary" \
  || fail "job output does not say 'train.sbatch: hytrain: $P/bin/hytrain (installed with this script)'"
[ ! -e "$SUB/build" ] || fail "$SUB/build exists; the test must submit from a directory without build/hytrain"
check_run "$SUB/runs/fashion_softmax/$id" 200 0.70
grep -q "2 ranks x 1 thread" "$SUB/runs/fashion_softmax/$id/log.txt" 2>/dev/null && pass "log shows 2 ranks x 1 thread" \
  || fail "log.txt does not show 2 ranks x 1 thread"
finish
