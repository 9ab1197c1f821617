# Atomic, durable file replacement (src/core/fileio.c).
ht_unit_test(fileio SOURCES unit/test_fileio.c CASES
  write_creates_file_without_partial stream_commit_and_discard failed_rename_removes_partial
  missing_directory_leaves_nothing commit_without_partial_fails directory_fsync_paths partial_name_too_long)
