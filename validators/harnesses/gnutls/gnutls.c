/* An x509-limbo harness for GnuTLS: gnutls_x509_trust_list_verify_crt2, as a TLS client's
 * certificate check does it (gnutls_certificate_verify_peers builds the same call): the case's
 * anchors form the trust list, the peer followed by the untrusted certificates in served order is
 * the certificate list, and the typed data ask for the expected DNS name or IP address and the
 * serverAuth purpose. The flags are those of a TLS session with the default ("NORMAL")
 * priorities: no flag, and the verification profile GNUTLS_PROFILE_LOW that "NORMAL" selects
 * (gnutls_certificate_verify_peers adds it from the session's priorities).
 *
 * Validation time: GnuTLS reads the clock only through its global time function, so the harness
 * installs one (gnutls_global_set_time_function) that returns the case's validation_time.
 *
 * Context on FAILURE: the status bits by their GnuTLS names and number, then GnuTLS's own
 * description; or the error code name and number when the call itself fails. On SUCCESS: the chain
 * GnuTLS verified, from the verify-output callback.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/limbo_harness.h"

#define VERIFY_FLAGS GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_LOW)

static time_t validation_time;

static time_t case_time(time_t *out) {
    if (out)
        *out = validation_time;
    return validation_time;
}

static const struct {
    unsigned int bit;
    const char *name;
} STATUS_NAMES[] = {
    {GNUTLS_CERT_INVALID, "GNUTLS_CERT_INVALID"},
    {GNUTLS_CERT_REVOKED, "GNUTLS_CERT_REVOKED"},
    {GNUTLS_CERT_SIGNER_NOT_FOUND, "GNUTLS_CERT_SIGNER_NOT_FOUND"},
    {GNUTLS_CERT_SIGNER_NOT_CA, "GNUTLS_CERT_SIGNER_NOT_CA"},
    {GNUTLS_CERT_INSECURE_ALGORITHM, "GNUTLS_CERT_INSECURE_ALGORITHM"},
    {GNUTLS_CERT_NOT_ACTIVATED, "GNUTLS_CERT_NOT_ACTIVATED"},
    {GNUTLS_CERT_EXPIRED, "GNUTLS_CERT_EXPIRED"},
    {GNUTLS_CERT_SIGNATURE_FAILURE, "GNUTLS_CERT_SIGNATURE_FAILURE"},
    {GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED, "GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED"},
    {GNUTLS_CERT_UNEXPECTED_OWNER, "GNUTLS_CERT_UNEXPECTED_OWNER"},
    {GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE,
     "GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE"},
    {GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, "GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE"},
    {GNUTLS_CERT_MISMATCH, "GNUTLS_CERT_MISMATCH"},
    {GNUTLS_CERT_PURPOSE_MISMATCH, "GNUTLS_CERT_PURPOSE_MISMATCH"},
    {GNUTLS_CERT_MISSING_OCSP_STATUS, "GNUTLS_CERT_MISSING_OCSP_STATUS"},
    {GNUTLS_CERT_INVALID_OCSP_STATUS, "GNUTLS_CERT_INVALID_OCSP_STATUS"},
    {GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS, "GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS"},
};

/* "GNUTLS_CERT_INVALID|GNUTLS_CERT_EXPIRED (0x402): <GnuTLS's description>" */
static char *describe_status(unsigned int status) {
    struct limbo_text text = {0};
    unsigned int named = 0;
    for (size_t i = 0; i < sizeof STATUS_NAMES / sizeof STATUS_NAMES[0]; i++) {
        if (status & STATUS_NAMES[i].bit) {
            limbo_text_add(&text, "%s%s", named ? "|" : "", STATUS_NAMES[i].name);
            named |= STATUS_NAMES[i].bit;
        }
    }
    if (status & ~named)
        limbo_text_add(&text, "%sunnamed bits 0x%x", named ? "|" : "", status & ~named);
    limbo_text_add(&text, " (0x%x)", status);
    gnutls_datum_t printed = {NULL, 0};
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &printed, 0) == 0) {
        /* GnuTLS ends each sentence with a space. */
        while (printed.size > 0 && printed.data[printed.size - 1] == ' ')
            printed.data[--printed.size] = '\0';
        limbo_text_add(&text, ": %s", printed.data);
        gnutls_free(printed.data);
    }
    return limbo_text_take(&text);
}

static void fail_with_error(struct limbo_result *result, const char *what, int error) {
    limbo_set(result, LIMBO_FAILURE, "%s: %s (%d): %s", what, gnutls_strerror_name(error), error,
              gnutls_strerror(error));
}

/* The subject's CN, else the whole subject DN, else "(empty subject)". */
static char *subject_name(gnutls_x509_crt_t crt) {
    char buffer[512];
    size_t size = sizeof buffer;
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buffer, &size) ==
        0)
        return strdup(buffer);
    gnutls_datum_t dn = {NULL, 0};
    if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0 && dn.size > 0) {
        char *copy = strdup((const char *)dn.data);
        gnutls_free(dn.data);
        return copy;
    }
    gnutls_free(dn.data);
    return strdup("(empty subject)");
}

/* One call of the verify-output callback: GnuTLS checked `cert` against `issuer`. It calls back
 * from the anchor down to the peer, and also for attempts that failed before the one that
 * succeeded, so the chain is read backwards from the last step through successful steps only.
 * Certificates are kept as DER, since GnuTLS may free its own objects after the call. */
struct step {
    gnutls_datum_t cert, issuer;
    char *cert_name, *issuer_name;
    unsigned int output;
};
#define MAX_STEPS 64
static struct step steps[MAX_STEPS];
static size_t step_count;

static void clear_steps(void) {
    for (size_t i = 0; i < step_count; i++) {
        gnutls_free(steps[i].cert.data);
        gnutls_free(steps[i].issuer.data);
        free(steps[i].cert_name);
        free(steps[i].issuer_name);
    }
    memset(steps, 0, sizeof steps);
    step_count = 0;
}

static int record_step(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, gnutls_x509_crl_t crl,
                       unsigned int output) {
    (void)crl;
    if (step_count == MAX_STEPS || !cert || !issuer)
        return 0;
    struct step *step = &steps[step_count];
    if (gnutls_x509_crt_export2(cert, GNUTLS_X509_FMT_DER, &step->cert) < 0 ||
        gnutls_x509_crt_export2(issuer, GNUTLS_X509_FMT_DER, &step->issuer) < 0)
        limbo_die("cannot export a certificate GnuTLS verified");
    step->cert_name = subject_name(cert);
    step->issuer_name = subject_name(issuer);
    if (!step->cert_name || !step->issuer_name)
        limbo_die("out of memory");
    step->output = output;
    step_count++;
    return 0;
}

static bool same_der(const gnutls_datum_t *a, const gnutls_datum_t *b) {
    return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

/* "chain: peer <- intermediate <- anchor", from the successful steps. */
static char *describe_chain(void) {
    struct limbo_text text = {0};
    limbo_text_add(&text, "chain: ");
    size_t i = step_count;
    while (i > 0 && steps[i - 1].output != 0)
        i--;
    if (i == 0) {
        limbo_text_add(&text, "(not reported)");
        return limbo_text_take(&text);
    }
    const struct step *step = &steps[i - 1];
    limbo_text_add(&text, "%s", step->cert_name);
    for (;;) {
        if (same_der(&step->cert, &step->issuer))
            break; /* a self-signed anchor checked against itself */
        limbo_text_add(&text, " <- %s", step->issuer_name);
        const struct step *next = NULL;
        for (size_t j = (size_t)(step - steps); j-- > 0;)
            if (steps[j].output == 0 && same_der(&steps[j].cert, &step->issuer)) {
                next = &steps[j];
                break;
            }
        if (!next)
            break;
        step = next;
    }
    return limbo_text_take(&text);
}

static int import_pem(gnutls_x509_crt_t *crt, const char *pem) {
    int error = gnutls_x509_crt_init(crt);
    if (error < 0)
        return error;
    gnutls_datum_t datum = {(unsigned char *)pem, (unsigned int)strlen(pem)};
    error = gnutls_x509_crt_import(*crt, &datum, GNUTLS_X509_FMT_PEM);
    if (error < 0) {
        gnutls_x509_crt_deinit(*crt);
        *crt = NULL;
    }
    return error;
}

static void evaluate(const struct limbo_testcase *testcase, struct limbo_result *result,
                     void *context) {
    (void)context;
    validation_time = limbo_validation_time(testcase);

    gnutls_x509_trust_list_t trust = NULL;
    size_t n_list = 1 + testcase->n_untrusted;
    gnutls_x509_crt_t *list = calloc(n_list, sizeof *list);
    if (!list || gnutls_x509_trust_list_init(&trust, 0) < 0)
        limbo_die("out of memory");

    /* An anchor GnuTLS cannot load is left out, as from a trust store, and noted. */
    struct limbo_text left_out = {0};
    int error;
    for (size_t i = 0; i < testcase->n_trusted; i++) {
        gnutls_x509_crt_t anchor;
        if ((error = import_pem(&anchor, testcase->trusted[i])) < 0) {
            limbo_text_add(&left_out, "%strusted certificate %zu left out: %s (%d): %s",
                           left_out.len ? "; " : "", i, gnutls_strerror_name(error), error,
                           gnutls_strerror(error));
            continue;
        }
        /* The trust list owns the certificate from here on. */
        if ((error = gnutls_x509_trust_list_add_cas(trust, &anchor, 1, 0)) < 0) {
            fail_with_error(result, "gnutls_x509_trust_list_add_cas", error);
            goto out;
        }
    }
    if ((error = import_pem(&list[0], testcase->peer)) < 0) {
        fail_with_error(result, "peer certificate", error);
        goto out;
    }
    for (size_t i = 0; i < testcase->n_untrusted; i++) {
        if ((error = import_pem(&list[1 + i], testcase->untrusted[i])) < 0) {
            char what[64];
            snprintf(what, sizeof what, "untrusted certificate %zu", i);
            fail_with_error(result, what, error);
            goto out;
        }
    }

    gnutls_typed_vdata_st data[2];
    unsigned int elements = 0;
    unsigned char ip[16];
    if (testcase->peer_kind == LIMBO_PEER_DNS) {
        data[elements++] = (gnutls_typed_vdata_st){
            GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)testcase->peer_name, 0};
    } else if (testcase->peer_kind == LIMBO_PEER_IP) {
        size_t size = limbo_ip_bytes(testcase->peer_name, ip);
        if (!size) {
            limbo_set(result, LIMBO_SKIPPED, "expected_peer_name `%s` is not an IP address",
                      testcase->peer_name);
            goto out;
        }
        data[elements++] = (gnutls_typed_vdata_st){GNUTLS_DT_IP_ADDRESS, ip, (unsigned int)size};
    }
    data[elements++] = (gnutls_typed_vdata_st){GNUTLS_DT_KEY_PURPOSE_OID,
                                                (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0};

    unsigned int status = 0;
    clear_steps();
    error = gnutls_x509_trust_list_verify_crt2(trust, list, (unsigned int)n_list, data, elements,
                                               VERIFY_FLAGS, &status, record_step);
    if (error < 0) {
        fail_with_error(result, "gnutls_x509_trust_list_verify_crt2", error);
    } else if (status != 0) {
        result->outcome = LIMBO_FAILURE;
        result->context = describe_status(status);
    } else {
        result->outcome = LIMBO_SUCCESS;
        result->context = describe_chain();
    }
    clear_steps();

out:
    if (left_out.len)
        limbo_note(result, "%s", left_out.data);
    free(left_out.data);
    for (size_t i = 0; i < n_list; i++)
        if (list[i])
            gnutls_x509_crt_deinit(list[i]);
    free(list);
    gnutls_x509_trust_list_deinit(trust, 1);
}

int main(void) {
    if (gnutls_global_init() < 0)
        limbo_die("gnutls_global_init failed");
    gnutls_global_set_time_function(case_time);
    char harness[64];
    snprintf(harness, sizeof harness, "gnutls %s", gnutls_check_version(NULL));
    int status = limbo_main(harness, evaluate, NULL);
    gnutls_global_deinit();
    return status;
}
