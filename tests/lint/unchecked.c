/* Fixture for lint.errors_detects: scripts/lint-errors must flag both calls
 * below (an MPI and an HDF5 call outside the error macros) and accept the
 * wrapped and allow-listed ones. Never compiled. */
static int fixture(MPI_Comm comm, hid_t dcpl, hsize_t *chunk, const char *what) {
  MPI_Barrier(comm);
  H5Pset_fletcher32(dcpl);
  HT_CHECK_MPI(MPI_Barrier(comm));
  HT_CHECK_H5(H5Pset_chunk(dcpl, 1, chunk), what);
  H5Pclose(dcpl); /* "H5Pset_fletcher32(" in a comment is not a call */
  MPI_Abort(comm, 1);
  return 0;
}
