# Model, loss, layer and optimizer tests (src/model, src/optim).
set(HT_GRADCHECK_CASES
  dense_forward_by_hand dense_gradcheck dense_gradcheck_threads
  relu_gradcheck tanh_gradcheck sigmoid_gradcheck
  softmax_ce_by_hand sigmoid_bce_by_hand mse_by_hand hinge_by_hand
  softmax_ce_gradcheck sigmoid_bce_gradcheck mse_gradcheck hinge_gradcheck
  model_softmax_gradcheck model_logistic_gradcheck model_linear_gradcheck model_svm_gradcheck
  model_mlp_relu_gradcheck model_mlp_tanh_gradcheck model_mlp_sigmoid_gradcheck
  model_mlp_regression_gradcheck gradcheck_detects_errors)
if(HT_HAVE_ONEDNN)
  # The model gradient checks again with the analytic gradient from oneDNN.
  list(APPEND HT_GRADCHECK_CASES model_softmax_gradcheck_onednn model_logistic_gradcheck_onednn
       model_mlp_relu_gradcheck_onednn model_mlp_tanh_gradcheck_onednn model_mlp_regression_gradcheck_onednn
       model_mlp_relu_sliced_gradcheck_onednn)
endif()
ht_unit_test(gradcheck SOURCES unit/test_gradcheck.c TIMEOUT 120 CASES ${HT_GRADCHECK_CASES})

ht_unit_test(model SOURCES unit/test_model.c CASES
  layout_mlp layout_simple_models create_errors init_seeded init_scale ready_callback
  forward_eval_predict_softmax eval_logistic eval_regression l2_term step_deterministic bad_batch)

ht_unit_test(optim SOURCES unit/test_optim.c CASES
  sgd_plain sgd_momentum sgd_nesterov sgd_weight_decay sgd_nesterov_weight_decay adamw_steps
  optim_reference_loops update_slice_only update_threads_bitwise update_bf16_copy update_check optim_errors
  sched_constant_warmup sched_step_boundaries sched_cosine sched_errors)

# The GEMM backend (src/model/gemm*.c); the oneDNN cases only in a build with oneDNN.
set(HT_GEMM_CASES bf16_rounding openblas_fp32_reference openblas_bf16_reference gemm_errors openblas_weights_reported)
if(HT_HAVE_ONEDNN)
  list(APPEND HT_GEMM_CASES onednn_fp32_reference onednn_weights_reported bf16_matches_emulation onednn_deterministic
       model_step_backends model_step_deterministic onednn_weights_bf16_copy model_update_params)
endif()
ht_unit_test(gemm SOURCES unit/test_gemm.c TIMEOUT 120 CASES ${HT_GEMM_CASES})

# Sparse linear models (src/model/sparse_linear.c): loss gradients, the lazy-L2
# update against an eager double reference.
ht_unit_test(sparse SOURCES unit/test_sparse.c CASES
  logistic_gradcheck svm_gradcheck linear_gradcheck softmax_gradcheck gradcheck_detects_errors
  logistic_reference svm_reference linear_reference softmax_reference sparse_errors bias_replica hot_replica)
