// An x509-limbo harness for Go's crypto/x509 path builder (`Certificate.Verify`).
//
// Reads a limbo testcase file on stdin and writes a limbo results file on stdout (see
// ../README.md). Standard library only, so it builds offline.
package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

type peerName struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

type testcase struct {
	ID                     string     `json:"id"`
	Features               []string   `json:"features"`
	ValidationKind         string     `json:"validation_kind"`
	TrustedCerts           []string   `json:"trusted_certs"`
	UntrustedIntermediates []string   `json:"untrusted_intermediates"`
	PeerCertificate        string     `json:"peer_certificate"`
	ValidationTime         *string    `json:"validation_time"`
	SignatureAlgorithms    []string   `json:"signature_algorithms"`
	KeyUsage               []string   `json:"key_usage"`
	ExtendedKeyUsage       []string   `json:"extended_key_usage"`
	ExpectedPeerName       *peerName  `json:"expected_peer_name"`
	ExpectedPeerNames      []peerName `json:"expected_peer_names"`
	MaxChainDepth          *int       `json:"max_chain_depth"`
	Crls                   []string   `json:"crls"`
}

type suite struct {
	Version   int        `json:"version"`
	Testcases []testcase `json:"testcases"`
}

type result struct {
	ID           string  `json:"id"`
	ActualResult string  `json:"actual_result"`
	Context      *string `json:"context"`
}

type results struct {
	Version int      `json:"version"`
	Harness string   `json:"harness"`
	Results []result `json:"results"`
}

// Features that only describe what the certificates contain: the library sees that content
// itself, so running the case is faithful. `has-crl` and `max-chain-depth` are inputs this
// harness cannot pass to the library; any feature not listed here is unknown and skipped.
var contentFeatures = map[string]bool{
	"has-policy-constraints":           true,
	"has-cert-policies":                true,
	"no-cert-policies":                 true,
	"pedantic-public-suffix-wildcard":  true,
	"name-constraint-dn":               true,
	"pedantic-webpki-subscriber-key":   true,
	"pedantic-webpki-eku":              true,
	"pedantic-serial-number":           true,
	"pedantic-rfc5280":                 true,
	"rfc5280-incompatible-with-webpki": true,
	"denial-of-service":                true,
}

var ekuByName = map[string]x509.ExtKeyUsage{
	"serverAuth":      x509.ExtKeyUsageServerAuth,
	"clientAuth":      x509.ExtKeyUsageClientAuth,
	"codeSigning":     x509.ExtKeyUsageCodeSigning,
	"emailProtection": x509.ExtKeyUsageEmailProtection,
	"timeStamping":    x509.ExtKeyUsageTimeStamping,
	"OCSPSigning":     x509.ExtKeyUsageOCSPSigning,
}

// plan is what one case asks of Verify, or why it cannot be asked.
type plan struct {
	skip string
	// Each entry is one required EKU: Go accepts a chain valid for ANY of VerifyOptions.KeyUsages,
	// so requiring several means one Verify per usage.
	usages  []x509.ExtKeyUsage
	dnsName string
	at      time.Time
}

func planFor(tc *testcase) plan {
	for _, feature := range tc.Features {
		if !contentFeatures[feature] {
			return plan{skip: fmt.Sprintf("feature `%s` not supported by this harness", feature)}
		}
	}
	switch {
	case len(tc.Crls) > 0:
		return plan{skip: "CRLs not supported: crypto/x509 Verify does no revocation checking"}
	case tc.MaxChainDepth != nil:
		return plan{skip: "max_chain_depth not supported: VerifyOptions has no depth limit"}
	case len(tc.SignatureAlgorithms) > 0:
		return plan{skip: "signature_algorithms not supported: VerifyOptions has no algorithm list"}
	case len(tc.KeyUsage) > 0:
		return plan{skip: "key_usage not supported: VerifyOptions checks extended key usage only"}
	case len(tc.ExpectedPeerNames) > 0:
		return plan{skip: "expected_peer_names not supported: Verify checks one DNS name or IP"}
	}
	var p plan
	var implied string
	switch tc.ValidationKind {
	case "SERVER":
		implied = "serverAuth"
	case "CLIENT":
		implied = "clientAuth"
	default:
		return plan{skip: fmt.Sprintf("validation_kind `%s` not supported", tc.ValidationKind)}
	}
	required := append([]string{implied}, tc.ExtendedKeyUsage...)
	seen := map[string]bool{}
	for _, name := range required {
		if seen[name] {
			continue
		}
		seen[name] = true
		usage, ok := ekuByName[name]
		if !ok {
			return plan{skip: fmt.Sprintf("extended_key_usage `%s` not supported", name)}
		}
		p.usages = append(p.usages, usage)
	}
	if name := tc.ExpectedPeerName; name != nil {
		switch name.Kind {
		case "DNS", "IP":
			// VerifyHostname treats a name that parses as an IP address as one.
			p.dnsName = name.Value
		default:
			return plan{skip: fmt.Sprintf("expected_peer_name of kind %s not supported", name.Kind)}
		}
	}
	if tc.ValidationTime != nil {
		at, err := time.Parse(time.RFC3339, *tc.ValidationTime)
		if err != nil {
			return plan{skip: fmt.Sprintf("validation_time `%s` unreadable: %v", *tc.ValidationTime, err)}
		}
		p.at = at
	}
	// A zero p.at makes Verify use the current time, which is what a null validation_time means.
	return p
}

func parseCert(field, text string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no CERTIFICATE PEM block", field)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: x509.ParseCertificate: %w", field, err)
	}
	return cert, nil
}

// label names a certificate in a reported chain as the Rust side does: the subject CN, else a
// SHA-256 prefix.
func label(cert *x509.Certificate) string {
	if cert.Subject.CommonName != "" {
		return cert.Subject.CommonName
	}
	digest := sha256.Sum256(cert.Raw)
	return "sha256:" + hex.EncodeToString(digest[:])[:16]
}

var reasonNames = map[x509.InvalidReason]string{
	x509.NotAuthorizedToSign:           "NotAuthorizedToSign",
	x509.Expired:                       "Expired",
	x509.CANotAuthorizedForThisName:    "CANotAuthorizedForThisName",
	x509.TooManyIntermediates:          "TooManyIntermediates",
	x509.IncompatibleUsage:             "IncompatibleUsage",
	x509.NameMismatch:                  "NameMismatch",
	x509.NameConstraintsWithoutSANs:    "NameConstraintsWithoutSANs",
	x509.UnconstrainedName:             "UnconstrainedName",
	x509.TooManyConstraints:            "TooManyConstraints",
	x509.CANotAuthorizedForExtKeyUsage: "CANotAuthorizedForExtKeyUsage",
	x509.NoValidChains:                 "NoValidChains",
}

// describe is the native error with its Go type (and reason code), so it can be mapped to a
// normalized kind without parsing prose.
func describe(err error) string {
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		name, ok := reasonNames[invalid.Reason]
		if !ok {
			name = fmt.Sprintf("Reason(%d)", invalid.Reason)
		}
		return fmt.Sprintf("x509.CertificateInvalidError(%s): %v", name, err)
	}
	return fmt.Sprintf("%T: %v", err, err)
}

func evaluate(tc *testcase) result {
	r := result{ID: tc.ID}
	text := func(s string) *string { return &s }
	p := planFor(tc)
	if p.skip != "" {
		r.ActualResult = "SKIPPED"
		r.Context = text(p.skip)
		return r
	}
	fail := func(context string) result {
		r.ActualResult = "FAILURE"
		r.Context = text(context)
		return r
	}
	// Every certificate must parse: crypto/tls aborts a handshake on a served certificate that
	// does not, and an anchor that does not parse cannot anchor anything.
	roots := x509.NewCertPool()
	for i, pemText := range tc.TrustedCerts {
		cert, err := parseCert(fmt.Sprintf("trusted_certs[%d]", i), pemText)
		if err != nil {
			return fail(err.Error())
		}
		roots.AddCert(cert)
	}
	intermediates := x509.NewCertPool()
	for i, pemText := range tc.UntrustedIntermediates {
		cert, err := parseCert(fmt.Sprintf("untrusted_intermediates[%d]", i), pemText)
		if err != nil {
			return fail(err.Error())
		}
		intermediates.AddCert(cert)
	}
	peer, err := parseCert("peer_certificate", tc.PeerCertificate)
	if err != nil {
		return fail(err.Error())
	}
	var chain []*x509.Certificate
	for _, usage := range p.usages {
		chains, err := peer.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: intermediates,
			CurrentTime:   p.at,
			DNSName:       p.dnsName,
			KeyUsages:     []x509.ExtKeyUsage{usage},
		})
		if err != nil {
			return fail(describe(err))
		}
		if chain == nil {
			chain = chains[0]
		}
	}
	labels := make([]string, len(chain))
	for i, cert := range chain {
		labels[i] = label(cert)
	}
	r.ActualResult = "SUCCESS"
	r.Context = text("chain: " + strings.Join(labels, " <- "))
	return r
}

func main() {
	var input suite
	if err := json.NewDecoder(os.Stdin).Decode(&input); err != nil {
		fmt.Fprintf(os.Stderr, "go-crypto-x509 harness: cannot read the testcase JSON on stdin: %v\n", err)
		os.Exit(2)
	}
	out := results{Version: 1, Harness: "go-crypto-x509 " + runtime.Version(), Results: []result{}}
	for i := range input.Testcases {
		out.Results = append(out.Results, evaluate(&input.Testcases[i]))
	}
	encoder := json.NewEncoder(os.Stdout)
	if err := encoder.Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "go-crypto-x509 harness: cannot write results: %v\n", err)
		os.Exit(1)
	}
}
