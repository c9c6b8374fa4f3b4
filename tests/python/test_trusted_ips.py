"""Per-credential trusted IPs (企业可信IP): a caller outside a non-empty list gets 60020 on gettoken
and on API calls. The tests call from 127.0.0.1."""

import pytest
from wechatpy.exceptions import WeChatClientException

from support import (
    APP_AGENTID,
    APP_SECRET,
    CORPID,
    GROUP_SECRET,
    GROUPID,
    RESTRICTED_AGENTID,
    RESTRICTED_APP_SECRET,
    RESTRICTED_RANGE,
    SYNC_SECRET,
    assert_wecom_errmsg,
)

NOT_ALLOWED = "not allow to access from your ip"


def test_seeded_trusted_ips_refuse_gettoken(server):
    client = server.client(RESTRICTED_APP_SECRET)
    with pytest.raises(WeChatClientException) as exc:
        client.misc.get_wechat_ips()
    assert exc.value.errcode == 60020
    assert_wecom_errmsg(exc.value.errmsg, NOT_ALLOWED, 60020, server)
    assert "access_token" not in exc.value.response.json()
    # The control API shows the list it was seeded with.
    corp = server.control("GET", f"/corps/{CORPID}")
    app = next(a for a in corp["apps"] if a["agentid"] == RESTRICTED_AGENTID)
    assert app["credential"]["trusted_ips"] == [RESTRICTED_RANGE]


def test_allowing_the_caller_lets_gettoken_through(server):
    with pytest.raises(WeChatClientException) as exc:
        server.client(RESTRICTED_APP_SECRET).fetch_access_token()
    assert exc.value.errcode == 60020
    server.set_trusted_ips(f"app:{RESTRICTED_AGENTID}", [RESTRICTED_RANGE, "127.0.0.1"])
    client = server.client(RESTRICTED_APP_SECRET)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    assert len(client.access_token) == 214


@pytest.mark.parametrize(
    "secret,owner",
    [pytest.param(APP_SECRET, f"app:{APP_AGENTID}", id="app"), pytest.param(SYNC_SECRET, "contact_sync", id="contact_sync")],
)
def test_trusted_ips_apply_to_live_tokens(server, secret, owner):
    client = server.client(secret)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    token = client.access_token

    server.set_trusted_ips(owner, [RESTRICTED_RANGE])
    # The token already held is refused on API calls; 60020 is not a code wechatpy retries on.
    calls = []
    client._http.hooks["response"].append(lambda r, *a, **k: calls.append(r.url))
    with pytest.raises(WeChatClientException) as exc:
        client.misc.get_wechat_ips()
    assert exc.value.errcode == 60020
    assert_wecom_errmsg(exc.value.errmsg, NOT_ALLOWED, 60020, server)
    assert exc.value.response.json()["ip_list"] == []
    assert len(calls) == 1
    with pytest.raises(WeChatClientException) as exc:
        client.get("get_api_domain_ip")
    assert exc.value.errcode == 60020
    # And gettoken with the secret is refused too.
    with pytest.raises(WeChatClientException) as exc:
        server.client(secret).fetch_access_token()
    assert exc.value.errcode == 60020

    # A range holding the caller lets it back in, with the same token.
    server.set_trusted_ips(owner, ["127.0.0.0/8"])
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    assert server.token(secret) == token
    # A single address works as well as a range.
    server.set_trusted_ips(owner, ["127.0.0.1"])
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    # An empty list trusts every address.
    server.set_trusted_ips(owner, [RESTRICTED_RANGE])
    with pytest.raises(WeChatClientException):
        client.misc.get_wechat_ips()
    server.set_trusted_ips(owner, [])
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]


def test_one_credentials_list_leaves_the_others(server):
    tokens = {s: server.token(s) for s in (APP_SECRET, SYNC_SECRET, GROUP_SECRET)}
    server.set_trusted_ips(f"app:{APP_AGENTID}", [RESTRICTED_RANGE])
    assert server.cgi_json("getcallbackip", access_token=tokens[APP_SECRET])["errcode"] == 60020
    assert server.cgi_json("getcallbackip", access_token=tokens[SYNC_SECRET])["errcode"] == 0
    assert server.cgi_json("getcallbackip", access_token=tokens[GROUP_SECRET]) == {"ip_list": ["127.0.0.1"]}


def test_management_groups_have_no_trusted_ips(server):
    server.control(
        "PUT",
        f"/corps/{CORPID}/secrets/group:{GROUPID}/trusted_ips",
        expect=(400,),
        json={"trusted_ips": [RESTRICTED_RANGE]},
    )
    client = server.client(GROUP_SECRET)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
