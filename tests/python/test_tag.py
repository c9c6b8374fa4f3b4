"""Tags through wechatpy's client.tag, in both dialects on one corp: the creating app owns a WeCom
tag, the creating 管理组 a legacy one (locked until unlocked through the control API)."""

import pytest
from wechatpy.exceptions import WeChatClientException

from support import APP_SECRET, CORPID, GROUP2_SECRET, GROUP_SECRET, SHARED_TAGID, SYNC_SECRET, assert_wecom_errmsg


def raises(call, *args):
    with pytest.raises(WeChatClientException) as e:
        call(*args)
    return e.value


def test_wecom_tag_lifecycle(server):
    tag = server.client(APP_SECRET).tag
    res = tag.create("UI")
    assert res["errcode"] == 0 and res["errmsg"] == "created"
    tagid = res["tagid"]
    assert tagid == SHARED_TAGID + 1, "the highest id plus one"
    assert tag.update(tagid, "UI design") == {"errcode": 0, "errmsg": "updated"}

    res = tag.add_users(tagid, ["zhangsan", "nobody", "ghost"])
    assert res == {"errcode": 0, "errmsg": "ok", "invalidlist": "nobody|ghost"}, "invalidlist is a pipe string"
    assert tag.add_users(tagid, ["lisi"]) == {"errcode": 0, "errmsg": "ok"}
    res = tag.get_users(tagid)
    assert res["tagname"] == "UI design"
    assert res["userlist"] == [{"userid": "lisi", "name": "Li Si"}, {"userid": "zhangsan", "name": "Zhang San"}]
    assert res["partylist"] == []

    assert tag.delete_users(tagid, ["lisi"]) == {"errcode": 0, "errmsg": "deleted"}
    assert {"tagid": tagid, "tagname": "UI design"} in tag.list()
    assert tag.delete(tagid) == {"errcode": 0, "errmsg": "deleted"}, "WeCom deletes a tag with members"
    assert all(t["tagid"] != tagid for t in tag.list())


def test_wecom_errors(server):
    tag = server.client(APP_SECRET).tag
    tagid = tag.create("Mine")["tagid"]
    e = raises(tag.create, "Mine")
    assert e.errcode == 40071
    assert_wecom_errmsg(e.errmsg, "invalid tag name", 40071)
    assert raises(tag.create, "x" * 33).errcode == 40072
    assert raises(tag.get_users, 404).errcode == 40068

    e = raises(tag.add_users, tagid, ["nobody"])
    assert e.errcode == 40070
    assert_wecom_errmsg(e.errmsg, "all list invalid ", 40070)
    e = raises(tag.delete_users, tagid, ["nobody"])
    assert e.errcode == 40031
    assert_wecom_errmsg(e.errmsg, "all list invalid", 40031)

    # Another credential may read the tag but not change it.
    sync = server.client(SYNC_SECRET).tag
    assert sync.get_users(tagid)["tagname"] == "Mine"
    e = raises(sync.add_users, tagid, ["zhangsan"])
    assert e.errcode == 81011
    assert_wecom_errmsg(e.errmsg, "no privilege to operate tag", 81011)
    assert raises(sync.update, tagid, "Theirs").errcode == 81011
    assert raises(sync.delete, tagid).errcode == 81011


def test_legacy_tags_belong_to_the_group_and_lock(server):
    g1 = server.client(GROUP_SECRET).tag
    g2 = server.client(GROUP2_SECRET).tag
    own = g1.create("Group 1's")["tagid"]
    assert [t["tagid"] for t in g1.list()] == [SHARED_TAGID, own]
    assert g2.list() == [{"tagid": SHARED_TAGID, "tagname": "Shared"}], "only what the group was granted"

    # Locked: only the owner changes members; errors are bare in the legacy dialect.
    e = raises(g2.add_users, SHARED_TAGID, ["zhangsan"])
    assert (e.errcode, e.errmsg) == (60011, "no privilege to access/modify contact/party/agent")
    server.control("PUT", f"/corps/{CORPID}/tags/{SHARED_TAGID}/lock", json={"locked": False})
    res = g2.add_users(SHARED_TAGID, ["zhangsan", "lisi"])
    assert res == {"errcode": 0, "errmsg": "invalid userlist failed", "invalidlist": "lisi"}, "lisi is outside R&D"
    assert g2.get_users(SHARED_TAGID) == {
        "errcode": 0,
        "errmsg": "ok",
        "userlist": [{"userid": "zhangsan", "name": "Zhang San"}],
        "partylist": [],
    }
    # Unlocked or not, only the owner renames or deletes.
    assert raises(g2.update, SHARED_TAGID, "Mine now").errcode == 60011
    assert raises(g2.delete, SHARED_TAGID).errcode == 60011
    e = raises(g1.delete, SHARED_TAGID)
    assert (e.errcode, e.errmsg) == (60016, "tag contains members")
    assert g1.delete_users(SHARED_TAGID, ["zhangsan"]) == {"errcode": 0, "errmsg": "deleted"}
    assert g1.delete(SHARED_TAGID) == {"errcode": 0, "errmsg": "deleted"}


def test_one_corp_two_dialects(server):
    wecom = server.client(APP_SECRET).tag
    legacy = server.client(GROUP_SECRET).tag
    app_tag = wecom.create("App's")["tagid"]
    # The WeCom app sees every tag, the group only its own and granted ones.
    assert [t["tagid"] for t in wecom.list()] == [SHARED_TAGID, app_tag]
    assert [t["tagid"] for t in legacy.list()] == [SHARED_TAGID]
    assert wecom.get_users(SHARED_TAGID)["tagname"] == "Shared"
    assert "tagname" not in legacy.get_users(SHARED_TAGID)
    assert raises(legacy.get_users, app_tag).errcode == 60011
    assert raises(wecom.add_users, SHARED_TAGID, ["zhangsan"]).errcode == 81011, "a group's tag is no app's"


def test_legacy_tag_get_needs_the_groups_api_switch(server):
    """企业号 接口权限 "获取标签成员": a 管理组 without it may not call tag/get (48002)."""
    g2 = server.client(GROUP2_SECRET).tag
    assert g2.get_users(SHARED_TAGID)["userlist"] == []
    server.control("PUT", f"/corps/{CORPID}/groups/2/get_tag_members", json={"enabled": False})
    e = raises(g2.get_users, SHARED_TAGID)
    assert (e.errcode, e.errmsg) == (48002, "api forbidden")
    assert g2.list() == [{"tagid": SHARED_TAGID, "tagname": "Shared"}], "tag/list needs no switch"
    assert server.client(APP_SECRET).tag.get_users(SHARED_TAGID)["tagname"] == "Shared", "WeCom has no such switch"
    server.control("PUT", f"/corps/{CORPID}/groups/2/get_tag_members", json={"enabled": True})
    assert g2.get_users(SHARED_TAGID)["partylist"] == []


def test_a_thousand_users_in_one_call(server):
    """The per-call maximum of 1000 users, added and removed in one call each, some invalid."""
    members = "".join(
        f'\n[[corp.member]]\nuserid = "bulk{i:04d}"\nname = "Bulk {i}"\ndepartment = [2]\nemail = "bulk{i}@example.com"\n' for i in range(998)
    )
    server.control("POST", "/seed", data=f'[[corp]]\ncorpid = "{CORPID}"\nname = "wechatpy test corp"\n{members}'.encode())
    tag = server.client(SYNC_SECRET).tag
    tagid = tag.create("Bulk")["tagid"]
    userlist = [f"BULK{i:04d}" for i in range(998)] + ["zhangsan", "nobody"]
    assert tag.add_users(tagid, userlist) == {"errcode": 0, "errmsg": "ok", "invalidlist": "nobody"}
    users = tag.get_users(tagid)["userlist"]
    assert len(users) == 999 and users[0] == {"userid": "bulk0000", "name": "Bulk 0"}, "stored userids, in their own case"
    assert tag.delete_users(tagid, userlist) == {"errcode": 0, "errmsg": "deleted", "invalidlist": "nobody"}
    assert tag.get_users(tagid)["userlist"] == []
    e = raises(tag.add_users, tagid, userlist + ["one too many"])
    assert e.errcode == 81014
