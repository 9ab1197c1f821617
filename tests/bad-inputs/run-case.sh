#!/usr/bin/env bash
# Runs one case of tests/bad-inputs/manifest.txt (CTest entry bad-input.NAME).
# Usage: run-case.sh NAME   (env: HYTRAIN, MPIEXEC, HT_SOURCE_DIR)
# Checks: the exit code; that stderr has exactly one "error:" line and it
# holds the fragment; no signal (exit < 128) and no abort, crash or sanitizer
# text; no file left behind (no new file or directory, no *.partial).
set -uo pipefail
name=$1
dir=$(cd "$(dirname "$0")" && pwd)
: "${HYTRAIN:?}"
line=$(grep -E "^$name[[:space:]]*\|" "$dir/manifest.txt")
[ -n "$line" ] || { echo "FAIL: no case '$name' in manifest.txt"; exit 1; }
IFS='|' read -r _ want frag cmd <<<"$line"
trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; echo "${s%"${s##*[![:space:]]}"}"; }
want=$(trim "$want"); frag=$(trim "$frag"); cmd=$(trim "$cmd")
work=$(mktemp -d "${TMPDIR:-/tmp}/hytrain-bad-XXXXXX")
trap 'rm -rf "$work"' EXIT
ck=""
case $cmd in *ck_*) ck=$HYTRAIN ;; esac
OMP_NUM_THREADS=1 /usr/bin/python3 "$dir/make_inputs.py" "$work" $ck >"$work/.gen.log" 2>&1 ||
  { cat "$work/.gen.log"; echo "FAIL: $name: make_inputs.py failed"; exit 1; }
(cd "$work" && find . -mindepth 1 | sort) >"$work/.before"
export HT=$HYTRAIN MPI="${MPIEXEC:-mpirun} -n 2 --oversubscribe --bind-to none"
rc=0
(cd "$work" && timeout 120 bash -c "$cmd") >"$work/.out" 2>"$work/.err" || rc=$?
(cd "$work" && find . -mindepth 1 | sort) >"$work/.after"
fails=0
bad() { echo "FAIL: $name: $*"; fails=$((fails + 1)); }
[ "$rc" -eq "$want" ] || bad "exit code $rc, expected $want"
[ "$rc" -lt 128 ] || bad "killed by a signal (exit $rc)"
[ "$rc" -ne 124 ] || bad "timed out"
if grep -qE "Abort|Segmentation|core dumped|Sanitizer|runtime error|Assertion" "$work/.err"; then bad "crash/abort text on stderr"; fi
n_err=$(grep -c "error:" "$work/.err")
[ "$n_err" -eq 1 ] || bad "$n_err lines with 'error:' on stderr, expected exactly 1"
grep -F -- "error:" "$work/.err" | grep -qF -- "$frag" || bad "the error line does not hold '$frag'"
if grep "error:" "$work/.err" | grep -qE "error: *$"; then bad "empty error message"; fi
left=$(comm -13 "$work/.before" "$work/.after" | grep -vE '^\./\.(out|err|before|after)$')
[ -z "$left" ] || bad "left behind: $(echo $left)"
echo "command: $cmd"
echo "exit $rc; stderr:"
sed 's/^/  | /' "$work/.err" | head -20
[ "$fails" -eq 0 ] && echo "ok: $name" || exit 1
