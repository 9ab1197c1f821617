# How jobs/train.sbatch (from the source tree) finds hytrain when HYTRAIN is
# not set, and that its output says which one it runs:
#   a) build/hytrain in the submit directory wins over hytrain on PATH;
#   b) without build/hytrain, hytrain from PATH;
#   c) neither: the job fails with one error line saying what to do.
# a) and b) train a few steps to completion with 2 ranks.
. "$(dirname "$0")/lib.sh"
fashion_data
slurm_start
small_config "$WORK/small.yaml" 20
mkdir -p "$WORK/with-build/build" "$WORK/no-build" "$WORK/pathbin"
ln -s "$HYTRAIN" "$WORK/with-build/build/hytrain"
ln -s "$HYTRAIN" "$WORK/pathbin/hytrain"
# sbatch passes its own environment on to the job: HYTRAIN is removed and
# PATH is set per case.
sub() {
  local dir=$1 path=$2; shift 2
  (cd "$WORK/$dir" && env -u HYTRAIN PATH="$path" sbatch --parsable -o "$WORK/$dir/job-%j.out" "$@") | cut -d';' -f1
}
a=$(sub with-build "$WORK/pathbin:$PATH" --ntasks=2 "$JOBS/train.sbatch" "$WORK/small.yaml")
b=$(sub no-build "$WORK/pathbin:$PATH" --ntasks=2 "$JOBS/train.sbatch" "$WORK/small.yaml")
c=$(sub no-build "$PATH" --ntasks=1 "$JOBS/train.sbatch" "$WORK/small.yaml")
type -P hytrain >/dev/null && fail "hytrain is on this test's PATH ($(type -P hytrain)); case c) needs a PATH without it"
wait_jobs 240 "$a" "$b"
wait_ended 60 "$c"

expect_line() { # FILE LINE WHAT
  if grep -qxF "$2" "$1"; then pass "$3: '$2'"; else fail "$3: no line '$2' in $1: $(head -5 "$1")"; fi
}
expect_line "$WORK/with-build/job-$a.out" "train.sbatch: hytrain: $WORK/with-build/build/hytrain (build/hytrain in the submit directory)" "a) build/hytrain before PATH"
check_run "$WORK/with-build/runs/small/$a" 20 0
expect_line "$WORK/no-build/job-$b.out" "train.sbatch: hytrain: $WORK/pathbin/hytrain (hytrain from PATH)" "b) no build/hytrain: PATH"
check_run "$WORK/no-build/runs/small/$b" 20 0
st=$(job_state "$c")
if [ "$st" = FAILED ] && grep -q "^train.sbatch: error: no hytrain binary: HYTRAIN is not set, $WORK/no-build/build/hytrain does not exist and hytrain is not on PATH; .*module load hytrain" "$WORK/no-build/job-$c.out"; then
  pass "c) no binary anywhere: job FAILED with '$(head -1 "$WORK/no-build/job-$c.out")'"
else
  fail "c) no binary anywhere: state $st, output: $(cat "$WORK/no-build/job-$c.out")"
fi
finish
