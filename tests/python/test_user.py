"""userid <-> openid through wechatpy's user API, in both dialects on one corp."""

import pytest
from wechatpy.exceptions import WeChatClientException

from support import APP_AGENTID, APP_SECRET, GROUP_SECRET, SYNC_SECRET, assert_wecom_errmsg


def test_wecom_openid_round_trip(server):
    client = server.client(APP_SECRET)
    res = client.user.convert_to_openid("zhangsan")
    assert res["errcode"] == 0 and res["errmsg"] == "ok"
    openid = res["openid"]
    assert openid.startswith("o") and len(openid) == 28
    assert "appid" not in res
    # wechatpy sends agentid when given; WeCom answers the corp-level openid regardless.
    assert client.user.convert_to_openid("zhangsan", agent_id=APP_AGENTID)["openid"] == openid
    assert client.user.convert_to_user_id(openid) == "zhangsan"
    assert server.client(SYNC_SECRET).user.convert_to_user_id(openid) == "zhangsan"


def test_legacy_openid_per_app_with_appid(server):
    wecom = server.client(APP_SECRET)
    legacy = server.client(GROUP_SECRET)
    corp_openid = wecom.user.convert_to_openid("zhangsan")["openid"]
    res = legacy.user.convert_to_openid("zhangsan")
    assert res == {"errcode": 0, "errmsg": "ok", "openid": corp_openid}, "same member, same corp-level openid"
    per_app = legacy.user.convert_to_openid("zhangsan", agent_id=APP_AGENTID)
    assert per_app["openid"] != corp_openid
    assert per_app["appid"].startswith("wx") and len(per_app["appid"]) == 18
    assert legacy.user.convert_to_user_id(per_app["openid"]) == "zhangsan"


@pytest.mark.parametrize(
    "userid, errcode, text",
    [("nobody", 60111, "userid not found"), ("lisi", 43004, "userid not bind weixin or not follow weixin plugin")],
)
def test_member_errors(server, userid, errcode, text):
    with pytest.raises(WeChatClientException) as e:
        server.client(APP_SECRET).user.convert_to_openid(userid)
    assert e.value.errcode == errcode
    assert_wecom_errmsg(e.value.errmsg, text, errcode)


def test_legacy_errors_are_bare(server):
    with pytest.raises(WeChatClientException) as e:
        server.client(GROUP_SECRET).user.convert_to_openid("zhangsan", agent_id=4242)
    assert e.value.errcode == 40056
    assert e.value.errmsg == "invalid agentid"


def test_unknown_openid(server):
    with pytest.raises(WeChatClientException) as e:
        server.client(APP_SECRET).user.convert_to_user_id("o" + "x" * 27)
    assert e.value.errcode == 40073
