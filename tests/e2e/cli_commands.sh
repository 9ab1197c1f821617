# The command list of `hytrain --help` against the commands the binary
# accepts: the dispatch table in src/cli/main.c ({"name", ht_cmd_...}) must
# name exactly the commands the help lists; every listed command and
# sub-command (bench sgemm, bench allreduce, runs list, convert idx ...)
# answers --help with exit 0 and its usage; words that are not commands are
# refused with exit 2 and the table's list. `hytrain bench --help` names every
# comm.wait policy of include/hytrain/options.h and comm.wait's default.
. "$(dirname "$0")/lib.sh"
order=$(sed -n 's/^ *{"\([a-z]*\)", ht_cmd_[a-z_]*,.*/\1/p' "$HT_SOURCE_DIR/src/cli/main.c" | tr '\n' ' ')
table=$(echo $order | tr ' ' '\n' | sort | tr '\n' ' ')
[ -n "$table" ] && pass "dispatch table: $table" || fail "no commands found in src/cli/main.c's table"
"$HYTRAIN" --help >"$WORK/help.txt"
# Command lines are indented by two spaces and start with a lower-case word.
listed=$(sed -n '/^commands:/,/^$/p' "$WORK/help.txt" | sed -n 's/^  \([a-z][a-z]*\).*/\1/p' | sort -u | tr '\n' ' ')
[ "$listed" = "$table" ] && pass "hytrain --help lists exactly the dispatch table's commands" \
  || fail "hytrain --help lists '$listed', the dispatch table has '$table'"
for c in $listed; do
  rc=0
  "$HYTRAIN" "$c" --help >"$WORK/c.txt" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ] && grep -Eq "usage: .*hytrain $c( |\$)" "$WORK/c.txt"; then pass "hytrain $c --help: exit 0, $(head -1 "$WORK/c.txt")"
  else fail "hytrain $c --help: exit $rc, $(head -2 "$WORK/c.txt")"; fi
done
# Sub-commands as the help lists them: "bench sgemm", "convert idx|csv|libsvm".
subs=$(sed -n '/^commands:/,/^$/p' "$WORK/help.txt" | sed -n 's/^  \([a-z][a-z]*\) \([a-z][a-z|]*\)\( .*\)\{0,1\}$/\1:\2/p' | sort -u)
n_subs=0
for cs in $subs; do
  c=${cs%%:*}
  for s in $(echo "${cs#*:}" | tr '|' ' '); do
    n_subs=$((n_subs + 1))
    rc=0
    "$HYTRAIN" "$c" "$s" --help >"$WORK/c.txt" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ] && grep -q "hytrain $c $s" "$WORK/c.txt"; then pass "hytrain $c $s --help: exit 0"
    else fail "hytrain $c $s --help: exit $rc, $(head -2 "$WORK/c.txt")"; fi
  done
done
[ "$n_subs" -ge 6 ] && pass "$n_subs sub-commands listed" || fail "only $n_subs sub-commands found in the help: $subs"
grep -q "^  bench allreduce" "$WORK/help.txt" && pass "bench allreduce is listed" || fail "bench allreduce missing from hytrain --help"
want=$(echo "$order" | sed 's/ $//; s/ /, /g; s/\(.*\), /\1 or /')
for w in trian frobnicate help2; do
  expect_error "unknown command $w" 2 "^hytrain: error: unknown command '$w' \(expected $(echo "$want" | sed 's/[.]/\\./g')\)\$" "$HYTRAIN" "$w"
done
expect_error "unknown benchmark" 2 "unknown benchmark 'frob' \(expected sgemm, gemm, allreduce or lines\)" "$HYTRAIN" bench frob
# bench lines: a positive round trip on the first two CPUs; bad --cpus and one CPU are refused.
out=$("$HYTRAIN" bench lines --trips 2000 2>&1) && ns=$(echo "$out" | sed -n 's/^line_round_trip_ns=//p') &&
  awk -v x="$ns" 'BEGIN { exit !(x > 0) }' && [ "$(echo "$out" | grep -c '^batch [0-6]: ')" -eq 7 ] &&
  pass "bench lines: 7 batches, line_round_trip_ns=$ns" || fail "bench lines: $out"
expect_error "bench lines --cpus 0,0" 2 "--cpus '0,0': expected two different CPU numbers A,B" "$HYTRAIN" bench lines --cpus 0,0
expect_error "bench lines on one CPU" 2 "bench lines: needs 2 CPUs, this process may run on 1" taskset -c 0 "$HYTRAIN" bench lines
# Wait policies: the X-macro's spellings and the registry's default.
"$HYTRAIN" bench --help >"$WORK/bench.txt"
kinds=$(sed -n '/define HT_WAIT_KINDS/,/^$/p' "$HT_SOURCE_DIR/include/hytrain/options.h" | grep -o 'X(HT_WAIT_[A-Z]*, "[a-z]*")' | sed 's/.*"\(.*\)")/\1/')
[ "$(echo "$kinds" | wc -w)" -ge 5 ] && pass "comm.wait kinds in options.h: $(echo $kinds)" || fail "comm.wait kinds not found: $kinds"
for k in $kinds; do
  grep -Eq "(: | \| )$k(\[?:<us>\]?)?( |\$)" "$WORK/bench.txt" && pass "bench --help names $k" || fail "bench --help lacks $k: $(grep -i wait "$WORK/bench.txt")"
done
def=$("$HYTRAIN" config --list | awk '$1 == "comm.wait" {print $3}')
grep -q "default: $def" "$WORK/bench.txt" && pass "bench --help gives comm.wait's default, $def" \
  || fail "bench --help default is not comm.wait's '$def': $(grep default "$WORK/bench.txt")"
finish
