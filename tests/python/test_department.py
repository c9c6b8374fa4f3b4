"""Departments through wechatpy's department API (create, update, delete, get = department/list),
in both dialects on one corp: the same sibling sequence, each dialect through its own order numbers."""

import pytest
from wechatpy.exceptions import WeChatClientException

from support import APP_SECRET, CORPID, GROUP_SECRET, SYNC_SECRET, assert_wecom_errmsg


def children(client, parent):
    """(ids, orders) of parent's children, in the order the client's list shows them."""
    kids = [d for d in client.department.get() if d["parentid"] == parent]
    return [d["id"] for d in kids], [d["order"] for d in kids]


def test_wecom_create_update_delete(server):
    client = server.client(SYNC_SECRET)
    res = client.department.create("Backend", parent_id=2)
    assert res["errcode"] == 0 and res["errmsg"] == "created"
    new = res["id"]
    assert new == 3, "the next free id"
    assert client.department.create("Labs", parent_id=1, order=7, id=10)["id"] == 10
    (dept,) = [d for d in client.department.get(2) if d["id"] == new]
    assert dept == {"id": new, "name": "Backend", "name_en": "", "department_leader": [], "parentid": 2, "order": 0}
    assert [d["id"] for d in client.department.get(2)] == [2, new], "a department and its descendants"

    assert client.department.update(new, name="Platform", parent_id=1, order=9)["errmsg"] == "updated"
    (dept,) = [d for d in client.department.get() if d["id"] == new]
    assert (dept["name"], dept["parentid"], dept["order"]) == ("Platform", 1, 9)

    assert client.department.delete(new)["errmsg"] == "deleted"
    assert new not in [d["id"] for d in client.department.get()]


@pytest.mark.parametrize(
    "call, errcode, text",
    [
        (lambda d: d.create("R&D", parent_id=1), 60008, "department existed"),
        (lambda d: d.create("a|b", parent_id=1), 60009, "invalid department name"),
        (lambda d: d.create("x" * 33, parent_id=1), 60001, "invalid department name size"),
        (lambda d: d.create("X", parent_id=99), 60004, "parent department not found"),
        (lambda d: d.update(2, parent_id=2), 60010, "department cycle"),
        (lambda d: d.delete(1), 60007, "root department can not be deleted"),
        (lambda d: d.delete(2), 60005, "department contains members"),
        (lambda d: d.delete(99), 60003, "department not found"),
        (lambda d: d.get(99), 60003, "department not found"),
    ],
)
def test_wecom_errors(server, call, errcode, text):
    with pytest.raises(WeChatClientException) as e:
        call(server.client(SYNC_SECRET).department)
    assert e.value.errcode == errcode
    assert_wecom_errmsg(e.value.errmsg, text, errcode)


def test_apps_read_but_do_not_write(server):
    client = server.client(APP_SECRET)
    assert [d["id"] for d in client.department.get()] == [1, 2]
    with pytest.raises(WeChatClientException) as e:
        client.department.create("X", parent_id=1)
    assert e.value.errcode == 48002


def test_legacy_errors_are_bare(server):
    legacy = server.client(GROUP_SECRET).department
    with pytest.raises(WeChatClientException) as e:
        legacy.create("R&D", parent_id=1)
    assert (e.value.errcode, e.value.errmsg) == (60008, "department existed")
    legacy.create("L2", parent_id=2)
    with pytest.raises(WeChatClientException) as e:
        legacy.delete(2)
    assert (e.value.errcode, e.value.errmsg) == (60006, "department contains sub-departments")


def test_one_sequence_two_order_numbers(server):
    wecom = server.client(SYNC_SECRET)
    legacy = server.client(GROUP_SECRET)
    # WeCom: bigger order first. Sales (200) before R&D (50); 100 lands between them.
    wecom.department.update(2, order=50)
    sales = wecom.department.create("Sales", parent_id=1, order=200)["id"]
    mid = wecom.department.create("Mid", parent_id=1, order=100)["id"]
    assert children(wecom, 1) == ([sales, mid, 2], [200, 100, 50])
    # Legacy: the same sequence, its numbers ascending.
    ids, orders = children(legacy, 1)
    assert ids == [sales, mid, 2]
    assert orders == sorted(orders) and len(set(orders)) == 3
    # Legacy order 1 lands first and reads back as 1; WeCom's numbers are untouched.
    first = legacy.department.create("First", parent_id=1, order=1)["id"]
    ids, orders = children(legacy, 1)
    assert ids == [first, sales, mid, 2] and orders[0] == 1
    ids, orders = children(wecom, 1)
    assert ids == [first, sales, mid, 2] and orders[1:] == [200, 100, 50] and orders[0] > 200
    # The legacy list has 企业号's fields only.
    assert set(legacy.department.get(first)[0]) == {"id", "name", "parentid", "order"}


def test_contact_sync_reads_details_only_from_earlier_ips(server):
    """48009 (2022-08-15): the contacts-sync secret reads user/list, user/simplelist and
    department/list only from the IPs it read from before; wecomd is told which through the control
    API, and by default the corp predates the rule."""
    sync = server.client(SYNC_SECRET)
    assert [d["id"] for d in sync.department.get()] == [1, 2]
    server.control("PUT", f"/corps/{CORPID}/contact_sync/read_ips", json={"read_ips": ["10.0.0.0/8"]})
    for call in (sync.department.get, lambda: sync.user.list(1), lambda: sync.department.get_users(1)):
        with pytest.raises(WeChatClientException) as e:
            call()
        assert e.value.errcode == 48009
        assert_wecom_errmsg(e.value.errmsg, "contact sync may not read contact details from a new ip", 48009)
    # What the platform points to instead: ids, then one record at a time.
    ids = server.cgi_json("department/simplelist", access_token=server.token(SYNC_SECRET))
    assert [d["id"] for d in ids["department_id"]] == [1, 2]
    assert sync.user.get("zhangsan")["name"] == "Zhang San"
    assert [d["id"] for d in server.client(APP_SECRET).department.get()] == [1, 2], "apps are not concerned"

    server.control("PUT", f"/corps/{CORPID}/contact_sync/read_ips", json={"read_ips": ["127.0.0.1"]})
    assert sorted(u["userid"] for u in sync.user.list(1, fetch_child=True)) == ["lisi", "zhangsan"]


def test_a_deleted_department_leaves_the_apps_range(server):
    """An app seeing only department 3: deleted, then made again with the same id, it is no longer
    the app's."""
    sync = server.client(SYNC_SECRET)
    sync.department.create("Temp", parent_id=1, id=3)
    server.control("POST", "/corps/" + CORPID + "/apps", json={"agentid": 1000009, "name": "Temp app", "secret": "app1000009-secret-for-tests", "allow_parties": [3]})
    app = server.client("app1000009-secret-for-tests")
    assert [d["id"] for d in app.department.get()] == [3]
    sync.department.delete(3)
    sync.department.create("Temp again", parent_id=1, id=3)
    assert app.department.get() == []
    app_row = [a for a in server.control("GET", f"/corps/{CORPID}")["apps"] if a["agentid"] == 1000009][0]
    assert app_row["allow_parties"] == []
