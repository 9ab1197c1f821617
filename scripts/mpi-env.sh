# Sourced by scripts: lets Open MPI run as root (CI and containers run as root)
# and defaults to one OpenMP thread per rank unless the caller chose.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
