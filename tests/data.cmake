# Tests of the data module: dataset files, sharding, normalisation, converters.
ht_unit_test(dataset SOURCES unit/test_dataset.c CASES
  shard_range_covers_rows write_then_probe read_shards_values read_regression_targets
  read_uint8_labels read_converted_types err_nonstandard_types read_half_features err_half_nonfinite
  err_half_exact read_h5py_float16 read_empty_shard err_missing_file err_not_hdf5 err_features_missing
  err_features_3d err_labels_missing_and_bad err_rows_mismatch num_classes_inferred
  err_label_out_of_range err_feature_nan_inf err_target_nan write_failures_leave_nothing
  write_replaces_existing norm_known_stats norm_constant_feature norm_apply_standardises
  norm_disabled_is_identity)

ht_unit_test(convert SOURCES unit/test_convert.c CASES
  idx_roundtrip_plain idx_roundtrip_gzip idx_err_bad_magic idx_err_truncated
  idx_err_count_mismatch idx_fashion_mnist_t10k csv_header_label_last
  csv_no_header_label_first csv_regress_tab_crlf csv_long_lines csv_err_columns
  csv_err_number csv_err_labels libsvm_roundtrip libsvm_dims_regress libsvm_err_format
  libsvm_err_indices)

ht_mpi_test(shard SOURCES mpi/test_shard.c RANKS 1 2 4)
ht_mpi_test(csr_shard SOURCES mpi/test_csr_shard.c RANKS 1 2 4 TIMEOUT 60)
ht_e2e_test(num_classes num_classes.sh TIMEOUT 180)
# The CSR stream loader (data.mode stream for the sparse engines): every row
# once per epoch, chunk sizes, memory mode's order with a whole-shard window,
# restarts, errors naming file and row.
ht_unit_test(csr_stream SOURCES unit/test_csr_stream.c CASES
  every_row_once full_window_is_memory_order restart_mid_epoch err_bad_value err_file_changed)
