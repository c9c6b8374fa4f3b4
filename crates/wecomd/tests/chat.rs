//! The legacy chat service over HTTP: the dedicated chat secret and what its tokens may call,
//! chat/create, get, update, quit, clearnotify, send, setmute with their rules and errcodes, and
//! members' messages recorded as the packages the platform pushed.

mod common;

use common::*;
use serde_json::{json, Value};

const CHAT_SECRET: &str = "chat-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// Turns the chat service on through the control API and returns a chat token.
async fn chat_token(s: &Server) -> String {
    let (st, v) = s.post(&format!("/corps/{CORPID}/chat"), json!({})).await;
    assert_eq!(st, 201, "{v}");
    s.token(CORPID, v["secret"].as_str().unwrap()).await
}

async fn post(s: &Server, path: &str, token: &str, body: Value) -> Value {
    s.api_post(&format!("chat/{path}?access_token={token}"), body.to_string()).await
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

fn team() -> Value {
    json!({ "chatid": "team1", "name": "Team", "owner": "zhangsan", "userlist": ["zhangsan", "lisi", "wangwu"] })
}

async fn create_team(s: &Server, token: &str) {
    let v = post(s, "create", token, team()).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
}

async fn get(s: &Server, token: &str, chatid: &str) -> Value {
    s.api(&format!("chat/get?access_token={token}&chatid={chatid}")).await
}

async fn chat_secret_scope(db: &Db) {
    let s = Server::start(db, &[]).await;
    let group = s.token(CORPID, GROUP_SECRET).await;
    let app = s.token(CORPID, APP_SECRET).await;
    let (st, corp) = s.get(&format!("/corps/{CORPID}")).await;
    assert_eq!((st, &corp["chat"]), (200, &Value::Null), "no chat service until it is turned on");

    let chat = chat_token(&s).await;
    assert_eq!(chat.len(), 64, "the chat secret mints 企业号 tokens");
    let (_, again) = s.post(&format!("/corps/{CORPID}/chat"), json!({})).await;
    let (_, corp) = s.get(&format!("/corps/{CORPID}")).await;
    assert_eq!(corp["chat"]["secret"], again["secret"], "turning it on twice keeps the secret");

    // Chat tokens call chat/* only; other tokens never call chat/*.
    let v = s.api(&format!("user/get?access_token={chat}&userid=zhangsan")).await;
    assert_eq!((code(&v), v["errmsg"].as_str()), (48002, Some("api forbidden")), "legacy errmsg is bare: {v}");
    assert_eq!(code(&s.api(&format!("department/list?access_token={chat}")).await), 48002);
    let v = post(&s, "create", &group, team()).await;
    assert_eq!((code(&v), v["errmsg"].as_str()), (48002, Some("api forbidden")), "a 管理组 token: {v}");
    let v = post(&s, "create", &app, team()).await;
    assert_eq!(code(&v), 48005, "WeCom has no chat service: {v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("api deprecated, hint: ["), "{v}");
    assert_eq!(code(&get(&s, &group, "team1").await), 48002);
    create_team(&s, &chat).await;

    // Regenerating the chat secret revokes its tokens.
    let (st, v) = s.post(&format!("/corps/{CORPID}/secrets/chat/regenerate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(code(&get(&s, &chat, "team1").await), 40014);
    let fresh = s.token(CORPID, v["secret"].as_str().unwrap()).await;
    assert_eq!(get(&s, &fresh, "team1").await["chat_info"]["owner"], "zhangsan");

    // A seed names a chat secret like any other.
    let seed = SEED.replacen("name = \"Test Corp\"\n", &format!("name = \"Test Corp\"\nchat_secret = \"{CHAT_SECRET}\"\n"), 1);
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let seeded = s.token(CORPID, CHAT_SECRET).await;
    assert_eq!(get(&s, &seeded, "team1").await["errcode"], 0);
    assert_eq!(code(&get(&s, &fresh, "team1").await), 40014, "the seed replaced the secret");
    let (st, _) = s.post("/corps/ww00000000000000ff/chat", json!({})).await;
    assert_eq!(st, 404);
}

async fn create_and_get(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = chat_token(&s).await;
    let with = |k: &str, v: Value| {
        let mut b = team();
        b[k] = v;
        b
    };
    let cases = [
        (with("chatid", Value::Null), 86201, "chatid missing"),
        (with("chatid", json!("a".repeat(33))), 86205, "chatid too long"),
        (with("chatid", json!("team-1")), 86001, "invalid chatid"),
        (with("chatid", json!("9223372036854775808")), 86206, "chatid too big"),
        (with("name", Value::Null), 86202, "chat name missing"),
        (with("name", json!("名".repeat(51))), 86004, "invalid chat name"),
        (with("owner", Value::Null), 86203, "chat owner missing"),
        (with("userlist", json!([])), 86204, "chat member missing"),
        (with("userlist", json!(["zhangsan", "lisi"])), 86006, "invalid chat member size"),
        (with("owner", json!("nobody")), 86207, "chat owner not in userlist"),
        (with("userlist", json!(["zhangsan", "lisi", "nobody"])), 86007, "invalid chat member"),
    ];
    for (body, errcode, text) in cases {
        let v = post(&s, "create", &t, body.clone()).await;
        assert_eq!((code(&v), v["errmsg"].as_str()), (errcode, Some(text)), "{body}");
    }
    let many: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
    assert_eq!(code(&post(&s, "create", &t, with("userlist", json!(many))).await), 86006, "fewer than 1000");
    assert_eq!(code(&post(&s, "create", &t, json!("not an object")).await), 47001, "企业号's bad body code");

    let v = post(&s, "create", &t, with("userlist", json!(["ZhangSan", "LISI", "wangwu", "lisi"]))).await;
    assert_eq!(code(&v), 0, "userids ignore case, repeats count once: {v}");
    let v = get(&s, &t, "team1").await;
    assert_eq!(
        v,
        json!({"errcode":0,"errmsg":"ok","chat_info":{"chatid":"team1","name":"Team","owner":"zhangsan","userlist":["zhangsan","lisi","wangwu"]}}),
        "stored spellings"
    );
    assert_eq!(code(&post(&s, "create", &t, team()).await), 86215, "chatid taken");
    assert_eq!(code(&get(&s, &t, "team2").await), 86003);
    assert_eq!(code(&s.api(&format!("chat/get?access_token={t}")).await), 86201);
    let numeric = with("chatid", json!("9223372036854775807"));
    assert_eq!(code(&post(&s, "create", &t, numeric).await), 0, "2^63 - 1 is the largest a caller may pick");
    let (_, list) = s.get(&format!("/corps/{CORPID}/chats")).await;
    assert_eq!(list["chats"].as_array().unwrap().len(), 2, "{list}");
}

async fn update_and_quit(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = chat_token(&s).await;
    create_team(&s, &t).await;
    let upd = |b: Value| {
        let mut body = json!({ "chatid": "team1" });
        body.as_object_mut().unwrap().extend(b.as_object().unwrap().clone());
        body
    };
    let cases = [
        (upd(json!({})), 86220),
        (upd(json!({ "op_user": "nobody", "name": "x" })), 86217),
        (upd(json!({ "op_user": "lisi", "name": "" })), 86004),
        (upd(json!({ "op_user": "lisi", "add_user_list": ["ghost"] })), 86216),
        (upd(json!({ "op_user": "zhangsan", "del_user_list": ["ghost"] })), 86216),
        (upd(json!({ "op_user": "lisi", "del_user_list": ["wangwu"] })), 86101),
        (upd(json!({ "op_user": "lisi", "owner": "lisi" })), 86101),
        (upd(json!({ "op_user": "zhangsan", "owner": "ghost" })), 86005),
        (upd(json!({ "op_user": "zhangsan", "del_user_list": ["wangwu"] })), 86006),
        (json!({ "chatid": "nochat", "op_user": "zhangsan", "name": "x" }), 86003),
    ];
    for (body, errcode) in cases {
        assert_eq!(code(&post(&s, "update", &t, body.clone()).await), errcode, "{body}");
    }
    assert_eq!(get(&s, &t, "team1").await["chat_info"]["userlist"], json!(["zhangsan", "lisi", "wangwu"]), "failures change nothing");

    add_zhaoliu(&s).await;
    let v = post(&s, "update", &t, upd(json!({ "op_user": "lisi", "name": "Renamed", "add_user_list": ["ZHAOLIU"] }))).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }), "any member renames and adds");
    let v = post(&s, "update", &t, upd(json!({ "op_user": "zhangsan", "owner": "lisi", "del_user_list": ["wangwu"] }))).await;
    assert_eq!(code(&v), 0, "{v}");
    let info = get(&s, &t, "team1").await["chat_info"].clone();
    assert_eq!(info, json!({"chatid":"team1","name":"Renamed","owner":"lisi","userlist":["zhangsan","lisi","zhaoliu"]}));

    assert_eq!(code(&post(&s, "quit", &t, json!({ "chatid": "team1", "op_user": "wangwu" })).await), 86217, "no longer a member");
    assert_eq!(code(&post(&s, "quit", &t, json!({ "chatid": "team1" })).await), 86220);
    assert_eq!(code(&post(&s, "quit", &t, json!({ "chatid": "team1", "op_user": "lisi" })).await), 0);
    let info = get(&s, &t, "team1").await["chat_info"].clone();
    assert_eq!((info["owner"].as_str(), info["userlist"].clone()), (Some("zhangsan"), json!(["zhangsan", "zhaoliu"])), "the owner left");
}

async fn send_clearnotify_setmute(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = chat_token(&s).await;
    create_team(&s, &t).await;
    let group = json!({ "type": "group", "id": "team1" });
    let text = |receiver: &Value, sender: &str, content: &str| json!({ "receiver": receiver, "sender": sender, "msgtype": "text", "text": { "content": content } });
    assert_eq!(post(&s, "send", &t, text(&group, "lisi", "hello")).await, json!({ "errcode": 0, "errmsg": "ok" }));
    let image = |media_id: &str| json!({ "receiver": group, "sender": "zhangsan", "msgtype": "image", "image": { "media_id": media_id } });
    assert_eq!(code(&post(&s, "send", &t, image("m1")).await), 40007, "not uploaded");
    let app = s.token(CORPID, APP_SECRET).await;
    let uploaded = s.media_id(&app, "image", "a.jpg", JPEG).await;
    let v = post(&s, "send", &t, image(&uploaded)).await;
    assert_eq!(code(&v), 0, "media are the corp's, whichever secret uploaded them: {v}");
    let single = json!({ "type": "single", "id": "WangWu" });
    assert_eq!(code(&post(&s, "send", &t, text(&single, "zhangsan", "psst")).await), 0);

    let cases = [
        (text(&json!({ "type": "group", "id": "nochat" }), "lisi", "x"), 86003),
        (text(&json!({ "type": "room", "id": "team1" }), "lisi", "x"), 86220),
        (text(&group, "", "x"), 86220),
        (text(&group, "ghost", "x"), 40003),
        (text(&single, "ghost", "x"), 40003),
        (text(&json!({ "type": "single", "id": "ghost" }), "lisi", "x"), 40003),
        (text(&group, "lisi", ""), 44004),
        (text(&group, "lisi", &"x".repeat(2049)), 45002),
        (json!({ "receiver": group, "sender": "lisi", "msgtype": "video", "video": { "media_id": "m" } }), 86220),
        (json!({ "receiver": group, "sender": "lisi", "msgtype": "file", "file": {} }), 41006),
    ];
    for (body, errcode) in cases {
        assert_eq!(code(&post(&s, "send", &t, body.clone()).await), errcode, "{body}");
    }
    post(&s, "quit", &t, json!({ "chatid": "team1", "op_user": "wangwu" })).await;
    assert_eq!(code(&post(&s, "send", &t, text(&group, "wangwu", "x")).await), 86217, "left the chat");

    let (st, msgs) = s.get(&format!("/corps/{CORPID}/chats/team1/messages")).await;
    assert_eq!(st, 200);
    let msgs = msgs.as_array().unwrap();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(
        (msgs[0]["sender"].as_str(), msgs[0]["origin"].as_str(), msgs[0]["payload"]["content"].as_str()),
        (Some("lisi"), Some("api"), Some("hello"))
    );
    assert_eq!(msgs[1]["msgtype"], "image");
    let (_, single_msgs) = s.get(&format!("/corps/{CORPID}/single_chats/wangwu/messages")).await;
    assert_eq!(single_msgs[0]["payload"]["content"], "psst", "{single_msgs}");

    let clear = |op: &str, chat: Value| json!({ "op_user": op, "chat": chat });
    assert_eq!(code(&post(&s, "clearnotify", &t, clear("lisi", group.clone())).await), 0);
    assert_eq!(code(&post(&s, "clearnotify", &t, clear("lisi", json!({ "type": "single", "id": "zhangsan" }))).await), 0);
    assert_eq!(code(&post(&s, "clearnotify", &t, clear("wangwu", group.clone())).await), 86217);
    assert_eq!(code(&post(&s, "clearnotify", &t, clear("lisi", json!({ "type": "x", "id": "team1" }))).await), 86220);
    assert_eq!(code(&post(&s, "clearnotify", &t, json!({ "chat": group })).await), 86220);

    let v = post(
        &s,
        "setmute",
        &t,
        json!({ "user_mute_list": [{"userid":"lisi","status":1},{"userid":"ghost","status":1},{"userid":"ZhangSan","status":1}] }),
    )
    .await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok", "invaliduser": ["ghost"] }));
    let v = post(&s, "setmute", &t, json!({ "user_mute_list": [{"userid":"zhangsan","status":0}] })).await;
    assert_eq!(v["invaliduser"], json!([]), "always present: {v}");
    assert_eq!(code(&post(&s, "setmute", &t, json!({ "user_mute_list": [] })).await), 86220);
    assert_eq!(code(&post(&s, "setmute", &t, json!({ "user_mute_list": [{"userid":"lisi","status":3}] })).await), 86220);
    let (_, list) = s.get(&format!("/corps/{CORPID}/chats")).await;
    assert_eq!(list["muted"], json!(["lisi"]));
}

async fn member_messages_are_packages(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = chat_token(&s).await;
    create_team(&s, &t).await;
    let path = format!("/corps/{CORPID}/chats/team1/messages");
    let (st, said) = s.post(&path, json!({ "sender": "LiSi", "content": "你好" })).await;
    assert_eq!(st, 201, "{said}");
    let packages = chat_packages(&s).await;
    assert_eq!(packages.len(), 2, "create_chat, then the text");
    let package = packages[1].clone();
    assert_eq!(package["origin"], "control");
    let p = &package["package"];
    assert_eq!((p["agent_type"].as_str(), p["item_count"].as_i64()), (Some("chat"), Some(1)));
    assert_eq!(p["package_id"], said["package_id"]);
    let item = &p["items"][0];
    let now = s.get("/clock").await.1["now"].as_i64().unwrap();
    assert_eq!(
        item["elements"],
        json!([
            ["FromUserName", "lisi"],
            ["CreateTime", package["created_at"].as_i64().unwrap().to_string()],
            ["MsgType", "text"],
            ["Content", "你好"],
            ["MsgId", said["msgid"]]
        ])
    );
    assert!((now - package["created_at"].as_i64().unwrap()).abs() <= 5);
    assert_eq!(item["receiver"], json!({ "type": "group", "id": "team1" }));
    let (_, msgs) = s.get(&path).await;
    assert_eq!((msgs[0]["origin"].as_str(), msgs[0]["msgid"].clone()), (Some("member"), said["msgid"].clone()));

    let (st, _) = s.post(&format!("/corps/{CORPID}/chats/nochat/messages"), json!({ "sender": "lisi", "content": "x" })).await;
    assert_eq!(st, 404);
    let (st, _) = s.post(&path, json!({ "sender": "ghost", "content": "x" })).await;
    assert_eq!(st, 400);
    let (st, _) = s.post(&path, json!({ "sender": "lisi", "content": "" })).await;
    assert_eq!(st, 400);
    assert_eq!(chat_packages(&s).await.len(), 2, "refusals record nothing");

    // After a reset the corp's events are numbered from 1 again, so the old ones are gone.
    let (st, _) = s.post("/reset", json!({})).await;
    assert_eq!(st, 200);
    let r = s.http().post(s.url("/control/seed")).body(SEED).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let t = chat_token(&s).await;
    create_team(&s, &t).await;
    let (st, v) = s.post(&path, json!({ "sender": "lisi", "content": "again" })).await;
    assert_eq!(st, 201, "{v}");
    let packages = chat_packages(&s).await;
    assert_eq!((packages.len(), packages[1]["package"]["package_id"].clone()), (2, v["package_id"].clone()));
}

/// The corp's chat packages (events `chat`), oldest first.
async fn chat_packages(s: &Server) -> Vec<Value> {
    let (st, events) = s.get(&format!("/corps/{CORPID}/events")).await;
    assert_eq!(st, 200, "{events}");
    events.as_array().unwrap().iter().filter(|e| e["event"] == "chat").cloned().collect()
}

/// A package of one item recorded for a chat/* call (origin: the chat credential); that item.
fn only_item(package: &Value) -> Value {
    assert_eq!(package["origin"], "chat", "{package}");
    let p = &package["package"];
    assert_eq!((p["agent_type"].as_str(), p["item_count"].as_i64()), (Some("chat"), Some(1)), "{p}");
    assert!(p["package_id"].as_str().is_some_and(|id| id.len() >= 18), "{p}");
    p["items"][0].clone()
}

fn head(item: &Value, from: &str, event: &str) -> Vec<Value> {
    let at = item["elements"][1][1].as_str().unwrap().to_string();
    assert!(at.parse::<i64>().is_ok(), "CreateTime is a number: {at}");
    vec![json!(["FromUserName", from]), json!(["CreateTime", at]), json!(["MsgType", "event"]), json!(["Event", event])]
}

async fn chat_changes_are_packages(db: &Db) {
    let s = Server::start(db, &[]).await;
    let t = chat_token(&s).await;
    let v = post(
        &s,
        "create",
        &t,
        json!({ "chatid": "team1", "name": "Team", "owner": "ZhangSan", "userlist": ["zhangsan", "LISI", "wangwu"] }),
    )
    .await;
    assert_eq!(code(&v), 0, "{v}");
    let packages = chat_packages(&s).await;
    assert_eq!(packages.len(), 1);
    let item = only_item(&packages[0]);
    assert_eq!(item["elements"], json!(head(&item, "zhangsan", "create_chat")), "the owner creates it");
    assert_eq!(
        item["chat_info"],
        json!([["ChatId", "team1"], ["Name", "Team"], ["Owner", "zhangsan"], ["UserList", "zhangsan|lisi|wangwu"]]),
        "stored spellings, members |-joined"
    );
    assert_eq!(item["receiver"], Value::Null);

    add_zhaoliu(&s).await;
    let body = json!({ "chatid": "team1", "op_user": "ZHANGSAN", "name": "Renamed", "owner": "lisi", "add_user_list": ["ZhaoLiu"], "del_user_list": ["wangwu"] });
    assert_eq!(code(&post(&s, "update", &t, body).await), 0);
    let item = only_item(&chat_packages(&s).await[1]);
    let mut expected = head(&item, "zhangsan", "update_chat");
    expected.extend([
        json!(["Name", "Renamed"]),
        json!(["Owner", "lisi"]),
        json!(["AddUserList", "zhaoliu"]),
        json!(["DelUserList", "wangwu"]),
        json!(["ChatId", "team1"]),
    ]);
    assert_eq!(item["elements"], json!(expected));
    assert_eq!(item.get("chat_info"), None, "only create_chat carries ChatInfo");

    assert_eq!(code(&post(&s, "quit", &t, json!({ "chatid": "team1", "op_user": "LiSi" })).await), 0);
    let item = only_item(&chat_packages(&s).await[2]);
    let mut expected = head(&item, "lisi", "quit_chat");
    expected.push(json!(["ChatId", "team1"]));
    assert_eq!(item["elements"], json!(expected));

    // Refused calls record nothing.
    let refused = [
        ("create", json!({ "chatid": "team1", "name": "Again", "owner": "zhangsan", "userlist": ["zhangsan", "lisi", "wangwu"] })),
        ("update", json!({ "chatid": "team1", "op_user": "nobody", "name": "x" })),
        ("update", json!({ "chatid": "nochat", "op_user": "zhangsan", "name": "x" })),
        ("quit", json!({ "chatid": "team1", "op_user": "lisi" })),
    ];
    for (path, body) in refused {
        assert_ne!(code(&post(&s, path, &t, body.clone()).await), 0, "{path} {body}");
    }
    assert_eq!(chat_packages(&s).await.len(), 3, "refusals record nothing");
}

on_both_backends!(
    chat_secret_scope,
    create_and_get,
    update_and_quit,
    send_clearnotify_setmute,
    member_messages_are_packages,
    chat_changes_are_packages
);

/// A fourth member (in the root department) to move in and out of chats.
async fn add_zhaoliu(s: &Server) {
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let v = s
        .api_post(
            &format!("user/create?access_token={sync}"),
            json!({"userid":"zhaoliu","name":"Zhao","department":[1],"mobile":"13800000009"}).to_string(),
        )
        .await;
    assert_eq!(code(&v), 0, "{v}");
}
