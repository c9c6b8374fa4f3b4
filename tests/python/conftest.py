"""Real-client tests: the wecomd binary, driven by wechatpy 1.8.18.

Every test gets its own wecomd process on a random loopback port, started with a seed file of
known secrets and ``--no-demo``, on a fresh store:

* ``WECOMD_BIN``: the binary (default ``<repo>/target/debug/wecomd``).
* ``WECOMD_TEST_BACKEND``: ``sqlite`` (default; a temporary data directory) or ``postgres``.
* ``WECOMD_TEST_PG``: for postgres, a base URL such as
  ``postgres://postgres@127.0.0.1:5432/postgres``. A database is created for each server with
  ``psql`` and dropped after it.

Run from the repository root:
    python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt
    cargo build && .venv/bin/python -m pytest tests/python
    export WECOMD_TEST_PG=postgres://postgres@127.0.0.1:5432/postgres
    WECOMD_TEST_BACKEND=postgres .venv/bin/python -m pytest tests/python
"""

import os
import re
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests
from wechatpy.enterprise import WeChatClient

from support import CORPID, SEED, Receiver

REPO = Path(__file__).resolve().parents[2]

LISTENING = re.compile(r"^wecomd \S+ listening on (http://127\.0\.0\.1:(\d+)) \((sqlite|postgres) database\)$")
START_TIMEOUT = 60.0
HTTP_TIMEOUT = 30


def wecomd_bin():
    path = Path(os.environ.get("WECOMD_BIN") or REPO / "target" / "debug" / "wecomd")
    if not path.is_file():
        pytest.fail(f"no wecomd binary at {path}: run 'cargo build' or set WECOMD_BIN", pytrace=False)
    return path


def backend():
    name = os.environ.get("WECOMD_TEST_BACKEND", "sqlite")
    if name not in ("sqlite", "postgres"):
        pytest.fail(f"WECOMD_TEST_BACKEND must be sqlite or postgres, not {name!r}", pytrace=False)
    return name


def psql(base_url, sql):
    done = subprocess.run(
        ["psql", base_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed: {done.stderr.strip()}")


def with_database(base_url, dbname):
    parts = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


class PostgresDatabase:
    """A database of its own for one server, created and dropped with psql."""

    def __init__(self):
        self.base = os.environ.get("WECOMD_TEST_PG")
        if not self.base:
            pytest.fail("WECOMD_TEST_BACKEND=postgres needs WECOMD_TEST_PG (postgres://user@host:port/db)", pytrace=False)
        self.name = "wecomd_test_" + uuid.uuid4().hex[:16]
        psql(self.base, f'CREATE DATABASE "{self.name}"')
        self.url = with_database(self.base, self.name)

    def drop(self):
        psql(self.base, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def local_client_class(base_url):
    """wechatpy's enterprise client pointed at this wecomd."""

    class LocalClient(WeChatClient):
        API_BASE_URL = base_url + "/cgi-bin/"

        def fetch_access_token(self):
            return self._fetch_access_token(
                url=self.API_BASE_URL + "gettoken",
                params={"corpid": self.corp_id, "corpsecret": self.secret},
            )

    return LocalClient


class Server:
    """One running wecomd, with the seed above loaded."""

    corpid = CORPID

    def __init__(self, base_url, backend_name, log_path):
        self.base_url = base_url
        self.backend = backend_name
        self.log_path = log_path
        self.http = requests.Session()
        self.client_class = local_client_class(base_url)

    # --- wechatpy -------------------------------------------------------------------------
    def client(self, secret, corpid=CORPID, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return self.client_class(corpid, secret, **kwargs)

    # --- raw HTTP, for what wechatpy does not show (exact bodies, status codes) ------------
    def cgi(self, path, **params):
        return self.http.get(f"{self.base_url}/cgi-bin/{path}", params=params, timeout=HTTP_TIMEOUT)

    def cgi_json(self, path, **params):
        r = self.cgi(path, **params)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def token(self, secret):
        body = self.cgi_json("gettoken", corpid=CORPID, corpsecret=secret)
        assert "access_token" in body, body
        return body["access_token"]

    # --- control API ----------------------------------------------------------------------
    def control(self, method, path, expect=(200, 201, 204), **kwargs):
        r = self.http.request(method, f"{self.base_url}/control{path}", timeout=HTTP_TIMEOUT, **kwargs)
        assert r.status_code in expect, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def now(self):
        return self.control("GET", "/clock")["now"]

    def advance(self, seconds):
        return self.control("POST", "/clock/advance", json={"seconds": seconds})

    def regenerate(self, owner):
        return self.control("POST", f"/corps/{CORPID}/secrets/{owner}/regenerate")["secret"]

    def set_trusted_ips(self, owner, ips):
        return self.control("PUT", f"/corps/{CORPID}/secrets/{owner}/trusted_ips", json={"trusted_ips": ips})

    def add_fault(self, **fault):
        return self.control("POST", "/faults", json=fault)

    def log_tail(self, n=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def child_env():
    # wecomd reads WECOMD_* settings from the environment; only the command line may set them here.
    return {k: v for k, v in os.environ.items() if not k.startswith("WECOMD_") or k == "WECOMD_LOG"}


def wait_for_listen_line(proc, out_path, log_path):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = out_path.read_text(errors="replace")
        if "\n" in text:
            first = text.splitlines()[0]
            m = LISTENING.match(first)
            if not m:
                raise RuntimeError(f"unexpected first stdout line from wecomd: {first!r}")
            return m
        if proc.poll() is not None:
            raise RuntimeError(
                f"wecomd exited with {proc.returncode} before listening:\n{log_path.read_text(errors='replace')}"
            )
        time.sleep(0.02)
    raise RuntimeError(f"wecomd did not print its listening line within {START_TIMEOUT}s")


@pytest.fixture
def server(tmp_path):
    binary = wecomd_bin()
    kind = backend()
    seed_path = tmp_path / "seed.toml"
    seed_path.write_text(SEED, encoding="utf-8")
    out_path = tmp_path / "wecomd.stdout"
    log_path = tmp_path / "wecomd.stderr"

    args = [str(binary), "--listen", "127.0.0.1:0", "--seed", str(seed_path), "--no-demo"]
    database = None
    if kind == "postgres":
        database = PostgresDatabase()
        args += ["--database", database.url]
    else:
        args += ["--data-dir", str(tmp_path / "data")]

    proc = None
    try:
        with open(out_path, "wb") as out, open(log_path, "wb") as log:
            proc = subprocess.Popen(args, stdout=out, stderr=log, stdin=subprocess.DEVNULL, env=child_env())
        m = wait_for_listen_line(proc, out_path, log_path)
        assert m.group(3) == kind, f"wecomd runs on {m.group(3)}, the test asked for {kind}"
        srv = Server(m.group(1), kind, log_path)
        health = srv.control("GET", "/health")
        assert health["status"] == "ok" and health["backend"] == kind, health
        yield srv
        srv.http.close()
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if database is not None:
            database.drop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report carries the end of its wecomd's log."""
    outcome = yield
    report = outcome.get_result()
    srv = item.funcargs.get("server") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(srv, Server):
        report.sections.append(("wecomd log (last lines)", srv.log_tail()))


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.httpd.shutdown()
