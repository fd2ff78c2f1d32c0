/* An x509-limbo harness for wolfSSL 5.5, following what a wolfSSL TLS client does with the
 * server's certificates (ProcessPeerCerts, built with WOLFSSL_ALT_CERT_CHAINS as Debian's is),
 * through the public certificate-manager API:
 *
 *  1. a fresh client WOLFSSL_CTX loads the anchors (wolfSSL_CTX_load_verify_buffer, the call a
 *     client makes for its CAs); if wolfSSL refuses one, the case goes on with the anchors it
 *     accepted, as with a CA bundle, and the context says which were left out and why. The steps
 *     below use that context's certificate manager (wolfSSL_CTX_GetCertManager);
 *  2. the untrusted certificates, from the last served to the first, are each verified against
 *     the manager (wolfSSL_CertManagerVerifyBuffer); one that verifies and is a CA is loaded into
 *     the manager as the client loads a chain CA; a CA that does not verify is passed over, so
 *     that another chain may still verify (WOLFSSL_ALT_CERT_CHAINS; the same rule as wolfSSL's
 *     own Java trust manager); a non-CA that does not verify ends the case;
 *  3. the peer is verified against the manager;
 *  4. then the client's checks on the peer: the expected name (wolfSSL_X509_check_host, or
 *     wolfSSL_X509_check_ip_asc for an IP address) and, when the peer has an Extended Key
 *     Usage, serverAuth or anyExtendedKeyUsage in it.
 *
 * Not the OpenSSL-compatible wolfSSL_X509_verify_cert: in 5.5 its wolfSSL_X509_STORE_CTX_init
 * adds every untrusted CA certificate to the trusted store, so a chain verifies with no anchor
 * at all (measured here; see the README), which is not what a wolfSSL TLS client does.
 *
 * Validation time: wolfSSL_X509_STORE_CTX_set_time has no effect in 5.5 (wolfSSL issue 7121,
 * measured here too), so the harness installs wolfCrypt's own clock hook, wc_SetTimeCb, which
 * every date check of wolfCrypt reads.
 *
 * Context on FAILURE: the step, the wolfSSL error code and wc_GetErrorString's text. wolfSSL does
 * not report a chain from this path.
 */
#include <wolfssl/options.h>

#include <wolfssl/openssl/x509v3.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/limbo_harness.h"

static time_t validation_time;

static time_t case_time(time_t *out) {
    if (out)
        *out = validation_time;
    return validation_time;
}

/* "ASN_AFTER_DATE_E (-151): ASN date error, current date after" */
static char *describe_error(int error) {
    struct limbo_text text = {0};
    limbo_text_add(&text, "%d: %s", error, wc_GetErrorString(error));
    return limbo_text_take(&text);
}

/* The TLS client's EKU check: an EKU, if present, must allow serverAuth or anything. */
static bool allows_server_auth(WOLFSSL_X509 *peer) {
    if (wolfSSL_X509_get_ext_by_NID(peer, NID_ext_key_usage, -1) < 0)
        return true;
    return (wolfSSL_X509_get_extended_key_usage(peer) & (XKU_SSL_SERVER | XKU_ANYEKU)) != 0;
}

static int verify_pem(WOLFSSL_CERT_MANAGER *manager, const char *pem) {
    return wolfSSL_CertManagerVerifyBuffer(manager, (const unsigned char *)pem, (long)strlen(pem),
                                           WOLFSSL_FILETYPE_PEM);
}

static int load_ca_pem(WOLFSSL_CERT_MANAGER *manager, const char *pem) {
    return wolfSSL_CertManagerLoadCABuffer(manager, (const unsigned char *)pem, (long)strlen(pem),
                                           WOLFSSL_FILETYPE_PEM);
}

static WOLFSSL_X509 *load_pem(const char *pem) {
    return wolfSSL_X509_load_certificate_buffer((const unsigned char *)pem, (int)strlen(pem),
                                                WOLFSSL_FILETYPE_PEM);
}

static void evaluate(const struct limbo_testcase *testcase, struct limbo_result *result,
                     void *context) {
    (void)context;
    validation_time = limbo_validation_time(testcase);

    /* A TLS client context, so the anchors are loaded exactly as a client loads its CAs. */
    WOLFSSL_CTX *client = wolfSSL_CTX_new(wolfTLS_client_method());
    WOLFSSL_CERT_MANAGER *manager = client ? wolfSSL_CTX_GetCertManager(client) : NULL;
    WOLFSSL_X509 *peer = NULL;
    struct limbo_text notes = {0};
    if (!manager)
        limbo_die("wolfSSL_CTX_new failed");

    for (size_t i = 0; i < testcase->n_trusted; i++) {
        const char *pem = testcase->trusted[i];
        int status = wolfSSL_CTX_load_verify_buffer(client, (const unsigned char *)pem,
                                                    (long)strlen(pem), WOLFSSL_FILETYPE_PEM);
        if (status != WOLFSSL_SUCCESS) {
            char *error = describe_error(status);
            limbo_text_add(&notes, "%strusted certificate %zu left out: %s",
                           notes.len ? "; " : "", i, error);
            free(error);
        }
    }
    for (size_t i = testcase->n_untrusted; i-- > 0;) {
        const char *pem = testcase->untrusted[i];
        WOLFSSL_X509 *cert = load_pem(pem);
        bool is_ca = cert && wolfSSL_X509_get_isCA(cert);
        wolfSSL_X509_free(cert);
        int status = verify_pem(manager, pem);
        if (status != WOLFSSL_SUCCESS) {
            char *error = describe_error(status);
            if (is_ca) {
                limbo_text_add(&notes, "%suntrusted certificate %zu passed over: %s",
                               notes.len ? "; " : "", i, error);
                free(error);
                continue;
            }
            limbo_set(result, LIMBO_FAILURE, "untrusted certificate %zu: %s", i, error);
            free(error);
            goto out;
        }
        if (is_ca && (status = load_ca_pem(manager, pem)) != WOLFSSL_SUCCESS) {
            char *error = describe_error(status);
            limbo_set(result, LIMBO_FAILURE, "untrusted certificate %zu, loaded as chain CA: %s",
                      i, error);
            free(error);
            goto out;
        }
    }

    int status = verify_pem(manager, testcase->peer);
    if (status != WOLFSSL_SUCCESS) {
        char *error = describe_error(status);
        limbo_set(result, LIMBO_FAILURE, "peer certificate: %s", error);
        free(error);
        goto out;
    }
    if (!(peer = load_pem(testcase->peer))) {
        limbo_set(result, LIMBO_FAILURE, "peer certificate: not parsed");
        goto out;
    }
    if (testcase->peer_kind == LIMBO_PEER_DNS &&
        wolfSSL_X509_check_host(peer, testcase->peer_name, strlen(testcase->peer_name), 0,
                                NULL) != WOLFSSL_SUCCESS) {
        limbo_set(result, LIMBO_FAILURE, "DOMAIN_NAME_MISMATCH: wolfSSL_X509_check_host failed");
    } else if (testcase->peer_kind == LIMBO_PEER_IP &&
               wolfSSL_X509_check_ip_asc(peer, testcase->peer_name, 0) != WOLFSSL_SUCCESS) {
        limbo_set(result, LIMBO_FAILURE, "IPADDR_MISMATCH: wolfSSL_X509_check_ip_asc failed");
    } else if (!allows_server_auth(peer)) {
        limbo_set(result, LIMBO_FAILURE,
                  "EXTKEYUSE_AUTH_E: the Extended Key Usage allows neither serverAuth nor any");
    } else {
        result->outcome = LIMBO_SUCCESS;
    }

out:
    if (notes.len)
        limbo_note(result, "%s", notes.data);
    free(notes.data);
    wolfSSL_X509_free(peer);
    wolfSSL_CTX_free(client); /* and its certificate manager */
}

int main(void) {
    if (wolfSSL_Init() != WOLFSSL_SUCCESS)
        limbo_die("wolfSSL_Init failed");
#ifndef WITHOUT_TIME_HOOK
    if (wc_SetTimeCb(case_time) != 0)
        limbo_die("wc_SetTimeCb failed");
#endif
    char harness[64];
    snprintf(harness, sizeof harness, "wolfssl %s", wolfSSL_lib_version());
    int status = limbo_main(harness, evaluate, NULL);
    wolfSSL_Cleanup();
    return status;
}
