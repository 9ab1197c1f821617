# The progress line (log.progress) under each way of starting hytrain:
#  - redrawn in place (carriage returns without a newline) only when a person
#    watches: hytrain run directly on a terminal, or mpirun whose own output
#    is a terminal; plain lines with hytrain > file and mpirun > file (where
#    Open MPI still gives each rank a pseudo-terminal: the issue's symptom);
#  - log.progress=bar / lines force either;
#  - log.txt always holds the plain step lines and no carriage return.
# `script` (util-linux) gives the commands a terminal. srun is tested in
# tests/slurm/binding.sh.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
$PY - "$WORK/d.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(2)
x = rng.standard_normal((400, 8)).astype(np.float32)
with h5py.File(sys.argv[1], "w") as f:
    f["features"] = x
    f["labels"] = (x[:, 1] > 0).astype(np.int32)
    f.attrs["num_classes"] = 2
PY
cat >cfg.yaml <<YAML
model: {type: softmax}
train: {epochs: 1, max_steps: 8, batch_size: 20, seed: 1, log_every: 2}
data: {train: d.h5}
YAML
MPI=("$MPIEXEC" -n 2 --oversubscribe --bind-to none)
# redraws FILE: carriage returns not followed by a newline (a terminal turns
# every \n into \r\n, which is not a redraw).
redraws() { $PY -c 'import re, sys; print(len(re.findall(rb"\r(?!\n)", open(sys.argv[1], "rb").read())))' "$1"; }
# on_tty OUT CMD...: runs CMD on a fresh pseudo-terminal, its output in OUT.
on_tty() { local out=$1; shift; script -qec "$(printf '%q ' "$@")" "$out" >/dev/null </dev/null; }
# check NAME OUT EXPECT(bar|lines): the output and the run's log.txt.
check() {
  local name=$1 out=$2 want=$3 n
  n=$(redraws "$out")
  if [ "$want" = bar ]; then
    [ "$n" -ge 4 ] && pass "$name: $n redraws of the progress line" || fail "$name: $n redraws, expected a live line: $(head -c 600 "$out" | cat -A)"
  else
    [ "$n" -eq 0 ] && pass "$name: plain lines, no redraw" || fail "$name: $n redraws in $out: $(head -c 600 "$out" | cat -A)"
    [ "$(grep -c '^  epoch 1/1  step [0-9]*/8 ' "$out")" -eq 4 ] && pass "$name: 4 step lines in the output" || fail "$name: step lines in the output: $(grep -c 'step' "$out")"
  fi
  local steps cr
  steps=$(grep -c '^  epoch 1/1  step [0-9]*/8 ' "$WORK/$name/log.txt" || true)
  cr=$(tr -cd '\r' <"$WORK/$name/log.txt" | wc -c)
  [ "$steps" -eq 4 ] && [ "$cr" -eq 0 ] && pass "$name: log.txt has the 4 plain step lines" ||
    fail "$name: log.txt has $steps step lines and $cr carriage returns, expected 4 and 0"
}
"$HYTRAIN" train cfg.yaml --run-dir "$WORK/direct_file" >direct_file.out
check direct_file direct_file.out lines
on_tty direct_tty.out "$HYTRAIN" train cfg.yaml --run-dir "$WORK/direct_tty"
check direct_tty direct_tty.out bar
"${MPI[@]}" "$HYTRAIN" train cfg.yaml --run-dir "$WORK/mpirun_file" >mpirun_file.out
check mpirun_file mpirun_file.out lines
on_tty mpirun_tty.out "${MPI[@]}" "$HYTRAIN" train cfg.yaml --run-dir "$WORK/mpirun_tty"
check mpirun_tty mpirun_tty.out bar
"${MPI[@]}" "$HYTRAIN" train cfg.yaml --run-dir "$WORK/forced_bar" --set log.progress=bar >forced_bar.out
check forced_bar forced_bar.out bar
on_tty forced_lines.out "${MPI[@]}" "$HYTRAIN" train cfg.yaml --run-dir "$WORK/forced_lines" --set log.progress=lines
check forced_lines forced_lines.out lines
finish
