# Checkpoints: layout, round trips, atomic commit, resume (src/ckpt, src/train/{checkpointing,resume,signals}.c).
ht_unit_test(ckpt SOURCES unit/test_ckpt.c CASES
  round_trip_adamw round_trip_sgd_momentum shape_mismatch optimizer_mismatch
  rotate_keeps_newest_and_best async_writer_matches_sync writer_error_is_reported)
ht_e2e_test(ckpt_resume_sgd ckpt_resume.sh ARGS sgd TIMEOUT 300)
ht_e2e_test(ckpt_resume_adamw ckpt_resume.sh ARGS adamw TIMEOUT 300)
ht_e2e_test(ckpt_signal ckpt_signal.sh TIMEOUT 300)
ht_e2e_test(ckpt_signal_small ckpt_signal.sh ARGS 1024 30 TIMEOUT 300)
ht_e2e_test(ckpt_elastic ckpt_elastic.sh TIMEOUT 300)
ht_e2e_test(ckpt_crash ckpt_crash.sh TIMEOUT 300)
ht_e2e_test(ckpt_corrupt ckpt_corrupt.sh TIMEOUT 300)
ht_e2e_test(ckpt_disk ckpt_disk.sh TIMEOUT 300)
ht_e2e_test(ckpt_layout ckpt_layout.sh TIMEOUT 300)
ht_e2e_test(ckpt_resume_stream ckpt_resume_stream.sh TIMEOUT 300)
ht_e2e_test(ckpt_slurm_auto ckpt_slurm_auto.sh TIMEOUT 120)
# compute.backend auto keeps a resumed checkpoint's backend (needs oneDNN).
if(HT_HAVE_ONEDNN)
  ht_e2e_test(resume_backend resume_backend.sh TIMEOUT 300)
endif()
