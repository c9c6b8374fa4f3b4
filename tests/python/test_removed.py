"""The 企业号 APIs WeCom removed: a legacy token is served (企业客服 from the control API, kf/send
recorded, shakes, cards); a WeCom token gets 48005 "api deprecated" from each."""

from support import APP_SECRET, CORPID, GROUP_SECRET, assert_wecom_errmsg, raises



def test_wecom_gets_api_deprecated(server):
    client = server.client(APP_SECRET)
    e = raises(client.shakearound.get_shake_info, "any-ticket")
    assert e.errcode == 48005
    assert_wecom_errmsg(e.errmsg, "api deprecated", 48005)
    assert raises(client.get, "kf/list").errcode == 48005
    assert raises(client.post, "kf/send", data={}).errcode == 48005
    assert raises(client.post, "card/create", data={}).errcode == 48005


def test_legacy_kf_and_shakes(server):
    client = server.client(GROUP_SECRET)
    server.control("PUT", f"/corps/{CORPID}/kf", json={"internal": {"user": ["zhangsan"]}})
    assert client.get("kf/list", params={"type": "internal"}) == {
        "errcode": 0,
        "errmsg": "ok",
        "internal": {"user": ["zhangsan"], "party": [], "tag": []},
    }
    msg = {"sender": {"type": "kf", "id": "zhangsan"}, "receiver": {"type": "userid", "id": "lisi"}, "msgtype": "text", "text": {"content": "您好"}}
    assert client.post("kf/send", data=msg) == {"errcode": 0, "errmsg": "ok"}
    sent = server.control("GET", f"/corps/{CORPID}/kf/messages")
    assert [(m["sender"]["id"], m["receiver"]["id"], m["payload"]) for m in sent] == [("zhangsan", "lisi", {"content": "您好"})]
    e = raises(client.post, "kf/send", data=dict(msg, sender={"type": "kf", "id": "lisi"}))
    assert e.errcode == 40035 and "hint" not in e.errmsg

    ticket = server.control(
        "POST", f"/corps/{CORPID}/shakes", json={"userid": "zhangsan", "page_id": 7, "uuid": "U", "major": 1, "minor": 2, "distance": 1.5}
    )["ticket"]
    info = client.shakearound.get_shake_info(ticket)
    assert info == {"page_id": 7, "userid": "zhangsan", "beacon_info": {"distance": 1.5, "major": 1, "minor": 2, "uuid": "U"}}


def test_legacy_cards(server):
    client = server.client(GROUP_SECRET)
    card = {"card": {"card_type": "DISCOUNT", "discount": {"base_info": {"title": "9折", "sku": {"quantity": 3}}, "discount": 10}}}
    card_id = client.post("card/create", data=card)["card_id"]
    client.post("card/modifystock", data={"card_id": card_id, "reduce_stock_value": 1})
    got = client.post("card/get", data={"card_id": card_id})["card"]["discount"]
    assert (got["base_info"]["id"], got["base_info"]["sku"]["quantity"], got["discount"]) == (card_id, 2, 10)
    assert client.post("card/batchget", data={"offset": 0, "count": 10})["card_id_list"] == [card_id]
    assert client.post("card/delete", data={"card_id": card_id})["errcode"] == 0
    assert raises(client.post, "card/get", data={"card_id": card_id}).errcode == 40035


def test_legacy_card_codes(server):
    client = server.client(GROUP_SECRET)
    card = {"card": {"card_type": "GIFT", "gift": {"base_info": {"title": "Cake", "sku": {"quantity": 1}}}}}
    card_id = client.post("card/create", data=card)["card_id"]
    got = server.control("POST", f"/corps/{CORPID}/cards/{card_id}/codes", json={"userid": "zhangsan"})
    held = client.post("card/code/get", data={"code": got["code"], "card_id": card_id})
    assert (held["openid"], held["user_card_status"], held["can_consume"]) == (got["openid"], "NORMAL", True)
    assert client.post("card/code/consume", data={"code": got["code"]}) == {
        "errcode": 0, "errmsg": "ok", "card": {"card_id": card_id}, "openid": got["openid"]}
    e = raises(client.post, "card/code/consume", data={"code": got["code"]})
    assert (e.errcode, e.errmsg) == (40099, "invalid code, this code has consumed.")
    assert raises(server.client(APP_SECRET).post, "card/code/get", data={"code": got["code"]}).errcode == 48005
