# Elastic resume: 2 -> 1 and 1 -> 2 ranks. Model and optimizer continue, the
# data position continues at the same global sample count (so the three
# epochs still consume 3 x 2048 samples), the log says the data order changed,
# and training converges.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
fashion_subset 2048 1000
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [32]}
train: {epochs: 3, batch_size: 32, seed: 4, log_every: 8}
optimizer: {name: adamw, lr: 0.003}
data: {train: fm/train.h5, test: fm/test.h5}
YAML
check_elastic() { # NAME FROM_NP TO_NP STOP FINAL_STEP
  local name=$1 from=$2 to=$3 stop=$4 final=$5 run="$WORK/$1"
  expect_code "$name: stop at step $stop on $from rank(s)" 75 mpi "$from" train "$WORK/cfg.yaml" --run-dir "$run" --stop-at-step "$stop"
  mpi "$to" train "$WORK/cfg.yaml" --run-dir "$run" --resume auto >"$WORK/$name.log" 2>&1 || fail "$name: resume failed: $(tail -c 400 "$WORK/$name.log")"
  grep -q "the data order changed" "$WORK/$name.log" && pass "$name: log says the data order changed" \
    || fail "$name: no data-order note: $(head -c 400 "$WORK/$name.log")"
  local ck; ck=$(latest_of "$run")
  [ "$ck" = "$run/checkpoints/ckpt-$final.h5" ] && pass "$name: final checkpoint ckpt-$final.h5" || fail "$name: final checkpoint $ck, expected ckpt-$final.h5"
  local got
  got=$($PY -c 'import h5py,sys; f=h5py.File(sys.argv[1],"r"); print(f.attrs["samples_seen"], f.attrs["world_size"], int(f["optimizer/t"][0]))' "$ck")
  [ "$got" = "6144 $to $final" ] && pass "$name: samples_seen 6144 (3 epochs), world_size $to, optimizer t $final" \
    || fail "$name: samples_seen/world_size/t = $got, expected 6144 $to $final"
  local acc; acc=$(last_epoch_field "$run/metrics.jsonl" test_accuracy)
  ge "$acc" 0.70 && pass "$name: converges, test accuracy $acc >= 0.70" || fail "$name: test accuracy $acc < 0.70"
  # Steps never repeat or go backwards in the continued metrics.jsonl.
  $PY -c 'import json,sys
s=[json.loads(l)["step"] for l in open(sys.argv[1]) if "\"step\"" in l and "\"kind\": \"step\"" in l]
sys.exit(0 if all(a<b for a,b in zip(s,s[1:])) else 1)' "$run/metrics.jsonl" && pass "$name: step records strictly increase" \
    || fail "$name: step records repeat"
}
# 2 ranks: 32 steps/epoch; stop at 40 = epoch 2, batch 8 = 512 samples into it.
# 1 rank: 64 steps/epoch; continues at batch 512/32 = 16: 48 + 64 more steps -> 152.
check_elastic two_to_one 2 1 40 152
# 1 rank stop at 80 = epoch 2, batch 16 = 512 samples; 2 ranks continue at batch 8: 24 + 32 -> 136.
check_elastic one_to_two 1 2 80 136
finish
