/* An x509-limbo harness for BearSSL: the "minimal" X.509 engine (br_x509_minimal_init_full,
 * every hash and signature algorithm BearSSL has), the engine a BearSSL TLS client uses.
 *
 * The chain is used exactly as served, as BearSSL does: the peer, then the untrusted
 * certificates in the order given, each expected to be the issuer of the one before, until one
 * is signed by an anchor. Anchors are made from the trusted certificates as BearSSL's own tools
 * make them (br_x509_decoder: subject DN, public key, and BR_X509_TA_CA when basicConstraints
 * says CA); BearSSL keeps nothing else of an anchor, so an anchor's validity is not checked.
 *
 * The expected DNS name is the server name given to start_chain. BearSSL matches DNS names only,
 * so an expected IP address is SKIPPED. The minimal engine does not read Extended Key Usage, so
 * serverAuth is not checked (a BearSSL TLS client does not check it either).
 *
 * Validation time: br_x509_minimal_set_time (days since 1 January of year 0, seconds in the day).
 *
 * Context on FAILURE: the BR_ERR_X509_* name and number. BearSSL does not report the chain.
 */
#include <bearssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/limbo_harness.h"

/* Days from 1 January of year 0 (proleptic Gregorian) to 1 January 1970. */
#define DAYS_TO_UNIX_EPOCH 719528

static const struct {
    int code;
    const char *name;
} ERROR_NAMES[] = {
    {BR_ERR_X509_INVALID_VALUE, "BR_ERR_X509_INVALID_VALUE"},
    {BR_ERR_X509_TRUNCATED, "BR_ERR_X509_TRUNCATED"},
    {BR_ERR_X509_EMPTY_CHAIN, "BR_ERR_X509_EMPTY_CHAIN"},
    {BR_ERR_X509_INNER_TRUNC, "BR_ERR_X509_INNER_TRUNC"},
    {BR_ERR_X509_BAD_TAG_CLASS, "BR_ERR_X509_BAD_TAG_CLASS"},
    {BR_ERR_X509_BAD_TAG_VALUE, "BR_ERR_X509_BAD_TAG_VALUE"},
    {BR_ERR_X509_INDEFINITE_LENGTH, "BR_ERR_X509_INDEFINITE_LENGTH"},
    {BR_ERR_X509_EXTRA_ELEMENT, "BR_ERR_X509_EXTRA_ELEMENT"},
    {BR_ERR_X509_UNEXPECTED, "BR_ERR_X509_UNEXPECTED"},
    {BR_ERR_X509_NOT_CONSTRUCTED, "BR_ERR_X509_NOT_CONSTRUCTED"},
    {BR_ERR_X509_NOT_PRIMITIVE, "BR_ERR_X509_NOT_PRIMITIVE"},
    {BR_ERR_X509_PARTIAL_BYTE, "BR_ERR_X509_PARTIAL_BYTE"},
    {BR_ERR_X509_BAD_BOOLEAN, "BR_ERR_X509_BAD_BOOLEAN"},
    {BR_ERR_X509_OVERFLOW, "BR_ERR_X509_OVERFLOW"},
    {BR_ERR_X509_BAD_DN, "BR_ERR_X509_BAD_DN"},
    {BR_ERR_X509_BAD_TIME, "BR_ERR_X509_BAD_TIME"},
    {BR_ERR_X509_UNSUPPORTED, "BR_ERR_X509_UNSUPPORTED"},
    {BR_ERR_X509_LIMIT_EXCEEDED, "BR_ERR_X509_LIMIT_EXCEEDED"},
    {BR_ERR_X509_WRONG_KEY_TYPE, "BR_ERR_X509_WRONG_KEY_TYPE"},
    {BR_ERR_X509_BAD_SIGNATURE, "BR_ERR_X509_BAD_SIGNATURE"},
    {BR_ERR_X509_TIME_UNKNOWN, "BR_ERR_X509_TIME_UNKNOWN"},
    {BR_ERR_X509_EXPIRED, "BR_ERR_X509_EXPIRED"},
    {BR_ERR_X509_DN_MISMATCH, "BR_ERR_X509_DN_MISMATCH"},
    {BR_ERR_X509_BAD_SERVER_NAME, "BR_ERR_X509_BAD_SERVER_NAME"},
    {BR_ERR_X509_CRITICAL_EXTENSION, "BR_ERR_X509_CRITICAL_EXTENSION"},
    {BR_ERR_X509_NOT_CA, "BR_ERR_X509_NOT_CA"},
    {BR_ERR_X509_FORBIDDEN_KEY_USAGE, "BR_ERR_X509_FORBIDDEN_KEY_USAGE"},
    {BR_ERR_X509_WEAK_PUBLIC_KEY, "BR_ERR_X509_WEAK_PUBLIC_KEY"},
    {BR_ERR_X509_NOT_TRUSTED, "BR_ERR_X509_NOT_TRUSTED"},
};

static const char *error_name(int code) {
    for (size_t i = 0; i < sizeof ERROR_NAMES / sizeof ERROR_NAMES[0]; i++)
        if (ERROR_NAMES[i].code == code)
            return ERROR_NAMES[i].name;
    return "unnamed BearSSL error";
}

static void fail_with_error(struct limbo_result *result, const char *what, int code) {
    limbo_set(result, LIMBO_FAILURE, "%s%s%s (%d)", what ? what : "", what ? ": " : "",
              error_name(code), code);
}

struct bytes {
    unsigned char *data;
    size_t len, cap;
};

static void bytes_append(void *context, const void *data, size_t len) {
    struct bytes *bytes = context;
    if (bytes->len + len > bytes->cap) {
        size_t cap = bytes->cap ? bytes->cap * 2 : 1024;
        while (cap < bytes->len + len)
            cap *= 2;
        bytes->data = realloc(bytes->data, cap);
        if (!bytes->data)
            limbo_die("out of memory");
        bytes->cap = cap;
    }
    memcpy(bytes->data + bytes->len, data, len);
    bytes->len += len;
}

/* The DER of the first CERTIFICATE object in `pem`, decoded by BearSSL's PEM decoder. Returns
 * false if there is none or the PEM is malformed. */
static bool pem_to_der(const char *pem, struct bytes *der) {
    br_pem_decoder_context decoder;
    br_pem_decoder_init(&decoder);
    const char *data = pem;
    size_t left = strlen(pem);
    bool inside = false;
    /* A PEM object that ends the input without a trailing newline still needs one. */
    for (int pass = 0; pass < 2; pass++) {
        while (left > 0) {
            size_t used = br_pem_decoder_push(&decoder, data, left);
            data += used;
            left -= used;
            switch (br_pem_decoder_event(&decoder)) {
            case BR_PEM_BEGIN_OBJ:
                inside = strcmp(br_pem_decoder_name(&decoder), "CERTIFICATE") == 0;
                der->len = 0;
                br_pem_decoder_setdest(&decoder, inside ? bytes_append : NULL,
                                       inside ? der : NULL);
                break;
            case BR_PEM_END_OBJ:
                if (inside)
                    return true;
                break;
            case BR_PEM_ERROR:
                return false;
            default:
                break;
            }
        }
        data = "\n";
        left = 1;
    }
    return false;
}

/* A trust anchor owns copies of what the decoder lent it. */
static void *copy(const void *data, size_t len) {
    void *out = malloc(len ? len : 1);
    if (!out)
        limbo_die("out of memory");
    memcpy(out, data, len);
    return out;
}

static int anchor_from_der(const struct bytes *der, br_x509_trust_anchor *anchor) {
    struct bytes dn = {0};
    br_x509_decoder_context decoder;
    br_x509_decoder_init(&decoder, bytes_append, &dn);
    br_x509_decoder_push(&decoder, der->data, der->len);
    const br_x509_pkey *key = br_x509_decoder_get_pkey(&decoder);
    if (!key) {
        free(dn.data);
        int error = br_x509_decoder_last_error(&decoder);
        return error ? error : BR_ERR_X509_TRUNCATED;
    }
    memset(anchor, 0, sizeof *anchor);
    anchor->dn.data = dn.data ? dn.data : copy("", 0);
    anchor->dn.len = dn.len;
    anchor->flags = br_x509_decoder_isCA(&decoder) ? BR_X509_TA_CA : 0;
    anchor->pkey.key_type = key->key_type;
    if (key->key_type == BR_KEYTYPE_RSA) {
        anchor->pkey.key.rsa.n = copy(key->key.rsa.n, key->key.rsa.nlen);
        anchor->pkey.key.rsa.nlen = key->key.rsa.nlen;
        anchor->pkey.key.rsa.e = copy(key->key.rsa.e, key->key.rsa.elen);
        anchor->pkey.key.rsa.elen = key->key.rsa.elen;
    } else {
        anchor->pkey.key.ec.curve = key->key.ec.curve;
        anchor->pkey.key.ec.q = copy(key->key.ec.q, key->key.ec.qlen);
        anchor->pkey.key.ec.qlen = key->key.ec.qlen;
    }
    return 0;
}

static void free_anchor(br_x509_trust_anchor *anchor) {
    free(anchor->dn.data);
    if (anchor->pkey.key_type == BR_KEYTYPE_RSA) {
        free(anchor->pkey.key.rsa.n);
        free(anchor->pkey.key.rsa.e);
    } else {
        free(anchor->pkey.key.ec.q);
    }
}

static void evaluate(const struct limbo_testcase *testcase, struct limbo_result *result,
                     void *context) {
    (void)context;
    if (testcase->peer_kind == LIMBO_PEER_IP) {
        limbo_set(result, LIMBO_SKIPPED,
                  "BearSSL cannot check an IP address (it matches DNS names only)");
        return;
    }
    size_t n_chain = 1 + testcase->n_untrusted;
    br_x509_trust_anchor *anchors = calloc(testcase->n_trusted + 1, sizeof *anchors);
    struct bytes *chain = calloc(n_chain, sizeof *chain);
    if (!anchors || !chain)
        limbo_die("out of memory");
    size_t n_anchors = 0;
    char what[64];

    /* A certificate BearSSL cannot decode cannot become an anchor: it is left out, and noted. */
    struct limbo_text left_out = {0};
    for (size_t i = 0; i < testcase->n_trusted; i++) {
        struct bytes der = {0};
        if (!pem_to_der(testcase->trusted[i], &der)) {
            limbo_text_add(&left_out, "%strusted certificate %zu left out: not PEM",
                           left_out.len ? "; " : "", i);
        } else {
            int error = anchor_from_der(&der, &anchors[n_anchors]);
            if (error)
                limbo_text_add(&left_out, "%strusted certificate %zu left out: %s (%d)",
                               left_out.len ? "; " : "", i, error_name(error), error);
            else
                n_anchors++;
        }
        free(der.data);
    }
    for (size_t i = 0; i < n_chain; i++) {
        const char *pem = i == 0 ? testcase->peer : testcase->untrusted[i - 1];
        if (!pem_to_der(pem, &chain[i])) {
            if (i == 0)
                snprintf(what, sizeof what, "peer certificate: not PEM");
            else
                snprintf(what, sizeof what, "untrusted certificate %zu: not PEM", i - 1);
            limbo_set(result, LIMBO_FAILURE, "%s", what);
            goto out;
        }
    }

    br_x509_minimal_context x509;
    br_x509_minimal_init_full(&x509, anchors, n_anchors);
    time_t when = limbo_validation_time(testcase);
    br_x509_minimal_set_time(&x509, (uint32_t)(DAYS_TO_UNIX_EPOCH + when / 86400),
                             (uint32_t)(when % 86400));
    const br_x509_class **engine = &x509.vtable;
    (*engine)->start_chain(engine,
                           testcase->peer_kind == LIMBO_PEER_DNS ? testcase->peer_name : NULL);
    for (size_t i = 0; i < n_chain; i++) {
        (*engine)->start_cert(engine, (uint32_t)chain[i].len);
        (*engine)->append(engine, chain[i].data, chain[i].len);
        (*engine)->end_cert(engine);
    }
    unsigned error = (*engine)->end_chain(engine);
    if (error == 0)
        result->outcome = LIMBO_SUCCESS;
    else
        fail_with_error(result, NULL, (int)error);

out:
    if (left_out.len)
        limbo_note(result, "%s", left_out.data);
    free(left_out.data);
    for (size_t i = 0; i < n_anchors; i++)
        free_anchor(&anchors[i]);
    free(anchors);
    for (size_t i = 0; i < n_chain; i++)
        free(chain[i].data);
    free(chain);
}

/* BearSSL has no version call or macro: the build passes the version of the installed library
 * package (dpkg), the one the harness is linked against. */
#ifndef BEARSSL_PACKAGE_VERSION
#error "build with -DBEARSSL_PACKAGE_VERSION=\"<version of libbearssl0>\""
#endif

int main(void) {
    return limbo_main("bearssl " BEARSSL_PACKAGE_VERSION, evaluate, NULL);
}
