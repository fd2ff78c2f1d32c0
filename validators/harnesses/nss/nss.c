/* An x509-limbo harness for NSS, in two modes of one program:
 *
 *   --mode classic  CERT_VerifyCertificate (NSS's own chain builder, as Firefox used before
 *                   mozilla::pkix and as vfychain runs by default);
 *   --mode pkix     CERT_PKIXVerifyCert (libpkix, as vfychain -pp).
 *
 * Each case runs in a fresh NSS, in a child process of its own: NSS_NoDB_Init (no database, so
 * no built-in roots), the case's certificates imported as temporary certificates, the anchors
 * trusted for TLS servers through trust flags ("C,,", as certutil -t sets them). NSS finds
 * issuers among every certificate it knows, so one process for several cases would let one
 * case's certificates and trust leak into the next.
 *
 * SERVER usage: certificateUsageSSLServer (the serverAuth EKU among others); the expected name is
 * then checked with CERT_VerifyCertName, the order SSL_AuthCertificate uses. Validation time: the
 * time parameter of CERT_VerifyCertificate, cert_pi_date for libpkix. Revocation is not checked
 * (limbo cases with CRLs are skipped).
 *
 * Context on FAILURE: the NSS error name and number, then NSS's text. On SUCCESS with libpkix:
 * the chain it built (cert_po_certList); the classic API does not report its chain.
 */
#include <cert.h>
#include <certdb.h>
#include <nss.h>
#include <prerror.h>
#include <secerr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/limbo_harness.h"

enum mode { MODE_CLASSIC, MODE_PKIX };

/* Every certificate reference the case holds, released before NSS_Shutdown. */
struct held {
    CERTCertificate **certs;
    size_t count, cap;
};

static void hold(struct held *held, CERTCertificate *cert) {
    if (held->count == held->cap) {
        held->cap = held->cap ? held->cap * 2 : 16;
        held->certs = realloc(held->certs, held->cap * sizeof *held->certs);
        if (!held->certs)
            limbo_die("out of memory");
    }
    held->certs[held->count++] = cert;
}

static void release_all(struct held *held) {
    for (size_t i = 0; i < held->count; i++)
        CERT_DestroyCertificate(held->certs[i]);
    held->count = 0;
}

/* "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE (-8162): <NSS's text>" */
static void fail_with_error(struct limbo_result *result, const char *what, PRErrorCode error) {
    const char *name = PR_ErrorToName(error);
    const char *text = PR_ErrorToString(error, PR_LANGUAGE_I_DEFAULT);
    limbo_set(result, LIMBO_FAILURE, "%s%s%s (%d): %s", what ? what : "", what ? ": " : "",
              name ? name : "unnamed NSS error", (int)error, text ? text : "");
}

struct import {
    CERTCertificate *cert;
};

/* CERT_DecodeCertPackage hands over the DER it decoded from the PEM. */
static SECStatus import_der(void *arg, SECItem **certs, int count) {
    struct import *import = arg;
    if (count < 1 || import->cert)
        return SECFailure;
    import->cert =
        CERT_NewTempCertificate(CERT_GetDefaultCertDB(), certs[0], NULL, PR_FALSE, PR_TRUE);
    return import->cert ? SECSuccess : SECFailure;
}

/* A PEM certificate as a temporary certificate, or NULL with the NSS error set. */
static CERTCertificate *import_pem(const char *pem) {
    char *copy = strdup(pem);
    if (!copy)
        limbo_die("out of memory");
    struct import import = {NULL};
    SECStatus status = CERT_DecodeCertPackage(copy, (int)strlen(copy), import_der, &import);
    free(copy);
    if (status != SECSuccess && import.cert) {
        CERT_DestroyCertificate(import.cert);
        return NULL;
    }
    return import.cert;
}

/* The subject's CN, else the subject DN, else "(empty subject)". */
static void append_name(struct limbo_text *text, CERTCertificate *cert) {
    char *cn = CERT_GetCommonName(&cert->subject);
    if (cn) {
        limbo_text_add(text, "%s", cn);
        PORT_Free(cn);
    } else if (cert->subjectName && cert->subjectName[0]) {
        limbo_text_add(text, "%s", cert->subjectName);
    } else {
        limbo_text_add(text, "(empty subject)");
    }
}

/* libpkix's chain stops below the anchor, which it reports separately. */
static char *describe_chain(CERTCertList *chain, CERTCertificate *anchor) {
    struct limbo_text text = {0};
    limbo_text_add(&text, "chain: ");
    const char *separator = "";
    CERTCertificate *last = NULL;
    for (CERTCertListNode *node = CERT_LIST_HEAD(chain); !CERT_LIST_END(node, chain);
         node = CERT_LIST_NEXT(node)) {
        limbo_text_add(&text, "%s", separator);
        append_name(&text, node->cert);
        separator = " <- ";
        last = node->cert;
    }
    if (anchor && !(last && CERT_CompareCerts(last, anchor))) {
        limbo_text_add(&text, "%s", separator);
        append_name(&text, anchor);
    }
    return limbo_text_take(&text);
}

static SECStatus verify_classic(CERTCertificate *peer, PRTime when) {
    return CERT_VerifyCertificate(CERT_GetDefaultCertDB(), peer, PR_TRUE,
                                  certificateUsageSSLServer, when, NULL, NULL, NULL);
}

static SECStatus verify_pkix(CERTCertificate *peer, PRTime when, CERTCertList **chain,
                             CERTCertificate **anchor) {
    /* No revocation method is tested, for the leaf or the chain. */
    PRUint64 no_method[cert_revocation_method_count] = {0};
    CERTRevocationFlags revocation = {
        {cert_revocation_method_count, no_method, 0, NULL, 0},
        {cert_revocation_method_count, no_method, 0, NULL, 0},
    };
    CERTValInParam in[3];
    in[0].type = cert_pi_date;
    in[0].value.scalar.time = when;
    in[1].type = cert_pi_revocationFlags;
    in[1].value.pointer.revocation = &revocation;
    in[2].type = cert_pi_end;
    CERTValOutParam out[3];
    out[0].type = cert_po_certList;
    out[0].value.pointer.chain = NULL;
    out[1].type = cert_po_trustAnchor;
    out[1].value.pointer.cert = NULL;
    out[2].type = cert_po_end;
    SECStatus status = CERT_PKIXVerifyCert(peer, certificateUsageSSLServer, in, out, NULL);
    *chain = out[0].value.pointer.chain;
    *anchor = out[1].value.pointer.cert;
    return status;
}

static void evaluate_in_nss(const struct limbo_testcase *testcase, struct limbo_result *result,
                            enum mode mode, struct held *held, struct limbo_text *left_out) {
    CERTCertTrust trusted;
    if (CERT_DecodeTrustString(&trusted, "C,,") != SECSuccess)
        limbo_die("CERT_DecodeTrustString failed");
    char what[64];
    for (size_t i = 0; i < testcase->n_trusted; i++) {
        CERTCertificate *anchor = import_pem(testcase->trusted[i]);
        if (!anchor) {
            /* NSS cannot hold it, so no trust store could: it is left out, and noted. */
            PRErrorCode error = PORT_GetError();
            const char *name = PR_ErrorToName(error);
            limbo_text_add(left_out, "%strusted certificate %zu left out: %s (%d)",
                           left_out->len ? "; " : "", i, name ? name : "unnamed NSS error",
                           (int)error);
            continue;
        }
        hold(held, anchor);
        if (CERT_ChangeCertTrust(CERT_GetDefaultCertDB(), anchor, &trusted) != SECSuccess) {
            fail_with_error(result, "CERT_ChangeCertTrust", PORT_GetError());
            return;
        }
    }
    for (size_t i = 0; i < testcase->n_untrusted; i++) {
        CERTCertificate *cert = import_pem(testcase->untrusted[i]);
        if (!cert) {
            snprintf(what, sizeof what, "untrusted certificate %zu", i);
            fail_with_error(result, what, PORT_GetError());
            return;
        }
        hold(held, cert);
    }
    CERTCertificate *peer = import_pem(testcase->peer);
    if (!peer) {
        fail_with_error(result, "peer certificate", PORT_GetError());
        return;
    }
    hold(held, peer);

    PRTime when = (PRTime)limbo_validation_time(testcase) * PR_USEC_PER_SEC;
    CERTCertList *chain = NULL;
    CERTCertificate *anchor = NULL;
    SECStatus status = mode == MODE_CLASSIC ? verify_classic(peer, when)
                                            : verify_pkix(peer, when, &chain, &anchor);
    if (status != SECSuccess) {
        fail_with_error(result, NULL, PORT_GetError());
    } else if (testcase->peer_name && CERT_VerifyCertName(peer, testcase->peer_name) != SECSuccess) {
        fail_with_error(result, "CERT_VerifyCertName", PORT_GetError());
    } else {
        result->outcome = LIMBO_SUCCESS;
        result->context = chain ? describe_chain(chain, anchor) : NULL;
    }
    if (chain)
        CERT_DestroyCertList(chain);
    if (anchor)
        CERT_DestroyCertificate(anchor);
}

/* Runs in a child process per case (limbo_main_isolated), so the case sees a fresh NSS and
 * nothing of it outlives the case. */
static void evaluate(const struct limbo_testcase *testcase, struct limbo_result *result,
                     void *context) {
    enum mode mode = *(enum mode *)context;
    if (NSS_NoDB_Init(NULL) != SECSuccess)
        limbo_die("NSS_NoDB_Init failed: %s", PR_ErrorToName(PR_GetError()));
    /* CERT_VerifyCertificate would switch to libpkix if the environment asked for it. */
    CERT_SetUsePKIXForValidation(PR_FALSE);
    struct held held = {0};
    struct limbo_text left_out = {0};
    evaluate_in_nss(testcase, result, mode, &held, &left_out);
    if (left_out.len)
        limbo_note(result, "%s", left_out.data);
    free(left_out.data);
    release_all(&held);
    free(held.certs);
}

/* The name-constraint denial-of-service cases of limbo drive NSS past 2 GiB and many seconds per
 * case; the bounds keep one case from exhausting a shared machine. */
static const struct limbo_limits LIMITS = {2048UL << 20, 20};

int main(int argc, char **argv) {
    enum mode mode;
    if (argc == 3 && strcmp(argv[1], "--mode") == 0 && strcmp(argv[2], "classic") == 0)
        mode = MODE_CLASSIC;
    else if (argc == 3 && strcmp(argv[1], "--mode") == 0 && strcmp(argv[2], "pkix") == 0)
        mode = MODE_PKIX;
    else {
        fprintf(stderr, "usage: %s --mode classic|pkix  (limbo testcases on stdin)\n", argv[0]);
        return 2;
    }
    char harness[128];
    snprintf(harness, sizeof harness, "nss %s (%s)", NSS_GetVersion(),
             mode == MODE_CLASSIC ? "classic CERT_VerifyCertificate"
                                  : "libpkix CERT_PKIXVerifyCert");
    return limbo_main_isolated(harness, evaluate, &mode, &LIMITS);
}
