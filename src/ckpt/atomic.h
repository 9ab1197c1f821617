/* Internal helpers shared by the checkpoint writers. */
#ifndef HT_CKPT_ATOMIC_H
#define HT_CKPT_ATOMIC_H

/* fsync a file or (is_dir) a directory by path. */
int ht__fsync_path(const char *path, int is_dir);

/* fsyncs partial, renames it to final_path, fsyncs the directory; removes
 * partial if the rename fails. */
int ht__commit_partial(const char *partial, const char *final_path);

#endif
