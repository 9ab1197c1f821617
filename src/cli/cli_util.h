/*
 * Helpers shared by the subcommands (src/cli/cmd_*.c): error reporting and
 * argument parsing. main.c dispatches to the commands; neither calls back
 * into main.c.
 */
#ifndef HT_CLI_UTIL_H
#define HT_CLI_UTIL_H

/* Prints "hytrain <cmd>: error: <message>" (and the HT_CHECK trace when the
 * environment has HT_DEBUG=1) to stderr; returns ht_exit_code(code). With no
 * recorded message it prints ht_strerror(code) and the innermost HT_CHECK
 * call site, so a failure never prints an empty line; it stays silent only
 * when another rank reports the failure (ht_error_deferred). */
int ht_cli_fail(const char *cmd, int code);

/* Parses the value of option opt as a decimal integer in [min, max]; records
 * "OPT: expected an integer >= MIN, got 'TEXT'" and returns HT_EUSAGE
 * otherwise. */
int ht_cli_parse_int(const char *opt, const char *text, int min, int max, int *out);

#endif
