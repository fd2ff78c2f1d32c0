#!/usr/bin/env python3
"""x509-limbo harness: real TLS handshakes through a legacy Node.js build and its bundled OpenSSL.

Reads a limbo testcase file on stdin, writes a limbo results file on stdout.

Why a Python driver around the JavaScript: these Node versions cannot be told a verification
time, so the clock is set per process with libfaketime. One `handshake.js` process (server and
client together) runs per distinct validation time of the batch. Grouping, the skip rules,
RFC 3339 parsing and the per-process timeout live here, in one place, instead of in ES5 that must
also run on Node 0.12.

A case with no result in the output is a harness error (its node process crashed or a handshake
timed out); the reason is written to stderr. Exit status: 0 when results were written, 2 on bad
input (stdin not a limbo file, or a bad flag).
"""

import argparse
import base64
import glob
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
HANDSHAKE_JS = os.path.join(HERE, "handshake.js")

# Handshakes in flight at once inside one node process. Measured on limbo-core (Node 10): 4 gave
# no gain over 1, since each handshake is CPU work on Node's one thread; 1 also lets a crash name
# its case at once. handshake.js and run_group handle more, should that ever pay.
CONCURRENCY = 1


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", required=True, help="the node binary to drive")
    parser.add_argument(
        "--faketime-lib",
        default=None,
        metavar="PATH",
        help="libfaketime.so.1 to preload (default: Debian's, /usr/lib/<triplet>/faketime/)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds one handshake may take before it counts as a harness error",
    )
    parser.add_argument(
        "--key-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="for cases without peer_certificate_key: a `cargo xtask gen --emit-keys` output; "
        "the key of the peer certificate X.pem is X.key.pem",
    )
    parser.add_argument(
        "--keys-from",
        action="append",
        default=[],
        metavar="LIMBO_JSON",
        help="for cases without peer_certificate_key: a limbo testcase file (.json or .json.gz) "
        "whose cases carry the key of the same peer certificate",
    )
    return parser.parse_args(argv)


def der_of(pem):
    """The DER of the first PEM block, so the same certificate matches however it is wrapped."""
    match = re.search(r"-----BEGIN [^-]+-----(.*?)-----END [^-]+-----", pem, re.S)
    if not match:
        return None
    try:
        return base64.b64decode("".join(match.group(1).split()))
    except ValueError:
        return None


def load_json(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def known_keys(key_dirs, limbo_files):
    """Peer certificate DER -> private key PEM, from generator output and keyed limbo files."""
    keys = {}
    for directory in key_dirs:
        for name in os.listdir(directory):
            if not name.endswith(".key.pem"):
                continue
            cert_path = os.path.join(directory, name[: -len(".key.pem")] + ".pem")
            if not os.path.exists(cert_path):
                continue
            with open(cert_path, encoding="ascii") as cert, open(
                os.path.join(directory, name), encoding="ascii"
            ) as key:
                der = der_of(cert.read())
                if der:
                    keys[der] = key.read()
    for path in limbo_files:
        for testcase in load_json(path).get("testcases", []):
            key = testcase.get("peer_certificate_key")
            der = der_of(testcase.get("peer_certificate", ""))
            if key and der:
                keys[der] = key
    return keys


def skip_reason(testcase, key):
    """Why this harness cannot honour the case, or None. A TLS client verifying a server with
    Node's `tls.connect` has no knob for any of these, so answering would misstate the case."""
    if testcase.get("validation_kind") != "SERVER":
        return "CLIENT validation: this harness is a TLS client verifying a server"
    if testcase.get("max_chain_depth") is not None:
        return "max_chain_depth: tls.connect has no depth limit option"
    if testcase.get("key_usage"):
        return "key_usage: tls.connect cannot require key usages"
    if testcase.get("signature_algorithms"):
        return "signature_algorithms: tls.connect cannot restrict certificate signature algorithms"
    if testcase.get("crls"):
        return (
            "crls: Node's `crl` option turns on CRL checks for every certificate of the chain "
            "(X509_V_FLAG_CRL_CHECK_ALL), which limbo's CRL cases do not mean"
        )
    ekus = testcase.get("extended_key_usage") or []
    if any(eku != "serverAuth" for eku in ekus):
        return "extended_key_usage: a TLS client always checks serverAuth, nothing else"
    names = list(testcase.get("expected_peer_names") or [])
    if testcase.get("expected_peer_name"):
        names.insert(0, testcase["expected_peer_name"])
    if len(names) > 1:
        return "expected_peer_names: a TLS client checks one server name"
    if names and names[0].get("kind") not in ("DNS", "IP"):
        return "expected_peer_name of kind %s: a TLS client checks DNS names and IP addresses" % (
            names[0].get("kind"),
        )
    if not key:
        return (
            "no peer_certificate_key: a TLS server cannot present the chain without the peer's "
            "private key"
        )
    return None


def faketime_spec(validation_time):
    """libfaketime's absolute time (`YYYY-MM-DD hh:mm:ss`, read in TZ=UTC), or None for limbo's
    null time (now). Absolute without `@` means the wall clock stands still: a clock that ran
    from the start time would cross one-second boundaries (limbo's `not-yet-valid-1-second`)
    while Node starts and earlier handshakes run.
    Sub-second parts are dropped: OpenSSL compares whole seconds (time_t)."""
    if validation_time is None:
        return None
    moment = datetime.fromisoformat(validation_time.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("validation_time `%s` has no time zone" % validation_time)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def faketime_epoch(spec):
    """The Unix time a frozen libfaketime clock at `spec` reads."""
    moment = datetime.strptime(spec, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def faketime_library(args):
    """libfaketime itself, preloaded directly rather than through the `faketime` wrapper: the
    wrapper makes a semaphore and shared memory named by its PID and cannot remove them when a
    timeout kills it, so a later wrapper that gets the same PID fails (`sem_open: File exists`)."""
    if args.faketime_lib:
        return args.faketime_lib
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        raise OSError("libfaketime not found at /usr/lib/<triplet>/faketime/ (Debian package libfaketime)")
    return found[0]


def child_environment(args=None, spec=None):
    """Only what we set: NODE_EXTRA_CA_CERTS, NODE_OPTIONS, NODE_TLS_REJECT_UNAUTHORIZED,
    SSL_CERT_FILE and friends would change what the client trusts or checks.

    TZ=UTC because libfaketime reads its time in local time. FAKETIME_DONT_FAKE_MONOTONIC: with
    the wall clock frozen, a frozen monotonic clock would also stop Node's timers (the event loop
    never reaches a timeout); OpenSSL only reads the wall clock."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TZ": "UTC",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    if spec is not None:
        environment["LD_PRELOAD"] = faketime_library(args)
        environment["FAKETIME"] = spec
    return environment


def node_command(args):
    return [args.node, HANDSHAKE_JS]


class Run:
    """What one node process said: its harness string, verdicts and per-case errors by id, the
    cases it started, and why it stopped early (None when it finished)."""

    def __init__(self):
        self.harness = None
        self.clock = None
        self.results = {}
        self.errors = {}
        self.started = []
        self.failure = None


def run_process(args, spec, cases, concurrency):
    run = Run()
    request = {
        "timeout_ms": int(args.timeout * 1000),
        "concurrency": concurrency,
        "cases": cases,
    }
    # Start-up plus each handshake's own bound; a hang past that is the process's fault.
    limit = 10 + args.timeout * (len(cases) / concurrency + 1)
    command = node_command(args)
    try:
        # Its own process group, so that a timeout kills whatever node started too.
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_environment(args, spec),
            start_new_session=True,
        )
    except OSError as error:
        run.failure = "cannot start %s: %s" % (command[0], error)
        return run
    try:
        stdout, stderr = child.communicate(json.dumps(request).encode(), timeout=limit)
        status = child.returncode
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        stdout, stderr = child.communicate()
        status = None
        run.failure = "node process timed out after %.0f s" % limit
    for line in stdout.decode(errors="replace").splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            run.failure = run.failure or "node wrote a line that is not JSON: %s" % line[:200]
            continue
        if "harness" in message:
            run.harness = message["harness"]
            run.clock = message.get("clock")
        elif "started" in message:
            run.started.append(message["started"])
        elif "result" in message:
            run.results[message["result"]["id"]] = message["result"]
        elif "error" in message:
            run.errors[message["error"]["id"]] = message["error"]["detail"]
    if spec is not None and run.clock is not None and run.clock != faketime_epoch(spec):
        # Never report verdicts made at the wrong time.
        run.failure = "libfaketime did not take effect: node's clock read %d, not %s UTC" % (
            run.clock,
            spec,
        )
        run.results, run.errors, run.started = {}, {}, []
        return run
    if status is not None and status != 0 and run.failure is None:
        # Node's aborts print the assertion first, then a backtrace: keep the first line that is
        # not one of Node's `(node:PID) Warning` lines.
        lines = [
            line
            for line in stderr.decode(errors="replace").strip().splitlines()
            if not line.startswith("(node:")
        ]
        run.failure = "node process died (%s): %s" % (
            "signal %d" % -status if status < 0 else "exit status %d" % status,
            lines[0] if lines else "no message",
        )
    return run


def run_group(args, spec, cases):
    """Every case at one validation time, in as few node processes as crashes allow.

    Returns (harness string, results by id, errors by id). A process that dies takes only the
    cases in flight with it: those are re-run one at a time, so the next death names its case
    exactly, and that case alone gets the error."""
    harness, results, errors = None, {}, {}
    work = [(cases, CONCURRENCY)]
    while work:
        batch, concurrency = work.pop(0)
        run = run_process(args, spec, batch, concurrency)
        if run.failure is not None and not run.started:
            # A process that failed before its first handshake (seen once in many runs on a
            # loaded machine, for a whole validation time) is started once more before its cases
            # are given up.
            print("driver.py: retrying after: %s" % run.failure, file=sys.stderr)
            run = run_process(args, spec, batch, concurrency)
        harness = harness or run.harness
        results.update(run.results)
        errors.update(run.errors)
        if run.failure is None:
            continue
        settled = set(run.results) | set(run.errors)
        in_flight = [c for c in batch if c["id"] in run.started and c["id"] not in settled]
        not_started = [c for c in batch if c["id"] not in run.started]
        if concurrency == 1 or len(in_flight) <= 1:
            for case in in_flight:
                errors[case["id"]] = run.failure
        else:
            work.append((in_flight, 1))
        if not_started and not in_flight and not run.started:
            # Died before its first handshake: nothing to narrow down.
            for case in not_started:
                errors[case["id"]] = run.failure
        elif not_started:
            work.append((not_started, CONCURRENCY))
    return harness, results, errors


def harness_name(args):
    """The harness string when no batch process reported one (every case skipped or lost)."""
    try:
        done = subprocess.run(
            [args.node, HANDSHAKE_JS, "--version"],
            capture_output=True,
            check=True,
            timeout=10,
            env=child_environment(),
        )
        return json.loads(done.stdout)["harness"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as error:
        return "node (version unknown: %s)" % error


def main(argv):
    args = parse_args(argv)
    try:
        suite = json.load(sys.stdin)
        testcases = suite["testcases"]
    except (ValueError, KeyError, TypeError) as error:
        print("driver.py: stdin is not a limbo testcase file: %s" % error, file=sys.stderr)
        return 2
    keys = known_keys(args.key_dir, args.keys_from)

    results = {}
    groups = {}  # faketime spec (None = now) -> cases for handshake.js
    for testcase in testcases:
        key = testcase.get("peer_certificate_key") or keys.get(
            der_of(testcase.get("peer_certificate", ""))
        )
        reason = skip_reason(testcase, key)
        if reason is None:
            try:
                spec = faketime_spec(testcase.get("validation_time"))
            except ValueError as error:
                reason = "validation_time: %s" % error
        if reason is not None:
            results[testcase["id"]] = {
                "id": testcase["id"],
                "actual_result": "SKIPPED",
                "context": reason,
            }
            continue
        names = [testcase.get("expected_peer_name")] + list(
            testcase.get("expected_peer_names") or []
        )
        groups.setdefault(spec, []).append(
            {
                "id": testcase["id"],
                "key": key,
                "chain": "\n".join(
                    [testcase["peer_certificate"]] + testcase["untrusted_intermediates"]
                ),
                "ca": testcase["trusted_certs"],
                "name": next((n for n in names if n), None),
            }
        )

    harness = None
    started = time.monotonic()
    for spec, cases in groups.items():
        reported, answered, errors = run_group(args, spec, cases)
        harness = harness or reported
        results.update(answered)
        for case_id, detail in errors.items():
            print(
                "driver.py: no result for %s (%s): %s" % (case_id, spec or "now", detail),
                file=sys.stderr,
            )
    print(
        "driver.py: %d cases, %d handshakes at %d validation times, %.2f s"
        % (
            len(testcases),
            sum(len(c) for c in groups.values()),
            len(groups),
            time.monotonic() - started,
        ),
        file=sys.stderr,
    )

    json.dump(
        {
            "version": 1,
            "harness": harness or harness_name(args),
            "results": [results[t["id"]] for t in testcases if t["id"] in results],
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
