"""getcallbackip (wechatpy's misc.get_wechat_ips) and get_api_domain_ip (no wechatpy method: its
generic client.get) in both dialects, plus unknown paths."""

import pytest
from wechatpy.exceptions import WeChatClientException

from support import APP_SECRET, GROUP_SECRET, SYNC_SECRET

WECOM = [pytest.param(APP_SECRET, id="app"), pytest.param(SYNC_SECRET, id="contact_sync")]


@pytest.mark.parametrize("secret", WECOM)
def test_getcallbackip_wecom(server, secret):
    client = server.client(secret)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    body = server.cgi_json("getcallbackip", access_token=client.access_token)
    assert body == {"ip_list": ["127.0.0.1"], "errcode": 0, "errmsg": "ok"}


def test_getcallbackip_legacy(server):
    client = server.client(GROUP_SECRET)
    assert client.misc.get_wechat_ips() == ["127.0.0.1"]
    body = server.cgi_json("getcallbackip", access_token=client.access_token)
    assert body == {"ip_list": ["127.0.0.1"]}, "legacy success bodies carry no errcode/errmsg"


@pytest.mark.parametrize("secret", WECOM)
def test_get_api_domain_ip_wecom(server, secret):
    client = server.client(secret)
    result = client.get("get_api_domain_ip")
    assert result["ip_list"] == ["127.0.0.1"]
    assert result["errcode"] == 0 and result["errmsg"] == "ok"
    assert set(result) == {"ip_list", "errcode", "errmsg"}


def test_get_api_domain_ip_legacy(server):
    client = server.client(GROUP_SECRET)
    result = client.get("get_api_domain_ip")
    assert result == {"ip_list": ["127.0.0.1"]}


def test_unknown_path_is_http_404_with_empty_body(server):
    r = server.cgi("no_such_api", access_token="whatever")
    assert r.status_code == 404
    assert r.content == b""
    client = server.client(APP_SECRET)
    with pytest.raises(WeChatClientException) as exc:
        client.get("no_such_api")
    assert exc.value.errcode is None
    assert exc.value.response.status_code == 404
    # A path that only looks like one: gettoken with a trailing slash.
    assert server.cgi("gettoken/", corpid="x", corpsecret="y").status_code == 404
