/* The x509-limbo harness protocol, shared by the C harnesses in validators/harnesses/.
 *
 * A harness reads a limbo testcase file on stdin and writes a limbo results file on stdout. This
 * module does the JSON (with cJSON) and the checks every harness here shares; each harness only
 * supplies `evaluate`, which runs one case through its library.
 *
 * Exit status: 0 when every case got a result; 2 on bad input (the message names the case and
 * field); 1 on an internal error of the harness itself.
 */
#ifndef ANCHORSMITH_LIMBO_HARNESS_H
#define ANCHORSMITH_LIMBO_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum limbo_outcome { LIMBO_SUCCESS, LIMBO_FAILURE, LIMBO_SKIPPED };

enum limbo_peer_kind { LIMBO_PEER_NONE, LIMBO_PEER_DNS, LIMBO_PEER_IP, LIMBO_PEER_RFC822 };

struct limbo_testcase {
    const char *id;
    /* validation_kind == "SERVER" (the alternative is "CLIENT"). */
    bool server;
    /* PEM strings, in the order of the file: anchors, then untrusted certificates as served. */
    const char **trusted;
    size_t n_trusted;
    const char **untrusted;
    size_t n_untrusted;
    const char *peer;
    /* validation_time, in whole seconds (a fraction is truncated); when absent, `now`. */
    bool has_time;
    time_t time;
    enum limbo_peer_kind peer_kind;
    /* expected_peer_name.value, or NULL. */
    const char *peer_name;
    /* Constraints the harnesses here cannot express; any of them makes a case SKIPPED. */
    size_t n_key_usage;
    size_t n_signature_algorithms;
    size_t n_crls;
    bool has_max_chain_depth;
    /* extended_key_usage lists something other than serverAuth. */
    const char *eku_other_than_server_auth;
};

struct limbo_result {
    enum limbo_outcome outcome;
    /* Owned, may be NULL. */
    char *context;
};

/* Sets outcome and a printf-formatted context. */
void limbo_set(struct limbo_result *result, enum limbo_outcome outcome, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a printf-formatted note to the context: "<context>; <note>", or "<note>" alone. For what
 * the library did besides its verdict, e.g. an anchor it could not load and left out. */
void limbo_note(struct limbo_result *result, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Why no harness here can run this case as asked, or NULL: CLIENT validation, max_chain_depth,
 * key_usage, signature_algorithms, CRLs, an RFC 822 peer name, an EKU other than serverAuth. */
const char *limbo_unsupported(const struct limbo_testcase *testcase);

/* The validation time of the case: its validation_time, else the current time. */
time_t limbo_validation_time(const struct limbo_testcase *testcase);

/* An expected_peer_name of kind IP as 4 or 16 raw bytes; returns the length, 0 if unparsable. */
size_t limbo_ip_bytes(const char *text, unsigned char out[16]);

/* A growable string, for chains and lists of error names. */
struct limbo_text {
    char *data;
    size_t len, cap;
};
void limbo_text_add(struct limbo_text *text, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands over the string (never NULL) and resets `text`. */
char *limbo_text_take(struct limbo_text *text);

/* Aborts the harness with exit status 1 (an internal error: out of memory, library init). */
void limbo_die(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));

typedef void (*limbo_evaluate_fn)(const struct limbo_testcase *testcase,
                                  struct limbo_result *result, void *context);

/* Reads the testcases from stdin, evaluates each, writes the results to stdout. `harness` is the
 * name and real runtime version, e.g. "gnutls 3.7.9". Returns the exit status. */
int limbo_main(const char *harness, limbo_evaluate_fn evaluate, void *context);

/* Bounds on one case evaluated in a child process. */
struct limbo_limits {
    /* Address space (RLIMIT_AS) of the child. */
    size_t memory_bytes;
    /* CPU time (RLIMIT_CPU), and twice that in wall time (alarm), of the child. */
    unsigned int seconds;
};

/* As limbo_main, but each case is evaluated in a forked child process within `limits`: for a
 * library with process-wide state that must not leak from one case into the next, or one that
 * can exhaust the machine on a pathological case. A case whose child hits a limit or dies is
 * SKIPPED with the reason ("resource limit: ..." or "error: ..."), because the library gave no
 * verdict: an allocation that failed under the limit can surface as an unrelated error code. */
int limbo_main_isolated(const char *harness, limbo_evaluate_fn evaluate, void *context,
                        const struct limbo_limits *limits);

#endif
