/* The validation time through libfaketime, for libraries that read the system clock and offer no
 * time parameter or hook at run time (mbedTLS 2.28 without MBEDTLS_PLATFORM_TIME_ALT).
 *
 * limbo_faketime_init re-executes the harness once with libfaketime preloaded (its path is
 * compiled in as LIMBO_FAKETIME_LIB), caching disabled and TZ=UTC0; limbo_faketime_set then
 * moves the clock of the whole process for each case, and checks that it moved, so a case never
 * runs at the wrong time. */
#ifndef ANCHORSMITH_FAKETIME_H
#define ANCHORSMITH_FAKETIME_H

#include <time.h>

/* Returns only once libfaketime is active; otherwise re-executes the program. */
void limbo_faketime_init(char **argv);

/* Freezes the process clock at `when`; dies if the clock does not follow. */
void limbo_faketime_set(time_t when);

/* "libfaketime <path>", for the harness string. */
const char *limbo_faketime_description(void);

#endif
