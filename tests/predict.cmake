# hytrain predict (src/train/predict.c) against the NumPy recipe, at 1 and 2 ranks.
ht_e2e_test(predict predict.sh TIMEOUT 300)
