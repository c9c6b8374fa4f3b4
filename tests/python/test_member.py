"""Members through wechatpy's client.user in both dialects on one corp: create, get, update
(with the frozen mobile), list, delete and batch delete."""

import pytest
from wechatpy.exceptions import WeChatClientException

from support import APP_SECRET, CORPID, GROUP_SECRET, SYNC_SECRET, assert_wecom_errmsg


def test_create_and_both_views(server):
    wecom = server.client(SYNC_SECRET)
    legacy = server.client(GROUP_SECRET)
    res = wecom.user.create(
        "WangWu", "Wang Wu", department=[2, 1], position="PM", mobile="13800000003", gender="1",
        email="wangwu@example.com", is_leader_in_dept=[1, 0], order=[5, 1], english_name="Wang Wu",
        extattr={"attrs": [{"type": 0, "name": "No", "text": {"value": "E7"}}]},
    )
    assert res == {"errcode": 0, "errmsg": "created"}
    w = wecom.user.get("wangwu")
    assert (w["userid"], w["department"], w["order"], w["is_leader_in_dept"]) == ("WangWu", [2, 1], [5, 1], [1, 0])
    assert (w["gender"], w["status"], w["enable"], w["isleader"], w["english_name"]) == ("1", 4, 1, 1, "Wang Wu")
    assert "weixinid" not in w
    l = legacy.user.get("WANGWU")
    assert (l["userid"], l["gender"], l["status"], l["weixinid"]) == ("WangWu", "1", 4, "")
    assert not {"english_name", "isleader", "is_leader_in_dept", "telephone", "enable", "order"} & set(l)

    # wechatpy's legacy-era create: gender 0 by default, a weixinid, no mobile or email.
    assert legacy.user.create("zhaoliu", "Zhao Liu", department=[1], weixin_id="zhaoliu_wx")["errmsg"] == "created"
    assert legacy.user.get("zhaoliu")["weixinid"] == "zhaoliu_wx"
    assert legacy.user.get("zhaoliu")["gender"] == "0"


def test_create_errors_per_dialect(server):
    with pytest.raises(WeChatClientException) as e:
        server.client(SYNC_SECRET).user.create("x1", "X", department=[1])
    assert e.value.errcode == 60129
    assert_wecom_errmsg(e.value.errmsg, "mobile and email are both empty", 60129)
    with pytest.raises(WeChatClientException) as e:
        server.client(GROUP_SECRET).user.create("x1", "X", department=[1])
    assert (e.value.errcode, e.value.errmsg) == (60113, "mobile weixinid and email are all empty")
    with pytest.raises(WeChatClientException) as e:
        server.client(GROUP_SECRET).user.create("x1", "X", department=[1], mobile="13800000001")
    assert (e.value.errcode, e.value.errmsg) == (60104, "mobile existed:zhangsan")
    with pytest.raises(WeChatClientException) as e:
        server.client(SYNC_SECRET).user.create("ZhangSan", "X", department=[1], email="z@example.com")
    assert e.value.errcode == 60102
    with pytest.raises(WeChatClientException) as e:
        server.client(APP_SECRET).user.create("x2", "X", department=[1], email="x2@example.com")
    assert e.value.errcode == 48002


def test_update_freezes_the_mobile_of_a_member_who_logged_in(server):
    wecom = server.client(SYNC_SECRET)
    assert wecom.user.update("zhangsan", mobile="13999999999", position="CTO")["errmsg"] == "updated"
    z = wecom.user.get("zhangsan")
    assert (z["mobile"], z["position"]) == ("13800000001", "CTO")
    assert server.client(GROUP_SECRET).user.update("lisi", mobile="13999999999", enable=0)["errcode"] == 0
    li = wecom.user.get("lisi")
    assert (li["mobile"], li["status"], li["enable"]) == ("13999999999", 2, 0)
    with pytest.raises(WeChatClientException) as e:
        wecom.user.update("nobody", name="x")
    assert e.value.errcode == 60111


def test_lists_and_deletes(server):
    wecom = server.client(SYNC_SECRET)
    legacy = server.client(GROUP_SECRET)
    for u, order in (("a1", 3), ("a2", 2), ("a3", 1)):
        wecom.user.create(u, u.upper(), department=[2], order=[order], email=f"{u}@example.com")
    simple = wecom.user.list(2, simple=True)
    assert [u["userid"] for u in simple] == ["a1", "a2", "a3", "zhangsan"], "larger order first"
    assert simple[0] == {"userid": "a1", "name": "A1", "department": [2]}
    everyone = {u["userid"] for u in legacy.user.list(1, fetch_child=True)}
    assert everyone == {"zhangsan", "lisi", "a1", "a2", "a3"}
    assert all("weixinid" in u for u in legacy.user.list(2))

    assert wecom.user.delete("a1")["errmsg"] == "deleted"
    with pytest.raises(WeChatClientException) as e:
        legacy.user.batch_delete(["a2", "nobody"])
    assert (e.value.errcode, e.value.errmsg) == (301021, "userid invalid")
    assert legacy.user.batch_delete(["a2", "A3"])["errmsg"] == "deleted"
    assert [u["userid"] for u in wecom.user.list(2, simple=True)] == ["zhangsan"]

    events = server.control("GET", f"/corps/{CORPID}/events")
    kinds = [(e["change_type"], e["origin"]) for e in events if e["change_type"] == "delete_user"]
    assert kinds == [("delete_user", "contact_sync"), ("delete_user", "group:1"), ("delete_user", "group:1")]


def test_list_id_pages(server):
    wecom = server.client(SYNC_SECRET)
    for i in range(5):
        wecom.user.create(f"p{i}", "P", department=[1, 2], email=f"p{i}@example.com")
    rows, cursor = [], ""
    while True:
        res = wecom.post("user/list_id", data={"cursor": cursor, "limit": 3})
        rows += [(r["userid"], r["department"]) for r in res["dept_user"]]
        cursor = res["next_cursor"]
        if not cursor:
            break
    assert len(rows) == len(set(rows)) == 12
    with pytest.raises(WeChatClientException) as e:
        wecom.post("user/list_id", data={"cursor": "not-a-cursor"})
    assert e.value.errcode == 50100


def test_verify_lookups_and_invite(server):
    wecom = server.client(SYNC_SECRET)
    legacy = server.client(GROUP_SECRET)
    assert legacy.user.get("lisi")["status"] == 4
    assert legacy.user.verify("lisi") == {"errcode": 0, "errmsg": "ok"}
    assert legacy.user.get("lisi")["status"] == 1
    assert wecom.post("user/getuserid", data={"mobile": "13800000001"})["userid"] == "zhangsan"
    assert wecom.post("user/get_userid_by_email", data={"email": "lisi@example.com", "email_type": 2})["userid"] == "lisi"
    with pytest.raises(WeChatClientException) as e:
        wecom.post("user/getuserid", data={"mobile": "13800009999"})
    assert e.value.errcode == 46004
    res = wecom.batch.invite(user=["lisi", "nobody"], party=[2])
    assert (res["invaliduser"], res["invalidparty"], res["invalidtag"]) == (["nobody"], [], [])
