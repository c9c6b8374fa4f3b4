"""gettoken and access_token handling, in both dialects of one corp, through wechatpy 1.8.18.

WeCom secrets (an app's, the contacts-sync secret) give WeCom tokens; a legacy management-group
(管理组) secret gives a 64-character legacy token whose success bodies carry no errcode/errmsg.
"""

import string
from urllib.parse import urlsplit

import pytest
from wechatpy.exceptions import WeChatClientException

from support import (
    APP_AGENTID,
    APP_SECRET,
    CORPID,
    GROUP_SECRET,
    GROUPID,
    SYNC_SECRET,
    assert_wecom_errmsg,
)

WECOM_TOKEN_LEN = 214
LEGACY_TOKEN_LEN = 64
URL_SAFE = set(string.ascii_letters + string.digits + "-_")

# (secret, dialect, control-API owner key), one per kind of secret holder
CREDENTIALS = [
    pytest.param(APP_SECRET, "wecom", f"app:{APP_AGENTID}", id="app"),
    pytest.param(SYNC_SECRET, "wecom", "contact_sync", id="contact_sync"),
    pytest.param(GROUP_SECRET, "legacy", f"group:{GROUPID}", id="group"),
]


def record_calls(client):
    """Every HTTP answer wechatpy receives, as (path, errcode or None)."""
    calls = []

    def hook(response, *args, **kwargs):
        body = response.json() if response.content else {}
        calls.append((urlsplit(response.url).path, body.get("errcode")))

    client._http.hooks["response"].append(hook)
    return calls


def assert_error(errmsg, dialect, text, errcode, server=None):
    if dialect == "legacy":
        assert errmsg == text, f"legacy errmsg should be the bare text, got {errmsg!r}"
    else:
        assert_wecom_errmsg(errmsg, text, errcode, server)


# --- gettoken: success ------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [APP_SECRET, SYNC_SECRET], ids=["app", "contact_sync"])
def test_wecom_secret_gives_wecom_token(server, secret):
    client = server.client(secret)
    result = client.fetch_access_token()
    token = result["access_token"]
    assert len(token) == WECOM_TOKEN_LEN
    assert set(token) <= URL_SAFE
    assert result["errcode"] == 0
    assert result["errmsg"] == "ok"
    assert result["expires_in"] == 7200
    assert set(result) == {"access_token", "expires_in", "errcode", "errmsg"}
    # wechatpy keeps it and sends it with API calls.
    assert client.access_token == token
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]


def test_group_secret_gives_legacy_token(server):
    client = server.client(GROUP_SECRET)
    result = client.fetch_access_token()
    token = result["access_token"]
    assert len(token) == LEGACY_TOKEN_LEN
    assert set(token) <= URL_SAFE
    assert result["expires_in"] == 7200
    assert client.access_token == token
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]

    # The raw legacy success body: exactly access_token and expires_in, no errcode/errmsg.
    r = server.cgi("gettoken", corpid=CORPID, corpsecret=GROUP_SECRET)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"access_token", "expires_in"}, body
    assert body == {"access_token": token, "expires_in": 7200}


def test_wecom_success_body_has_envelope(server):
    r = server.cgi("gettoken", corpid=CORPID, corpsecret=APP_SECRET)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["errcode"] == 0 and body["errmsg"] == "ok", body
    assert body["expires_in"] == 7200
    assert len(body["access_token"]) == WECOM_TOKEN_LEN


@pytest.mark.parametrize("secret,dialect,owner", CREDENTIALS)
def test_same_token_while_valid(server, secret, dialect, owner):
    first = server.client(secret).fetch_access_token()["access_token"]
    second = server.client(secret).fetch_access_token()["access_token"]
    third = server.token(secret)
    assert first == second == third


def test_each_secret_has_its_own_token(server):
    tokens = {s: server.client(s).fetch_access_token()["access_token"] for s in (APP_SECRET, SYNC_SECRET, GROUP_SECRET)}
    assert len(set(tokens.values())) == 3, tokens


@pytest.mark.parametrize("secret,dialect,owner", CREDENTIALS)
def test_refetch_restarts_the_7200_seconds(server, secret, dialect, owner):
    token = server.token(secret)
    server.advance(3600)
    again = server.client(secret).fetch_access_token()
    assert again["access_token"] == token
    assert again["expires_in"] == 7200
    # 3601 s after the refetch, 7201 s after the first fetch: the refetch said 7200 s more.
    server.advance(3601)
    client = server.client(secret, access_token=token, auto_retry=False)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    # And past those 7200 s it has expired.
    server.advance(3600)
    with pytest.raises(WeChatClientException) as exc:
        client.misc.get_wechat_ips()
    assert exc.value.errcode == 42001


# --- gettoken: errors ------------------------------------------------------------------------


@pytest.mark.parametrize("corpid", ["ww00000000000000ff", "not-a-corpid", "WW0123456789ABCDEF"])
def test_bad_corpid_is_40013(server, corpid):
    client = server.client(APP_SECRET, corpid=corpid)
    with pytest.raises(WeChatClientException) as exc:
        client.fetch_access_token()
    assert exc.value.errcode == 40013
    assert_wecom_errmsg(exc.value.errmsg, "invalid corpid", 40013, server)
    assert set(exc.value.response.json()) == {"errcode", "errmsg"}


@pytest.mark.parametrize("secret", ["wrong-secret", GROUP_SECRET + "x", APP_SECRET.upper(), "bad secret!"])
def test_bad_secret_is_40001(server, secret):
    client = server.client(secret)
    with pytest.raises(WeChatClientException) as exc:
        client.misc.get_wechat_ips()  # fetches the token first
    assert exc.value.errcode == 40001
    assert_wecom_errmsg(exc.value.errmsg, "invalid credential", 40001, server)


def test_secret_of_another_corp_is_40001(server):
    other = server.control("POST", "/corps", json={"name": "Other corp", "corpid": "ww00000000000000aa"})
    assert other["corpid"] == "ww00000000000000aa"
    other_secret = server.control("POST", "/corps/ww00000000000000aa/apps", json={"name": "Other app"})["secret"]
    assert server.client(other_secret, corpid="ww00000000000000aa").fetch_access_token()["errcode"] == 0
    with pytest.raises(WeChatClientException) as exc:
        server.client(other_secret).fetch_access_token()
    assert exc.value.errcode == 40001


def test_missing_secret_is_41004(server):
    with pytest.raises(WeChatClientException) as exc:
        server.client("").fetch_access_token()
    assert exc.value.errcode == 41004
    assert_wecom_errmsg(exc.value.errmsg, "corpsecret missing", 41004, server)
    # No corpsecret parameter at all, and neither parameter: the secret is checked first.
    assert server.cgi_json("gettoken", corpid=CORPID)["errcode"] == 41004
    assert server.cgi_json("gettoken")["errcode"] == 41004
    assert server.cgi_json("gettoken", corpid="not-a-corpid")["errcode"] == 41004


def test_missing_corpid_is_41002(server):
    with pytest.raises(WeChatClientException) as exc:
        server.client(APP_SECRET, corpid=None).fetch_access_token()  # requests drops the None param
    assert exc.value.errcode == 41002
    assert_wecom_errmsg(exc.value.errmsg, "corpid missing", 41002, server)
    assert server.cgi_json("gettoken", corpid="", corpsecret=APP_SECRET)["errcode"] == 41002


# --- access_token errors ---------------------------------------------------------------------


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 64, "y" * 214])
def test_unknown_token_is_40014(server, token):
    client = server.client(APP_SECRET, access_token=token, auto_retry=False)
    with pytest.raises(WeChatClientException) as exc:
        client.misc.get_wechat_ips()
    assert exc.value.errcode == 40014
    assert_wecom_errmsg(exc.value.errmsg, "invalid access_token", 40014, server)
    assert exc.value.response.json()["ip_list"] == []


def test_auto_retry_recovers_from_an_unknown_token(server):
    client = server.client(APP_SECRET, access_token="stale-token-from-elsewhere")
    calls = record_calls(client)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    assert calls == [("/cgi-bin/getcallbackip", 40014), ("/cgi-bin/gettoken", 0), ("/cgi-bin/getcallbackip", 0)]
    assert client.access_token == server.token(APP_SECRET)


def test_missing_token_is_41001(server):
    client = server.client(APP_SECRET)
    with pytest.raises(WeChatClientException) as exc:
        client.get("getcallbackip", params={"access_token": None})  # requests drops the None param
    assert exc.value.errcode == 41001
    assert_wecom_errmsg(exc.value.errmsg, "access_token missing", 41001, server)
    assert exc.value.response.json()["ip_list"] == []
    for path in ("getcallbackip", "get_api_domain_ip"):
        body = server.cgi_json(path, access_token="")
        assert body["errcode"] == 41001 and body["ip_list"] == [], body
        body = server.cgi_json(path)
        assert body["errcode"] == 41001 and body["ip_list"] == [], body


@pytest.mark.parametrize("secret,dialect,owner", CREDENTIALS)
@pytest.mark.parametrize("scheme", ["Bearer {}", "{}"])
def test_token_in_authorization_header_is_ignored(server, secret, dialect, owner, scheme):
    client = server.client(secret)
    token = client.access_token
    with pytest.raises(WeChatClientException) as exc:
        client.get(
            "getcallbackip",
            params={"access_token": None},
            headers={"Authorization": scheme.format(token)},
        )
    assert exc.value.errcode == 41001
    # No token yet, no dialect yet: the WeCom form.
    assert_wecom_errmsg(exc.value.errmsg, "access_token missing", 41001, server)
    # The same token in the query string is fine.
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]


def test_token_in_body_is_ignored(server):
    client = server.client(APP_SECRET)
    token = client.access_token
    with pytest.raises(WeChatClientException) as exc:
        client.post("getcallbackip", params={"access_token": None}, data={"access_token": token})
    assert exc.value.errcode == 41001


# --- expiry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("secret,dialect,owner", CREDENTIALS)
def test_token_is_valid_just_before_7200_seconds(server, secret, dialect, owner):
    client = server.client(secret)
    token = client.access_token
    server.advance(7190)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    assert client.access_token == token


@pytest.mark.parametrize("secret,dialect,owner", CREDENTIALS)
def test_expired_token_is_42001(server, secret, dialect, owner):
    token = server.client(secret).fetch_access_token()["access_token"]
    server.advance(7201)
    client = server.client(secret, access_token=token, auto_retry=False)
    with pytest.raises(WeChatClientException) as exc:
        client.misc.get_wechat_ips()
    assert exc.value.errcode == 42001
    assert_error(exc.value.errmsg, dialect, "access_token expired", 42001, server)

    body = server.cgi_json("getcallbackip", access_token=token)
    assert body["errcode"] == 42001
    assert body["ip_list"] == []
    assert_error(body["errmsg"], dialect, "access_token expired", 42001, server)
    body = server.cgi_json("get_api_domain_ip", access_token=token)
    assert body["errcode"] == 42001 and body["ip_list"] == [], body


def test_legacy_expired_body_is_exact(server):
    token = server.token(GROUP_SECRET)
    server.advance(7201)
    body = server.cgi_json("getcallbackip", access_token=token)
    assert body == {"errcode": 42001, "errmsg": "access_token expired", "ip_list": []}


@pytest.mark.parametrize("secret,dialect,owner", CREDENTIALS)
def test_auto_retry_recovers_from_expiry(server, secret, dialect, owner):
    client = server.client(secret)  # auto_retry=True, wechatpy's default
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    old = client.access_token
    server.advance(7201)

    calls = record_calls(client)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    ok = 0 if dialect == "wecom" else None  # legacy success bodies have no errcode
    assert calls == [("/cgi-bin/getcallbackip", 42001), ("/cgi-bin/gettoken", ok), ("/cgi-bin/getcallbackip", ok)]

    new = client.access_token
    assert new != old
    assert len(new) == (WECOM_TOKEN_LEN if dialect == "wecom" else LEGACY_TOKEN_LEN)
    assert server.cgi_json("getcallbackip", access_token=old)["errcode"] == 42001
    assert server.cgi_json("getcallbackip", access_token=new)["ip_list"] == ["127.0.0.1"]
    assert server.token(secret) == new


# --- secret regeneration ---------------------------------------------------------------------


@pytest.mark.parametrize("secret,dialect,owner", CREDENTIALS)
def test_regenerated_secret_revokes_old_secret_and_token(server, secret, dialect, owner):
    client = server.client(secret)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    old_token = client.access_token

    new_secret = server.regenerate(owner)
    assert new_secret != secret

    # The old token is invalid at once (not expired).
    body = server.cgi_json("getcallbackip", access_token=old_token)
    assert body["errcode"] == 40014, body
    assert_error(body["errmsg"], dialect, "invalid access_token", 40014, server)
    strict = server.client(secret, access_token=old_token, auto_retry=False)
    with pytest.raises(WeChatClientException) as exc:
        strict.misc.get_wechat_ips()
    assert exc.value.errcode == 40014

    # wechatpy retries with a fresh token, but its secret is now wrong: 40001 reaches the caller.
    calls = record_calls(client)
    with pytest.raises(WeChatClientException) as exc:
        client.misc.get_wechat_ips()
    assert exc.value.errcode == 40001
    assert_wecom_errmsg(exc.value.errmsg, "invalid credential", 40001, server)
    assert calls == [("/cgi-bin/getcallbackip", 40014), ("/cgi-bin/gettoken", 40001)]

    # The new secret works and gives a new token of the same dialect.
    fresh = server.client(new_secret)
    assert fresh.misc.get_wechat_ips() == ["127.0.0.1"]
    assert fresh.access_token != old_token
    assert len(fresh.access_token) == (WECOM_TOKEN_LEN if dialect == "wecom" else LEGACY_TOKEN_LEN)
    # The control API shows the new secret.
    assert new_secret in str(server.control("GET", f"/corps/{CORPID}"))


def test_regenerating_one_secret_leaves_the_others(server):
    tokens = {s: server.token(s) for s in (APP_SECRET, SYNC_SECRET, GROUP_SECRET)}
    server.regenerate(f"app:{APP_AGENTID}")
    assert server.cgi_json("getcallbackip", access_token=tokens[APP_SECRET])["errcode"] == 40014
    for s in (SYNC_SECRET, GROUP_SECRET):
        assert server.cgi_json("getcallbackip", access_token=tokens[s])["ip_list"] == ["127.0.0.1"]
        assert server.token(s) == tokens[s]
