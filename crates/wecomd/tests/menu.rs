//! menu/create, menu/get, menu/delete over HTTP: one app's menu through both dialects (the
//! 企业号's menu/get carries no errcode), the button rules and their errcodes, and who may touch
//! which app's menu.

mod common;

use common::*;
use serde_json::{json, Value};

async fn create(s: &Server, token: &str, agentid: &str, body: Value) -> Value {
    s.api_post(&format!("menu/create?access_token={token}&agentid={agentid}"), body.to_string()).await
}

async fn get(s: &Server, token: &str, path: &str, agentid: &str) -> Value {
    s.api(&format!("menu/{path}?access_token={token}&agentid={agentid}")).await
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

fn menu() -> Value {
    json!({ "button": [
        { "type": "click", "name": "Today", "key": "V1001_TODAY" },
        { "name": "More", "sub_button": [
            { "type": "view", "name": "Search", "url": "https://www.example.com/" },
            { "type": "scancode_push", "name": "Scan", "key": "SCAN_1" },
            { "type": "scancode_waitmsg", "name": "Scan, wait", "key": "SCAN_2" },
            { "type": "pic_sysphoto", "name": "Photo", "key": "PIC_1" },
            { "type": "view_miniprogram", "name": "Mini", "pagepath": "pages/index", "appid": "wx0123456789abcdef" }
        ] },
        { "name": "Send", "sub_button": [
            { "type": "pic_photo_or_album", "name": "Album", "key": "PIC_2" },
            { "type": "pic_weixin", "name": "WeChat", "key": "PIC_3" },
            { "type": "location_select", "name": "Where", "key": "LOC" }
        ] }
    ] })
}

async fn one_menu_two_dialects(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;

    let v = get(&s, &wecom, "get", "1000002").await;
    assert_eq!(code(&v), 46003, "no menu yet: {v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("menu no exist, hint: ["));
    assert_eq!(get(&s, &legacy, "get", "1000002").await, json!({ "errcode": 46003, "errmsg": "menu no exist" }));

    assert_eq!(create(&s, &wecom, "1000002", menu()).await, json!({ "errcode": 0, "errmsg": "ok" }));
    let w = get(&s, &wecom, "get", "1000002").await;
    assert_eq!(w, json!({ "errcode": 0, "errmsg": "ok", "button": menu()["button"] }));
    let l = get(&s, &legacy, "get", "1000002").await;
    assert_eq!(l, json!({ "menu": { "button": menu()["button"] } }), "the 企业号 answered menu/get without errcode");

    // The 企业号 replaces it; WeCom reads the new one.
    let small = json!({ "button": [{ "type": "click", "name": "Only", "key": "K" }] });
    assert_eq!(create(&s, &legacy, "1000002", small.clone()).await, json!({ "errcode": 0, "errmsg": "ok" }));
    assert_eq!(get(&s, &wecom, "get", "1000002").await["button"], small["button"]);

    assert_eq!(get(&s, &legacy, "delete", "1000002").await, json!({ "errcode": 0, "errmsg": "ok" }));
    assert_eq!(code(&get(&s, &wecom, "get", "1000002").await), 46003);
    assert_eq!(code(&get(&s, &wecom, "delete", "1000002").await), 0, "deleting no menu is not an error");
}

async fn rules(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    let click = |name: &str| json!({ "type": "click", "name": name, "key": "K" });
    let sub = |b: Value| json!({ "button": [{ "name": "M", "sub_button": [b] }] });
    let cases = [
        (json!({}), 40016),
        (json!({ "button": [click("a"), click("b"), click("c"), click("d")] }), 40016),
        (json!({ "button": [{ "name": "M", "sub_button": (0..6).map(|i| click(&i.to_string())).collect::<Vec<_>>() }] }), 40023),
        (sub(json!({ "name": "deep", "sub_button": [click("x")] })), 40022),
        (json!({ "button": [{ "type": "click", "key": "K" }] }), 41102),
        (json!({ "button": [{ "type": "tap", "name": "x", "key": "K" }] }), 40017),
        (sub(json!({ "type": "tap", "name": "x", "key": "K" })), 40024),
        (sub(click(&"b".repeat(41))), 40025),
        (json!({ "button": [{ "type": "click", "name": "x" }] }), 40019),
        (sub(json!({ "type": "click", "name": "x", "key": "k".repeat(129) })), 40026),
        (json!({ "button": [{ "type": "view", "name": "x", "url": "" }] }), 40020),
        (sub(json!({ "type": "view", "name": "x", "url": format!("https://{}", "u".repeat(1017)) })), 40027),
        (json!({ "button": [{ "type": "view", "name": "x", "url": "www.example.com" }] }), 40055),
        (sub(json!({ "type": "view", "name": "x", "url": "javascript:alert(1)" })), 40054),
        (json!({ "button": [{ "type": "view_miniprogram", "name": "x", "appid": "wx1" }] }), 40058),
        (json!({ "button": "click" }), 40058),
    ];
    for (body, expected) in cases {
        let v = create(&s, &wecom, "1000002", body.clone()).await;
        assert_eq!(code(&v), expected, "{body}: {v}");
    }
    // A top name over 16 bytes: WeCom's live answer is a 40058, the 企业号 table's is 40018.
    let long = json!({ "button": [click("七个汉字的名字")] });
    let v = create(&s, &wecom, "1000002", long.clone()).await;
    assert_eq!(code(&v), 40058);
    assert!(v["errmsg"].as_str().unwrap().starts_with("invalid Request Parameter: button.name exceed max length 16, hint: ["), "{v}");
    assert_eq!(create(&s, &legacy, "1000002", long).await, json!({ "errcode": 40018, "errmsg": "invalid button name size" }));
    assert_eq!(code(&create(&s, &wecom, "1000002", json!({ "button": [click("五个汉字啊")] })).await), 0, "15 bytes fit");
    assert_eq!(code(&s.api_post(&format!("menu/create?access_token={wecom}&agentid=1000002"), "{").await), 40058);
    assert_eq!(code(&s.api_post(&format!("menu/create?access_token={legacy}&agentid=1000002"), "{").await), 47001);
    // A refused menu leaves the stored one alone.
    assert_eq!(get(&s, &wecom, "get", "1000002").await["button"][0]["name"], "五个汉字啊");
}

async fn who_may(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let reader = s.token(CORPID, GROUP2_SECRET).await;
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let m = json!({ "button": [{ "type": "click", "name": "x", "key": "K" }] });
    assert_eq!(code(&s.api_post(&format!("menu/create?access_token={wecom}"), m.to_string()).await), 41011);
    assert_eq!(code(&create(&s, &wecom, "abc", m.clone()).await), 40056);
    assert_eq!(code(&create(&s, &wecom, "999", m.clone()).await), 40056);
    assert_eq!(code(&create(&s, &wecom, "1000003", m.clone()).await), 301002);
    assert_eq!(code(&get(&s, &wecom, "get", "1000003").await), 301002);
    assert_eq!(code(&get(&s, &wecom, "delete", "1000003").await), 301002);
    assert_eq!(code(&create(&s, &sync, "1000002", m.clone()).await), 48002);
    assert_eq!(code(&create(&s, &reader, "1000003", m.clone()).await), 60011, "use rights do not manage menus");
    assert_eq!(code(&get(&s, &reader, "get", "1000003").await), 60011);
}

/// 企业号 menus need the app in callback mode (48001 otherwise, nothing changed); WeCom does not.
async fn legacy_menus_need_callback_mode(db: &Db) {
    let s = Server::start(db, &[]).await;
    let wecom = s.token(CORPID, APP_SECRET).await;
    let legacy = s.token(CORPID, GROUP_SECRET).await;
    assert_eq!(code(&create(&s, &legacy, "1000002", menu()).await), 0);
    let (st, _) =
        s.control(reqwest::Method::PATCH, &format!("/corps/{CORPID}/apps/1000002"), Some(json!({ "callback_mode": false }))).await;
    assert_eq!(st, 200);
    let refused = json!({ "errcode": 48001, "errmsg": "api unauthorized" });
    assert_eq!(create(&s, &legacy, "1000002", json!({ "button": [{ "type": "click", "name": "x", "key": "K" }] })).await, refused);
    assert_eq!(get(&s, &legacy, "get", "1000002").await, refused);
    assert_eq!(get(&s, &legacy, "delete", "1000002").await, refused);
    // The menu is untouched, and WeCom still reaches it.
    assert_eq!(get(&s, &wecom, "get", "1000002").await["button"], menu()["button"]);
    assert_eq!(code(&get(&s, &wecom, "delete", "1000002").await), 0);
}

on_both_backends!(one_menu_two_dialects, rules, who_may, legacy_menus_need_callback_mode);
