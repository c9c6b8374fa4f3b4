//! The 企业号 APIs WeCom removed, over HTTP: a WeCom token gets 48005 from each, a legacy token
//! is served with real state (企业客服 from the control API, kf/send recorded, shakes recorded by
//! the control API, cards and their stock).

mod common;

use common::*;
use serde_json::{json, Value};

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

async fn post(s: &Server, path: &str, token: &str, body: Value) -> Value {
    s.api_post(&format!("{path}?access_token={token}"), body.to_string()).await
}

const REMOVED: &[&str] = &[
    "kf/send",
    "kf/list",
    "shakearound/getshakeinfo",
    "card/create",
    "card/get",
    "card/batchget",
    "card/delete",
    "card/modifystock",
    "card/qrcode/create",
    "card/mpnews/gethtml",
    "card/code/get",
    "card/code/consume",
];

async fn wecom_is_refused(db: &Db) {
    let s = Server::start(db, &[]).await;
    for secret in [APP_SECRET, SYNC_SECRET] {
        let token = s.token(CORPID, secret).await;
        for path in REMOVED {
            let v = post(&s, path, &token, json!({})).await;
            assert_eq!(code(&v), 48005, "{path}: {v}");
            let m = v["errmsg"].as_str().unwrap();
            assert!(m.starts_with("api deprecated, hint: [") && m.ends_with("?e=48005"), "{m}");
        }
    }
    // Refused before the body is read, and before the 企业号 would have looked at it.
    let token = s.token(CORPID, APP_SECRET).await;
    assert_eq!(code(&s.api(&format!("kf/list?access_token={token}")).await), 48005);
    assert_eq!(code(&s.api(&format!("card/create?access_token={token}&debug=1")).await), 48005);
    // A legacy token reaches each of them.
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    for path in REMOVED {
        assert_ne!(code(&post(&s, path, &legacy, json!({})).await), 48005, "{path}");
    }
}

async fn kf(db: &Db) {
    let s = Server::start(db, &[]).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let list = |q: &'static str| {
        let (s, t) = (&s, legacy.clone());
        async move { s.api(&format!("kf/list?access_token={t}{q}")).await }
    };
    let empty = json!({ "user": [], "party": [], "tag": [] });
    assert_eq!(list("").await, json!({ "errcode": 0, "errmsg": "ok", "internal": empty, "external": empty }), "none configured");

    let kf = json!({ "internal": { "user": ["zhangsan"], "tag": [1] }, "external": { "party": [3] } });
    let (st, v) = s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/kf"), Some(kf)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        list("&type=internal").await,
        json!({ "errcode": 0, "errmsg": "ok", "internal": { "user": ["zhangsan"], "party": [], "tag": [1] } })
    );
    assert_eq!(list("&type=external").await["external"], json!({ "user": [], "party": [3], "tag": [] }));
    assert_eq!(list("").await.as_object().unwrap().len(), 4);
    assert_eq!(code(&list("&type=all").await), 40035);

    let send = |sender: Value, receiver: Value, msg: Value| {
        let mut b = json!({ "sender": sender, "receiver": receiver });
        b.as_object_mut().unwrap().extend(msg.as_object().unwrap().clone());
        b
    };
    let text = json!({ "msgtype": "text", "text": { "content": "您好" } });
    let kf_z = json!({ "type": "kf", "id": "zhangsan" });
    let lisi = json!({ "type": "userid", "id": "lisi" });
    assert_eq!(post(&s, "kf/send", &legacy, send(kf_z.clone(), lisi.clone(), text.clone())).await, json!({ "errcode": 0, "errmsg": "ok" }));
    let voice = json!({ "msgtype": "voice", "voice": { "media_id": "m-1" } });
    assert_eq!(code(&post(&s, "kf/send", &legacy, send(lisi.clone(), kf_z.clone(), voice)).await), 0, "a member writes to the kf");

    // External kf (Sales, department 3: wangwu) answers WeChat users by an openid the corp made.
    let openid = post(&s, "user/convert_to_openid", &legacy, json!({ "userid": "zhangsan" })).await["openid"].as_str().unwrap().to_string();
    let kf_w = json!({ "type": "kf", "id": "wangwu" });
    let wx = json!({ "type": "openid", "id": openid });
    assert_eq!(code(&post(&s, "kf/send", &legacy, send(kf_w.clone(), wx.clone(), text.clone())).await), 0);

    let cases = [
        (send(kf_w.clone(), lisi.clone(), text.clone()), 40035, "wangwu is an external kf, lisi a member"),
        (send(kf_z.clone(), wx.clone(), text.clone()), 40035, "zhangsan is an internal kf"),
        (send(json!({ "type": "kf", "id": "lisi" }), lisi.clone(), text.clone()), 40035, "lisi is no kf"),
        (send(kf_z.clone(), json!({ "type": "userid", "id": "ghost" }), text.clone()), 46004, "no such member"),
        (send(kf_z.clone(), json!({ "type": "openid", "id": "o-unknown" }), text.clone()), 40073, "no such openid"),
        (send(kf_z.clone(), kf_w.clone(), text.clone()), 40035, "two kfs"),
        (send(kf_z.clone(), lisi.clone(), json!({ "msgtype": "news" })), 40008, "msgtype"),
        (send(kf_z.clone(), lisi.clone(), json!({ "msgtype": "text", "text": {} })), 44004, "no content"),
        (send(kf_z.clone(), lisi.clone(), json!({ "msgtype": "file", "file": {} })), 40007, "no media_id"),
    ];
    for (body, expected, why) in cases {
        let v = post(&s, "kf/send", &legacy, body).await;
        assert_eq!(code(&v), expected, "{why}: {v}");
    }
    assert_eq!(code(&s.api_post(&format!("kf/send?access_token={legacy}"), "").await), 44002);

    let (st, m) = s.get(&format!("/corps/{CORPID}/kf/messages")).await;
    assert_eq!(st, 200);
    let m = m.as_array().unwrap();
    assert_eq!(m.len(), 3, "refused sends are not recorded: {m:?}");
    assert_eq!(m[0]["seq"], 1);
    assert_eq!(m[0]["sender"], kf_z);
    assert_eq!(m[0]["receiver"], lisi);
    assert_eq!((m[0]["msgtype"].clone(), m[0]["payload"].clone()), (json!("text"), json!({ "content": "您好" })));
    assert_eq!(m[1]["sender"], lisi);
    assert_eq!(m[1]["payload"], json!({ "media_id": "m-1" }));
    assert_eq!(m[2]["receiver"], wx);
}

async fn shakearound(db: &Db) {
    let s = Server::start(db, &[]).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let shake = json!({ "userid": "zhangsan", "page_id": 14000, "uuid": "FDA50693-A4E2-4FB1-AFCF-C6EB07647825", "major": 10001, "minor": 19007, "distance": 55.0 });
    let (st, v) = s.post(&format!("/corps/{CORPID}/shakes"), shake).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["expires_in"], 1800);
    let ticket = v["ticket"].as_str().unwrap().to_string();
    let v = post(&s, "shakearound/getshakeinfo", &legacy, json!({ "ticket": ticket })).await;
    assert_eq!(
        v,
        json!({ "errcode": 0, "errmsg": "ok", "data": { "page_id": 14000, "userid": "zhangsan",
            "beacon_info": { "distance": 55.0, "major": 10001, "minor": 19007, "uuid": "FDA50693-A4E2-4FB1-AFCF-C6EB07647825" } } })
    );
    assert_eq!(code(&post(&s, "shakearound/getshakeinfo", &legacy, json!({})).await), 40035);
    assert_eq!(code(&post(&s, "shakearound/getshakeinfo", &legacy, json!({ "ticket": "nope" })).await), 40035);
    let (st, _) =
        s.post(&format!("/corps/{CORPID}/shakes"), json!({ "userid": "ghost", "page_id": 1, "uuid": "u", "major": 1, "minor": 1 })).await;
    assert_eq!(st, 404);

    s.advance(1801).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let v = post(&s, "shakearound/getshakeinfo", &legacy, json!({ "ticket": ticket })).await;
    assert_eq!(v, json!({ "errcode": 40035, "errmsg": "invalid parameter: ticket is unknown or expired" }), "a ticket lives 30 minutes");
}

async fn cards(db: &Db) {
    let s = Server::start(db, &[]).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let card = json!({ "card": { "card_type": "GROUPON", "groupon": {
        "base_info": { "title": "Lunch", "brand_name": "Canteen", "sku": { "quantity": 10 } }, "deal_detail": "One lunch" } } });
    let v = post(&s, "card/create", &legacy, card.clone()).await;
    assert_eq!(code(&v), 0, "{v}");
    let id = v["card_id"].as_str().unwrap().to_string();
    assert!(id.starts_with('p') && id.len() == 28, "{id}");
    let second =
        post(&s, "card/create", &legacy, json!({ "card": { "card_type": "CASH", "cash": { "base_info": { "title": "5 off" } } } })).await;
    let second = second["card_id"].as_str().unwrap().to_string();

    let v = post(&s, "card/get", &legacy, json!({ "card_id": id })).await;
    assert_eq!(v["card"]["groupon"]["base_info"]["id"], id.as_str());
    assert_eq!(v["card"]["groupon"]["base_info"]["sku"]["quantity"], 10);
    assert_eq!(v["card"]["groupon"]["deal_detail"], "One lunch");

    assert_eq!(
        code(&post(&s, "card/modifystock", &legacy, json!({ "card_id": id, "increase_stock_value": 5, "reduce_stock_value": 3 })).await),
        0
    );
    assert_eq!(post(&s, "card/get", &legacy, json!({ "card_id": id })).await["card"]["groupon"]["base_info"]["sku"]["quantity"], 12);
    let v = post(&s, "card/modifystock", &legacy, json!({ "card_id": id, "reduce_stock_value": 13 })).await;
    assert_eq!(v, json!({ "errcode": 40035, "errmsg": "invalid parameter: the stock cannot go below 0" }));
    assert_eq!(post(&s, "card/get", &legacy, json!({ "card_id": id })).await["card"]["groupon"]["base_info"]["sku"]["quantity"], 12);

    let mut ids = [id.clone(), second.clone()];
    ids.sort();
    let page = post(&s, "card/batchget", &legacy, json!({ "offset": 0, "count": 1 })).await;
    assert_eq!(page, json!({ "errcode": 0, "errmsg": "ok", "card_id_list": [ids[0]], "total_num": 2 }), "in card_id order");
    assert_eq!(post(&s, "card/batchget", &legacy, json!({ "offset": 1, "count": 50 })).await["card_id_list"], json!([ids[1]]));
    assert_eq!(code(&post(&s, "card/batchget", &legacy, json!({ "offset": 0, "count": 51 })).await), 40035);

    let qr =
        post(&s, "card/qrcode/create", &legacy, json!({ "action_name": "QR_CARD", "action_info": { "card": { "card_id": id } } })).await;
    assert!(qr["ticket"].as_str().is_some_and(|t| !t.is_empty()), "{qr}");
    let html = post(&s, "card/mpnews/gethtml", &legacy, json!({ "card_id": id })).await;
    assert!(html["content"].as_str().unwrap().contains(&id), "{html}");

    assert_eq!(code(&post(&s, "card/create", &legacy, json!({ "card": { "card_type": "TICKET" } })).await), 40035);
    assert_eq!(code(&post(&s, "card/get", &legacy, json!({})).await), 40035);
    assert_eq!(code(&post(&s, "card/delete", &legacy, json!({ "card_id": id })).await), 0);
    for path in ["card/get", "card/delete", "card/modifystock", "card/mpnews/gethtml"] {
        assert_eq!(code(&post(&s, path, &legacy, json!({ "card_id": id })).await), 40035, "{path} of a deleted card");
    }
    assert_eq!(post(&s, "card/batchget", &legacy, json!({ "count": 50 })).await["total_num"], 1);
}

async fn card_codes(db: &Db) {
    let s = Server::start(db, &[]).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let card = json!({ "card": { "card_type": "GIFT", "gift": { "base_info": { "title": "Cake", "sku": { "quantity": 2 },
        "date_info": { "type": "DATE_TYPE_FIX_TERM", "fixed_begin_term": 0, "fixed_term": 3 } } } } });
    let id = post(&s, "card/create", &legacy, card).await["card_id"].as_str().unwrap().to_string();
    let receive = |userid: &'static str, card: String| {
        let s = &s;
        async move { s.post(&format!("/corps/{CORPID}/cards/{card}/codes"), json!({ "userid": userid })).await }
    };
    let before = s.get("/clock").await.1["now"].as_i64().unwrap();
    let (st, got) = receive("ZhangSan", id.clone()).await;
    assert_eq!(st, 201, "{got}");
    let zcode = got["code"].as_str().unwrap().to_string();
    assert!(zcode.len() == 12 && zcode.bytes().all(|b| b.is_ascii_digit()), "{zcode}");
    // The code carries the member's corp-level openid, the one convert_to_openid answers.
    let openid = post(&s, "user/convert_to_openid", &legacy, json!({ "userid": "zhangsan" })).await["openid"].clone();
    assert_eq!(got["openid"], openid);
    let lcode = receive("lisi", id.clone()).await.1["code"].as_str().unwrap().to_string();
    assert_ne!(zcode, lcode);
    assert_eq!(receive("wangwu", id.clone()).await.0, 409, "out of stock");
    assert_eq!(post(&s, "card/get", &legacy, json!({ "card_id": id })).await["card"]["gift"]["base_info"]["sku"]["quantity"], 0);
    assert_eq!(receive("nobody", id.clone()).await.0, 404);
    assert_eq!(receive("wangwu", "pNoSuchCard".into()).await.0, 404);

    let mut v = post(&s, "card/code/get", &legacy, json!({ "code": zcode, "card_id": id, "check_consume": true })).await;
    let after = s.get("/clock").await.1["now"].as_i64().unwrap();
    let begin = v["card"]["begin_time"].as_i64().unwrap();
    assert!((before..=after).contains(&begin), "valid from receiving: {v}");
    v["card"]["begin_time"] = json!(0);
    assert_eq!(
        v,
        json!({ "errcode": 0, "errmsg": "ok", "openid": openid, "can_consume": true, "user_card_status": "NORMAL",
            "card": { "card_id": id, "begin_time": 0, "end_time": begin + 3 * 86400 } })
    );
    let v = post(&s, "card/code/consume", &legacy, json!({ "code": zcode, "card_id": id })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok", "card": { "card_id": id }, "openid": openid }));
    // Consuming twice: the card API's 40099; card/code/get then says so too.
    let again = json!({ "errcode": 40099, "errmsg": "invalid code, this code has consumed." });
    assert_eq!(post(&s, "card/code/consume", &legacy, json!({ "code": zcode })).await, again);
    assert_eq!(post(&s, "card/code/get", &legacy, json!({ "code": zcode })).await, again, "check_consume defaults to true");
    let v = post(&s, "card/code/get", &legacy, json!({ "code": zcode, "check_consume": false })).await;
    assert_eq!((v["user_card_status"].as_str(), v["can_consume"].as_bool()), (Some("CONSUMED"), Some(false)), "{v}");

    // Unknown codes, codes of another card, no code.
    let serial = json!({ "errcode": 40056, "errmsg": "invalid serial code" });
    assert_eq!(post(&s, "card/code/get", &legacy, json!({ "code": "000000000000" })).await, serial);
    assert_eq!(post(&s, "card/code/consume", &legacy, json!({ "code": lcode, "card_id": "pOther" })).await, serial);
    assert_eq!(code(&post(&s, "card/code/consume", &legacy, json!({})).await), 40035);

    // After its fixed term the card cannot be consumed.
    s.advance(3 * 86400 + 1).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let v = post(&s, "card/code/get", &legacy, json!({ "code": lcode, "check_consume": false })).await;
    assert_eq!(v["user_card_status"], "EXPIRE", "{v}");
    assert_eq!(code(&post(&s, "card/code/consume", &legacy, json!({ "code": lcode })).await), 40035);
    // Deleting the card takes its codes with it.
    assert_eq!(code(&post(&s, "card/delete", &legacy, json!({ "card_id": id })).await), 0);
    assert_eq!(post(&s, "card/code/get", &legacy, json!({ "code": lcode, "check_consume": false })).await, serial);
}

on_both_backends!(wecom_is_refused, kf, shakearound, cards, card_codes);
