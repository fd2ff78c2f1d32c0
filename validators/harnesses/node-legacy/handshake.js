// Real TLS handshakes against Node's bundled OpenSSL, one process per validation time.
//
// Runs unchanged on Node 0.12 (OpenSSL 1.0.1u), 8 (1.0.2s) and 10 (1.1.1k), so it is ES5 only:
// no arrow functions, let/const, template strings or Promises.
//
// stdin:  {"timeout_ms": N, "concurrency": K, "cases": [{"id", "key", "chain", "ca": [PEM..],
//          "name": {"kind": "DNS"|"IP", "value"} | null}]}
//         `chain` is the peer certificate followed by the intermediates, in the order served.
// stdout: JSON lines, written synchronously so that they survive a crash of this process:
//           {"harness": "node X (OpenSSL Y)", "clock": UNIX_SECONDS}  first
//           {"started": ID}                                          before each handshake
//           {"result": {"id", "actual_result", "context"}}          a verdict
//           {"error": {"id", "detail"}}                              no verdict (a timeout)
//         Node 0.12 and 8 abort on some certificates (an assertion in X509ToObject when the client
//         reads the peer certificate); driver.py then knows which cases were in flight.
// `--version` prints only the harness string.
//
// The clock is whatever the process sees: driver.py starts this under libfaketime, because these
// Node versions have no way to pass a verification time to OpenSSL.

'use strict';

var fs = require('fs');
var tls = require('tls');

var HARNESS = 'node ' + process.version.replace(/^v/, '') +
  ' (OpenSSL ' + process.versions.openssl + ')';

function oneLine(text) {
  return String(text).replace(/\s+/g, ' ').trim();
}

// `CODE: message`, or the message alone when Node gives no code or the code is the message.
function describe(error) {
  var message = oneLine(error.message);
  if (error.code && error.code !== message) {
    return error.code + ': ' + message;
  }
  return message;
}

// The client's check of the expected peer name: Node's own checkServerIdentity, on the expected
// name rather than on the address we connect to (127.0.0.1). No expected name: no name check.
function identityCheck(name) {
  if (!name) {
    return function () { return undefined; };
  }
  return function (host, cert) {
    var verdict = tls.checkServerIdentity(name.value, cert);
    // Old Nodes documented a boolean result; treat `false` as a mismatch too.
    if (verdict === false) {
      return new Error('Hostname/IP doesn\'t match certificate\'s altnames');
    }
    return verdict;
  };
}

// One handshake: a server on an ephemeral port of 127.0.0.1 serving this case's chain, and a
// client trusting exactly the case's store. Calls done(line) once: a result or an error line.
function runCase(testcase, timeoutMs, done) {
  var finished = false;
  var server = null;
  var client = null;
  var serverErrors = [];
  var timer = null;

  function finish(result) {
    if (finished) { return; }
    finished = true;
    if (timer) { clearTimeout(timer); }
    if (client) { client.destroy(); }
    if (server) {
      try { server.close(); } catch (ignored) { /* already closed */ }
    }
    done(result);
  }

  function verdict(actual, context) {
    finish({ result: { id: testcase.id, actual_result: actual, context: context } });
  }

  function skip(reason) {
    verdict('SKIPPED', reason);
  }

  try {
    // The client closes the connection once it has decided; the server only serves.
    server = tls.createServer({ key: testcase.key, cert: testcase.chain }, function (socket) {
      socket.on('error', function () { /* the client hung up after deciding */ });
    });
  } catch (error) {
    // The server cannot load this certificate or key: the client never gets to decide.
    server = null;
    skip('the TLS server cannot serve this chain: ' + describe(error));
    return;
  }
  // `clientError` (0.12) and `tlsClientError` (6+): why the server side of a handshake failed.
  server.on('clientError', function (error) { serverErrors.push(describe(error)); });
  server.on('tlsClientError', function (error) { serverErrors.push(describe(error)); });
  server.on('error', function (error) {
    skip('the TLS server failed: ' + describe(error));
  });

  timer = setTimeout(function () {
    var detail = 'handshake timed out after ' + timeoutMs + ' ms';
    finish({ error: { id: testcase.id, detail: detail } });
  }, timeoutMs);

  server.listen(0, '127.0.0.1', function () {
    var options = {
      host: '127.0.0.1',
      port: server.address().port,
      ca: testcase.ca,
      rejectUnauthorized: true,
      checkServerIdentity: identityCheck(testcase.name)
    };
    // SNI carries DNS names only (RFC 6066).
    if (testcase.name && testcase.name.kind === 'DNS') {
      options.servername = testcase.name.value;
    }
    var handshakeDone = false;
    try {
      client = tls.connect(options, function () {
        verdict('SUCCESS', 'handshake completed');
      });
    } catch (error) {
      skip('the TLS client cannot be set up: ' + describe(error));
      return;
    }
    // `secure` is the end of the TLS handshake; Node then judges the chain (OpenSSL's verify
    // result) and the name (checkServerIdentity) and, with rejectUnauthorized, emits `error`
    // from its own `secure` listener. Ours must run first: Node 8 and 10 register theirs inside
    // tls.connect (hence prependListener, Node 6+); 0.12 registers its own only on `connect`.
    var markHandshakeDone = function () { handshakeDone = true; };
    if (client.prependListener) {
      client.prependListener('secure', markHandshakeDone);
    } else {
      client.on('secure', markHandshakeDone);
    }
    client.on('error', function (error) {
      if (handshakeDone) {
        // The client's verdict on the chain or on the name: OpenSSL's code and text, or Node's.
        verdict('FAILURE', describe(error));
        return;
      }
      // The handshake itself failed. If the server raised it, the client never judged the chain.
      var text = describe(error);
      if (serverErrors.length > 0 && !/alert/i.test(serverErrors.join(' '))) {
        skip('the TLS server refused the handshake: ' + serverErrors.join('; ') +
          ' (client: ' + text + ')');
        return;
      }
      verdict('FAILURE', 'handshake failed: ' + text +
        (serverErrors.length > 0 ? ' (server: ' + serverErrors.join('; ') + ')' : ''));
    });
  });
}

// One JSON line on fd 1, synchronously: process.stdout is never touched, so fd 1 stays a
// blocking descriptor and a line written is a line the driver reads, even if we abort next.
function writeLine(object) {
  var text = JSON.stringify(object) + '\n';
  // Buffer.from is Node 4.5+; `new Buffer` is all 0.12 has (and deprecated later).
  var buffer = Buffer.from ? Buffer.from(text, 'utf8') : new Buffer(text, 'utf8');
  var offset = 0;
  while (offset < buffer.length) {
    offset += fs.writeSync(1, buffer, offset, buffer.length - offset);
  }
}

function runAll(input, finished) {
  var cases = input.cases;
  var timeoutMs = input.timeout_ms || 10000;
  var concurrency = Math.max(1, input.concurrency || 1);
  var next = 0;
  var running = 0;

  function startMore() {
    while (running < concurrency && next < cases.length) {
      running += 1;
      writeLine({ started: cases[next].id });
      runCase(cases[next], timeoutMs, onDone);
      next += 1;
    }
  }

  function onDone(line) {
    running -= 1;
    writeLine(line);
    if (next >= cases.length && running === 0) {
      finished();
      return;
    }
    // Start the next case outside the callers' stacks.
    setImmediate(startMore);
  }

  // The clock this process sees, so the driver can check that libfaketime took effect.
  writeLine({ harness: HARNESS, clock: Math.floor(Date.now() / 1000) });
  if (cases.length === 0) {
    finished();
    return;
  }
  startMore();
}

function readStdin(callback) {
  var chunks = [];
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', function (chunk) { chunks.push(chunk); });
  process.stdin.on('end', function () { callback(chunks.join('')); });
  process.stdin.resume();
}

if (process.argv.indexOf('--version') !== -1) {
  writeLine({ harness: HARNESS });
} else {
  readStdin(function (text) {
    var input;
    try {
      input = JSON.parse(text);
    } catch (error) {
      fs.writeSync(2, 'handshake.js: stdin is not JSON: ' + error.message + '\n');
      process.exit(2);
    }
    runAll(input, function () { process.exit(0); });
  });
}
