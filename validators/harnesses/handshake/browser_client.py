#!/usr/bin/env python3
"""A real browser as a TLS client: loads https://HOST:PORT/ trusting only the anchors of a CA file.

    browser_client.py --cafile FILE --host NAME --port P [--at RFC3339] [--browser chromium]
                      [--timeout SECONDS]
    browser_client.py --version [--browser chromium]

The last line of stdout is the verdict, exit status 0:
    SUCCESS                        the browser completed the TLS handshake (certificate accepted)
    FAILURE: net::ERR_...          the browser refused it; the browser's own error name
    SKIPPED: <why>                 this browser cannot be run as asked here
Anything else (the browser crashed, hung past --timeout, never reached the server, or its clock
did not follow --at) is an error: a reason on stderr and exit status 1; bad arguments exit 2.

How (see README.md beside this file for what was measured):
- a fresh HOME per run, whose NSS database ($HOME/.pki/nssdb) holds the anchors of FILE, each
  trusted for TLS servers (`certutil -t C,,`): that is where Chromium on Linux reads locally
  trusted roots;
- a fresh profile directory; NAME resolves to 127.0.0.1 through --host-resolver-rules, and every
  other name to nothing, so the browser reaches no other host (in particular no network-time
  server that could overrule the faked clock);
- the verdict comes from Chromium's net log (--log-net-log): the end of each SSL_CONNECT to the
  server's port carries the handshake's net error, certificate errors included. The HTTP answer
  does not matter: a server that closes after the handshake still yields SUCCESS;
- --at runs the browser under libfaketime with a frozen wall clock (TZ=UTC,
  FAKETIME_DONT_FAKE_MONOTONIC=1); the net log's own wall-clock offset is checked against --at.
Only the Python standard library is used.
"""

import argparse
import base64
import datetime
import glob
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

DEFAULT_TIMEOUT_SECONDS = 20.0
CHROMIUM = "/usr/bin/chromium"
FIREFOX = "/usr/bin/firefox-esr"
CERTUTIL = "certutil"
# How far the browser's wall clock may be from --at when its net log starts: the clock is frozen,
# but the net log derives wall time from the monotonic clock, which keeps running.
CLOCK_TOLERANCE_SECONDS = 120.0

PEM_CERT = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*(.*?)\s*-----END CERTIFICATE-----", re.DOTALL
)


class HarnessError(Exception):
    """No verdict: the reason goes to stderr and the exit status is 1."""


class Skip(Exception):
    """This browser cannot be run as asked: reported as `SKIPPED: <reason>`, exit 0."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cafile", help="PEM file of the only trusted anchors")
    parser.add_argument("--host", help="server name to load; it resolves to 127.0.0.1")
    parser.add_argument("--port", type=int, help="TCP port of the server on 127.0.0.1")
    parser.add_argument("--at", help="validation time, RFC 3339 (default: now)")
    parser.add_argument("--browser", choices=["chromium", "firefox"], default="chromium")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS)
    parser.add_argument("--version", action="store_true", help="print the browser's version")
    args = parser.parse_args(argv)
    if not args.version:
        missing = [f"--{name}" for name in ("cafile", "host", "port") if getattr(args, name) is None]
        if missing:
            parser.error("missing " + ", ".join(missing))
        if not 0 < args.port < 65536:
            parser.error(f"--port {args.port}: not a TCP port")
        if args.at is not None:
            try:
                args.at = parse_rfc3339(args.at)
            except ValueError as err:
                parser.error(f"--at {args.at!r}: {err}")
    return args


def parse_rfc3339(text):
    """An RFC 3339 timestamp as an aware UTC datetime (a trailing Z or an offset is required)."""
    normalized = text.strip()
    if normalized.endswith(("Z", "z")):
        normalized = normalized[:-1] + "+00:00"
    value = datetime.datetime.fromisoformat(normalized.replace("t", "T"))
    if value.tzinfo is None:
        raise ValueError("no time zone offset (RFC 3339 needs Z or +hh:mm)")
    return value.astimezone(datetime.timezone.utc)


def faketime_spec(at):
    """libfaketime's absolute format, which freezes the clock at that instant (milliseconds kept)."""
    return at.strftime("%Y-%m-%d %H:%M:%S") + f".{at.microsecond // 1000:03d}"


def anchors_in(cafile):
    """The DER certificates of a PEM file; bad input is an error, never an empty trust store."""
    try:
        with open(cafile, encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError as err:
        raise HarnessError(f"--cafile {cafile}: {err.strerror}") from err
    ders = []
    for index, match in enumerate(PEM_CERT.finditer(text)):
        try:
            ders.append(base64.b64decode("".join(match.group(1).split()), validate=True))
        except ValueError as err:
            raise HarnessError(f"--cafile {cafile}: certificate {index}: bad base64: {err}") from err
    if not ders:
        raise HarnessError(f"--cafile {cafile}: no PEM certificate")
    return ders


def run_checked(argv, env=None):
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    except FileNotFoundError as err:
        raise Skip(f"{argv[0]} not installed") from err
    if done.returncode != 0:
        raise HarnessError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def make_nss_db(db, ders):
    """An NSS database in the new directory `db` trusting each anchor to issue TLS server
    certificates: Chromium's $HOME/.pki/nssdb (nothing else trusted), or a Firefox profile (its
    own roots stay)."""
    if shutil.which(CERTUTIL) is None:
        raise Skip("certutil not installed (Debian package libnss3-tools)")
    os.makedirs(db, mode=0o700)
    run_checked([CERTUTIL, "-N", "-d", f"sql:{db}", "--empty-password"])
    for index, der in enumerate(ders):
        path = os.path.join(db, f"anchor-{index}.der")
        with open(path, "wb") as handle:
            handle.write(der)
        run_checked([CERTUTIL, "-A", "-d", f"sql:{db}", "-n", f"anchor-{index}", "-t", "C,,", "-i", path])
    return db


def host_in_url(host):
    """The host as written in a URL (an IPv6 literal in brackets)."""
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host


def resolver_rules(host):
    """NAME to 127.0.0.1 and every other name to nowhere (the first matching rule wins)."""
    try:
        ipaddress.ip_address(host)
        return "MAP * ~NOTFOUND"
    except ValueError:
        return f"MAP {host} 127.0.0.1, MAP * ~NOTFOUND"


def run_bounded(argv, env, cwd, timeout):
    """Runs the browser in its own process group; on timeout the whole group is killed."""
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process.pid)
        process.communicate()
        raise HarnessError(f"{os.path.basename(argv[0])}: no result within {timeout:g} s (killed)")
    finally:
        # The browser's helpers (zygote, utility processes) must not outlive it.
        kill_group(process.pid)
    return process.returncode, stderr.decode(errors="replace")


def faketime_library():
    """Debian's libfaketime, preloaded directly rather than through the `faketime` wrapper: a
    killed wrapper leaves its semaphore (named by its pid), and a later wrapper given the same
    pid then fails with `sem_open: File exists`."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        raise Skip("libfaketime not installed (Debian package libfaketime), needed for --at")
    return found[0]


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def chromium_version():
    if not os.access(CHROMIUM, os.X_OK):
        raise Skip(f"{CHROMIUM} not installed (Debian package chromium)")
    out = run_checked([CHROMIUM, "--version"])
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("Chromium")]
    if not lines:
        raise HarnessError(f"{CHROMIUM} --version: unexpected output {out!r}")
    return lines[0]


def chromium_verdict(args, ders):
    chromium_version()  # a missing browser is a skip, found before any work
    preload = faketime_library() if args.at is not None else None
    workdir = tempfile.mkdtemp(prefix="anchorsmith-browser-")
    try:
        home = os.path.join(workdir, "home")
        os.makedirs(home, mode=0o700)
        make_nss_db(os.path.join(home, ".pki", "nssdb"), ders)
        netlog = os.path.join(workdir, "netlog.json")
        url = f"https://{host_in_url(args.host)}:{args.port}/"
        argv = [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={os.path.join(workdir, 'profile')}",
            f"--host-resolver-rules={resolver_rules(args.host)}",
            f"--log-net-log={netlog}",
            "--dump-dom",
            url,
        ]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FAKETIME", "LD_PRELOAD", "XDG_"))
        }
        env.update(HOME=home, TZ="UTC", XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home)
        if args.at is not None:
            env.update(
                LD_PRELOAD=preload,
                FAKETIME=faketime_spec(args.at),
                FAKETIME_DONT_FAKE_MONOTONIC="1",
                # libfaketime 0.9.10 otherwise rewrites every CLOCK_MONOTONIC condition-variable
                # wait, and Chromium's threads then spin on futexes: a 0.6 s run took 20 to 35 s.
                FAKETIME_FORCE_MONOTONIC_FIX="0",
            )
        started = time.monotonic()
        status, stderr = run_bounded(argv, env, workdir, args.timeout)
        log = read_net_log(netlog, status, stderr)
        if args.at is not None:
            check_clock(log, args.at)
        return verdict_from_net_log(log, args.port, url, time.monotonic() - started)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def read_net_log(path, status, stderr):
    tail = "\n".join(line for line in stderr.splitlines() if "dbus" not in line)[-2000:]
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as err:
        raise HarnessError(f"chromium exit {status}, no net log ({err.strerror}): {tail}") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # A browser that stops abruptly leaves the events array open.
        try:
            return json.loads(text.rstrip().rstrip(",") + "]}")
        except json.JSONDecodeError as err:
            raise HarnessError(f"chromium exit {status}, unreadable net log ({err}): {tail}") from err


class NetLog:
    """Events of a Chromium net log, with the numeric codes turned back into their names."""

    def __init__(self, log):
        constants = log["constants"]
        self.event_name = {code: name for name, code in constants["logEventTypes"].items()}
        self.error_name = {code: name for name, code in constants["netError"].items()}
        self.phase_end = constants["logEventPhase"]["PHASE_END"]
        self.phase_begin = constants["logEventPhase"]["PHASE_BEGIN"]
        self.time_tick_offset_ms = int(constants["timeTickOffset"])
        self.events = log.get("events", [])

    def named(self, name):
        return [e for e in self.events if self.event_name.get(e["type"]) == name]

    def error(self, code):
        return "net::" + self.error_name.get(code, f"ERR_UNKNOWN({code})")


def check_clock(log, at):
    """libfaketime must really have moved the browser's wall clock, or the verdict is not at --at."""
    net_log = NetLog(log)
    if not net_log.events:
        raise HarnessError("empty net log: cannot check the browser's clock")
    first_ms = net_log.time_tick_offset_ms + int(net_log.events[0]["time"])
    seen = datetime.datetime.fromtimestamp(first_ms / 1000, tz=datetime.timezone.utc)
    if abs((seen - at).total_seconds()) > CLOCK_TOLERANCE_SECONDS:
        raise HarnessError(
            f"the browser's clock read {seen.isoformat()} instead of {at.isoformat()}: "
            "libfaketime not in effect"
        )


def verdict_from_net_log(log, port, url, elapsed):
    """SUCCESS if a TLS handshake with the server completed, else the handshake's net error."""
    net_log = NetLog(log)
    target = f":{port}"
    # Sockets (by source id) whose TCP connection reached the server's port on loopback.
    sockets = {
        e["source"]["id"]
        for e in net_log.named("TCP_CONNECT")
        if e["phase"] == net_log.phase_end
        and e.get("params", {}).get("remote_address", "").endswith(target)
    }
    handshakes = [
        e.get("params", {}).get("net_error", 0)
        for e in net_log.named("SSL_CONNECT")
        if e["phase"] == net_log.phase_end and e["source"]["id"] in sockets
    ]
    if any(code == 0 for code in handshakes):
        return "SUCCESS"
    if handshakes:
        # Chromium may open a preconnect and a request socket; they fail alike.
        return f"FAILURE: {net_log.error(handshakes[-1])}"
    request_errors = [
        e.get("params", {}).get("net_error")
        for e in net_log.named("REQUEST_ALIVE")
        if e["phase"] == net_log.phase_end
        and e["source"]["id"] in url_request_ids(net_log, url)
    ]
    reason = ", ".join(net_log.error(code) for code in request_errors if code) or "no request seen"
    raise HarnessError(f"no TLS handshake with {url} after {elapsed:.1f} s: {reason}")


def url_request_ids(net_log, url):
    return {
        e["source"]["id"]
        for e in net_log.named("REQUEST_ALIVE")
        if e["phase"] == net_log.phase_begin and e.get("params", {}).get("url") == url
    }


def firefox_version():
    if not os.access(FIREFOX, os.X_OK):
        raise Skip(f"{FIREFOX} not installed (Debian package firefox-esr)")
    out = run_checked([FIREFOX, "--version"], env={**os.environ, "HOME": tempfile.gettempdir()})
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("Mozilla Firefox")]
    if not lines:
        raise HarnessError(f"{FIREFOX} --version: unexpected output {out!r}")
    return lines[0]


# Preferences of the fresh Firefox profile. Every name resolves to 127.0.0.1, so the browser reaches
# no other host; no revocation fetching (the synthetic certificates name no responder, and a
# verdict must not depend on the network); no background services; and no automatic import of
# the system's roots when a certificate error looks like interception.
FIREFOX_PREFS = {
    "network.dns.forceResolve": "127.0.0.1",
    "network.proxy.type": 0,
    "security.OCSP.enabled": 0,
    "security.certerrors.mitm.auto_enable_enterprise_roots": False,
    "security.enterprise_roots.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "app.update.enabled": False,
    "app.normandy.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "extensions.update.enabled": False,
}

# mozilla::pkix's own error codes (MOZILLA_PKIX_ERROR_BASE = -0x4000 and up), which NSS's error
# tables do not hold; only the codes whose names are certain are listed, others are reported by
# their offset from the base.
MOZILLA_PKIX_ERROR_BASE = -0x4000
MOZILLA_PKIX_ERRORS = [
    "MOZILLA_PKIX_ERROR_KEY_PINNING_FAILURE",
    "MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY",
    "MOZILLA_PKIX_ERROR_INADEQUATE_KEY_SIZE",
    "MOZILLA_PKIX_ERROR_V1_CERT_USED_AS_CA",
    "MOZILLA_PKIX_ERROR_NO_RFC822NAME_MATCH",
    "MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE",
    "MOZILLA_PKIX_ERROR_NOT_YET_VALID_ISSUER_CERTIFICATE",
]

# The decisive lines of Firefox's HTTP log (MOZ_LOG module nsHttp, level 5), per connection.
FIREFOX_SETUP = re.compile(r"TlsHandshaker::SetupSSL ([0-9a-f]+) .*\](\S+?):(\d+)\^")
FIREFOX_DONE = re.compile(r"nsHttpConnection::HandshakeDoneInternal \[this=([0-9a-f]+)\]")
FIREFOX_ERROR = re.compile(
    r"nsHttpConnection::PostProcessNPNSetup \[this=([0-9a-f]+)\] captured TLS handshake error"
    r".*\(PRErrorCode=(-?\d+)\)"
)


def nspr_error_name(code):
    """The name NSS gives a PRErrorCode (SEC_ERROR_*, SSL_ERROR_*), asked of NSS itself."""
    if 0 <= code - MOZILLA_PKIX_ERROR_BASE < 0x400:
        offset = code - MOZILLA_PKIX_ERROR_BASE
        if offset < len(MOZILLA_PKIX_ERRORS):
            return MOZILLA_PKIX_ERRORS[offset]
        return f"MOZILLA_PKIX_ERROR_BASE+{offset} ({code})"
    import ctypes  # only here: the Chromium path needs no NSS library in this process

    try:
        nss = ctypes.CDLL("libnss3.so")
        ssl = ctypes.CDLL("libssl3.so")
        nspr = ctypes.CDLL("libnspr4.so")
    except OSError:
        return f"PRErrorCode {code}"
    nss.NSS_NoDB_Init(None)
    ssl.SSL_OptionSetDefault(1, 1)  # any libssl call registers the SSL_ERROR_* names
    nspr.PR_ErrorToName.restype = ctypes.c_char_p
    name = nspr.PR_ErrorToName(code)
    return name.decode() if name else f"PRErrorCode {code}"


def firefox_decision(log_text, host, port):
    """SUCCESS / FAILURE: <name> once a handshake with HOST:PORT has ended, else None."""
    ours = set()
    for line in log_text.splitlines():
        setup = FIREFOX_SETUP.search(line)
        if setup:
            if setup.group(2) == host and setup.group(3) == str(port):
                ours.add(setup.group(1))
            continue
        done = FIREFOX_DONE.search(line)
        if done and done.group(1) in ours:
            return "SUCCESS"
        error = FIREFOX_ERROR.search(line)
        if error and error.group(1) in ours:
            return f"FAILURE: {nspr_error_name(int(error.group(2)))}"
    return None


def firefox_verdict(args, ders):
    firefox_version()
    if args.at is not None:
        # Measured: under libfaketime, Firefox deadlocks before its first window. Its allocator
        # (mozjemalloc) reads the clock while holding its lock; libfaketime's lazy start then
        # calls dlsym, which allocates, and waits on that same lock forever.
        raise Skip("firefox: cannot run at another time: libfaketime deadlocks Firefox at start")
    if not re.fullmatch(r"[A-Za-z0-9.-]+", args.host):
        raise Skip(f"firefox: host {args.host!r}: only DNS names are supported")
    workdir = tempfile.mkdtemp(prefix="anchorsmith-browser-")
    try:
        profile = os.path.join(workdir, "profile")
        make_nss_db(profile, ders)
        with open(os.path.join(profile, "user.js"), "w", encoding="utf-8") as prefs:
            for name, value in FIREFOX_PREFS.items():
                prefs.write(f"user_pref({json.dumps(name)}, {json.dumps(value)});\n")
        log_base = os.path.join(workdir, "moz")
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FAKETIME", "LD_PRELOAD", "XDG_", "MOZ_"))
        }
        env.update(
            HOME=workdir,
            TZ="UTC",
            MOZ_LOG="sync,nsHttp:5",
            MOZ_LOG_FILE=log_base,
            MOZ_HEADLESS="1",
        )
        url = f"https://{args.host}:{args.port}/"
        argv = [FIREFOX, "--headless", "--no-remote", "--profile", profile,
                "--screenshot", os.path.join(workdir, "page.png"), url]
        return firefox_watch(argv, env, workdir, log_base + ".moz_log", args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def firefox_watch(argv, env, cwd, log_path, args):
    """Firefox never leaves a certificate error page by itself: watch its log, then stop it."""
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + args.timeout
    try:
        while True:
            text = ""
            try:
                with open(log_path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                pass
            decision = firefox_decision(text, args.host, args.port)
            if decision is not None:
                return decision
            if process.poll() is not None:
                raise HarnessError(f"firefox exit {process.returncode} before any TLS handshake with "
                                   f"{args.host}:{args.port} ended")
            if time.monotonic() > deadline:
                raise HarnessError(f"firefox-esr: no TLS handshake with {args.host}:{args.port} ended "
                                   f"within {args.timeout:g} s (killed)")
            time.sleep(0.1)
    finally:
        kill_group(process.pid)
        process.wait()


def main(argv):
    args = parse_args(argv)
    try:
        if args.version:
            print(firefox_version() if args.browser == "firefox" else chromium_version())
            return 0
        ders = anchors_in(args.cafile)
        verdict = firefox_verdict if args.browser == "firefox" else chromium_verdict
        print(verdict(args, ders))
        return 0
    except Skip as skip:
        if args.version:
            print(f"error: {skip}", file=sys.stderr)
            return 1
        print(f"SKIPPED: {skip}")
        return 0
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
