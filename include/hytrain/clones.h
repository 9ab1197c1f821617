/*
 * HT_CLONES: build a hot elementwise loop for several x86 ISA levels and let
 * the dynamic loader pick one (GCC and clang target_clones).
 */
#ifndef HYTRAIN_CLONES_H
#define HYTRAIN_CLONES_H

/* Function multi-versioning for the streaming loops (bf16 rounding, the
 * optimizer updates, the bias gradient, the relu backward): each is built
 * for x86-64-v4 (AVX-512 with byte/word ops, so 16 floats are narrowed to 16
 * bf16 patterns per instruction), AVX2 and the baseline, and the loader picks
 * the best the CPU runs. The results are the same bits in every version: the
 * loops are elementwise (or sum each element in a fixed order), the float
 * operations are the same IEEE operations in the same order (C17 mode keeps
 * GCC from contracting a*b+c into an FMA), the rounding is integer
 * arithmetic. ThreadSanitizer builds define HT_NO_TARGET_CLONES: the clones'
 * IFUNC resolvers run while the dynamic loader relocates, before the TSan
 * runtime is set up, and crash the program at start. */
#ifdef HT_NO_TARGET_CLONES
#define HT_CLONES
#else
#define HT_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif

#endif
