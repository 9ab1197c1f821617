/*
 * Durable, atomic file replacement, shared by every writer of a whole file
 * (checkpoints, converted datasets, timelines, sweep results, run files).
 *
 * A file NAME is never written in place: the writer writes NAME.partial,
 * then ht_file_commit fsyncs it, renames it over NAME and fsyncs the
 * directory, so after a crash NAME is either the old file or the complete
 * new one, and the rename itself survives a power loss. On any failure the
 * .partial file is removed, so bad input or a full disk leaves nothing
 * half-written behind. None of these functions is collective.
 */
#ifndef HYTRAIN_FILEIO_H
#define HYTRAIN_FILEIO_H

#include <stddef.h>
#include <stdio.h>

/* Room for a path and its ".partial" suffix. */
#define HT_FILE_PATH_MAX 4200

/* partial = "<path>.partial". Returns HT_EINVAL (message naming path) when it
 * does not fit in len bytes. */
int ht_file_partial_name(const char *path, char *partial, size_t len);

/* fsyncs the file (is_dir = 0) or directory (is_dir = 1) at path. */
int ht_file_fsync(const char *path, int is_dir);

/* The durability sequence after partial is written and closed: fsync partial,
 * rename it to path, fsync path's directory. Removes partial if the fsync or
 * the rename fails. Returns 0 or HT_EIO naming the file. */
int ht_file_commit(const char *partial, const char *path);

/* A file written through stdio and committed as a whole. */
typedef struct ht_file_out {
  FILE *f;
  char path[HT_FILE_PATH_MAX];
  char partial[HT_FILE_PATH_MAX];
} ht_file_out;

/* Opens <path>.partial for writing ("w"). Returns 0, HT_ENOENT (missing
 * directory) or HT_EIO, naming the file. */
int ht_file_open(ht_file_out *o, const char *path);

/* Flushes, checks for write errors, fsyncs and closes the stream, then
 * commits (ht_file_commit). On any failure the .partial file is removed. */
int ht_file_close_commit(ht_file_out *o);

/* Closes the stream and removes the .partial file (a writer that gave up). */
void ht_file_discard(ht_file_out *o);

/* Writes len bytes of data to path atomically and durably. */
int ht_file_write(const char *path, const void *data, size_t len);

/* Writes the string text to dir/name atomically and durably. */
int ht_write_file_atomic(const char *dir, const char *name, const char *text);

#endif
