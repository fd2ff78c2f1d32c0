/* The x509-limbo harness protocol (see limbo_harness.h). */
#define _GNU_SOURCE
#include "limbo_harness.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Allocation failures are counted, so an isolated case that ran out of its memory limit is
 * reported as such rather than by whatever error the library made of a NULL from malloc. The
 * wrappers forward to glibc's own allocator, so memory from either side may be freed by the
 * other. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
static volatile sig_atomic_t allocation_failures;

void *malloc(size_t size) {
    void *pointer = __libc_malloc(size);
    if (!pointer && size)
        allocation_failures = 1;
    return pointer;
}

void *calloc(size_t count, size_t size) {
    void *pointer = __libc_calloc(count, size);
    if (!pointer && count && size)
        allocation_failures = 1;
    return pointer;
}

void *realloc(void *old, size_t size) {
    void *pointer = __libc_realloc(old, size);
    if (!pointer && size)
        allocation_failures = 1;
    return pointer;
}

void limbo_die(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("harness: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

/* Bad input: the message names the case and the field, then exit status 2. */
static void __attribute__((format(printf, 3, 4), noreturn))
bad_input(const char *id, const char *field, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "harness: bad input: testcase `%s`, field `%s`: ", id ? id : "?", field);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(2);
}

void limbo_set(struct limbo_result *result, enum limbo_outcome outcome, const char *format, ...) {
    va_list args;
    va_start(args, format);
    free(result->context);
    result->context = NULL;
    if (vasprintf(&result->context, format, args) < 0)
        limbo_die("out of memory");
    va_end(args);
    result->outcome = outcome;
}

void limbo_note(struct limbo_result *result, const char *format, ...) {
    va_list args;
    va_start(args, format);
    char *note = NULL;
    if (vasprintf(&note, format, args) < 0)
        limbo_die("out of memory");
    va_end(args);
    char *context = NULL;
    if (asprintf(&context, "%s%s%s", result->context ? result->context : "",
                 result->context ? "; " : "", note) < 0)
        limbo_die("out of memory");
    free(note);
    free(result->context);
    result->context = context;
}

void limbo_text_add(struct limbo_text *text, const char *format, ...) {
    va_list args;
    va_start(args, format);
    char *piece = NULL;
    int len = vasprintf(&piece, format, args);
    va_end(args);
    if (len < 0)
        limbo_die("out of memory");
    if (text->len + (size_t)len + 1 > text->cap) {
        size_t cap = (text->cap ? text->cap * 2 : 64);
        while (cap < text->len + (size_t)len + 1)
            cap *= 2;
        text->data = realloc(text->data, cap);
        if (!text->data)
            limbo_die("out of memory");
        text->cap = cap;
    }
    memcpy(text->data + text->len, piece, (size_t)len + 1);
    text->len += (size_t)len;
    free(piece);
}

char *limbo_text_take(struct limbo_text *text) {
    char *data = text->data ? text->data : strdup("");
    if (!data)
        limbo_die("out of memory");
    text->data = NULL;
    text->len = text->cap = 0;
    return data;
}

const char *limbo_unsupported(const struct limbo_testcase *testcase) {
    if (!testcase->server)
        return "CLIENT validation is not supported by this harness";
    if (testcase->has_max_chain_depth)
        return "max_chain_depth cannot be expressed through this library's API";
    if (testcase->n_key_usage)
        return "key_usage constraints cannot be expressed through this library's API";
    if (testcase->n_signature_algorithms)
        return "signature_algorithms constraints cannot be expressed through this library's API";
    if (testcase->n_crls)
        return "CRLs are not supported by this harness";
    if (testcase->peer_kind == LIMBO_PEER_RFC822)
        return "an RFC 822 expected_peer_name is not supported for SERVER validation";
    if (testcase->eku_other_than_server_auth)
        return "extended_key_usage other than serverAuth is not supported by this harness";
    return NULL;
}

time_t limbo_validation_time(const struct limbo_testcase *testcase) {
    if (testcase->has_time)
        return testcase->time;
    /* The real clock, asked of the kernel directly: a harness that moves its clock with
     * libfaketime (faketime.c) would otherwise get the previous case's time. */
    struct timespec now;
    if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &now) != 0)
        limbo_die("clock_gettime: %s", strerror(errno));
    return now.tv_sec;
}

size_t limbo_ip_bytes(const char *text, unsigned char out[16]) {
    if (inet_pton(AF_INET, text, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, text, out) == 1)
        return 16;
    return 0;
}

/* RFC 3339 (`2024-04-01T00:00:00.005+00:00`, `...Z`) as seconds since the epoch; the fraction is
 * truncated because every library here takes whole seconds. Returns false if malformed. */
static bool parse_rfc3339(const char *text, time_t *out) {
    struct tm tm = {0};
    int consumed = 0;
    if (sscanf(text, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed == 0)
        return false;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
        return false;
    const char *rest = text + consumed;
    if (*rest == '.') {
        rest++;
        if (!isdigit((unsigned char)*rest))
            return false;
        while (isdigit((unsigned char)*rest))
            rest++;
    }
    long offset = 0;
    if (*rest == 'Z' || *rest == 'z') {
        rest++;
    } else if (*rest == '+' || *rest == '-') {
        int hours, minutes, used = 0;
        if (sscanf(rest + 1, "%2d:%2d%n", &hours, &minutes, &used) != 2 || used != 5)
            return false;
        offset = (hours * 3600L + minutes * 60L) * (*rest == '-' ? -1 : 1);
        rest += 1 + used;
    } else {
        return false;
    }
    if (*rest != '\0')
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm) - offset;
    return true;
}

static const char *string_field(const cJSON *object, const char *name, const char *id,
                                bool required) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (!item || cJSON_IsNull(item)) {
        if (required)
            bad_input(id, name, "missing");
        return NULL;
    }
    if (!cJSON_IsString(item))
        bad_input(id, name, "expected a string");
    return item->valuestring;
}

/* A string array field (absent = empty). The returned array is owned by the caller. */
static const char **string_array(const cJSON *object, const char *name, const char *id,
                                 size_t *count) {
    const cJSON *array = cJSON_GetObjectItemCaseSensitive(object, name);
    *count = 0;
    if (!array || cJSON_IsNull(array))
        return NULL;
    if (!cJSON_IsArray(array))
        bad_input(id, name, "expected an array");
    size_t n = (size_t)cJSON_GetArraySize(array);
    const char **items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        limbo_die("out of memory");
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (!cJSON_IsString(item))
            bad_input(id, name, "expected an array of strings (item %zu)", *count);
        items[(*count)++] = item->valuestring;
    }
    return items;
}

static void read_testcase(const cJSON *json, struct limbo_testcase *testcase) {
    memset(testcase, 0, sizeof *testcase);
    if (!cJSON_IsObject(json))
        bad_input(NULL, "testcases", "expected an array of objects");
    testcase->id = string_field(json, "id", NULL, true);
    const char *id = testcase->id;
    const char *kind = string_field(json, "validation_kind", id, true);
    if (strcmp(kind, "SERVER") == 0)
        testcase->server = true;
    else if (strcmp(kind, "CLIENT") != 0)
        bad_input(id, "validation_kind", "expected SERVER or CLIENT, got `%s`", kind);
    testcase->trusted = string_array(json, "trusted_certs", id, &testcase->n_trusted);
    testcase->untrusted =
        string_array(json, "untrusted_intermediates", id, &testcase->n_untrusted);
    testcase->peer = string_field(json, "peer_certificate", id, true);

    const char *when = string_field(json, "validation_time", id, false);
    if (when) {
        if (!parse_rfc3339(when, &testcase->time))
            bad_input(id, "validation_time", "not an RFC 3339 date-time: `%s`", when);
        testcase->has_time = true;
    }

    const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "expected_peer_name");
    if (name && !cJSON_IsNull(name)) {
        const char *name_kind = string_field(name, "kind", id, true);
        testcase->peer_name = string_field(name, "value", id, true);
        if (strcmp(name_kind, "DNS") == 0)
            testcase->peer_kind = LIMBO_PEER_DNS;
        else if (strcmp(name_kind, "IP") == 0)
            testcase->peer_kind = LIMBO_PEER_IP;
        else if (strcmp(name_kind, "RFC822") == 0)
            testcase->peer_kind = LIMBO_PEER_RFC822;
        else
            bad_input(id, "expected_peer_name.kind", "expected DNS, IP or RFC822, got `%s`",
                      name_kind);
    }

    size_t n_eku;
    const char **ekus = string_array(json, "extended_key_usage", id, &n_eku);
    for (size_t i = 0; i < n_eku; i++)
        if (strcmp(ekus[i], "serverAuth") != 0)
            testcase->eku_other_than_server_auth = ekus[i];
    free(ekus);
    free(string_array(json, "key_usage", id, &testcase->n_key_usage));
    free(string_array(json, "signature_algorithms", id, &testcase->n_signature_algorithms));
    free(string_array(json, "crls", id, &testcase->n_crls));
    const cJSON *depth = cJSON_GetObjectItemCaseSensitive(json, "max_chain_depth");
    testcase->has_max_chain_depth = depth && !cJSON_IsNull(depth);
}

static char *read_stdin(size_t *length) {
    size_t cap = 1 << 20, len = 0;
    char *data = malloc(cap);
    if (!data)
        limbo_die("out of memory");
    for (;;) {
        if (len == cap) {
            cap *= 2;
            data = realloc(data, cap);
            if (!data)
                limbo_die("out of memory");
        }
        size_t got = fread(data + len, 1, cap - len, stdin);
        len += got;
        if (got == 0) {
            if (ferror(stdin))
                limbo_die("cannot read stdin");
            break;
        }
    }
    *length = len;
    return data;
}

static const char *outcome_name(enum limbo_outcome outcome) {
    switch (outcome) {
    case LIMBO_SUCCESS:
        return "SUCCESS";
    case LIMBO_FAILURE:
        return "FAILURE";
    case LIMBO_SKIPPED:
        return "SKIPPED";
    }
    return "SKIPPED";
}

static bool write_all(int fd, const void *data, size_t length) {
    const char *bytes = data;
    while (length > 0) {
        ssize_t written = write(fd, bytes, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return false;
        bytes += written;
        length -= (size_t)written;
    }
    return true;
}

/* The child's report: one byte of outcome, then the context (absent when NULL). */
static void evaluate_in_child(const struct limbo_testcase *testcase, struct limbo_result *result,
                              limbo_evaluate_fn evaluate, void *context,
                              const struct limbo_limits *limits) {
    int channel[2];
    if (pipe(channel) != 0)
        limbo_die("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t child = fork();
    if (child < 0)
        limbo_die("fork: %s", strerror(errno));
    if (child == 0) {
        close(channel[0]);
        struct rlimit memory = {limits->memory_bytes, limits->memory_bytes};
        struct rlimit cpu = {limits->seconds, limits->seconds};
        if (setrlimit(RLIMIT_AS, &memory) != 0 || setrlimit(RLIMIT_CPU, &cpu) != 0)
            _exit(3);
        alarm(limits->seconds * 2);
        allocation_failures = 0;
        evaluate(testcase, result, context);
        if (allocation_failures)
            limbo_set(result, LIMBO_SKIPPED,
                      "resource limit: an allocation failed within the %zu MiB memory limit, so "
                      "the library's answer is not a verdict",
                      limits->memory_bytes >> 20);
        char outcome = (char)('0' + result->outcome);
        bool ok = write_all(channel[1], &outcome, 1) &&
                  (!result->context ||
                   write_all(channel[1], result->context, strlen(result->context)));
        _exit(ok ? 0 : 4);
    }
    close(channel[1]);
    struct limbo_text report = {0};
    char buffer[4096];
    for (;;) {
        ssize_t got = read(channel[0], buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        limbo_text_add(&report, "%.*s", (int)got, buffer);
    }
    close(channel[0]);
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            limbo_die("waitpid: %s", strerror(errno));
    char *text = limbo_text_take(&report);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && text[0] >= '0' && text[0] <= '2') {
        result->outcome = (enum limbo_outcome)(text[0] - '0');
        result->context = text[1] ? strdup(text + 1) : NULL;
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
        limbo_set(result, LIMBO_SKIPPED, "resource limit: more than %u s of CPU time",
                  limits->seconds);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        limbo_set(result, LIMBO_SKIPPED, "resource limit: more than %u s of wall time",
                  limits->seconds * 2);
    } else if (WIFSIGNALED(status)) {
        limbo_set(result, LIMBO_SKIPPED, "error: the case's child process died of signal %d (%s)",
                  WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        limbo_set(result, LIMBO_SKIPPED, "error: the case's child process exited with status %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    free(text);
}

static int run(const char *harness, limbo_evaluate_fn evaluate, void *context,
               const struct limbo_limits *limits) {
    size_t length;
    char *input = read_stdin(&length);
    cJSON *limbo = cJSON_ParseWithLength(input, length);
    if (!limbo) {
        const char *where = cJSON_GetErrorPtr();
        fprintf(stderr, "harness: bad input: stdin is not JSON (near byte %td)\n",
                where ? where - input : (ptrdiff_t)-1);
        return 2;
    }
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(limbo, "version");
    if (!cJSON_IsNumber(version) || version->valueint != 1)
        bad_input(NULL, "version", "expected 1");
    const cJSON *testcases = cJSON_GetObjectItemCaseSensitive(limbo, "testcases");
    if (!cJSON_IsArray(testcases))
        bad_input(NULL, "testcases", "expected an array");

    cJSON *output = cJSON_CreateObject();
    cJSON_AddNumberToObject(output, "version", 1);
    cJSON_AddStringToObject(output, "harness", harness);
    cJSON *results = cJSON_AddArrayToObject(output, "results");
    if (!output || !results)
        limbo_die("out of memory");

    const cJSON *json;
    cJSON_ArrayForEach(json, testcases) {
        struct limbo_testcase testcase;
        read_testcase(json, &testcase);
        struct limbo_result result = {LIMBO_SKIPPED, NULL};
        const char *unsupported = limbo_unsupported(&testcase);
        if (unsupported)
            limbo_set(&result, LIMBO_SKIPPED, "%s", unsupported);
        else if (limits)
            evaluate_in_child(&testcase, &result, evaluate, context, limits);
        else
            evaluate(&testcase, &result, context);

        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "id", testcase.id);
        cJSON_AddStringToObject(entry, "actual_result", outcome_name(result.outcome));
        if (result.context)
            cJSON_AddStringToObject(entry, "context", result.context);
        else
            cJSON_AddNullToObject(entry, "context");
        cJSON_AddItemToArray(results, entry);
        free(result.context);
        free(testcase.trusted);
        free(testcase.untrusted);
    }

    char *text = cJSON_PrintUnformatted(output);
    if (!text)
        limbo_die("out of memory");
    puts(text);
    free(text);
    cJSON_Delete(output);
    cJSON_Delete(limbo);
    free(input);
    return fflush(stdout) == 0 ? 0 : 1;
}

int limbo_main(const char *harness, limbo_evaluate_fn evaluate, void *context) {
    return run(harness, evaluate, context, NULL);
}

int limbo_main_isolated(const char *harness, limbo_evaluate_fn evaluate, void *context,
                        const struct limbo_limits *limits) {
    return run(harness, evaluate, context, limits);
}
