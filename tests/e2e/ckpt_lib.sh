# Helpers for the checkpoint end-to-end tests (sourced after lib.sh).

# A small Fashion-MNIST: the first $1 training and $2 test rows, in $WORK/fm/{train,test}.h5.
fashion_subset() {
  local src=/usr/share/datasets/fashion-mnist
  mkdir -p "$WORK/fm"
  "$HYTRAIN" convert idx "$src/train-images-idx3-ubyte.gz" "$src/train-labels-idx1-ubyte.gz" "$WORK/fm/full-train.h5" >/dev/null
  "$HYTRAIN" convert idx "$src/t10k-images-idx3-ubyte.gz" "$src/t10k-labels-idx1-ubyte.gz" "$WORK/fm/full-test.h5" >/dev/null
  $PY - "$WORK/fm" "$1" "$2" <<'PY'
import sys, h5py
d, ntr, nte = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for name, n in (("train", ntr), ("test", nte)):
    with h5py.File(f"{d}/full-{name}.h5", "r") as src, h5py.File(f"{d}/{name}.h5", "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        dst["features"] = src["features"][:n]
        dst["labels"] = src["labels"][:n]
PY
  rm -f "$WORK/fm/full-train.h5" "$WORK/fm/full-test.h5"
}

# same_state NAME A B: /model and /optimizer of two checkpoints are identical (h5diff, exact).
same_state() {
  local name=$1 a=$2 b=$3 grp ok=1
  for grp in /model /optimizer; do
    if ! h5diff "$a" "$b" "$grp" >"$WORK/h5diff.txt" 2>&1; then
      ok=0
      fail "$name: $grp differs between $a and $b: $(head -c 400 "$WORK/h5diff.txt")"
    fi
  done
  [ "$ok" = 1 ] && pass "$name: /model and /optimizer identical byte for byte"
  return 0
}

# same_metrics NAME A B: two metrics.jsonl hold the same records, timing fields aside.
same_metrics() {
  if $PY - "$2" "$3" >"$WORK/mdiff.txt" 2>&1 <<'PY'
import json, sys
def load(p):
    out = []
    for line in open(p):
        r = json.loads(line)
        if r.get("kind") == "comm":   # timing summary of one process, one per run segment
            continue
        for k in ("wall_s", "samples_per_s", "data_wait_s"):
            r.pop(k, None)
        out.append(r)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            print("record", i, x, "!=", y); break
    print(len(a), "vs", len(b), "records"); sys.exit(1)
print(len(a), "records")
PY
  then pass "$1: metrics.jsonl records identical ($(cat "$WORK/mdiff.txt"))"
  else fail "$1: metrics.jsonl differs: $(head -c 400 "$WORK/mdiff.txt")"; fi
}

# expect_code NAME CODE cmd...: exit code must be CODE.
expect_code() {
  local name=$1 code=$2; shift 2
  local rc=0
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
  if [ "$rc" -eq "$code" ]; then pass "$name: exit $rc"
  else fail "$name: exit $rc, expected $code; stderr: $(tail -c 600 "$WORK/err.txt")"; fi
}

# latest_of RUN: the checkpoint `latest` names.
latest_of() { echo "$1/checkpoints/$(cat "$1/checkpoints/latest")"; }
