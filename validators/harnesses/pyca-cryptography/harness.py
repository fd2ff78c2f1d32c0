"""An x509-limbo harness for pyca/cryptography's X.509 verifier (`cryptography.x509.verification`).

PolicyBuilder().store(Store(anchors)).time(validation_time).max_chain_depth(depth), then
`build_server_verifier(DNSName | IPAddress)` for SERVER cases (which requires serverAuth and checks
the name) or `build_client_verifier()` for CLIENT cases (clientAuth). Reads a limbo testcase
file on stdin, writes a limbo results file on stdout.
"""

import ipaddress

import cryptography
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    DNSName,
    IPAddress,
    PolicyBuilder,
    Store,
    VerificationError,
)

import limbo_protocol

CAPABILITIES = limbo_protocol.Capabilities(
    max_chain_depth=True,
    server_name_kinds=frozenset({"DNS", "IP"}),
    # The client verifier returns the peer's SANs but matches no expected name itself.
    client_name_kinds=frozenset(),
)


def label(cert: x509.Certificate) -> str:
    """The subject CN (first in encoding order), else `sha256:` and 16 hex digits."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names and isinstance(names[0].value, str):
        return names[0].value
    return "sha256:" + cert.fingerprint(hashes.SHA256()).hex()[:16]


def parse(field: str, pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError as error:
        raise ParseError(f"{field}: {type(error).__name__}: {error}")


class ParseError(Exception):
    """A certificate of the case that cryptography does not load; the message is the context."""


def evaluate(plan: limbo_protocol.Plan) -> tuple:
    try:
        anchors = [parse(f"trusted_certs[{i}]", pem) for i, pem in enumerate(plan.trusted_pems)]
        untrusted = [
            parse(f"untrusted_intermediates[{i}]", pem) for i, pem in enumerate(plan.untrusted_pems)
        ]
        peer = parse("peer_certificate", plan.peer_pem)
    except ParseError as error:
        return limbo_protocol.failure(str(error))
    try:
        builder = PolicyBuilder().store(Store(anchors))
        if plan.at is not None:
            builder = builder.time(plan.at)
        if plan.max_chain_depth is not None:
            builder = builder.max_chain_depth(plan.max_chain_depth)
        if plan.server:
            if plan.peer_name is None:
                raise limbo_protocol.Skip("the server verifier needs a peer name; the case has none")
            kind, value = plan.peer_name
            if kind == "DNS":
                subject = DNSName(value)
            else:
                subject = IPAddress(ipaddress.ip_address(value))
            chain = builder.build_server_verifier(subject).verify(peer, untrusted)
        else:
            chain = builder.build_client_verifier().verify(peer, untrusted).chain
    except VerificationError as error:
        return limbo_protocol.failure(f"VerificationError: {error}")
    except (ValueError, TypeError) as error:
        # The library refused an input (a store without certificates, a name it cannot hold).
        return limbo_protocol.failure(f"{type(error).__name__}: {error}")
    return limbo_protocol.success([label(cert) for cert in chain])


if __name__ == "__main__":
    limbo_protocol.run(
        "pyca-cryptography", cryptography.__version__, CAPABILITIES, evaluate
    )
