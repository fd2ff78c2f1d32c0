/* The validation time through libfaketime (see faketime.h). */
#define _GNU_SOURCE
#include "faketime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limbo_harness.h"

#ifndef LIMBO_FAKETIME_LIB
#error "build with -DLIMBO_FAKETIME_LIB=\"/path/to/libfaketime.so.1\""
#endif

/* Set in the re-executed process, so it does not re-execute again. */
#define ACTIVE_MARKER "ANCHORSMITH_FAKETIME_ACTIVE"

void limbo_faketime_init(char **argv) {
    if (getenv(ACTIVE_MARKER)) {
        /* The marker without the clock following would mean the preload did not happen. */
        limbo_faketime_set(86400);
        return;
    }
    if (access(LIMBO_FAKETIME_LIB, R_OK) != 0)
        limbo_die("libfaketime not found at %s (Debian package faketime)", LIMBO_FAKETIME_LIB);
    const char *preload = getenv("LD_PRELOAD");
    char *value = NULL;
    if (asprintf(&value, "%s%s%s", LIMBO_FAKETIME_LIB, preload && *preload ? ":" : "",
                 preload ? preload : "") < 0)
        limbo_die("out of memory");
    /* Cases move the clock with setenv("FAKETIME"); without the cache libfaketime re-reads it on
     * every call. Absolute FAKETIME dates are local time, hence TZ. */
    if (setenv("LD_PRELOAD", value, 1) || setenv("FAKETIME_NO_CACHE", "1", 1) ||
        setenv("TZ", "UTC0", 1) || setenv("FAKETIME", "1970-01-02 00:00:00", 1) ||
        setenv(ACTIVE_MARKER, "1", 1))
        limbo_die("setenv: %s", strerror(errno));
    execv("/proc/self/exe", argv);
    limbo_die("cannot re-execute under libfaketime: %s", strerror(errno));
}

void limbo_faketime_set(time_t when) {
    struct tm tm;
    char spec[64];
    if (!gmtime_r(&when, &tm) || !strftime(spec, sizeof spec, "%Y-%m-%d %H:%M:%S", &tm))
        limbo_die("cannot format time %lld", (long long)when);
    if (setenv("FAKETIME", spec, 1) != 0)
        limbo_die("setenv: %s", strerror(errno));
    time_t now = time(NULL);
    if (now != when)
        limbo_die("libfaketime is not in effect: asked for %s UTC (%lld), the clock says %lld",
                  spec, (long long)when, (long long)now);
}

const char *limbo_faketime_description(void) {
    return "libfaketime " LIMBO_FAKETIME_LIB;
}
