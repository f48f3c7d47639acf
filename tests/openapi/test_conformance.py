#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The daemon's answers against proto/openapi.yaml.

Starts the built schedd ($SCHEDD) on a temporary socket and state
directory, drives every route through its ordinary answers and its errors,
and checks each answer against the document: the status must be one the
operation lists (or its "default"), the Content-Type one of that answer's
media types, and a JSON body must validate against that media type's
schema (JSON Schema 2020-12, as OpenAPI 3.1 means it). Event streams are
checked line by line. Skipped (77) without python3-yaml or
python3-jsonschema.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

try:
    import jsonschema
    import yaml
except ImportError as e:
    # Debian's python3-yaml and python3-jsonschema serve /usr/bin/python3,
    # which need not be the python3 first in PATH.
    if sys.executable != "/usr/bin/python3" and \
            os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print(f"SKIP: {e.name} is not installed "
          "(apt-get install python3-yaml python3-jsonschema)")
    sys.exit(77)

TOP = os.environ.get("TOP_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCHEDD = os.environ.get("SCHEDD")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Checker:
    def __init__(self, doc):
        self.doc = doc
        self.failures = 0
        self.checked = 0
        self.seen = set()   # (method, path template) exercised

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part]
        return node

    def validate(self, instance, schema):
        # The whole document is the root, so that its $refs resolve.
        root = dict(self.doc)
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        root["$ref"] = "#/__schema"
        root["__schema"] = schema
        v = jsonschema.Draft202012Validator(root)
        return sorted(v.iter_errors(instance), key=lambda e: list(e.path))

    def fail(self, what, why):
        self.failures += 1
        print(f"FAIL: {what}: {why}")

    def check(self, method, template, status, ctype, body, what):
        """One answer: status, media type and body against the document."""
        self.checked += 1
        self.seen.add((method, template))
        op = self.doc["paths"].get(template, {}).get(method.lower())
        if op is None:
            self.fail(what, f"{method} {template} is not in the document")
            return
        responses = op["responses"]
        answer = responses.get(str(status), responses.get("default"))
        if answer is None:
            self.fail(what, f"status {status} is not documented")
            return
        answer = self.resolve(answer)
        media = (ctype or "").split(";")[0].strip()
        content = answer.get("content", {})
        if media not in content:
            self.fail(what, f"{status} with Content-Type {ctype!r}, "
                      f"documented: {sorted(content)}")
            return
        schema = content[media].get("schema")
        if schema is None or media.startswith("text/"):
            return
        if media == "application/x-ndjson":
            items = [json.loads(line) for line in body.splitlines() if line]
        else:
            try:
                items = [json.loads(body)]
            except ValueError as e:
                self.fail(what, f"not JSON ({e}): {body[:200]!r}")
                return
        for item in items:
            errors = self.validate(item, schema)
            for e in errors[:5]:
                where = "/".join(str(p) for p in e.path) or "(root)"
                self.fail(what, f"{where}: {e.message[:300]}")
            if errors:
                print(f"      body: {json.dumps(item)[:600]}")


class Daemon:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="schedd-openapi.")
        self.sock = os.path.join(self.dir, "s.sock")
        conf = os.path.join(self.dir, "schedd.conf")
        with open(conf, "w") as f:
            f.write(f"jobs_dir = {self.dir}/jobs\n")
        os.mkdir(os.path.join(self.dir, "jobs"))
        self.log = open(os.path.join(self.dir, "schedd.log"), "w")
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "LISTEN_FDS")}
        self.proc = subprocess.Popen(
            [SCHEDD, "--foreground", "--socket", self.sock, "--state-dir",
             os.path.join(self.dir, "state"), "--config", conf],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            env=env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/v1/health")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("schedd did not start")

    def request(self, method, path, body=None, ctype=None, timeout=10):
        conn = UnixHTTPConnection(self.sock, timeout)
        headers = {}
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            headers["Content-Type"] = ctype or "application/json"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        status, rctype = r.status, r.getheader("Content-Type")
        conn.close()
        return status, rctype, data

    def raw(self, request):
        """Send bytes (the server may answer and close before it has read
        them all); parse the first answer's status, type and body."""
        sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sk.settimeout(10)
        sk.connect(self.sock)
        try:
            sk.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                chunk = sk.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        sk.close()
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1]) if lines and lines[0] else 0
        ctype = None
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-type":
                ctype = v.strip()
        return status, ctype, body.decode("utf-8", "replace")

    def request_headers(self, path, size):
        """GET with one header of size bytes."""
        conn = UnixHTTPConnection(self.sock)
        conn.putrequest("GET", path)
        conn.putheader("X-Filler", "x" * size)
        conn.endheaders()
        r = conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        status, ctype = r.status, r.getheader("Content-Type")
        conn.close()
        return status, ctype, data

    def events(self, query, want, timeout=5):
        """Read an event stream until want lines came or timeout."""
        conn = UnixHTTPConnection(self.sock, timeout)
        conn.request("GET", "/v1/events" + query)
        r = conn.getresponse()
        lines = []
        if r.status == 200:
            try:
                while len(lines) < want:
                    line = r.fp.readline()   # chunked framing interleaves
                    if not line:
                        break
                    text = line.decode().strip()
                    if text.startswith("{"):
                        lines.append(text)
            except (socket.timeout, OSError):
                pass
            body = "\n".join(lines)
        else:
            body = r.read().decode()
        status, ctype = r.status, r.getheader("Content-Type")
        conn.close()
        return status, ctype, body

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def dump_log(self):
        with open(os.path.join(self.dir, "schedd.log")) as f:
            sys.stdout.write(f.read()[-4000:])

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def exercise(d, c):
    def call(method, template, path=None, body=None, ctype=None,
             expect=None, timeout=10):
        path = path or template
        status, rctype, data = d.request(method, path, body, ctype, timeout)
        what = f"{method} {path} -> {status}"
        if expect is not None and status != expect:
            c.fail(what, f"expected {expect}: {data[:300]}")
        c.check(method, template, status, rctype, data, what)
        return status, data

    J = "/v1/jobs/{job}"
    call("GET", "/v1/health", expect=200)
    call("GET", "/v1/health", "/v1/health?x=1", expect=400)
    call("GET", "/v1/jobs", expect=200)
    call("GET", "/v1/jobs", "/v1/jobs?state=bogus", expect=400)

    # Create: running, never started, failing, with every member set.
    call("POST", "/v1/jobs", body={
        "name": "sleeper", "argv": ["sleep", "300"],
        "env": {"LANG": "C.UTF-8"}, "cwd": "/",
        "stop": {"signal": "SIGTERM", "timeout_ms": 2000}}, expect=201)
    call("POST", "/v1/jobs", body={
        "name": "idle", "argv": ["true"], "start": False,
        "restart": {"policy": "on-failure", "max_retries": 1,
                    "backoff_ms": 50, "backoff_max_ms": 100,
                    "reset_after_ms": 0},
        "after": [], "user": None}, expect=201)
    call("POST", "/v1/jobs", body={"name": "broken",
                                   "argv": ["/no/such/binary"]}, expect=201)
    call("POST", "/v1/jobs", body={"name": "echo", "argv": [
        "sh", "-c", "echo out; echo err >&2; exit 3"]}, expect=201)
    call("POST", "/v1/jobs", body={"argv": ["true"], "start": False},
         expect=201)
    call("POST", "/v1/jobs", body={"argv": ["true"], "argvv": 1},
         expect=400)
    call("POST", "/v1/jobs", body="{", expect=400)
    call("POST", "/v1/jobs", body={"argv": ["true"]}, ctype="text/plain",
         expect=415)
    call("POST", "/v1/jobs", body={"name": "sleeper", "argv": ["true"]},
         expect=409)
    call("POST", "/v1/jobs", body={"argv": ["true"], "cpus": "1000"},
         expect=422)
    call("POST", "/v1/jobs", body={"argv": ["true"],
                                   "exclusive_cpus": 1024}, expect=422)
    call("POST", "/v1/jobs", body={"argv": ["true"], "sched": {
        "policy": "fifo", "priority": 0}}, expect=400)
    call("POST", "/v1/jobs", "/v1/jobs?x=1", body={"argv": ["true"]},
         expect=400)
    call("GET", "/v1/jobs", "/v1/jobs?state=running", expect=200)

    call("GET", J, "/v1/jobs/sleeper", expect=200)
    call("GET", J, "/v1/jobs/1", expect=200)
    call("GET", J, "/v1/jobs/nosuchjob", expect=404)
    call("GET", J + "/wait", "/v1/jobs/echo/wait", expect=200, timeout=15)
    call("GET", J + "/wait", "/v1/jobs/nosuchjob/wait", expect=404)
    call("GET", J + "/runs", "/v1/jobs/echo/runs", expect=200)
    call("GET", J + "/runs", "/v1/jobs/echo/runs?limit=0", expect=400)
    call("GET", J + "/logs", "/v1/jobs/echo/logs", expect=200)
    call("GET", J + "/logs", "/v1/jobs/echo/logs?stream=stderr&tail=1",
         expect=200)
    call("GET", J + "/logs", "/v1/jobs/echo/logs?stream=both", expect=400)
    call("GET", J + "/logs", "/v1/jobs/echo/logs?run=9", expect=404)
    call("GET", J + "/logs", "/v1/jobs/idle/logs", expect=200)

    call("POST", J + "/kill", "/v1/jobs/sleeper/kill",
         body={"signal": "SIGCONT"}, expect=200)
    call("POST", J + "/kill", "/v1/jobs/sleeper/kill", body={"signal": 18},
         expect=200)
    call("POST", J + "/kill", "/v1/jobs/sleeper/kill",
         body={"signal": "SIGNOPE"}, expect=400)
    call("POST", J + "/kill", "/v1/jobs/idle/kill", expect=409)
    call("POST", J + "/resume", "/v1/jobs/sleeper/resume", expect=409)
    call("POST", J + "/pause", "/v1/jobs/sleeper/pause", expect=200)
    call("POST", J + "/pause", "/v1/jobs/sleeper/pause", expect=409)
    call("GET", J + "/processes", "/v1/jobs/sleeper/processes", expect=200)
    call("POST", J + "/resume", "/v1/jobs/sleeper/resume", expect=200)
    call("POST", J + "/pause", "/v1/jobs/idle/pause", expect=409)
    call("GET", J + "/processes", "/v1/jobs/sleeper/processes?all=true",
         expect=200)
    call("GET", J + "/processes", "/v1/jobs/sleeper/processes?all=maybe",
         expect=400)
    call("GET", J + "/processes", "/v1/jobs/nosuchjob/processes",
         expect=404)
    call("GET", "/v1/cpus", expect=200)
    call("GET", "/v1/cpus", "/v1/cpus?x=1", expect=400)
    call("GET", "/metrics", expect=200)
    call("GET", "/", expect=200)
    call("GET", "/", "/?x=1", expect=400)
    call("GET", "/metrics", "/metrics?x=1", expect=400)
    call("GET", "/v1/policy", expect=200)
    call("GET", "/v1/policy", "/v1/policy?user=root", expect=200)
    call("GET", "/v1/policy", "/v1/policy?user=no-such-user-x", expect=404)
    call("GET", "/v1/policy", "/v1/policy?x=1", expect=400)
    call("POST", "/v1/plan", body={"argv": ["sleep", "1"]}, expect=200)
    call("POST", "/v1/plan", body={"name": "sleeper", "argv": ["true"],
                                   "sched": {"policy": "fifo",
                                             "priority": 5}}, expect=200)
    call("POST", "/v1/plan", body={"argv": ["true"], "exclusive_cpus": 64},
         expect=200)
    call("POST", "/v1/plan", body={"argv": ["true"],
                                   "sched": {"policy": "deadline",
                                             "runtime_us": 1000,
                                             "deadline_us": 10000,
                                             "period_us": 10000}},
         expect=200)
    call("POST", "/v1/plan", body={"argv": []}, expect=400)
    call("POST", J + "/start", "/v1/jobs/sleeper/start", expect=409)
    call("POST", J + "/start", "/v1/jobs/idle/start", expect=200)
    call("POST", J + "/start", "/v1/jobs/idle/start", body={"x": 1},
         expect=400)
    call("POST", J + "/restart", "/v1/jobs/sleeper/restart", expect=200,
         timeout=15)
    call("POST", J + "/stop", "/v1/jobs/sleeper/stop", expect=200,
         timeout=15)
    call("POST", J + "/stop", "/v1/jobs/sleeper/stop", expect=409)
    call("DELETE", J, "/v1/jobs/sleeper?force=maybe", expect=400)
    call("POST", "/v1/jobs", body={"name": "victim",
                                   "argv": ["sleep", "300"]}, expect=201)
    call("DELETE", J, "/v1/jobs/victim", expect=409)
    call("DELETE", J, "/v1/jobs/victim?force=true", expect=200, timeout=15)
    call("DELETE", J, "/v1/jobs/sleeper", expect=200)
    call("DELETE", J, "/v1/jobs/sleeper", expect=404)
    call("GET", "/v1/jobs", expect=200)

    # Routes and methods that do not exist answer the contract's errors
    # (checked against the nearest operation's "default").
    status, ctype, data = d.request("GET", "/v1/nope")
    c.check("GET", "/v1/health", status, ctype, data, "GET /v1/nope")
    if status != 404:
        c.fail("GET /v1/nope", f"expected 404, got {status}")
    status, ctype, data = d.request("PATCH", "/v1/jobs")
    c.check("GET", "/v1/jobs", status, ctype, data, "PATCH /v1/jobs")
    if status != 405:
        c.fail("PATCH /v1/jobs", f"expected 405, got {status}")

    # Limits: libevent's own HTML answers, and the daemon's 431.
    body = b"[" * (1024 * 1024 + 1)
    status, ctype, data = d.raw(
        b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: "
        b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) +
        body)
    c.check("POST", "/v1/jobs", status, ctype, data, "a 1 MiB + 1 body")
    if status != 413:
        c.fail("a 1 MiB + 1 body", f"expected 413, got {status}")
    status, ctype, data = d.request_headers("/v1/health", 20 * 1024)
    c.check("GET", "/v1/health", status, ctype, data, "20 KiB of headers")
    if status != 431:
        c.fail("20 KiB of headers", f"expected 431, got {status}")
    status, ctype, data = d.request_headers("/v1/jobs", 70 * 1024)
    c.check("GET", "/v1/jobs", status, ctype, data, "70 KiB of headers")
    if status != 400:
        c.fail("70 KiB of headers", f"expected 400, got {status}")

    with open(os.path.join(d.dir, "jobs", "filejob.json"), "w") as f:
        json.dump({"argv": ["sleep", "300"], "start": False}, f)
    with open(os.path.join(d.dir, "jobs", "bad.json"), "w") as f:
        f.write('{"argv": []}')
    call("POST", "/v1/reload", expect=200)
    call("GET", J, "/v1/jobs/filejob", expect=200)

    status, ctype, body = d.events("?since=0", want=20)
    what = f"GET /v1/events?since=0 -> {status}"
    if status != 200 or not body:
        c.fail(what, f"no events: {body[:200]!r}")
    c.check("GET", "/v1/events", status, ctype, body, what)
    status, ctype, body = d.events("?since=x", want=1)
    c.check("GET", "/v1/events", status, ctype, body,
            f"GET /v1/events?since=x -> {status}")


def main():
    if not SCHEDD:
        print("test_conformance: $SCHEDD is not set", file=sys.stderr)
        return 99
    with open(os.path.join(TOP, "proto", "openapi.yaml")) as f:
        doc = yaml.safe_load(f)
    jsonschema.Draft202012Validator.check_schema(
        {"$defs": doc["components"]["schemas"]})
    c = Checker(doc)
    d = Daemon()
    try:
        exercise(d, c)
    except Exception as e:  # a crash of the test is a failure, with a log
        c.fail("exercise", repr(e))
    finally:
        d.stop()
        if c.failures:
            d.dump_log()
        d.cleanup()
    routes = {(m.upper(), p) for p, ops in doc["paths"].items()
              for m in ops if m != "parameters"}
    for m, p in sorted(routes - c.seen):
        c.fail(f"{m} {p}", "not exercised by this test")
    if c.failures:
        print(f"FAIL: {c.failures} problems in {c.checked} answers")
        return 1
    print(f"PASS: {c.checked} answers of {len(c.seen)} operations match "
          "proto/openapi.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
