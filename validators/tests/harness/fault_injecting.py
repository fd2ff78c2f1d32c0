#!/usr/bin/env python3
"""Test fixture: a fault-injecting limbo harness (a real process, for validators/tests/faults.rs).

Reads a limbo testcase file on stdin. A case whose id ends in a fault marker makes the process
misbehave whenever that case is in its batch:

- `~crash`: the process kills itself with SIGSEGV;
- `~hang`: it sleeps far past any timeout;
- `~garbage`: it prints a truncated, invalid JSON document and exits 0;
- `~flood`: it writes 1 GiB to stdout and exits 0;
- `~wrongid`: it answers, but that case's result carries an id not asked for;
- `~dupid`: it answers, but that case's result carries the id of the case before it in the
  batch, which is thus answered twice.

The first of crash, hang, garbage, flood found in the batch wins. Otherwise the batch goes to
openssl_verify_harness.py, so every other case gets the verdict of a real validator.
"""
import json
import os
import resource
import signal
import subprocess
import sys
import time

data = sys.stdin.buffer.read()
ids = [case["id"] for case in json.loads(data)["testcases"]]


def present(fault):
    return any(case_id.endswith("~" + fault) for case_id in ids)


if present("crash"):
    # No core file: the crash is the point, not its dump.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.kill(os.getpid(), signal.SIGSEGV)
if present("hang"):
    time.sleep(600)
if present("garbage"):
    sys.stdout.write('{"version":1,"harness":"broken","results":[{"id":')
    sys.exit(0)
if present("flood"):
    chunk = b"x" * (1 << 20)
    try:
        for _ in range(1024):
            sys.stdout.buffer.write(chunk)
    except BrokenPipeError:
        pass
    sys.exit(0)

harness = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openssl_verify_harness.py")
run = subprocess.run([sys.executable, harness], input=data, stdout=subprocess.PIPE, check=True)
results = json.loads(run.stdout)
previous = None
for result in results["results"]:
    answered_id = result["id"]
    if answered_id.endswith("~wrongid"):
        result["id"] += "-not-asked"
    if answered_id.endswith("~dupid") and previous is not None:
        result["id"] = previous
    previous = answered_id
sys.stdout.write(json.dumps(results))
