# Experiments: run listing, sweeps and cross-validation (no SLURM needed).
ht_e2e_test(runs_list runs_list.sh TIMEOUT 120)
