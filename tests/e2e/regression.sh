# The linear-regression example: generated data (scripts/make-regression-data),
# configs/regression_linear.yaml as written but for the data paths, 2 ranks.
# The test RMSE must approach the noise level (0.05): < 0.08.
. "$(dirname "$0")/lib.sh"
$PY "$HT_SOURCE_DIR/scripts/make-regression-data" --out "$WORK/reg" >/dev/null
mpi 2 train "$HT_SOURCE_DIR/configs/regression_linear.yaml" --set data.train="$WORK/reg/train.h5" \
  --set data.test="$WORK/reg/test.h5" --run-dir "$WORK/run" >/dev/null
check_backend "$WORK/run"
rmse=$(last_epoch_field "$WORK/run/metrics.jsonl" test_rmse)
if ge 0.08 "$rmse"; then pass "regression test RMSE $rmse < 0.08"; else fail "regression test RMSE $rmse >= 0.08"; fi
ev=$(mpi 1 eval "$WORK/run/checkpoints/$(cat "$WORK/run/checkpoints/latest")")
evrmse=$(echo "$ev" | sed -n 's/.*rmse \([0-9.]*\).*/\1/p')
$PY -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<1e-6 else 1)' "$rmse" "$evrmse" \
  && pass "hytrain eval RMSE $evrmse equals the run's" || fail "hytrain eval: '$ev' vs run RMSE $rmse"
finish
