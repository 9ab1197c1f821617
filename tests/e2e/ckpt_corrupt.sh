# Corruption: bytes flipped inside a dataset, a truncated file, a dataset of
# the wrong shape. Each is detected (hytrain inspect / eval / --resume) with a
# message naming the file and the dataset; --resume auto falls back to the
# newest checkpoint that verifies and says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
fashion_subset 1024 500
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [32]}
train: {epochs: 1, max_steps: 30, batch_size: 16, seed: 2, log_every: 10}
optimizer: {name: adamw, lr: 0.002}
data: {train: fm/train.h5, test: fm/test.h5}
checkpoint: {every_steps: 10, keep: 0}
YAML
mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/run" >/dev/null
ck="$WORK/run/checkpoints"
"$HYTRAIN" inspect "$ck/ckpt-30.h5" >"$WORK/ok.txt" && pass "the intact checkpoint verifies" || fail "intact checkpoint fails: $(tail -3 "$WORK/ok.txt")"
# flip: overwrite 64 bytes in the middle of the first chunk of a dataset.
flip() { $PY - "$1" "$2" <<'PY'
import sys, h5py
path, name = sys.argv[1], sys.argv[2]
with h5py.File(path, "r") as f:
    info = f[name].id.get_chunk_info(0)
off = info.byte_offset + info.size // 2
with open(path, "r+b") as fh:
    fh.seek(off); b = bytearray(fh.read(64)); fh.seek(off)
    fh.write(bytes(x ^ 0xFF for x in b))
PY
}
cp "$ck/ckpt-30.h5" "$WORK/flipped.h5"; flip "$WORK/flipped.h5" model/dense0/weight
expect_error "flipped bytes (inspect)" 2 "flipped.h5: /model/dense0/weight: data cannot be read or fails its fletcher32 checksum" \
  "$HYTRAIN" inspect "$WORK/flipped.h5"
grep -q "CORRUPT" "$WORK/out.txt" && pass "inspect marks the dataset CORRUPT" || fail "inspect output lacks CORRUPT"
expect_error "flipped bytes (eval)" 2 "flipped.h5: /model/dense0/weight: data cannot be read or fails its fletcher32 checksum" \
  mpi 1 eval --checkpoint "$WORK/flipped.h5"
cp "$ck/ckpt-30.h5" "$WORK/flipped-opt.h5"; flip "$WORK/flipped-opt.h5" optimizer/v/dense1/weight
expect_error "flipped optimizer state (--resume PATH)" 2 "flipped-opt.h5: /optimizer/v/dense1/weight: data cannot be read or fails its fletcher32" \
  mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/r1" --resume "$WORK/flipped-opt.h5"
size=$(stat -c %s "$ck/ckpt-30.h5")
head -c $((size / 2)) "$ck/ckpt-30.h5" >"$WORK/truncated.h5"
expect_error "truncated file (inspect)" 2 "truncated.h5: .*(truncated|corrupt)" "$HYTRAIN" inspect "$WORK/truncated.h5"
expect_error "truncated file (--resume PATH)" 2 "truncated.h5: .*(truncated|corrupt)" \
  mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/r2" --resume "$WORK/truncated.h5"
cp "$ck/ckpt-30.h5" "$WORK/reshaped.h5"
$PY - "$WORK/reshaped.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    del f["model/dense0/weight"]
    f.create_dataset("model/dense0/weight", data=np.zeros((33, 784), np.float32), chunks=(33, 784), fletcher32=True)
PY
expect_error "changed shape (--resume PATH)" 2 "reshaped.h5: /model/dense0/weight: shape \[33, 784\] does not match the expected \[32, 784\]" \
  mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/r3" --resume "$WORK/reshaped.h5"
expect_error "changed shape (eval)" 2 "reshaped.h5: /model/dense0/weight: shape \[33, 784\]" mpi 1 eval "$WORK/reshaped.h5"
expect_error "model of another config (--resume)" 2 "ckpt-30.h5: /model/dense0/weight: shape \[32, 784\] does not match the expected \[48, 784\]" \
  mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/r4" --resume "$ck/ckpt-30.h5" --set 'model.hidden=[48]'
# --resume auto falls back: corrupt the newest (latest), truncate the next one.
flip "$ck/ckpt-30.h5" model/dense1/bias
head -c $(( $(stat -c %s "$ck/ckpt-20.h5") / 3 )) "$ck/ckpt-20.h5" >"$WORK/t.h5" && mv "$WORK/t.h5" "$ck/ckpt-20.h5"
mpi 1 train "$WORK/cfg.yaml" --run-dir "$WORK/run" --resume auto --set train.max_steps=40 >"$WORK/auto.out" 2>"$WORK/auto.err" \
  || fail "--resume auto did not fall back: $(tail -c 500 "$WORK/auto.err")"
grep -q "ckpt-30.h5: /model/dense1/bias: data cannot be read or fails its fletcher32 checksum" "$WORK/auto.err" \
  && pass "auto names the corrupt latest checkpoint and dataset" || fail "no message about ckpt-30: $(head -c 500 "$WORK/auto.err")"
grep -q "ckpt-20.h5: .*\(truncated\|corrupt\)" "$WORK/auto.err" && pass "auto names the truncated ckpt-20.h5" \
  || fail "no message about ckpt-20: $(head -c 500 "$WORK/auto.err")"
grep -q "resuming from .*ckpt-10.h5, the newest checkpoint that verifies" "$WORK/auto.err" && pass "auto says it falls back to ckpt-10.h5" \
  || fail "no fallback note: $(head -c 500 "$WORK/auto.err")"
[ "$(cat "$ck/latest")" = "ckpt-40.h5" ] && pass "the resumed run reached step 40" || fail "latest is $(cat "$ck/latest")"
finish
