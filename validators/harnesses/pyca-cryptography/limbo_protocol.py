"""The x509-limbo harness protocol for Python harnesses (see ../README.md).

A harness describes what its library can be told (`Capabilities`) and how it validates one
planned case (`evaluate`); this module reads the testcase file, works out what each case asks
for or why it must be skipped, and writes the results file. It lives next to the
harness, so it needs nothing but the standard library.
"""

import dataclasses
import datetime
import json
import sys
from typing import Callable, Optional

# Features that only describe certificate content: the library sees that content itself, so
# running the case is faithful. `has-crl` and `max-chain-depth` are inputs; a harness honours
# them only if its library takes them (Capabilities). Anything else is unknown and skipped.
CONTENT_FEATURES = frozenset(
    {
        "has-policy-constraints",
        "has-cert-policies",
        "no-cert-policies",
        "pedantic-public-suffix-wildcard",
        "name-constraint-dn",
        "pedantic-webpki-subscriber-key",
        "pedantic-webpki-eku",
        "pedantic-serial-number",
        "pedantic-rfc5280",
        "rfc5280-incompatible-with-webpki",
        "denial-of-service",
    }
)


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What the library can be told; everything else in a case leads to a skip."""

    max_chain_depth: bool = False
    # Peer-name kinds the library's own name check handles, per validation kind.
    server_name_kinds: frozenset = frozenset({"DNS", "IP"})
    client_name_kinds: frozenset = frozenset()
    client: bool = True


@dataclasses.dataclass(frozen=True)
class Plan:
    """One case as the library must be asked it."""

    id: str
    server: bool
    # (kind, value) with kind DNS, IP or RFC822; None: no name to check.
    peer_name: Optional[tuple]
    # None: the current time.
    at: Optional[datetime.datetime]
    max_chain_depth: Optional[int]
    trusted_pems: list
    untrusted_pems: list
    peer_pem: str


class Skip(Exception):
    """The case asks for something the library cannot be told; the message is the reason."""


def plan(testcase: dict, capabilities: Capabilities) -> Plan:
    for feature in testcase.get("features") or []:
        if feature in CONTENT_FEATURES:
            continue
        if feature == "max-chain-depth" and capabilities.max_chain_depth:
            continue
        raise Skip(f"feature `{feature}` not supported by this harness")
    if testcase.get("crls"):
        raise Skip("CRLs not supported by this harness")
    depth = testcase.get("max_chain_depth")
    if depth is not None and not capabilities.max_chain_depth:
        raise Skip("max_chain_depth not supported by this library")
    if testcase.get("signature_algorithms"):
        raise Skip("signature_algorithms not supported by this harness")
    if testcase.get("key_usage"):
        raise Skip("key_usage not supported by this harness")
    kind = testcase["validation_kind"]
    if kind == "SERVER":
        server, usage = True, "serverAuth"
    elif kind == "CLIENT" and capabilities.client:
        server, usage = False, "clientAuth"
    else:
        raise Skip(f"validation_kind {kind} not supported by this harness")
    others = [eku for eku in testcase.get("extended_key_usage") or [] if eku != usage]
    if others:
        raise Skip(f"extended_key_usage {others} beyond {usage} not supported by this harness")
    names = list(testcase.get("expected_peer_names") or [])
    if testcase.get("expected_peer_name"):
        names.insert(0, testcase["expected_peer_name"])
    if len(names) > 1:
        raise Skip("several expected peer names not supported: the library checks one")
    peer_name = None
    if names:
        allowed = capabilities.server_name_kinds if server else capabilities.client_name_kinds
        if names[0]["kind"] not in allowed:
            raise Skip(f"expected peer name of kind {names[0]['kind']} not supported for {kind}")
        peer_name = (names[0]["kind"], names[0]["value"])
    at = None
    if testcase.get("validation_time"):
        text = testcase["validation_time"].replace("Z", "+00:00")
        try:
            at = datetime.datetime.fromisoformat(text).astimezone(datetime.timezone.utc)
        except ValueError as error:
            raise Skip(f"validation_time `{testcase['validation_time']}` unreadable: {error}")
    return Plan(
        id=testcase["id"],
        server=server,
        peer_name=peer_name,
        at=at,
        max_chain_depth=depth,
        trusted_pems=list(testcase.get("trusted_certs") or []),
        untrusted_pems=list(testcase.get("untrusted_intermediates") or []),
        peer_pem=testcase["peer_certificate"],
    )


def success(chain_labels: Optional[list]) -> tuple:
    """SUCCESS, with the built chain when the library reports it."""
    if chain_labels is None:
        return ("SUCCESS", None)
    return ("SUCCESS", "chain: " + " <- ".join(chain_labels))


def failure(context: str) -> tuple:
    return ("FAILURE", context)


def run(
    column: str,
    version: str,
    capabilities: Capabilities,
    evaluate: Callable[[Plan], tuple],
) -> None:
    """Reads the testcase file on stdin, writes the results file on stdout."""
    try:
        limbo = json.load(sys.stdin)
        testcases = limbo["testcases"]
    except (ValueError, KeyError, TypeError) as error:
        print(f"{column} harness: cannot read the testcase JSON on stdin: {error}", file=sys.stderr)
        sys.exit(2)
    results = []
    for testcase in testcases:
        try:
            actual, context = evaluate(plan(testcase, capabilities))
        except Skip as reason:
            actual, context = "SKIPPED", str(reason)
        results.append({"id": testcase["id"], "actual_result": actual, "context": context})
    json.dump({"version": 1, "harness": f"{column} {version}", "results": results}, sys.stdout)
