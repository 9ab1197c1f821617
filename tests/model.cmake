# Model, loss, layer and optimizer tests (src/model, src/optim).
ht_unit_test(gradcheck SOURCES unit/test_gradcheck.c TIMEOUT 120 CASES
  dense_forward_by_hand dense_gradcheck dense_gradcheck_threads
  relu_gradcheck tanh_gradcheck sigmoid_gradcheck
  softmax_ce_by_hand sigmoid_bce_by_hand mse_by_hand hinge_by_hand
  softmax_ce_gradcheck sigmoid_bce_gradcheck mse_gradcheck hinge_gradcheck
  model_softmax_gradcheck model_logistic_gradcheck model_linear_gradcheck model_svm_gradcheck
  model_mlp_relu_gradcheck model_mlp_tanh_gradcheck model_mlp_sigmoid_gradcheck
  model_mlp_regression_gradcheck gradcheck_detects_errors)

ht_unit_test(model SOURCES unit/test_model.c CASES
  layout_mlp layout_simple_models create_errors init_seeded init_scale ready_callback
  forward_eval_predict_softmax eval_logistic eval_regression l2_term step_deterministic bad_batch)

ht_unit_test(optim SOURCES unit/test_optim.c CASES
  sgd_plain sgd_momentum sgd_nesterov sgd_weight_decay sgd_nesterov_weight_decay adamw_steps
  optim_reference_loops update_slice_only update_threads_bitwise optim_errors
  sched_constant_warmup sched_step_boundaries sched_cosine sched_errors)
