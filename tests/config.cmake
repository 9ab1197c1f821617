# The configuration module: registry, YAML loading, --set, validation, output.
ht_unit_test(config SOURCES unit/test_config.c CASES
  defaults registry_consistent format_values list_table enum_round_trip wait_augment_round_trip
  load_nested load_dotted load_empty load_lists_bools_floats load_keeps_cfg_on_error
  err_unknown_key err_bad_int err_out_of_range err_bad_choice err_bad_list err_bad_bool_float
  err_bad_string err_malformed_yaml err_missing_file err_duplicate_key err_not_mapping
  set_overrides set_errors validate_errors write_round_trip path_resolution bcast_self)
