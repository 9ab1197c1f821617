/* Helpers shared by the subcommands: error lines and integer arguments. */
#include "cli/cli_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"

/* The innermost HT_CHECK site of the trace ("  at file:line func\n..."),
 * without the indent and newline; "" when there is no trace. */
static void first_call_site(char *buf, size_t len) {
  const char *t = ht_error_trace();
  buf[0] = '\0';
  if (strncmp(t, "  at ", 5) != 0) return;
  t += 5;
  size_t n = strcspn(t, "\n");
  snprintf(buf, len, "%.*s", (int)n, t);
}

int ht_cli_fail(const char *cmd, int code) {
  const char *msg = ht_error_message();
  if (msg[0]) {
    fprintf(stderr, "hytrain %s: error: %s\n", cmd, msg);
    const char *debug = getenv("HT_DEBUG");
    if (debug && debug[0] == '1' && ht_error_trace()[0]) fputs(ht_error_trace(), stderr);
  } else if (!ht_error_deferred()) {
    /* A failure that recorded no message is a bug, but the user still sees
     * what failed and where. */
    char site[256];
    first_call_site(site, sizeof site);
    if (site[0])
      fprintf(stderr, "hytrain %s: error: %s (at %s)\n", cmd, ht_strerror(code), site);
    else
      fprintf(stderr, "hytrain %s: error: %s\n", cmd, ht_strerror(code));
  }
  fflush(stderr);
  return ht_exit_code(code);
}

int ht_cli_parse_int(const char *opt, const char *text, int min, int max, int *out) {
  char *end;
  long v = strtol(text, &end, 10);
  if (end == text || *end || v < min || v > max)
    return ht_error(HT_EUSAGE, "%s: expected an integer >= %d, got '%s'", opt, min, text);
  *out = (int)v;
  return 0;
}
