//! A callback receiver written with npm @wecom/crypto 1.0.1 (tests/node/receiver.mjs, run with
//! `node`), saved through the control API: it verifies the URL, checks, decrypts and reads every
//! push (member events, the new menu events, a message, change_contact, a card click), and its
//! passive replies, sealed with @wecom/crypto, land in the member's inbox.
//!
//! When node or @wecom/crypto is missing the test fails under CI=true and is skipped, loudly,
//! elsewhere (as crates/wecom-crypto/tests/interop.rs).

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

const TOKEN: &str = "NodeToken42";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Skips (or, under CI=true, fails) when node or @wecom/crypto is not installed.
fn available() -> bool {
    let node = std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let package = root().join("node_modules/@wecom/crypto/package.json").exists();
    if !(node && package) {
        let hint = "install node and run `npm ci` in the repository (scripts/test.sh does)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "node with @wecom/crypto is missing and CI=true: {hint}");
        eprintln!("\n!!! SKIPPED: node with @wecom/crypto is missing, so this test checked NOTHING. {hint} !!!\n");
    }
    node && package
}

/// The node receiver: its URL and what it printed (one JSON object a line).
struct NodeReceiver {
    url: String,
    lines: Arc<Mutex<Vec<Value>>>,
    _child: tokio::process::Child,
}

impl NodeReceiver {
    async fn start() -> NodeReceiver {
        let mut child = tokio::process::Command::new("node")
            .arg(root().join("tests/node/receiver.mjs"))
            .args([TOKEN, AES_KEY, CORPID])
            .current_dir(root())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), out.next_line()).await.expect("node started").unwrap().expect("a line");
        let port = serde_json::from_str::<Value>(&first).unwrap()["listening"].as_u64().expect("listening");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = out.next_line().await {
                sink.lock().unwrap().push(serde_json::from_str(&l).unwrap_or_else(|_| panic!("not JSON: {l}")));
            }
        });
        NodeReceiver { url: format!("http://127.0.0.1:{port}/wecom"), lines, _child: child }
    }

    /// The pushes it read, waiting up to 15 s for `n`.
    async fn pushes(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got: Vec<Value> = self.lines.lock().unwrap().iter().filter(|l| l.get("message").is_some()).cloned().collect();
            if got.len() >= n || start.elapsed() > Duration::from_secs(15) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The member's inbox, waiting up to 10 s until `ready` holds.
async fn inbox_until(s: &Server, userid: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let (_, inbox) = s.get(&format!("/corps/{CORPID}/members/{userid}/inbox")).await;
        let inbox = inbox.as_array().cloned().unwrap_or_default();
        if ready(&inbox) || start.elapsed() > Duration::from_secs(10) {
            return inbox;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wecom_crypto_receiver(db: &Db) {
    if !available() {
        return;
    }
    let node = NodeReceiver::start().await;
    let s = Server::start(db, &[]).await;
    let settings = json!({ "url": node.url, "token": TOKEN, "encodingaeskey": AES_KEY });
    let (st, v) = s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/callbacks/app:1000002"), Some(settings)).await;
    assert_eq!(st, 200, "{v}");
    assert!(
        node.lines.lock().unwrap().iter().any(|l| l["verified"].as_str().is_some_and(|e| !e.is_empty())),
        "the receiver decrypted the echostr"
    );
    // With another key the receiver cannot open the echostr: refused.
    let wrong = json!({ "url": node.url, "token": TOKEN, "encodingaeskey": "Z".repeat(43) });
    let (st, v) = s.control(reqwest::Method::PUT, &format!("/corps/{CORPID}/callbacks/app:1000003"), Some(wrong)).await;
    assert_eq!((st, v["errcode"].clone()), (400, json!(40057)), "{v}");

    let token = s.token(CORPID, APP_SECRET).await;
    let menu = json!({ "button": [{ "type": "click", "name": "Today", "key": "V1001_TODAY" },
                                  { "name": "More", "sub_button": [{ "type": "pic_weixin", "name": "Pics", "key": "pics" },
                                                                   { "type": "location_select", "name": "Where", "key": "where" },
                                                                   { "type": "view_miniprogram", "name": "Mini", "appid": "wx0123456789abcdef", "pagepath": "pages/home" }] }] });
    assert_eq!(s.api_post(&format!("menu/create?access_token={token}&agentid=1000002"), menu.to_string()).await["errcode"], 0);
    let card = json!({ "card_type": "button_interaction", "main_title": { "title": "Ship it?" }, "task_id": "node_task",
                       "button_list": [{ "text": "Ship", "key": "ship" }] });
    let card_sent = s
        .api_post(
            &format!("message/send?access_token={token}"),
            json!({ "touser": "zhangsan", "msgtype": "template_card", "agentid": 1000002, "template_card": card }).to_string(),
        )
        .await;
    assert_eq!(card_sent["errcode"], 0, "{card_sent}");
    let card_msgid = card_sent["msgid"].as_str().unwrap();

    let member = format!("/corps/{CORPID}/members/zhangsan/apps/1000002");
    let mut click_code = Value::Null;
    let (a, b) = ("1b5f7c23b5bf75682a53e7b6d163e185", "c4564632a4fab91378c39bea6aad6f9e");
    for event in [
        json!({ "event": "subscribe" }),
        json!({ "event": "click", "key": "V1001_TODAY" }),
        json!({ "event": "pic_weixin", "key": "pics", "pic_md5_sums": [a, b] }),
        json!({ "event": "location_select", "key": "where", "location_x": 23.134, "location_y": 113.358, "label": "Guangzhou", "poiname": "Canton Tower" }),
        json!({ "event": "view_miniprogram", "pagepath": "pages/home" }),
        json!({ "event": "template_card_event", "msgid": card_msgid, "key": "ship" }),
    ] {
        let (st, v) = s.post(&format!("{member}/events"), event.clone()).await;
        assert_eq!(st, 201, "{event} {v}");
        if let Some(code) = v.get("response_code") {
            click_code = code.clone();
        }
    }
    let (st, sent) = s.post(&format!("{member}/messages"), json!({ "msgtype": "text", "content": "hello node" })).await;
    assert_eq!(st, 201, "{sent}");
    let sync = s.token(CORPID, SYNC_SECRET).await;
    let v = s
        .api_post(
            &format!("user/create?access_token={sync}"),
            json!({ "userid": "zhaoliu", "name": "Zhao Liu", "department": [2], "mobile": "13800000019" }).to_string(),
        )
        .await;
    assert_eq!(v["errcode"], 0, "{v}");

    let got = node.pushes(8).await;
    assert_eq!(got.len(), 8, "{got:?}");
    let refused: Vec<Value> = node.lines.lock().unwrap().iter().filter_map(|l| l.get("refused").cloned()).collect();
    assert_eq!(refused.len(), 1, "only the verification with the wrong key; every push verified and decrypted: {refused:?}");
    let m: Vec<&Value> = got.iter().map(|p| &p["message"]).collect();
    for x in &m[..7] {
        assert_eq!(
            (x["ToUserName"].as_str(), x["FromUserName"].as_str(), x["AgentID"].as_str()),
            (Some(CORPID), Some("zhangsan"), Some("1000002")),
            "{x}"
        );
    }
    assert_eq!((m[0]["Event"].clone(), m[0]["EventKey"].clone()), (json!("subscribe"), json!("")));
    assert_eq!(m[1]["EventKey"], "V1001_TODAY");
    assert_eq!(m[2]["Event"], "pic_weixin");
    assert_eq!(m[2]["SendPicsInfo"], json!({ "Count": "2", "PicList": { "item": [{ "PicMd5Sum": a }, { "PicMd5Sum": b }] } }));
    assert_eq!(
        (m[3]["Event"].clone(), m[3]["EventKey"].clone(), m[3]["AppType"].clone()),
        (json!("location_select"), json!("where"), json!("wxwork"))
    );
    assert_eq!(
        m[3]["SendLocationInfo"],
        json!({ "Location_X": "23.134", "Location_Y": "113.358", "Scale": "15", "Label": "Guangzhou", "Poiname": "Canton Tower" })
    );
    assert_eq!((m[4]["Event"].clone(), m[4]["EventKey"].clone()), (json!("view_miniprogram"), json!("pages/home")));
    assert_eq!(
        (m[5]["Event"].clone(), m[5]["EventKey"].clone(), m[5]["TaskId"].clone()),
        (json!("template_card_event"), json!("ship"), json!("node_task"))
    );
    assert!(click_code.is_string(), "the card click's answer names its code");
    assert_eq!(m[5]["ResponseCode"], click_code, "the click's own code");
    assert_ne!(click_code, card_sent["response_code"]);
    assert_eq!(
        (m[6]["MsgType"].clone(), m[6]["Content"].clone(), m[6]["MsgId"].clone()),
        (json!("text"), json!("hello node"), sent["msgid"].clone())
    );
    assert_eq!(
        (m[7]["FromUserName"].clone(), m[7]["ChangeType"].clone(), m[7]["UserID"].clone()),
        (json!("sys"), json!("create_user"), json!("zhaoliu"))
    );
    assert_eq!(m[7]["AgentID"], "1000002", "an app's copy of change_contact names the app");

    // The receiver's replies, sealed with @wecom/crypto: a text into the inbox, and update_button
    // on the card the member clicked.
    let inbox = inbox_until(&s, "zhangsan", |i| i.iter().any(|m| m["content"]["content"] == "node got: hello node")).await;
    let reply = inbox.iter().find(|m| m["content"]["content"] == "node got: hello node").unwrap_or_else(|| panic!("{inbox:?}"));
    assert_eq!((reply["msgtype"].clone(), reply["agentid"].clone()), (json!("text"), json!(1000002)));
    let card = inbox.iter().find(|m| m["msgid"] == card_msgid).unwrap();
    assert_eq!(card["card_update"], json!({ "button": { "replace_name": "Seen by node" } }), "{card}");
}

on_both_backends!(wecom_crypto_receiver);
