/* An x509-limbo harness for Mbed TLS 2.28: mbedtls_x509_crt_verify_with_profile, as the TLS
 * client does it (ssl_parse_certificate): the peer followed by the untrusted certificates in served
 * order form the chain, the anchors the trusted CA list, the profile is
 * mbedtls_x509_crt_profile_default (what mbedtls_ssl_config_defaults selects), the expected DNS
 * name is the `cn` argument, and the peer must then pass
 * mbedtls_x509_crt_check_extended_key_usage for serverAuth (the TLS layer's check; it also checks
 * keyUsage against the negotiated cipher suite, which has no counterpart here).
 *
 * Not expressible, so SKIPPED: an expected IP address (2.28 matches the name against dNSName
 * and CN only, as text).
 *
 * Validation time: Mbed TLS reads the system clock (time()), and this Debian build has no
 * run-time hook (MBEDTLS_PLATFORM_TIME_ALT is off), so the clock is moved with libfaketime for each
 * case (common/faketime.c).
 *
 * Context on FAILURE: the verification flags by their Mbed TLS names and value, then
 * mbedtls_x509_crt_verify_info's text; or the error code and mbedtls_strerror's text. On SUCCESS:
 * the chain from the verify callback.
 */
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/faketime.h"
#include "../common/limbo_harness.h"

static const struct {
    uint32_t bit;
    const char *name;
} FLAG_NAMES[] = {
    {MBEDTLS_X509_BADCERT_EXPIRED, "MBEDTLS_X509_BADCERT_EXPIRED"},
    {MBEDTLS_X509_BADCERT_REVOKED, "MBEDTLS_X509_BADCERT_REVOKED"},
    {MBEDTLS_X509_BADCERT_CN_MISMATCH, "MBEDTLS_X509_BADCERT_CN_MISMATCH"},
    {MBEDTLS_X509_BADCERT_NOT_TRUSTED, "MBEDTLS_X509_BADCERT_NOT_TRUSTED"},
    {MBEDTLS_X509_BADCRL_NOT_TRUSTED, "MBEDTLS_X509_BADCRL_NOT_TRUSTED"},
    {MBEDTLS_X509_BADCRL_EXPIRED, "MBEDTLS_X509_BADCRL_EXPIRED"},
    {MBEDTLS_X509_BADCERT_MISSING, "MBEDTLS_X509_BADCERT_MISSING"},
    {MBEDTLS_X509_BADCERT_SKIP_VERIFY, "MBEDTLS_X509_BADCERT_SKIP_VERIFY"},
    {MBEDTLS_X509_BADCERT_OTHER, "MBEDTLS_X509_BADCERT_OTHER"},
    {MBEDTLS_X509_BADCERT_FUTURE, "MBEDTLS_X509_BADCERT_FUTURE"},
    {MBEDTLS_X509_BADCRL_FUTURE, "MBEDTLS_X509_BADCRL_FUTURE"},
    {MBEDTLS_X509_BADCERT_KEY_USAGE, "MBEDTLS_X509_BADCERT_KEY_USAGE"},
    {MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "MBEDTLS_X509_BADCERT_EXT_KEY_USAGE"},
    {MBEDTLS_X509_BADCERT_NS_CERT_TYPE, "MBEDTLS_X509_BADCERT_NS_CERT_TYPE"},
    {MBEDTLS_X509_BADCERT_BAD_MD, "MBEDTLS_X509_BADCERT_BAD_MD"},
    {MBEDTLS_X509_BADCERT_BAD_PK, "MBEDTLS_X509_BADCERT_BAD_PK"},
    {MBEDTLS_X509_BADCERT_BAD_KEY, "MBEDTLS_X509_BADCERT_BAD_KEY"},
    {MBEDTLS_X509_BADCRL_BAD_MD, "MBEDTLS_X509_BADCRL_BAD_MD"},
    {MBEDTLS_X509_BADCRL_BAD_PK, "MBEDTLS_X509_BADCRL_BAD_PK"},
    {MBEDTLS_X509_BADCRL_BAD_KEY, "MBEDTLS_X509_BADCRL_BAD_KEY"},
};

/* "MBEDTLS_X509_BADCERT_EXPIRED (0x1): The certificate validity has expired" */
static char *describe_flags(uint32_t flags) {
    struct limbo_text text = {0};
    uint32_t named = 0;
    for (size_t i = 0; i < sizeof FLAG_NAMES / sizeof FLAG_NAMES[0]; i++) {
        if (flags & FLAG_NAMES[i].bit) {
            limbo_text_add(&text, "%s%s", named ? "|" : "", FLAG_NAMES[i].name);
            named |= FLAG_NAMES[i].bit;
        }
    }
    if (flags & ~named)
        limbo_text_add(&text, "%sunnamed bits 0x%x", named ? "|" : "", flags & ~named);
    limbo_text_add(&text, " (0x%x)", flags);
    char info[1024];
    if (mbedtls_x509_crt_verify_info(info, sizeof info, "", flags) > 0) {
        /* One line per flag, each ending in a newline. */
        const char *separator = ": ";
        for (char *line = strtok(info, "\n"); line; line = strtok(NULL, "\n")) {
            limbo_text_add(&text, "%s%s", separator, line);
            separator = "; ";
        }
    }
    return limbo_text_take(&text);
}

static void fail_with_error(struct limbo_result *result, const char *what, int error) {
    char text[256];
    mbedtls_strerror(error, text, sizeof text);
    limbo_set(result, LIMBO_FAILURE, "%s: -0x%04x: %s", what, (unsigned int)-error, text);
}

/* The subject's CN, else the subject DN, else "(empty subject)". */
static void append_name(struct limbo_text *text, const mbedtls_x509_crt *crt) {
    for (const mbedtls_x509_name *name = &crt->subject; name; name = name->next) {
        if (name->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) == 0) {
            limbo_text_add(text, "%.*s", (int)name->val.len, (const char *)name->val.p);
            return;
        }
    }
    char dn[512];
    if (mbedtls_x509_dn_gets(dn, sizeof dn, &crt->subject) > 0)
        limbo_text_add(text, "%s", dn);
    else
        limbo_text_add(text, "(empty subject)");
}

/* The verify callback sees each certificate of the chain it verifies, anchor first, with its
 * depth (0 = the peer). */
#define MAX_DEPTH 64
struct chain {
    char *names[MAX_DEPTH];
    int deepest;
};

static int record_certificate(void *context, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
    (void)flags;
    struct chain *chain = context;
    if (depth < 0 || depth >= MAX_DEPTH)
        return 0;
    struct limbo_text text = {0};
    append_name(&text, crt);
    free(chain->names[depth]);
    chain->names[depth] = limbo_text_take(&text);
    if (depth > chain->deepest)
        chain->deepest = depth;
    return 0;
}

static char *describe_chain(const struct chain *chain) {
    struct limbo_text text = {0};
    limbo_text_add(&text, "chain: ");
    for (int depth = 0; depth <= chain->deepest; depth++)
        limbo_text_add(&text, "%s%s", depth ? " <- " : "",
                       chain->names[depth] ? chain->names[depth] : "?");
    return limbo_text_take(&text);
}

/* Mbed TLS parses PEM when the length includes the terminating NUL. */
static int parse_pem(mbedtls_x509_crt *list, const char *pem) {
    return mbedtls_x509_crt_parse(list, (const unsigned char *)pem, strlen(pem) + 1);
}

static void evaluate(const struct limbo_testcase *testcase, struct limbo_result *result,
                     void *context) {
    (void)context;
    if (testcase->peer_kind == LIMBO_PEER_IP) {
        limbo_set(result, LIMBO_SKIPPED,
                  "Mbed TLS 2.28 cannot check an IP address (it matches the expected name as "
                  "text against dNSName and CN only)");
        return;
    }
    limbo_faketime_set(limbo_validation_time(testcase));

    mbedtls_x509_crt trusted, served;
    mbedtls_x509_crt_init(&trusted);
    mbedtls_x509_crt_init(&served);
    struct chain chain = {{NULL}, -1};
    char what[64];
    int error;
    /* The anchors are loaded as one PEM bundle, the way a CA file is: Mbed TLS leaves out the
     * certificates it cannot parse (2.28 does not know nameConstraints, and rejects a
     * certificate where that extension, or any other unknown one, is critical) and
     * keeps the rest, so the case goes on with those. */
    struct limbo_text bundle = {0};
    for (size_t i = 0; i < testcase->n_trusted; i++)
        limbo_text_add(&bundle, "%s\n", testcase->trusted[i]);
    char *pem_bundle = limbo_text_take(&bundle);
    int left_out = parse_pem(&trusted, pem_bundle);
    free(pem_bundle);
    if (left_out < 0)
        left_out = (int)testcase->n_trusted; /* none parsed */
    if ((error = parse_pem(&served, testcase->peer)) != 0) {
        fail_with_error(result, "peer certificate", error);
        goto out;
    }
    for (size_t i = 0; i < testcase->n_untrusted; i++) {
        if ((error = parse_pem(&served, testcase->untrusted[i])) != 0) {
            snprintf(what, sizeof what, "untrusted certificate %zu", i);
            fail_with_error(result, what, error);
            goto out;
        }
    }

    uint32_t flags = 0;
    const char *name = testcase->peer_kind == LIMBO_PEER_DNS ? testcase->peer_name : NULL;
    error = mbedtls_x509_crt_verify_with_profile(&served, &trusted, NULL,
                                                 &mbedtls_x509_crt_profile_default, name, &flags,
                                                 record_certificate, &chain);
    if (mbedtls_x509_crt_check_extended_key_usage(&served, MBEDTLS_OID_SERVER_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) != 0)
        flags |= MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
    if (flags != 0) {
        result->outcome = LIMBO_FAILURE;
        result->context = describe_flags(flags);
    } else if (error != 0) {
        fail_with_error(result, "mbedtls_x509_crt_verify_with_profile", error);
    } else {
        result->outcome = LIMBO_SUCCESS;
        result->context = describe_chain(&chain);
    }

out:
    if (left_out > 0)
        limbo_note(result, "%d of %zu trusted certificates left out: not parsed", left_out,
                   testcase->n_trusted);
    for (int depth = 0; depth < MAX_DEPTH; depth++)
        free(chain.names[depth]);
    mbedtls_x509_crt_free(&trusted);
    mbedtls_x509_crt_free(&served);
}

int main(int argc, char **argv) {
    (void)argc;
    limbo_faketime_init(argv);
    char version[32], harness[160];
    mbedtls_version_get_string(version);
    snprintf(harness, sizeof harness, "mbedtls %s (clock: %s)", version,
             limbo_faketime_description());
    return limbo_main(harness, evaluate, NULL);
}
