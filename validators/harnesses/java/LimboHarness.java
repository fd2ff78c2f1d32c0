// An x509-limbo harness for Java 17's two certificate-path validators (see ../README.md):
//
//   certpath  CertPathBuilder("PKIX"): PKIXBuilderParameters with the case's anchors, the served
//             certificates as a CertStore, setDate(validation_time), revocation off; then the
//             JDK's own TLS hostname checker (sun.security.util.HostnameChecker, the one JSSE
//             uses) for expected_peer_name.
//   jsse      The JSSE TLS trust manager (TrustManagerFactory "PKIX" over a KeyStore holding the
//             anchors): X509ExtendedTrustManager.checkServerTrusted(chain, "UNKNOWN", engine),
//             as a TLS 1.3 client calls it, with endpoint identification "HTTPS". The trust
//             manager has no time parameter: cases with a validation_time run in a child JVM
//             whose clock libfaketime freezes at that time (one child per distinct time).
//
// Reads a limbo testcase file on stdin, writes a limbo results file on stdout.

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

import sun.security.util.HostnameChecker;

public final class LimboHarness {
    /** The column this process computes. */
    enum Mode {
        CERTPATH("java-certpathbuilder"),
        JSSE("java-jsse-trustmanager");

        final String column;

        Mode(String column) {
            this.column = column;
        }
    }

    /** Internal mode of the child JVM that runs JSSE cases under a frozen clock. */
    static final String JSSE_FROZEN_CLOCK = "jsse-frozen-clock";

    /** Features that only describe certificate content: the library sees it, so running is faithful. */
    static final Set<String> CONTENT_FEATURES = Set.of(
            "has-policy-constraints", "has-cert-policies", "no-cert-policies",
            "pedantic-public-suffix-wildcard", "name-constraint-dn",
            "pedantic-webpki-subscriber-key", "pedantic-webpki-eku", "pedantic-serial-number",
            "pedantic-rfc5280", "rfc5280-incompatible-with-webpki", "denial-of-service");

    static final Map<String, String> EKU_OIDS = Map.of(
            "serverAuth", "1.3.6.1.5.5.7.3.1",
            "clientAuth", "1.3.6.1.5.5.7.3.2",
            "codeSigning", "1.3.6.1.5.5.7.3.3",
            "emailProtection", "1.3.6.1.5.5.7.3.4",
            "timeStamping", "1.3.6.1.5.5.7.3.8",
            "OCSPSigning", "1.3.6.1.5.5.7.3.9");

    /** A verdict: SUCCESS, FAILURE or SKIPPED, and its context. */
    record Outcome(String actual, String context) {
        static Outcome skip(String reason) {
            return new Outcome("SKIPPED", reason);
        }

        static Outcome failure(String context) {
            return new Outcome("FAILURE", context);
        }
    }

    /** What one case asks for, read once; `skip` is set when the case cannot be honoured. */
    record Plan(String skip, boolean server, Set<String> ekuOids, String peerName, Date at) {
        static Plan skipped(String reason) {
            return new Plan(reason, false, Set.of(), null, null);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: LimboHarness certpath|jsse < testcases.json");
            System.exit(2);
        }
        JsonObject input = JsonParser.parseString(
                new String(System.in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        JsonArray testcases = input.getAsJsonArray("testcases");
        Map<String, Outcome> outcomes;
        String column;
        switch (args[0]) {
            case "certpath" -> {
                column = Mode.CERTPATH.column;
                outcomes = new LinkedHashMap<>();
                for (JsonElement element : testcases) {
                    JsonObject testcase = element.getAsJsonObject();
                    outcomes.put(testcase.get("id").getAsString(), evaluate(Mode.CERTPATH, testcase));
                }
            }
            case "jsse" -> {
                column = Mode.JSSE.column;
                outcomes = runJsseGroupedByTime(testcases);
            }
            case JSSE_FROZEN_CLOCK -> {
                column = Mode.JSSE.column;
                outcomes = runJsseAtFrozenClock(testcases, Instant.parse(args[1]));
            }
            default -> {
                System.err.println("unknown mode `" + args[0] + "`: expected certpath or jsse");
                System.exit(2);
                return;
            }
        }
        writeResults(System.out, column, outcomes);
    }

    static String version() {
        return "Java " + System.getProperty("java.runtime.version")
                + " (" + System.getProperty("java.vm.name") + ")";
    }

    static void writeResults(OutputStream out, String column, Map<String, Outcome> outcomes)
            throws IOException {
        JsonObject file = new JsonObject();
        file.addProperty("version", 1);
        file.addProperty("harness", column + " " + version());
        JsonArray results = new JsonArray();
        outcomes.forEach((id, outcome) -> {
            JsonObject result = new JsonObject();
            result.addProperty("id", id);
            result.addProperty("actual_result", outcome.actual());
            result.addProperty("context", outcome.context());
            results.add(result);
        });
        file.add("results", results);
        Gson gson = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
        out.write(gson.toJson(file).getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    // ----------------------------------------------------------------------------------------
    // Reading a case.

    static List<String> strings(JsonObject testcase, String field) {
        List<String> values = new ArrayList<>();
        JsonElement element = testcase.get(field);
        if (element != null && element.isJsonArray()) {
            element.getAsJsonArray().forEach(value -> values.add(value.getAsString()));
        }
        return values;
    }

    static boolean present(JsonObject testcase, String field) {
        JsonElement element = testcase.get(field);
        if (element == null || element.isJsonNull()) {
            return false;
        }
        return !element.isJsonArray() || element.getAsJsonArray().size() > 0;
    }

    static Plan plan(Mode mode, JsonObject testcase) {
        for (String feature : strings(testcase, "features")) {
            if (!CONTENT_FEATURES.contains(feature)) {
                return Plan.skipped("feature `" + feature + "` not supported by this harness");
            }
        }
        if (present(testcase, "crls")) {
            return Plan.skipped("CRLs not supported: revocation checking is off in this harness");
        }
        if (present(testcase, "max_chain_depth")) {
            return Plan.skipped(mode == Mode.CERTPATH
                    ? "max_chain_depth not supported: PKIXBuilderParameters.setMaxPathLength "
                            + "counts intermediates differently and is not mapped here"
                    : "max_chain_depth not supported: the TLS trust manager has no depth limit");
        }
        if (present(testcase, "signature_algorithms")) {
            return Plan.skipped("signature_algorithms not supported by this harness");
        }
        if (present(testcase, "key_usage")) {
            return Plan.skipped("key_usage not supported by this harness");
        }
        if (present(testcase, "expected_peer_names")) {
            return Plan.skipped("expected_peer_names not supported: one DNS name or IP is checked");
        }
        String kind = testcase.get("validation_kind").getAsString();
        boolean server;
        switch (kind) {
            case "SERVER" -> server = true;
            case "CLIENT" -> server = false;
            default -> {
                return Plan.skipped("validation_kind `" + kind + "` not supported");
            }
        }
        Set<String> ekuNames = new LinkedHashSet<>();
        ekuNames.add(server ? "serverAuth" : "clientAuth");
        ekuNames.addAll(strings(testcase, "extended_key_usage"));
        Set<String> ekuOids = new LinkedHashSet<>();
        for (String name : ekuNames) {
            String oid = EKU_OIDS.get(name);
            if (oid == null) {
                return Plan.skipped("extended_key_usage `" + name + "` not supported");
            }
            ekuOids.add(oid);
        }
        if (mode == Mode.JSSE && ekuOids.size() > 1) {
            // checkServerTrusted / checkClientTrusted check exactly one usage.
            return Plan.skipped("extended_key_usage beyond the TLS usage not supported by the "
                    + "trust manager: " + ekuNames);
        }
        String peerName = null;
        JsonElement name = testcase.get("expected_peer_name");
        if (name != null && !name.isJsonNull()) {
            String nameKind = name.getAsJsonObject().get("kind").getAsString();
            if (!nameKind.equals("DNS") && !nameKind.equals("IP")) {
                return Plan.skipped("expected_peer_name of kind " + nameKind + " not supported");
            }
            peerName = name.getAsJsonObject().get("value").getAsString();
        }
        Date at = null;
        JsonElement time = testcase.get("validation_time");
        if (time != null && !time.isJsonNull()) {
            try {
                at = Date.from(Instant.from(
                        DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(time.getAsString())));
            } catch (RuntimeException e) {
                return Plan.skipped("validation_time `" + time.getAsString() + "` unreadable: " + e);
            }
        }
        return new Plan(null, server, ekuOids, peerName, at);
    }

    static X509Certificate parse(CertificateFactory factory, String field, String pem)
            throws LabelledException {
        try {
            return (X509Certificate) factory.generateCertificate(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (Exception e) {
            throw new LabelledException(field + ": " + describe(e));
        }
    }

    /** A failure whose context is already written. */
    static final class LabelledException extends Exception {
        private static final long serialVersionUID = 1L;

        LabelledException(String context) {
            super(context);
        }
    }

    /** The case's certificates, parsed: anchors, then the served chain (peer first). */
    record Certs(List<X509Certificate> anchors, List<X509Certificate> served) {
        X509Certificate peer() {
            return served.get(0);
        }
    }

    static Certs certs(JsonObject testcase) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> anchors = new ArrayList<>();
        List<String> trusted = strings(testcase, "trusted_certs");
        for (int i = 0; i < trusted.size(); i++) {
            anchors.add(parse(factory, "trusted_certs[" + i + "]", trusted.get(i)));
        }
        List<X509Certificate> served = new ArrayList<>();
        served.add(parse(factory, "peer_certificate", testcase.get("peer_certificate").getAsString()));
        List<String> untrusted = strings(testcase, "untrusted_intermediates");
        for (int i = 0; i < untrusted.size(); i++) {
            served.add(parse(factory, "untrusted_intermediates[" + i + "]", untrusted.get(i)));
        }
        return new Certs(anchors, served);
    }

    static Outcome evaluate(Mode mode, JsonObject testcase) {
        Plan plan = plan(mode, testcase);
        if (plan.skip() != null) {
            return Outcome.skip(plan.skip());
        }
        try {
            Certs certs = certs(testcase);
            return mode == Mode.CERTPATH ? certPathBuilder(plan, certs) : jsse(plan, certs);
        } catch (LabelledException e) {
            return Outcome.failure(e.getMessage());
        } catch (Exception e) {
            return Outcome.failure(describe(e));
        }
    }

    // ----------------------------------------------------------------------------------------
    // CertPathBuilder("PKIX").

    static Outcome certPathBuilder(Plan plan, Certs certs) throws Exception {
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate anchor : certs.anchors()) {
            anchors.add(new TrustAnchor(anchor, null));
        }
        X509CertSelector target = new X509CertSelector();
        target.setCertificate(certs.peer());
        // A certificate without an EKU extension allows every purpose (X509CertSelector docs).
        target.setExtendedKeyUsage(plan.ekuOids());
        PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, target);
        parameters.setRevocationEnabled(false);
        parameters.setDate(plan.at()); // null: the current time
        // An ArrayList keeps the served order, which the Collection CertStore returns as is.
        parameters.addCertStore(CertStore.getInstance("Collection",
                new CollectionCertStoreParameters(new ArrayList<Certificate>(certs.served()))));
        PKIXCertPathBuilderResult result =
                (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(parameters);
        List<X509Certificate> chain = new ArrayList<>();
        for (Certificate cert : result.getCertPath().getCertificates()) {
            chain.add((X509Certificate) cert);
        }
        chain.add(result.getTrustAnchor().getTrustedCert());
        if (plan.peerName() != null) {
            // Matches DNS names and IP addresses (an IP literal is matched against iPAddress SANs).
            HostnameChecker.getInstance(HostnameChecker.TYPE_TLS)
                    .match(plan.peerName(), certs.peer());
        }
        return new Outcome("SUCCESS", "chain: " + labels(chain));
    }

    // ----------------------------------------------------------------------------------------
    // The JSSE trust manager.

    static Outcome jsse(Plan plan, Certs certs) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        for (int i = 0; i < certs.anchors().size(); i++) {
            store.setCertificateEntry("anchor-" + i, certs.anchors().get(i));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        X509ExtendedTrustManager manager = null;
        for (TrustManager candidate : factory.getTrustManagers()) {
            if (candidate instanceof X509ExtendedTrustManager extended) {
                manager = extended;
            }
        }
        if (manager == null) {
            throw new IllegalStateException("TrustManagerFactory PKIX gave no X509ExtendedTrustManager");
        }
        X509Certificate[] chain = certs.served().toArray(new X509Certificate[0]);
        HandshakeView engine = new HandshakeView(plan.peerName(), plan.server());
        if (plan.server()) {
            // TLS 1.3 passes "UNKNOWN": the key exchange no longer depends on the certificate.
            manager.checkServerTrusted(chain, "UNKNOWN", engine);
        } else {
            manager.checkClientTrusted(chain, "UNKNOWN", engine);
        }
        // The trust manager does not report the chain it built.
        return new Outcome("SUCCESS", null);
    }

    /** Runs null-time cases here and every other case in a child JVM frozen at its time. */
    static Map<String, Outcome> runJsseGroupedByTime(JsonArray testcases) throws Exception {
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        Map<Instant, JsonArray> byTime = new LinkedHashMap<>();
        for (JsonElement element : testcases) {
            JsonObject testcase = element.getAsJsonObject();
            String id = testcase.get("id").getAsString();
            outcomes.put(id, null); // keeps input order
            Plan plan = plan(Mode.JSSE, testcase);
            if (plan.skip() != null || plan.at() == null) {
                outcomes.put(id, evaluate(Mode.JSSE, testcase));
            } else {
                byTime.computeIfAbsent(plan.at().toInstant(), t -> new JsonArray()).add(testcase);
            }
        }
        for (Map.Entry<Instant, JsonArray> group : byTime.entrySet()) {
            outcomes.putAll(runChildAtFrozenClock(group.getKey(), group.getValue()));
        }
        return outcomes;
    }

    /** libfaketime's absolute format, which freezes the clock (with fractions) at that instant. */
    static final DateTimeFormatter FAKETIME_FORMAT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    /** Debian's libfaketime, under the multiarch directory: /usr/lib/TRIPLET/faketime/. */
    static String faketimeLibrary() throws IOException {
        try (var dirs = java.nio.file.Files.list(java.nio.file.Path.of("/usr/lib"))) {
            return dirs.map(dir -> dir.resolve("faketime/libfaketime.so.1"))
                    .filter(java.nio.file.Files::isRegularFile)
                    .map(Object::toString)
                    .sorted()
                    .findFirst()
                    .orElseThrow(() -> new IOException(
                            "libfaketime not found at /usr/lib/<triplet>/faketime/libfaketime.so.1"
                                    + " (Debian package libfaketime)"));
        }
    }

    static Map<String, Outcome> runChildAtFrozenClock(Instant at, JsonArray testcases)
            throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(LimboHarness.class.getName());
        command.add(JSSE_FROZEN_CLOCK);
        command.add(at.toString());
        ProcessBuilder builder = new ProcessBuilder(command);
        // libfaketime reads the frozen time in the local zone. The monotonic clock is frozen too:
        // excluding it (FAKETIME_DONT_FAKE_MONOTONIC=1) made every child JVM start in 5 s
        // instead of 0.5 s, and nothing the trust manager does waits on a timer.
        // libfaketime preloaded directly, not through the `faketime` wrapper: the wrapper's
        // PID-named semaphore outlives a wrapper killed at a timeout, and a later wrapper with
        // the same PID then fails (`sem_open: File exists`).
        builder.environment().put("LD_PRELOAD", faketimeLibrary());
        builder.environment().put("FAKETIME", FAKETIME_FORMAT.format(at));
        builder.environment().put("TZ", "UTC");
        builder.environment().remove("FAKETIME_DONT_FAKE_MONOTONIC");
        builder.redirectError(ProcessBuilder.Redirect.PIPE);
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        String failure;
        try {
            Process child = builder.start();
            JsonObject file = new JsonObject();
            file.addProperty("version", 1);
            file.add("testcases", testcases);
            try (OutputStream stdin = child.getOutputStream()) {
                stdin.write(file.toString().getBytes(StandardCharsets.UTF_8));
            }
            byte[] stdout;
            byte[] stderr;
            try (InputStream out = child.getInputStream(); InputStream err = child.getErrorStream()) {
                stdout = out.readAllBytes();
                stderr = err.readAllBytes();
            }
            int status = child.waitFor();
            if (status == 0) {
                JsonObject results = JsonParser.parseString(
                        new String(stdout, StandardCharsets.UTF_8)).getAsJsonObject();
                for (JsonElement element : results.getAsJsonArray("results")) {
                    JsonObject result = element.getAsJsonObject();
                    JsonElement context = result.get("context");
                    outcomes.put(result.get("id").getAsString(), new Outcome(
                            result.get("actual_result").getAsString(),
                            context == null || context.isJsonNull() ? null : context.getAsString()));
                }
                return outcomes;
            }
            failure = "exit status " + status + ": "
                    + new String(stderr, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            failure = describe(e);
        }
        // Without a fixed clock the validation time cannot be honoured: skip, never run at "now".
        for (JsonElement element : testcases) {
            outcomes.put(element.getAsJsonObject().get("id").getAsString(), Outcome.skip(
                    "validation_time needs libfaketime, which failed: " + failure));
        }
        return outcomes;
    }

    static Map<String, Outcome> runJsseAtFrozenClock(JsonArray testcases, Instant expected) {
        Instant now = Instant.now();
        if (!now.equals(expected)) {
            System.err.println("the clock reads " + now + ", not the frozen " + expected
                    + ": libfaketime is not in effect");
            System.exit(3);
        }
        Map<String, Outcome> outcomes = new LinkedHashMap<>();
        for (JsonElement element : testcases) {
            JsonObject testcase = element.getAsJsonObject();
            outcomes.put(testcase.get("id").getAsString(), evaluate(Mode.JSSE, testcase));
        }
        return outcomes;
    }

    /**
     * The engine a TLS client hands its trust manager during a handshake, reduced to what the
     * JDK's trust manager reads: the handshake session (peer host, protocol, signature
     * algorithms) and the SSL parameters (endpoint identification). Nothing is sent or received.
     */
    static final class HandshakeView extends SSLEngine {
        private final SessionView session;
        private final SSLParameters parameters = new SSLParameters();
        private final boolean client;

        HandshakeView(String peerHost, boolean client) {
            super(peerHost, 443);
            this.session = new SessionView(peerHost);
            this.client = client;
            if (peerHost != null) {
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
            }
        }

        @Override public SSLSession getHandshakeSession() { return session; }
        @Override public SSLSession getSession() { return session; }
        @Override public SSLParameters getSSLParameters() { return parameters; }
        @Override public boolean getUseClientMode() { return client; }
        @Override public void setUseClientMode(boolean mode) { }
        @Override public SSLEngineResult wrap(ByteBuffer[] s, int o, int l, ByteBuffer d) { throw new UnsupportedOperationException(); }
        @Override public SSLEngineResult unwrap(ByteBuffer s, ByteBuffer[] d, int o, int l) { throw new UnsupportedOperationException(); }
        @Override public Runnable getDelegatedTask() { return null; }
        @Override public void closeInbound() { }
        @Override public boolean isInboundDone() { return false; }
        @Override public void closeOutbound() { }
        @Override public boolean isOutboundDone() { return false; }
        @Override public String[] getSupportedCipherSuites() { return new String[0]; }
        @Override public String[] getEnabledCipherSuites() { return new String[0]; }
        @Override public void setEnabledCipherSuites(String[] suites) { }
        @Override public String[] getSupportedProtocols() { return new String[] {"TLSv1.3"}; }
        @Override public String[] getEnabledProtocols() { return new String[] {"TLSv1.3"}; }
        @Override public void setEnabledProtocols(String[] protocols) { }
        @Override public void beginHandshake() { }
        @Override public SSLEngineResult.HandshakeStatus getHandshakeStatus() { return SSLEngineResult.HandshakeStatus.NEED_UNWRAP; }
        @Override public void setNeedClientAuth(boolean need) { }
        @Override public boolean getNeedClientAuth() { return false; }
        @Override public void setWantClientAuth(boolean want) { }
        @Override public boolean getWantClientAuth() { return false; }
        @Override public void setEnableSessionCreation(boolean flag) { }
        @Override public boolean getEnableSessionCreation() { return true; }
    }

    /**
     * A TLS 1.3 handshake session as JDK 17's client has it when the server's Certificate
     * message arrives. The signature algorithms are those JDK 17 advertises by default
     * (signature_algorithms_cert of its ClientHello, as `-Djavax.net.debug=ssl:handshake`
     * prints it), named as ExtendedSSLSession names them; the trust manager checks the chain's
     * signatures against them.
     */
    static final class SessionView extends ExtendedSSLSession {
        static final String[] JDK17_CLIENT_SIGNATURE_ALGORITHMS = {
            "SHA256withECDSA", "SHA384withECDSA", "SHA512withECDSA", "Ed25519", "Ed448",
            "RSASSA-PSS", "RSASSA-PSS", "RSASSA-PSS", "RSASSA-PSS", "RSASSA-PSS", "RSASSA-PSS",
            "SHA256withRSA", "SHA384withRSA", "SHA512withRSA", "SHA256withDSA",
            "SHA224withECDSA", "SHA224withRSA", "SHA224withDSA",
            "SHA1withECDSA", "SHA1withRSA", "SHA1withDSA",
        };

        private final String peerHost;
        private final long created = System.currentTimeMillis();

        SessionView(String peerHost) {
            this.peerHost = peerHost;
        }

        @Override public String[] getLocalSupportedSignatureAlgorithms() { return JDK17_CLIENT_SIGNATURE_ALGORITHMS.clone(); }
        @Override public String[] getPeerSupportedSignatureAlgorithms() { return JDK17_CLIENT_SIGNATURE_ALGORITHMS.clone(); }
        // No SNI: the trust manager then checks the peer host, the name the client connected to.
        @Override public List<SNIServerName> getRequestedServerNames() { return List.of(); }
        @Override public List<byte[]> getStatusResponses() { return List.of(); }
        @Override public String getProtocol() { return "TLSv1.3"; }
        @Override public String getPeerHost() { return peerHost; }
        @Override public int getPeerPort() { return 443; }
        @Override public byte[] getId() { return new byte[0]; }
        @Override public SSLSessionContext getSessionContext() { return null; }
        @Override public long getCreationTime() { return created; }
        @Override public long getLastAccessedTime() { return created; }
        @Override public void invalidate() { }
        @Override public boolean isValid() { return true; }
        @Override public void putValue(String name, Object value) { }
        @Override public Object getValue(String name) { return null; }
        @Override public void removeValue(String name) { }
        @Override public String[] getValueNames() { return new String[0]; }
        @Override public Certificate[] getPeerCertificates() { return new Certificate[0]; }
        @Override public Certificate[] getLocalCertificates() { return null; }
        @SuppressWarnings("removal")
        @Override public javax.security.cert.X509Certificate[] getPeerCertificateChain() { return new javax.security.cert.X509Certificate[0]; }
        @Override public Principal getPeerPrincipal() { return null; }
        @Override public Principal getLocalPrincipal() { return null; }
        @Override public String getCipherSuite() { return "TLS_AES_128_GCM_SHA256"; }
        @Override public int getPacketBufferSize() { return 16709; }
        @Override public int getApplicationBufferSize() { return 16384; }
    }

    // ----------------------------------------------------------------------------------------
    // Context text.

    /** Exception classes and messages down the cause chain, with the PKIX reason where given. */
    static String describe(Throwable error) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (text.length() > 0) {
                text.append("; caused by ");
            }
            text.append(t.getClass().getName());
            if (t instanceof CertPathValidatorException invalid
                    && invalid.getReason() != CertPathValidatorException.BasicReason.UNSPECIFIED) {
                text.append("(reason=").append(invalid.getReason())
                        .append(", index=").append(invalid.getIndex()).append(')');
            }
            String message = t.getMessage();
            // Wrapping exceptions often repeat their cause as their message.
            if (message != null && (t.getCause() == null || !message.equals(t.getCause().toString()))) {
                text.append(": ").append(message);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return text.toString();
    }

    /** `LEAF <- ISSUER <- ... <- ANCHOR`, each by subject CN, else a SHA-256 prefix. */
    static String labels(List<X509Certificate> chain) throws Exception {
        List<String> labels = new ArrayList<>();
        for (X509Certificate cert : chain) {
            labels.add(label(cert));
        }
        return String.join(" <- ", labels);
    }

    static String label(X509Certificate cert) throws Exception {
        try {
            List<Rdn> rdns = new LdapName(cert.getSubjectX500Principal().getName()).getRdns();
            // LdapName indexes RDNs from the right of the RFC 2253 string, which is encoding
            // order: the first CN found is the first in the certificate, as on the Rust side.
            for (Rdn rdn : rdns) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            // Fall through to the fingerprint.
        }
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
        return "sha256:" + HexFormat.of().formatHex(digest).substring(0, 16);
    }
}
