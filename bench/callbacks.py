#!/usr/bin/env python3
"""Callback delivery: events pushed per second to local receivers, wecomd (release, SQLite).

Each run records BENCH_EVENTS member messages (control API, 8 posting threads) and measures from
the first post to the last push the receivers got:
  1. one app's receiver: pushes are in order per receiver, so one at a time;
  2. BENCH_APPS apps' receivers: the worker pushes to receivers in parallel.
The receiver is a threaded http.server that acks every POST with an empty 200 (it does not
decrypt). The baseline is the same receiver driven directly: sequential keep-alive POSTs of a
real push body from one client, the ceiling for in-order delivery; the ratio is printed.

Run from the repository root: .venv/bin/python bench/callbacks.py. Everything stays on 127.0.0.1.
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from contacts import launch, save_report, stop, write_corp

EVENTS = int(os.environ.get("BENCH_EVENTS", "2000"))
APPS = int(os.environ.get("BENCH_APPS", "4"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CORPID = "ww00000000000d5e6f"
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
FIRST_AGENTID = 1000002


def write_seed(path):
    apps = [(FIRST_AGENTID + i, f"A{i}", None) for i in range(APPS)]
    write_corp(path, CORPID, apps, [], [("u1", "U1", 1, None)])


class Receiver:
    """Acks every push; answers URL verification by decrypting with wecomd's own test key through
    wechatpy (the one dependency the bench shares with the Python tests)."""

    def __init__(self):
        from wechatpy.enterprise.crypto import WeChatCrypto
        from wechatpy.utils import to_binary

        crypto = WeChatCrypto(TOKEN, AES_KEY, CORPID)
        self.count = 0
        self.last = 0.0
        self.body = b""
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, body):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                from urllib.parse import parse_qsl, urlsplit

                q = dict(parse_qsl(urlsplit(self.path).query))
                self.reply(to_binary(crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])))

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    receiver.count += 1
                    receiver.last = time.monotonic()
                    receiver.body = body
                self.reply(b"")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/cb"


def deliver(base, receivers, agentids):
    """Posts EVENTS member messages spread over the apps; returns (enqueue/s, delivered/s)."""
    start_counts = sum(r.count for r in receivers)
    session = threading.local()

    def post(i):
        s = getattr(session, "s", None) or requests.Session()
        session.s = s
        agentid = agentids[i % len(agentids)]
        r = s.post(f"{base}/control/corps/{CORPID}/members/u1/apps/{agentid}/messages", json={"msgtype": "text", "content": f"e{i}"})
        if r.status_code != 201:
            raise SystemExit(f"member message refused: {r.status_code} {r.text}")

    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(EVENTS)))
    posted = time.monotonic() - t0
    deadline = time.monotonic() + 600
    while sum(r.count for r in receivers) - start_counts < EVENTS:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {sum(r.count for r in receivers) - start_counts} of {EVENTS} pushes arrived")
        time.sleep(0.01)
    took = max(r.last for r in receivers) - t0
    return EVENTS / posted, EVENTS / took


def baseline(receiver):
    """Sequential keep-alive POSTs of a real push body straight to the receiver, for 3 s."""
    s = requests.Session()
    body = receiver.body
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < 3:
        s.post(receiver.url + "?msg_signature=x&timestamp=1&nonce=1", data=body, headers={"Content-Type": "text/xml"})
        n += 1
    return n / (time.monotonic() - t0)


def main():
    _, seed, wecomd, base, hello, _ = launch("callbacks", 1, write_seed)
    report = [f"callbacks bench — {time.strftime('%Y-%m-%dT%H:%M:%S')} — {EVENTS} events a run, SQLite, release, {RUNS} runs"]
    try:
        r = requests.post(base + "/control/seed", data=seed.read_bytes(), timeout=600)
        if r.status_code != 200:
            raise SystemExit(f"seed refused: {r.status_code} {r.text[:500]}")
        agentids = [FIRST_AGENTID + i for i in range(APPS)]
        receivers = [Receiver() for _ in agentids]
        for agentid, rcv in zip(agentids, receivers):
            r = requests.put(f"{base}/control/corps/{CORPID}/callbacks/app:{agentid}", json={"url": rcv.url, "token": TOKEN, "encodingaeskey": AES_KEY})
            if r.status_code != 200:
                raise SystemExit(f"callback refused: {r.status_code} {r.text}")
        for run in range(1, RUNS + 1):
            enq, one = deliver(base, receivers[:1], agentids[:1])
            ceiling = baseline(receivers[0])
            _, many = deliver(base, receivers, agentids)
            report.append(
                f"run {run}: 1 receiver {one:.0f} pushes/s (events recorded at {enq:.0f}/s; the receiver alone takes {ceiling:.0f} sequential POSTs/s: "
                f"{100 * one / ceiling:.0f}%); {APPS} receivers {many:.0f} pushes/s"
            )
    finally:
        stop(wecomd, hello)
    save_report("callbacks", report)


if __name__ == "__main__":
    main()
