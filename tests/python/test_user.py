"""wechatpy's user API in both dialects on one corp: userid <-> openid, and the later member fields
(new_userid, biz_mail, avatar_mediaid, external_profile, status 5, sensitive fields, frozen weixinid)."""

import pytest
from wechatpy.exceptions import WeChatClientException

from support import APP_AGENTID, APP_SECRET, CORPID, GROUP_SECRET, SYNC_SECRET, assert_wecom_errmsg


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


# --- the later member fields, through wechatpy's client.user -----------------------------------


def join(server, **body):
    """A member who joined by itself (control API): the platform made up its userid."""
    return server.control("POST", f"/corps/{CORPID}/members/join", json=body)["userid"]


def test_new_userid_once_for_a_generated_userid(server):
    sync = server.client(SYNC_SECRET)
    with pytest.raises(WeChatClientException) as e:
        sync.user.update("zhangsan", new_userid="zs2")
    assert e.value.errcode == 301036
    assert_wecom_errmsg(e.value.errmsg, "userid can not be updated", 301036)

    generated = join(server, name="Joiner", department=[2], mobile="13900000009")
    openid = server.client(APP_SECRET).user.convert_to_openid(generated)["openid"]
    assert sync.user.update(generated, new_userid="Joiner.Py", position="Dev") == {"errcode": 0, "errmsg": "updated"}
    m = sync.user.get("joiner.py")
    assert (m["userid"], m["department"], m["position"], m["mobile"], m["status"]) == ("Joiner.Py", [2], "Dev", "13900000009", 1)
    assert server.client(APP_SECRET).user.convert_to_user_id(openid) == "Joiner.Py"
    with pytest.raises(WeChatClientException) as e:
        sync.user.get(generated)
    assert e.value.errcode == 60111
    with pytest.raises(WeChatClientException) as e:
        sync.user.update("Joiner.Py", new_userid="joiner3")
    assert e.value.errcode == 301036, "only once"


def test_biz_mail_and_its_aliases(server):
    sync = server.client(SYNC_SECRET)
    sync.user.create("u1", "U", department=[1], mobile="13900000001", biz_mail="u1@corp.example.com")
    sync.user.update("u1", biz_mail_alias={"item": ["a@corp.example.com", "b@corp.example.com"]})
    m = sync.user.get("u1")
    assert (m["biz_mail"], m["biz_mail_alias"]) == ("u1@corp.example.com", {"item": ["a@corp.example.com", "b@corp.example.com"]})
    with pytest.raises(WeChatClientException) as e:
        sync.user.create("u2", "U", department=[1], mobile="13900000002", biz_mail="u1@corp.example.com")
    assert e.value.errcode == 60145
    with pytest.raises(WeChatClientException) as e:
        sync.user.update("u1", biz_mail="not-a-mail")
    assert e.value.errcode == 60143
    legacy = server.client(GROUP_SECRET).user.get("u1")
    assert "biz_mail" not in legacy and "biz_mail_alias" not in legacy


@pytest.mark.parametrize("secret", [SYNC_SECRET, GROUP_SECRET])
def test_unknown_avatar_mediaid(server, secret):
    client = server.client(secret)
    with pytest.raises(WeChatClientException) as e:
        client.user.create("u1", "U", department=[1], mobile="13900000001", avatar_mediaid="2-G6nrLmr5EC3MNb_-zL1dDdzkd0p7")
    assert e.value.errcode == 301015
    with pytest.raises(WeChatClientException) as e:
        client.user.update("lisi", avatar_mediaid="3abc")
    assert e.value.errcode == 301015


def test_external_profile_wecom_only(server):
    sync = server.client(SYNC_SECRET)
    profile = {"external_corp_name": "ACME",
               "external_attr": [{"type": 1, "name": "Site", "web": {"url": "https://acme.example.com", "title": "ACME"}}]}
    sync.user.update("zhangsan", external_position="产品经理", external_profile=profile)
    m = sync.user.get("zhangsan")
    assert (m["external_position"], m["external_profile"]) == ("产品经理", profile)
    assert not {"external_position", "external_profile"} & set(server.client(GROUP_SECRET).user.get("zhangsan"))
    with pytest.raises(WeChatClientException) as e:
        sync.user.update("zhangsan", external_profile={"external_attr": [{"type": 1, "name": "x", "web": {"url": "ftp://x", "title": "t"}}]})
    assert e.value.errcode == 90103


def test_status_5_after_leaving(server):
    server.control("POST", f"/corps/{CORPID}/members/zhangsan/leave")
    assert server.client(SYNC_SECRET).user.get("zhangsan")["status"] == 5
    assert server.client(GROUP_SECRET).user.get("zhangsan")["status"] == 4


def test_sensitive_fields_hidden_from_apps_created_after_2022_06_20(server):
    new = server.control("POST", f"/corps/{CORPID}/apps", json={"name": "New app", "allow_parties": [1]})
    m = server.client(new["secret"]).user.get("zhangsan")
    assert (m["name"], m["mobile"], m["gender"], m["email"], m["avatar"]) == ("Zhang San", "", "0", "", "")
    assert all(u["mobile"] == "" for u in server.client(new["secret"]).user.list(1, fetch_child=True))
    assert server.client(APP_SECRET).user.get("zhangsan")["mobile"] == "13800000001", "created 2021-03-01 (seed)"
    assert server.client(SYNC_SECRET).user.get("zhangsan")["mobile"] == "13800000001"


def test_legacy_weixinid_frozen_once_followed(server):
    legacy = server.client(GROUP_SECRET)
    legacy.user.create("wx1", "W", department=[1], weixin_id="weixin_one")
    server.control("POST", f"/corps/{CORPID}/members/wx1/login")
    with pytest.raises(WeChatClientException) as e:
        legacy.user.update("wx1", weixin_id="weixin_two")
    assert (e.value.errcode, e.value.errmsg) == (60115, "followed member's weixinid can not be modified")
    assert legacy.user.get("wx1")["weixinid"] == "weixin_one"
