"""The gettoken ban after repeated wrong secrets (45009) and injected faults, as wechatpy sees them."""

import time
from urllib.parse import urlsplit

import pytest
from wechatpy.exceptions import WeChatClientException

from support import APP_SECRET, CORPID, GROUP_SECRET, SYNC_SECRET, WECOM_ERRMSG, assert_wecom_errmsg

BAD_SECRET_LIMIT = 20  # wrong-secret gettoken calls from one IP allowed within an hour


def start_of_an_hour_window(server):
    """Moves the emulated clock to 1 s into a fixed hour window, so no window ends mid-test."""
    now = server.now()
    server.advance(3600 - now % 3600 + 1)
    assert server.now() % 3600 < 60


def test_wrong_secrets_ban_gettoken_for_an_hour(server):
    start_of_an_hour_window(server)
    held = server.token(SYNC_SECRET)  # fetched before the ban

    wrong = server.client("guessed-secret-0000")
    for i in range(BAD_SECRET_LIMIT + 1):
        with pytest.raises(WeChatClientException) as exc:
            wrong.fetch_access_token()
        assert exc.value.errcode == 40001, f"wrong-secret call {i + 1}"

    # The IP is now banned from gettoken, even with a right secret.
    with pytest.raises(WeChatClientException) as exc:
        server.client(APP_SECRET).fetch_access_token()
    assert exc.value.errcode == 45009
    assert_wecom_errmsg(exc.value.errmsg, "api freq out of limit", 45009, server)
    assert server.cgi_json("gettoken", corpid=CORPID, corpsecret=GROUP_SECRET)["errcode"] == 45009

    # Tokens already held still work.
    assert server.client(SYNC_SECRET, access_token=held, auto_retry=False).misc.get_wechat_ips() == ["127.0.0.1"]

    # An hour later the ban is over.
    server.advance(3601)
    assert server.client(APP_SECRET).fetch_access_token()["errcode"] == 0


def test_twenty_wrong_secrets_are_not_yet_banned(server):
    start_of_an_hour_window(server)
    wrong = server.client("guessed-secret-0000")
    for _ in range(BAD_SECRET_LIMIT):
        with pytest.raises(WeChatClientException) as exc:
            wrong.fetch_access_token()
        assert exc.value.errcode == 40001
    assert server.client(APP_SECRET).fetch_access_token()["errcode"] == 0


def test_injected_system_busy_reaches_wechatpy_once(server):
    client = server.client(APP_SECRET)
    client.fetch_access_token()
    server.add_fault(path="getcallbackip", errcode=-1, count=1)
    with pytest.raises(WeChatClientException) as exc:
        client.misc.get_wechat_ips()
    assert exc.value.errcode == -1
    m = WECOM_ERRMSG.match(exc.value.errmsg)
    assert m and int(m.group("code")) == -1, exc.value.errmsg
    assert exc.value.response.json()["ip_list"] == []
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    assert server.control("GET", "/faults") == []


def test_injected_fault_follows_the_legacy_dialect(server):
    client = server.client(GROUP_SECRET)
    client.fetch_access_token()
    server.add_fault(path="get_api_domain_ip", errcode=-1, count=1)
    with pytest.raises(WeChatClientException) as exc:
        client.get("get_api_domain_ip")
    assert exc.value.errcode == -1
    assert ", hint: [" not in exc.value.errmsg, "legacy errmsgs are bare"
    assert client.get("get_api_domain_ip") == {"ip_list": ["127.0.0.1"]}


def test_wechatpy_retries_an_injected_42001(server):
    client = server.client(APP_SECRET)
    token = client.access_token
    server.add_fault(path="getcallbackip", errcode=42001, count=1)
    calls = []
    client._http.hooks["response"].append(lambda r, *a, **k: calls.append((urlsplit(r.url).path, r.json().get("errcode"))))
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    assert calls == [("/cgi-bin/getcallbackip", 42001), ("/cgi-bin/gettoken", 0), ("/cgi-bin/getcallbackip", 0)]
    # The token had not really expired: gettoken handed back the same one.
    assert client.access_token == token


def test_injected_delay(server):
    client = server.client(APP_SECRET)
    client.fetch_access_token()
    server.add_fault(path="getcallbackip", delay_ms=400, count=1)
    started = time.monotonic()
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    assert time.monotonic() - started < 0.4
