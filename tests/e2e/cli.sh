# The command line: help texts, config --list covers the keys that examples,
# jobs and checks use, `config` prints the effective config with overrides,
# and every example config in configs/ loads and validates as written.
. "$(dirname "$0")/lib.sh"
"$HYTRAIN" --help | grep -q "train CONFIG" && pass "hytrain --help" || fail "hytrain --help lacks train"
for c in train eval convert config; do
  "$HYTRAIN" $c --help 2>&1 | grep -q "usage: hytrain $c" && pass "hytrain $c --help" || fail "hytrain $c --help"
done
expect_error "unknown command" 2 "unknown command 'trian'" "$HYTRAIN" trian
"$HYTRAIN" config --list >"$WORK/list.txt"
for k in train.epochs train.max_steps train.batch_size train.seed optimizer.name optimizer.lr model.type model.hidden data.train data.test; do
  grep -q "^$k " "$WORK/list.txt" && pass "config --list has $k" || fail "config --list lacks $k"
done
out=$("$HYTRAIN" config "$HT_SOURCE_DIR/configs/fashion_mlp.yaml" --set train.epochs=3 --set model.hidden=[32,16])
echo "$out" | grep -q "epochs: 3" && pass "--set train.epochs=3 shows in the effective config" || fail "override missing: $out"
echo "$out" | grep -q "hidden: \[32, 16\]" && pass "--set model.hidden=[32,16]" || fail "list override missing"
for cfg in "$HT_SOURCE_DIR"/configs/*.yaml; do
  "$HYTRAIN" config "$cfg" >/dev/null && pass "$(basename "$cfg") validates" || fail "$(basename "$cfg") does not validate"
done
finish
