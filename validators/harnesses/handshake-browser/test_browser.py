"""Tests of browser_client.py against a real TLS server on 127.0.0.1 and real certificates.

    cd validators/harnesses/handshake-browser && python3 -m unittest -v test_browser

The certificates are made per run with the openssl command line in a temporary directory
(private keys mode 0600, removed afterwards); the server is Python's ssl module, serving the chain
exactly as given. Needs chromium, certutil (libnss3-tools), faketime and openssl. Without them the
tests are skipped with the list of what is missing, except under CI=true, where they fail.
"""

import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "browser_client.py")
COMMON_NEEDS = {"certutil": "libnss3-tools", "faketime": "faketime", "openssl": "openssl"}
NAME = "test.example"


def missing_programs(browser_program, browser_package):
    needed = {browser_program: browser_package, **COMMON_NEEDS}
    return [f"{prog} ({package})" for prog, package in needed.items() if shutil.which(prog) is None]


def openssl(*args, cwd, faketime=None):
    argv = ["openssl", *args]
    if faketime is not None:
        # OpenSSL 3.0's `x509 -req` has no start-date option: run it at the wanted date.
        argv = ["faketime", "-f", faketime, *argv]
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, env={**os.environ, "TZ": "UTC"})


class Pki:
    """Test certificates in a private directory: a root, an intermediate and leaves under it."""

    def __init__(self, directory):
        self.dir = directory

    def path(self, name):
        return os.path.join(self.dir, name)

    def key(self, name):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", f"{name}.key", cwd=self.dir)
        os.chmod(self.path(f"{name}.key"), 0o600)

    def root(self, name, faketime=None):
        self.key(name)
        openssl("req", "-x509", "-key", f"{name}.key", "-out", f"{name}.pem", "-days", "3650",
                "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir, faketime=faketime)

    def issue(self, name, issuer, *, ca, days, san=NAME, faketime=None):
        self.key(name)
        openssl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
                cwd=self.dir)
        ext = self.path(f"{name}.ext")
        with open(ext, "w", encoding="ascii") as handle:
            if ca:
                handle.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
            else:
                handle.write(f"basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:{san}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key",
                "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", str(days),
                "-extfile", ext, "-out", f"{name}.pem", cwd=self.dir, faketime=faketime)

    def chain_file(self, name, *certs):
        """A served chain: the PEM certificates in the order given."""
        with open(self.path(name), "w", encoding="ascii") as out:
            for cert in certs:
                with open(self.path(f"{cert}.pem"), encoding="ascii") as handle:
                    out.write(handle.read())
        return self.path(name)


class TlsServer:
    """Python's ssl module on 127.0.0.1, an ephemeral port: serves CHAIN and answers one HTTP line."""

    def __init__(self, chain, key, behaviour="http"):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(chain, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.behaviour = behaviour
        self.open = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.open.append(conn)
            if self.behaviour == "silent":
                continue  # accepts TCP, never answers: the client must bound its own time
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(5)
                tls.recv(4096)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except (OSError, ssl.SSLError):
            pass  # the client refused the certificate: its alert ends the handshake

    def close(self):
        self.listener.close()
        for conn in self.open:
            conn.close()


def run_client(*args, timeout=60):
    started = time.monotonic()
    done = subprocess.run([sys.executable, CLIENT, *args], capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - started


class BrowserHandshake:
    """The cases every browser runs; a subclass names the browser and its native error names."""

    BROWSER = None  # --browser value
    PROGRAM = None  # (path, Debian package)
    EXPIRED = UNKNOWN_ISSUER = NAME_MISMATCH = None

    @classmethod
    def setUpClass(cls):
        missing = missing_programs(*cls.PROGRAM)
        if missing and os.environ.get("CI") != "true":
            raise unittest.SkipTest(f"not installed: {', '.join(missing)}")
        if missing:
            raise AssertionError(f"CI=true and not installed: {', '.join(missing)}")
        cls.tmp = tempfile.TemporaryDirectory(prefix="anchorsmith-browser-test-")
        pki = cls.pki = Pki(cls.tmp.name)
        pki.root("test-root")
        pki.issue("test-intermediate", "test-root", ca=True, days=365)
        pki.issue("test-leaf", "test-intermediate", ca=False, days=90)
        pki.issue("test-leaf-other-name", "test-intermediate", ca=False, days=90, san="other.example")
        # A PKI whose whole life was 2021: the leaf is valid from 2021-01-01 to 2021-04-01.
        pki.root("test-root-2021", faketime="2021-01-01 00:00:00")
        pki.issue("test-leaf-2021", "test-root-2021", ca=False, days=90, faketime="2021-01-01 00:00:00")
        pki.root("test-unrelated-root")
        # A leaf whose life starts in 2030, under today's root.
        pki.issue("test-leaf-2030", "test-root", ca=False, days=90, faketime="2030-01-01 00:00:00")
        cls.servers = []

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers:
            server.close()
        cls.tmp.cleanup()

    def serve(self, *certs, behaviour="http"):
        chain = self.pki.chain_file(f"served-{'-'.join(certs)}.pem", *certs)
        server = TlsServer(chain, self.pki.path(f"{certs[0]}.key"), behaviour)
        self.servers.append(server)
        return server.port

    def verdict(self, *args):
        done, elapsed = run_client("--browser", self.BROWSER, *args)
        self.assertEqual(done.returncode, 0, f"stderr: {done.stderr}")
        lines = done.stdout.strip().splitlines()
        self.assertTrue(lines, f"no output; stderr: {done.stderr}")
        return lines[-1], elapsed

    def anchors(self, root):
        return ["--cafile", self.pki.path(f"{root}.pem")]

    def test_valid_chain_is_accepted(self):
        port = self.serve("test-leaf", "test-intermediate")
        line, _ = self.verdict(*self.anchors("test-root"), "--host", NAME, "--port", str(port))
        self.assertEqual(line, "SUCCESS")

    def test_missing_intermediate_is_an_unknown_issuer(self):
        port = self.serve("test-leaf")
        line, _ = self.verdict(*self.anchors("test-root"), "--host", NAME, "--port", str(port))
        self.assertEqual(line, f"FAILURE: {self.UNKNOWN_ISSUER}")

    def test_unknown_issuer(self):
        port = self.serve("test-leaf", "test-intermediate")
        line, _ = self.verdict(*self.anchors("test-unrelated-root"), "--host", NAME, "--port", str(port))
        self.assertEqual(line, f"FAILURE: {self.UNKNOWN_ISSUER}")

    def test_name_mismatch(self):
        port = self.serve("test-leaf-other-name", "test-intermediate")
        line, _ = self.verdict(*self.anchors("test-root"), "--host", NAME, "--port", str(port))
        self.assertEqual(line, f"FAILURE: {self.NAME_MISMATCH}")

    def test_expired_now_and_valid_at_a_date_in_its_life(self):
        port = self.serve("test-leaf-2021")
        args = [*self.anchors("test-root-2021"), "--host", NAME, "--port", str(port)]
        self.assertEqual(self.verdict(*args)[0], f"FAILURE: {self.EXPIRED}")
        self.check_at(args)

    def check_at(self, args):
        self.assertEqual(self.verdict(*args, "--at", "2021-03-01T12:00:00Z")[0], "SUCCESS")
        # After notAfter and before notBefore, under the faked clock too.
        self.assertEqual(self.verdict(*args, "--at", "2021-06-01T00:00:00Z")[0],
                         f"FAILURE: {self.EXPIRED}")
        self.assertEqual(self.verdict(*args, "--at", "2020-12-01T00:00:00+00:00")[0],
                         f"FAILURE: {self.NOT_YET_VALID}")

    def test_not_yet_valid(self):
        port = self.serve("test-leaf-2030")
        line, _ = self.verdict(*self.anchors("test-root"), "--host", NAME, "--port", str(port))
        self.assertEqual(line, f"FAILURE: {self.NOT_YET_VALID}")

    def test_refused_connection_is_an_error_not_a_verdict(self):
        with socket.create_server(("127.0.0.1", 0)) as probe:
            port = probe.getsockname()[1]
        done, _ = run_client("--browser", self.BROWSER, *self.anchors("test-root"), "--host", NAME,
                             "--port", str(port), "--timeout", "6")
        self.assertEqual(done.returncode, 1)
        self.assertIn(self.REFUSED, done.stderr)
        self.assertEqual(done.stdout.strip(), "")

    def test_a_silent_server_is_bounded_by_the_timeout_and_the_browser_killed(self):
        port = self.serve("test-leaf", "test-intermediate", behaviour="silent")
        done, elapsed = run_client("--browser", self.BROWSER, *self.anchors("test-root"), "--host",
                                   NAME, "--port", str(port), "--timeout", "4")
        self.assertEqual(done.returncode, 1)
        self.assertRegex(done.stderr, r"(no result|ended) within 4 s")
        self.assertLess(elapsed, 15)
        # No browser process is left with this run's temporary profile.
        leftover = subprocess.run(["pgrep", "-f", "anchorsmith-browser-"],
                                  capture_output=True, text=True).stdout.split()
        self.assertEqual(leftover, [])

    def test_a_file_without_certificates_is_an_error(self):
        empty = self.pki.path("test-empty.pem")
        open(empty, "w", encoding="ascii").close()
        done, _ = run_client("--browser", self.BROWSER, "--cafile", empty, "--host", NAME, "--port", "1")
        self.assertEqual(done.returncode, 1)
        self.assertIn("no PEM certificate", done.stderr)

    def test_version_is_the_browsers_own(self):
        done, _ = run_client("--browser", self.BROWSER, "--version")
        self.assertEqual(done.returncode, 0, done.stderr)
        real = subprocess.run([self.PROGRAM[0], "--version"], capture_output=True, text=True).stdout
        self.assertRegex(done.stdout.strip(), self.VERSION)
        self.assertIn(done.stdout.strip(), real)

    def test_cost_per_handshake(self):
        """Median wall-clock time of one verdict at the real time (printed for the README)."""
        port = self.serve("test-leaf", "test-intermediate")
        args = [*self.anchors("test-root"), "--host", NAME, "--port", str(port)]
        now = []
        for _ in range(3):
            line, elapsed = self.verdict(*args)
            self.assertEqual(line, "SUCCESS")
            now.append(elapsed)
        print(f"\n{self.BROWSER}: cost per verdict at the real time (median of 3): "
              f"{statistics.median(now):.2f} s", file=sys.stderr)
        self.assertLess(statistics.median(now), 8)


class ChromiumHandshake(BrowserHandshake, unittest.TestCase):
    BROWSER = "chromium"
    PROGRAM = ("/usr/bin/chromium", "chromium")
    VERSION = r"^Chromium \d+\.\d+\.\d+\.\d+"
    EXPIRED = NOT_YET_VALID = "net::ERR_CERT_DATE_INVALID"
    UNKNOWN_ISSUER = "net::ERR_CERT_AUTHORITY_INVALID"
    NAME_MISMATCH = "net::ERR_CERT_COMMON_NAME_INVALID"
    REFUSED = "net::ERR_CONNECTION_REFUSED"

    def test_cost_under_faketime(self):
        port = self.serve("test-leaf", "test-intermediate")
        args = [*self.anchors("test-root"), "--host", NAME, "--port", str(port)]
        faked = []
        for _ in range(3):
            line, elapsed = self.verdict(*args, "--at", "2027-01-01T00:00:00Z")
            self.assertEqual(line, "SUCCESS")
            faked.append(elapsed)
        print(f"\nchromium: cost per verdict under libfaketime (median of 3): "
              f"{statistics.median(faked):.2f} s", file=sys.stderr)
        # Measured 0.6 s; 20 to 35 s was libfaketime's futex spin (see README.md).
        self.assertLess(statistics.median(faked), 8)


class FirefoxHandshake(BrowserHandshake, unittest.TestCase):
    BROWSER = "firefox"
    PROGRAM = ("/usr/bin/firefox-esr", "firefox-esr")
    VERSION = r"^Mozilla Firefox \d+\.\d+"
    EXPIRED = "SEC_ERROR_EXPIRED_CERTIFICATE"
    NOT_YET_VALID = "MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE"
    UNKNOWN_ISSUER = "SEC_ERROR_UNKNOWN_ISSUER"
    NAME_MISMATCH = "SSL_ERROR_BAD_CERT_DOMAIN"
    # Firefox stays on its error page and its log does not tie the refusal to the URL: the
    # harness's own timeout ends the run.
    REFUSED = "no TLS handshake with test.example"

    def check_at(self, args):
        # libfaketime deadlocks Firefox at start (README.md): a case at another time is skipped.
        line, _ = self.verdict(*args, "--at", "2021-03-01T12:00:00Z")
        self.assertRegex(line, r"^SKIPPED: firefox: cannot run at another time")


if __name__ == "__main__":
    unittest.main()
