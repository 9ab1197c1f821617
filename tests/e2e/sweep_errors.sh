# Bad sweep files and bad --set values: one clear error line naming the file,
# line:column and key, exit code 2, and no output directory left behind.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
mkdir -p fm && touch fm/train.h5
cat >base.yaml <<YAML
model: {type: softmax}
data: {train: fm/train.h5}
YAML
bad() { # NAME PATTERN YAML
  printf '%s\n' "$3" >"$1.yaml"
  expect_error "$1" 2 "$2" "$HYTRAIN" sweep "$1.yaml" --list
}
bad unknown_key 'unknown_key.yaml:4:1: unknown key .methd.' $'config: base.yaml\nmethod: grid\nparams: {optimizer.lr: [0.1]}\nmethd: grid'
bad not_a_key 'not_a_key.yaml:4:19: --set optimizer.lrr=0.1: unknown key .optimizer.lrr.' $'config: base.yaml\nmethod: grid\nparams:\n  optimizer.lrr: [0.1]'
bad bad_value 'bad_value.yaml:3:30: --set optimizer.lr=-2: -2 is out of range' $'config: base.yaml\nmethod: grid\nparams: {optimizer.lr: [0.1, -2]}'
bad range_in_grid 'range_in_grid.yaml:3:24: params.optimizer.lr: a range .* needs method: random' $'config: base.yaml\nmethod: grid\nparams: {optimizer.lr: {min: 0.1, max: 1}}'
bad min_gt_max 'min_gt_max.yaml:4:24: params.optimizer.lr: min 1 is greater than max 0.1' $'config: base.yaml\nmethod: random\ncount: 3\nparams: {optimizer.lr: {min: 1, max: 0.1}}'
bad log_zero 'log_zero.yaml:4:24: params.optimizer.lr: log: true needs min > 0' $'config: base.yaml\nmethod: random\ncount: 3\nparams: {optimizer.lr: {min: 0, max: 0.1, log: true}}'
bad no_count 'no_count.yaml:1:1: method: random needs .count.' $'config: base.yaml\nmethod: random\nparams: {optimizer.lr: [0.1]}'
bad bad_method 'bad_method.yaml:2:9: method: expected grid or random' $'config: base.yaml\nmethod: bayes\nparams: {optimizer.lr: [0.1]}'
bad no_config 'no_config.yaml:1:9: config: .nope.yaml. not found' $'config: nope.yaml\nmethod: grid\nparams: {optimizer.lr: [0.1]}'
bad bad_yaml 'bad_yaml.yaml:[0-9]+:[0-9]+: invalid YAML' $'config: base.yaml\nmethod: [grid\nparams: {}'
bad empty_list 'empty_list.yaml:3:24: params.optimizer.lr: the list of values is empty' $'config: base.yaml\nmethod: grid\nparams: {optimizer.lr: []}'
bad bad_set 'bad_set.yaml:2:21: --set train.epochs=zero: expected an integer' $'config: base.yaml\nset: {train.epochs: zero}\nmethod: grid\nparams: {optimizer.lr: [0.1]}'
# A bad --set on the command line names the --set argument.
printf 'config: base.yaml\nmethod: grid\nparams: {optimizer.lr: [0.1, 0.2]}\n' >good.yaml
expect_error "bad --set" 2 "train.batch_size=-4" "$HYTRAIN" sweep good.yaml --list --set train.batch_size=-4
expect_error "trial out of range" 2 "trial 5: .*trials 0..1" mpi 1 sweep good.yaml --trial 5 --out o1
expect_error "group size" 2 "--group-size 3 does not divide the 2 MPI ranks" mpi 2 sweep good.yaml --group-size 3 --out o2
expect_error "no sweep file" 2 "missing.yaml: cannot open sweep file" "$HYTRAIN" sweep missing.yaml --list
[ ! -e o1 ] && [ ! -e o2 ] && pass "no output directory after bad input" || fail "output directory left behind: $(ls -d o1 o2 2>/dev/null)"
# Every example sweep in sweeps/ loads, and all its trials validate, as written.
for f in "$HT_SOURCE_DIR"/sweeps/*.yaml; do
  n=$("$HYTRAIN" sweep "$f" --list | wc -l) && [ "$n" -gt 0 ] && pass "$(basename "$f"): $n trials" || fail "$f does not list its trials"
done
finish
