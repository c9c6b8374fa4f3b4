//! Group robots over HTTP: keys made per chat through the control API, webhook/send for every
//! message type with the platform's order of checks and errcodes, 20 messages a minute per robot,
//! webhook/upload_media (multipart) and the files it makes usable by that robot for 3 days.

mod common;

use common::*;
use serde_json::{json, Value};

async fn robot(s: &Server, chatid: &str) -> String {
    let (st, v) = s.post(&format!("/corps/{CORPID}/robots"), json!({ "chatid": chatid, "name": "Alarm" })).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["webhook_path"], format!("/cgi-bin/webhook/send?key={}", v["key"].as_str().unwrap()));
    v["key"].as_str().unwrap().to_string()
}

/// The appchat `ops1` of zhangsan and lisi, made by app 1000002, and a robot added to it.
async fn appchat_robot(s: &Server) -> String {
    let app = s.token(CORPID, APP_SECRET).await;
    let body = json!({ "chatid": "ops1", "name": "Ops", "userlist": ["zhangsan", "lisi"] });
    let v = s.api_post(&format!("appchat/create?access_token={app}"), body.to_string()).await;
    assert!(v["errcode"] == 0 || v["errcode"] == 86215, "{v}");
    let (st, v) = s.post(&format!("/corps/{CORPID}/robots"), json!({ "chatid": "ops1", "kind": "appchat", "name": "Alarm" })).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!((v["kind"].as_str(), v["chatid"].as_str()), (Some("appchat"), Some("ops1")));
    v["key"].as_str().unwrap().to_string()
}

async fn send(s: &Server, key: &str, body: Value) -> Value {
    s.api_post(&format!("webhook/send?key={key}"), body.to_string()).await
}

fn code(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or_else(|| panic!("no errcode: {v}"))
}

fn text_is(v: &Value, text: &str) {
    let m = v["errmsg"].as_str().unwrap();
    assert!(m.starts_with(&format!("{text}, hint: [")), "{m}");
}

async fn messages(s: &Server, key: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/corps/{CORPID}/robots/{key}/messages")).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

fn multipart(filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----wecomdtestboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"{filename}\"; filelength={}\r\nContent-Type: application/octet-stream\r\n\r\n",
        data.len()
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(s: &Server, query: &str, filename: &str, data: &[u8]) -> Value {
    let (ct, body) = multipart(filename, data);
    let r =
        s.http().post(s.url(&format!("/cgi-bin/webhook/upload_media?{query}"))).header("content-type", ct).body(body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// An AMR-NB voice of `frames` 12.2 kbit/s frames, 20 ms each.
fn amr(frames: usize) -> Vec<u8> {
    let mut frame = [0u8; 32];
    frame[0] = 0x3c;
    let mut out = b"#!AMR\n".to_vec();
    (0..frames).for_each(|_| out.extend_from_slice(&frame));
    out
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-not-really-a-picture";
const PNG_MD5: &str = "ff2f08ef1f6ef72a20f2abcc3b547680";
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUi1ub3QtcmVhbGx5LWEtcGljdHVyZQ==";

async fn keys_and_messages(db: &Db) {
    let s = Server::start(db, &[]).await;
    let key = robot(&s, "team1").await;
    assert_eq!(key.len(), 36, "a UUID");

    let v = send(&s, &key, json!({ "msgtype": "text", "text": { "content": "广州今日天气：29度", "mentioned_list": ["wangqing", "@all"], "mentioned_mobile_list": ["13800001111"] } })).await;
    assert_eq!(v, json!({ "errcode": 0, "errmsg": "ok" }));
    for bad in ["", "00000000-0000-4000-8000-000000000000"] {
        let v = send(&s, bad, json!({ "msgtype": "text", "text": { "content": "x" } })).await;
        assert_eq!(code(&v), 93000, "{bad:?}");
        text_is(&v, "invalid webhook url");
    }
    let v = s.api_post("webhook/send", json!({ "msgtype": "text", "text": { "content": "x" } }).to_string()).await;
    assert_eq!(code(&v), 93000, "no key at all");
    let v = s.api_post("webhook/send?key=nope", "{not json").await;
    assert_eq!(code(&v), 93000, "the key is judged before the body");

    let cases = [
        (json!({}), 40008),
        (json!({ "msgtype": "mpnews", "mpnews": {} }), 40008),
        (json!({ "msgtype": "text" }), 40058),
        (json!({ "msgtype": "text", "text": { "content": "" } }), 44004),
        (json!({ "msgtype": "text", "text": { "content": "x".repeat(2049) } }), 40058),
        (json!({ "msgtype": "text", "text": { "content": "x", "mentioned_list": "a" } }), 40058),
        (json!({ "msgtype": "news", "news": { "articles": [] } }), 40058),
        (json!({ "msgtype": "news", "news": { "articles": vec![json!({"title":"t","url":"u"}); 9] } }), 40058),
        (json!({ "msgtype": "image", "image": { "base64": "iVBORw0KGgo=", "md5": "00000000000000000000000000000000" } }), 301019),
        (json!({ "msgtype": "image", "image": { "base64": "R0lGODlh", "md5": "1ac2109d47dbc72551f71df89d01ed18" } }), 40004),
        (json!({ "msgtype": "file", "file": {} }), 41006),
        (json!({ "msgtype": "file", "file": { "media_id": "nope" } }), 40007),
        (json!({ "msgtype": "template_card", "template_card": { "card_type": "text_notice" } }), 40058),
    ];
    for (body, errcode) in cases {
        assert_eq!(code(&send(&s, &key, body.clone()).await), errcode, "{body}");
    }
    let v = send(&s, &key, json!({ "msgtype": "markdown", "markdown": { "content": "x".repeat(4097) } })).await;
    text_is(&v, "markdown.content exceed max length 4096. invalid Request Parameter");
    assert_eq!(code(&s.api_post(&format!("webhook/send?key={key}"), "{not json").await), 40058);
    let v = send(&s, &key, json!({ "msgtype": "text", "text": { "content": "x".repeat(2049) } })).await;
    text_is(&v, "text.content exceed max length 2048. invalid Request Parameter");

    let ok = [
        json!({ "msgtype": "markdown", "markdown": { "content": "**bold** <font color=\"warning\">x</font>" } }),
        json!({ "msgtype": "markdown_v2", "markdown_v2": { "content": "# title\n| a | b |" } }),
        json!({ "msgtype": "news", "news": { "articles": [{ "title": "中秋节礼品领取", "url": "www.qq.com", "picurl": "http://p" }] } }),
        json!({ "msgtype": "template_card", "template_card": { "card_type": "news_notice", "main_title": { "title": "T" }, "card_action": { "type": 1, "url": "https://x" } } }),
    ];
    for body in ok {
        assert_eq!(code(&send(&s, &key, body.clone()).await), 0, "{body}");
    }
    let image = json!({ "msgtype": "image", "image": { "base64": PNG_BASE64, "md5": PNG_MD5 } });
    assert_eq!(code(&send(&s, &key, image).await), 0);

    let msgs = messages(&s, &key).await;
    let types: Vec<&str> = msgs.iter().map(|m| m["msgtype"].as_str().unwrap()).collect();
    assert_eq!(types, ["text", "markdown", "markdown_v2", "news", "template_card", "image"]);
    assert_eq!(msgs[0]["payload"]["mentioned_list"], json!(["wangqing", "@all"]));
    assert_eq!(msgs[5]["payload"], json!({ "md5": PNG_MD5, "size": PNG.len() }));
    assert_eq!(msgs[0]["receiver"], json!({ "type": "group", "id": "team1" }));
    let (_, in_chat) = s.get(&format!("/corps/{CORPID}/chats/team1/messages")).await;
    assert_eq!(in_chat.as_array().unwrap().len(), 6, "robot messages land in the chat");

    // Turned off: 93004; removed from the chat: 93000. What it said stays.
    let (st, _) = s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/robots/{key}"), Some(json!({ "enabled": false }))).await;
    assert_eq!(st, 200);
    let v = send(&s, &key, json!({ "msgtype": "text", "text": { "content": "x" } })).await;
    assert_eq!(code(&v), 93004, "{v}");
    s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/robots/{key}"), Some(json!({ "enabled": true }))).await;
    assert_eq!(code(&send(&s, &key, json!({ "msgtype": "text", "text": { "content": "back" } })).await), 0);
    let (st, _) = s.control(reqwest::Method::DELETE, &format!("/corps/{CORPID}/robots/{key}"), None).await;
    assert_eq!(st, 204);
    assert_eq!(code(&send(&s, &key, json!({ "msgtype": "text", "text": { "content": "x" } })).await), 93000);
    assert_eq!(messages(&s, &key).await.len(), 7);
    let (_, list) = s.get(&format!("/corps/{CORPID}/robots")).await;
    assert_eq!(list, json!([]));
    let (st, _) = s.post(&format!("/corps/{CORPID}/robots"), json!({ "name": "no chat" })).await;
    assert_eq!(st, 400);
}

async fn twenty_a_minute(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (a, b) = (robot(&s, "team1").await, robot(&s, "team1").await);
    let msg = json!({ "msgtype": "text", "text": { "content": "tick" } });
    for i in 0..20 {
        assert_eq!(code(&send(&s, &a, msg.clone()).await), 0, "message {i}");
    }
    let c = appchat_robot(&s).await;
    for i in 0..20 {
        assert_eq!(code(&send(&s, &c, msg.clone()).await), 0, "appchat message {i}");
    }
    assert_eq!(code(&send(&s, &c, msg.clone()).await), 45009, "robots in appchats too");
    let v = send(&s, &a, msg.clone()).await;
    assert_eq!(code(&v), 45009, "{v}");
    text_is(&v, "api freq out of limit");
    assert_eq!(code(&send(&s, &b, msg.clone()).await), 0, "per robot");
    assert_eq!(code(&send(&s, &a, json!({})).await), 40008, "a bad message answers its own errcode");
    s.advance(61).await;
    assert_eq!(code(&send(&s, &a, msg.clone()).await), 0, "a minute later");
    assert_eq!(messages(&s, &a).await.len(), 21);
    assert_eq!(code(&send(&s, &c, msg).await), 0, "a minute later");
    assert_eq!(messages(&s, &c).await.len(), 21);
}

async fn uploads(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (key, other) = (robot(&s, "team1").await, robot(&s, "team2").await);
    let v = upload(&s, &format!("key={key}&type=file"), "report.pdf", b"%PDF-1.4 hello").await;
    assert_eq!((code(&v), v["errmsg"].as_str(), v["type"].as_str()), (0, Some("ok"), Some("file")), "{v}");
    let now = s.get("/clock").await.1["now"].as_i64().unwrap();
    let created: i64 = v["created_at"].as_str().expect("a digit string").parse().unwrap();
    assert!((created - now).abs() <= 5);
    let media_id = v["media_id"].as_str().unwrap().to_string();

    let v = upload(&s, "key=nope&type=file", "empty.txt", b"").await;
    assert_eq!(code(&v), 44001, "the file is judged before the key: {v}");
    text_is(&v, "empty media data");
    let r = s.http().post(s.url(&format!("/cgi-bin/webhook/upload_media?key={key}&type=file"))).body("not multipart").send().await.unwrap();
    assert_eq!(code(&r.json::<Value>().await.unwrap()), 44001);
    assert_eq!(code(&upload(&s, "key=nope&type=file", "a.txt", b"hello").await), 93000);
    assert_eq!(code(&upload(&s, &format!("key={key}&type=image"), "a.txt", b"hello").await), 40005);
    assert_eq!(code(&upload(&s, &format!("key={key}"), "a.txt", b"hello").await), 40005);
    assert_eq!(code(&upload(&s, &format!("key={key}&type=file"), "a.txt", b"1234").await), 40006, "5 bytes at least");
    assert_eq!(code(&upload(&s, &format!("key={key}&type=voice"), "a.wav", b"RIFF....WAVE").await), 301017);
    assert_eq!(code(&upload(&s, &format!("key={key}&type=voice"), "long.amr", &amr(3001)).await), 45007, "over 60 s");
    assert_eq!(code(&upload(&s, &format!("key={key}&type=voice"), "odd.amr", b"#!AMR\n\x48\x00").await), 301016, "a reserved frame type");
    let mut big = amr(1);
    big.resize(2 * 1024 * 1024 + 1, 0);
    assert_eq!(code(&upload(&s, &format!("key={key}&type=voice"), "big.amr", &big).await), 45001, "over 2 MB");
    let huge = vec![b'x'; 20 * 1024 * 1024 + 1];
    assert_eq!(code(&upload(&s, &format!("key={key}&type=file"), "huge.bin", &huge).await), 45001, "over 20 MB");
    let minute = upload(&s, &format!("key={key}&type=voice"), "minute.amr", &amr(3000)).await;
    assert_eq!((code(&minute), minute["type"].as_str()), (0, Some("voice")), "60 s exactly: {minute}");
    assert_eq!(code(&upload(&s, &format!("key={key}&type=voice"), "cut.amr", b"#!AMR\n\x3c\x00").await), 301016, "cut inside a frame");
    let voice = upload(&s, &format!("key={key}&type=voice"), "a.amr", &amr(1)).await;
    assert_eq!(voice["type"], "voice", "{voice}");

    let file = |id: &str| json!({ "msgtype": "file", "file": { "media_id": id } });
    assert_eq!(code(&send(&s, &other, file(&media_id)).await), 40007, "another robot's upload");
    assert_eq!(code(&send(&s, &key, json!({ "msgtype": "voice", "voice": { "media_id": media_id } })).await), 40007, "a file is no voice");
    assert_eq!(code(&send(&s, &key, file(&media_id)).await), 0);
    assert_eq!(code(&send(&s, &key, json!({ "msgtype": "voice", "voice": { "media_id": voice["media_id"] } })).await), 0);
    let msgs = messages(&s, &key).await;
    assert_eq!(msgs[0]["payload"], json!({ "media_id": media_id, "filename": "report.pdf", "length": 14 }));
    s.advance(3 * 86_400).await;
    assert_eq!(code(&send(&s, &key, file(&media_id)).await), 40007, "robot media live 3 days");
}

/// A robot in an appchat: what it sends goes to the appchat's message list and each current
/// member's inbox, like the app's own appchat/send, and not to any legacy chat.
async fn appchat_robots(db: &Db) {
    let s = Server::start(db, &[]).await;
    let key = appchat_robot(&s).await;
    let (st, _) = s.post(&format!("/corps/{CORPID}/robots"), json!({ "chatid": "nope", "kind": "appchat" })).await;
    assert_eq!(st, 404, "an appchat robot needs the appchat");
    let (st, _) = s.post(&format!("/corps/{CORPID}/robots"), json!({ "chatid": "ops1", "kind": "room" })).await;
    assert_eq!(st, 400);
    let (_, list) = s.get(&format!("/corps/{CORPID}/robots")).await;
    assert_eq!(list[0]["kind"], "appchat", "{list}");

    let text = json!({ "msgtype": "text", "text": { "content": "disk full", "mentioned_list": ["@all"] } });
    assert_eq!(send(&s, &key, text).await, json!({ "errcode": 0, "errmsg": "ok" }));
    let app = s.token(CORPID, APP_SECRET).await;
    let v = s
        .api_post(
            &format!("appchat/send?access_token={app}"),
            json!({ "chatid": "ops1", "msgtype": "text", "text": { "content": "on it" } }).to_string(),
        )
        .await;
    assert_eq!(code(&v), 0, "{v}");
    let file = upload(&s, &format!("key={key}&type=file"), "df.txt", b"/dev/sda1 100%").await;
    assert_eq!(code(&send(&s, &key, json!({ "msgtype": "file", "file": { "media_id": file["media_id"] } })).await), 0);

    let (st, log) = s.get(&format!("/corps/{CORPID}/appchats/ops1/messages")).await;
    assert_eq!(st, 200, "{log}");
    let senders: Vec<&str> = log.as_array().unwrap().iter().map(|m| m["sender"].as_str().unwrap()).collect();
    let robot = format!("robot:{key}");
    assert_eq!(senders, [robot.as_str(), "app:1000002", robot.as_str()]);
    assert_eq!(
        (log[0]["agentid"].clone(), log[0]["chatid"].clone(), log[0]["msgtype"].clone(), log[0]["recipients"].clone()),
        (json!(0), json!("ops1"), json!("text"), json!(2)),
        "a robot is no app: {log}"
    );
    assert_eq!(log[0]["content"], json!({ "content": "disk full", "mentioned_list": ["@all"], "mentioned_mobile_list": [] }));
    assert_eq!(log[2]["content"], json!({ "media_id": file["media_id"], "filename": "df.txt", "length": 14 }));
    let own = messages(&s, &key).await;
    assert_eq!(own.iter().map(|m| m["msgtype"].as_str().unwrap()).collect::<Vec<_>>(), ["text", "file"], "only the robot's");
    assert_eq!(own[0]["msgid"], log[0]["msgid"]);

    let inbox = |userid: &'static str| {
        let s = &s;
        async move {
            let (st, v) = s.get(&format!("/corps/{CORPID}/members/{userid}/inbox")).await;
            assert_eq!(st, 200, "{v}");
            v.as_array().unwrap().iter().map(|m| m["sender"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(inbox("zhangsan").await, [robot.as_str(), "app:1000002", robot.as_str()]);
    assert_eq!(inbox("LiSi").await.len(), 3);
    assert!(inbox("wangwu").await.is_empty(), "not in the chat");
    let (_, legacy) = s.get(&format!("/corps/{CORPID}/chats/ops1/messages")).await;
    assert_eq!(legacy, json!([]), "nothing in a legacy chat");

    // The audience is the chat as it is when the robot speaks.
    let v = s
        .api_post(
            &format!("appchat/update?access_token={app}"),
            json!({ "chatid": "ops1", "add_user_list": ["wangwu"], "del_user_list": ["lisi"] }).to_string(),
        )
        .await;
    assert_eq!(code(&v), 0, "{v}");
    assert_eq!(code(&send(&s, &key, json!({ "msgtype": "markdown", "markdown": { "content": "**back**" } })).await), 0);
    assert_eq!(inbox("wangwu").await, [robot.as_str()]);
    assert_eq!(inbox("lisi").await.len(), 3);

    // Removed: 93000; what it said stays in the appchat's list.
    let (st, _) = s.control(reqwest::Method::DELETE, &format!("/corps/{CORPID}/robots/{key}"), None).await;
    assert_eq!(st, 204);
    assert_eq!(code(&send(&s, &key, json!({ "msgtype": "text", "text": { "content": "x" } })).await), 93000);
    let (_, log) = s.get(&format!("/corps/{CORPID}/appchats/ops1/messages")).await;
    assert_eq!(log.as_array().unwrap().len(), 4);
}

on_both_backends!(keys_and_messages, twenty_a_minute, uploads, appchat_robots);
