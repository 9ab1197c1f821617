# Experiments: run listing, sweeps and cross-validation (no SLURM needed).
ht_e2e_test(runs_list runs_list.sh TIMEOUT 120)
ht_e2e_test(sweep sweep.sh TIMEOUT 300)
ht_e2e_test(sweep_errors sweep_errors.sh TIMEOUT 120)
ht_unit_test(folds SOURCES unit/test_folds.c CASES every_row_in_one_validation_fold err_bad_folds)
ht_e2e_test(cv cv.sh TIMEOUT 300)
ht_e2e_test(plot_runs plot_runs.sh TIMEOUT 180)
# The sweep queue thread on a small synthetic set (run by the sanitizer suites).
ht_e2e_test(sweep_small sweep_small.sh TIMEOUT 180)
