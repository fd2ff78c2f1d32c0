// A Java JSSE TLS client for the `handshake:java` column (validators/src/handshake/java.rs).
//
// One JVM serves every handshake of one validation time (start-up costs ~0.4 s; the clock is set
// for the whole process by libfaketime). It first prints `clock <epoch seconds>` so the Rust side
// can refuse verdicts made at the wrong time, then reads jobs, one per line on stdin:
//   <id> TAB <port> TAB <host> TAB <CA file (PEM)>
// and answers each on one line of stdout:
//   <id> TAB OK
//   <id> TAB FAIL TAB <exception chain, one line>
// The client is the JDK's default: SSLContext "TLS" with the default TrustManagerFactory over a
// KeyStore holding exactly the CA file's certificates, SNI set to the host, and endpoint
// identification "HTTPS" (what HttpsURLConnection does).

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collections;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public final class HandshakeClient {
    public static void main(String[] args) throws Exception {
        System.out.println("clock " + (System.currentTimeMillis() / 1000));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] job = line.split("\t", 4);
            String answer;
            try {
                handshake(Integer.parseInt(job[1]), job[2], job[3]);
                answer = job[0] + "\tOK";
            } catch (Exception error) {
                answer = job[0] + "\tFAIL\t" + describe(error);
            }
            System.out.println(answer);
            System.out.flush();
        }
    }

    static void handshake(int port, String host, String caFile) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        try (InputStream pem = new FileInputStream(caFile)) {
            int index = 0;
            for (Certificate certificate : factory.generateCertificates(pem)) {
                store.setCertificateEntry("anchor-" + index++, certificate);
            }
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        // TCP to 127.0.0.1, TLS layered over it for `host`: the name JSSE sends as SNI and
        // checks (a socket opened to "127.0.0.1" would be checked against that address).
        java.net.Socket tcp = new java.net.Socket("127.0.0.1", port);
        tcp.setSoTimeout(10000);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(tcp, host, port, true)) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(Collections.singletonList(new SNIHostName(host)));
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            // The handshake is where the chain is judged; the request shows the connection works.
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.0\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.getInputStream().read();
        }
    }

    // The exception and its causes on one line, with a CertPathValidatorException's reason, so
    // the reject-kind table can tell an expired certificate from an unknown issuer.
    static String describe(Throwable error) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (text.length() > 0) {
                text.append("; caused by ");
            }
            text.append(t.getClass().getName());
            if (t instanceof CertPathValidatorException) {
                CertPathValidatorException invalid = (CertPathValidatorException) t;
                text.append("(reason=").append(invalid.getReason())
                        .append(", index=").append(invalid.getIndex()).append(')');
            }
            String message = t.getMessage();
            if (message != null && (t.getCause() == null || !message.equals(t.getCause().toString()))) {
                text.append(": ").append(message);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return text.toString().replace('\n', ' ').replace('\t', ' ');
    }
}
