"""Constants and assertion helpers shared by the real-client tests."""

import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from wechatpy.enterprise import create_reply, parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import to_binary

CORPID = "ww0123456789abcdef"
# Secrets differ in their first 10 characters: wechatpy keys its token store by secret[:10].
APP_SECRET = "app1000002-secret-for-tests"
RESTRICTED_APP_SECRET = "app1000003-secret-for-tests"
SYNC_SECRET = "sync-secret-for-tests"
GROUP_SECRET = "group1-secret-for-tests"
APP_AGENTID = 1000002
RESTRICTED_AGENTID = 1000003
GROUPID = 1
# tags: group 2 reads R&D and was granted group 1's tag 5 (locked by default).
GROUP2_SECRET = "group2-secret-for-tests"
SHARED_TAGID = 5
# App 1000003 trusts only this range, which never holds the tests' 127.0.0.1.
RESTRICTED_RANGE = "10.0.0.0/8"

SEED = f"""
[[corp]]
corpid = "{CORPID}"
name = "wechatpy test corp"
contact_sync_secret = "{SYNC_SECRET}"

[[corp.app]]
agentid = {APP_AGENTID}
name = "Open app"
created = "2021-03-01"
secret = "{APP_SECRET}"
allow_parties = [1]

[[corp.app]]
agentid = {RESTRICTED_AGENTID}
name = "Restricted app"
created = "2021-03-01"
secret = "{RESTRICTED_APP_SECRET}"
trusted_ips = ["{RESTRICTED_RANGE}"]

[[corp.group]]
groupid = {GROUPID}
name = "Legacy management group"
secret = "{GROUP_SECRET}"
apps = [{{ agentid = {APP_AGENTID}, right = "manage" }}]
departments = [{{ id = 1, right = "write" }}]

[[corp.department]]
id = 2
name = "R&D"
parentid = 1

[[corp.member]]
userid = "zhangsan"
name = "Zhang San"
department = [2]
mobile = "13800000001"
active = true

[[corp.member]]
userid = "lisi"
name = "Li Si"
department = [1]
email = "lisi@example.com"

# --- tags ---
[[corp.tag]]
tagid = {SHARED_TAGID}
tagname = "Shared"
owner = "group:{GROUPID}"

[[corp.group]]
groupid = 2
name = "R&D readers"
secret = "{GROUP2_SECRET}"
departments = [{{ id = 2, right = "read" }}]
tags = [{SHARED_TAGID}]
"""

WECOM_ERRMSG = re.compile(
    r"^(?P<text>.+), hint: \[(?P<ts>\d+)_(?P<n>\d+)_(?P<hex>[0-9a-f]{32})\], from ip: (?P<ip>[0-9a-f.:]+), "
    r"more info at https://open\.work\.weixin\.qq\.com/devtool/query\?e=(?P<code>-?\d+)$"
)


def assert_wecom_errmsg(errmsg, text, errcode, server=None):
    """The WeCom errmsg: '<text>, hint: [<ts>_<n>_<hex32>], from ip: <ip>, more info at …?e=<code>'."""
    m = WECOM_ERRMSG.match(errmsg)
    assert m, f"not a WeCom errmsg: {errmsg!r}"
    assert m.group("text") == text, errmsg
    assert m.group("ip") == "127.0.0.1", errmsg
    assert int(m.group("code")) == errcode, errmsg
    if server is not None:
        # The hint carries the server's (emulated) clock.
        assert abs(int(m.group("ts")) - server.now()) <= 5, (errmsg, server.now())
    return m


def raises(call, *args, **kwargs):
    """The WeChatClientException a wechatpy call raises (the test fails when it raises none)."""
    import pytest
    from wechatpy.exceptions import WeChatClientException

    with pytest.raises(WeChatClientException) as e:
        call(*args, **kwargs)
    return e.value


# A JPEG by its signature: what media/upload and material/add_material take as an image.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x11" * 200 + b"\xff\xd9"


def local(server, url):
    """A download URL wechatpy built on the real host (https://qyapi.weixin.qq.com), on wecomd."""
    assert url.startswith("https://qyapi.weixin.qq.com/cgi-bin/"), url
    return url.replace("https://qyapi.weixin.qq.com", server.base_url)


# --- A callback receiver, as an app's developer writes one with wechatpy --------------------------

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


class Receiver:
    """An app's callback URL. parse_qsl decodes '+' as a space: the echostr and signatures arrive
    intact only because wecomd percent-encodes them."""

    def __init__(self):
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, CORPID)
        self.pushes = []  # (raw inner XML, parsed message)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def query(self):
                return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))

            def answer(self, body, status=200):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                q = self.query()
                try:
                    echo = receiver.crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
                except InvalidSignatureException:
                    return self.answer(b"bad signature", 403)
                self.answer(to_binary(echo))

            def do_POST(self):
                q = self.query()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                xml = receiver.crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
                message = parse_message(xml)
                receiver.pushes.append((xml, message))
                if message.type == "text":
                    reply = create_reply("you said: " + message.content, message)
                    self.answer(to_binary(receiver.crypto.encrypt_message(reply.render(), q["nonce"], q["timestamp"])))
                else:
                    self.answer(b"")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/wecom?agent={APP_AGENTID}"

    def wait_for(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.pushes) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.pushes
