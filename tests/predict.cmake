# hytrain predict (src/train/predict.c) against the NumPy recipe, at 1 and 2 ranks.
ht_e2e_test(predict predict.sh TIMEOUT 300)
# inspect, predict (CSR, dense HDF5, LIBSVM text) and eval on sparse-model checkpoints.
ht_e2e_test(sparse_predict sparse_predict.sh TIMEOUT 300)
