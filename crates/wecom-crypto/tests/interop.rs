//! Interop with the real client libraries, run for real: wechatpy 1.8.18's WeChatCrypto (from the
//! repository's .venv) and npm @wecom/crypto 1.0.1 (from the repository's node_modules). Each
//! side encrypts what the other decrypts, and their signatures equal ours.
//!
//! scripts/test.sh installs both before `cargo test`. When one is missing the test fails under
//! CI=true and is skipped, loudly, elsewhere.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use wecom_crypto::{jsapi, CryptError, MsgCrypt};

const TOKEN: &str = "QDG6eK";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CORPID: &str = "wx5823bf96d3bd56c7";
const OTHER_CORPID: &str = "ww0123456789abcdef";
const TIMESTAMP: &str = "1409659813";
const NONCE: &str = "1372623149";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Skips (or, under CI=true, fails) when a peer's runtime is not installed.
fn available(what: &str, ok: bool) -> bool {
    if !ok {
        let hint = "run scripts/test.sh (or: python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt; npm ci)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{what} is missing and CI=true: {hint}");
        eprintln!("\n!!! SKIPPED: {what} is missing, so this interop test checked NOTHING. {hint} !!!\n");
    }
    ok
}

/// Sends the cases to a peer script as JSON and returns its answers, one per case.
fn ask(program: &Path, script: &str, cases: &[Value]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers").join(script);
    let mut child = Command::new(program)
        .arg(&script)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    child.stdin.take().unwrap().write_all(Value::from(cases.to_vec()).to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), cases.len());
    answers
}

/// Inner messages of every padding length (1..=32), non-ASCII text and a long body.
fn messages() -> Vec<String> {
    let mut messages: Vec<String> = (0..32).map(|n| "m".repeat(n)).collect();
    messages.push("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[张三]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[你好 ✓ 😀 <&>]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>1000002</AgentID>\n</xml>".to_owned());
    messages.push("企业微信".repeat(2000));
    messages
}

fn wechatpy_case(receive_id: &str, op: &str, fields: Value) -> Value {
    let mut case = json!({ "token": TOKEN, "key": KEY, "receive_id": receive_id, "op": op });
    case.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    case
}

#[test]
fn wechatpy_weixin_crypto() {
    let python = root().join(".venv/bin/python");
    let installed = Command::new(&python).args(["-c", "import wechatpy"]).output().is_ok_and(|o| o.status.success());
    if !available("wechatpy in .venv", installed) {
        return;
    }
    let ours = MsgCrypt::new(TOKEN, KEY, CORPID).unwrap();
    let messages = messages();
    let mut cases = Vec::new();
    for msg in &messages {
        // wechatpy answers a callback with an encrypted passive reply; wecomd opens it.
        cases.push(wechatpy_case(CORPID, "encrypt_message", json!({ "msg": msg, "nonce": NONCE, "timestamp": TIMESTAMP })));
        // wecomd pushes a callback; wechatpy decrypts it.
        let push = ours.push("1000002", msg, TIMESTAMP, NONCE).unwrap();
        cases.push(wechatpy_case(
            CORPID,
            "decrypt_message",
            json!({ "body": push.body, "msg_signature": push.msg_signature, "timestamp": TIMESTAMP, "nonce": NONCE }),
        ));
    }
    // URL verification: wecomd sends echostr, wechatpy decrypts it.
    let echo = ours.echo("1616140317555161061", TIMESTAMP, NONCE).unwrap();
    cases.push(wechatpy_case(
        CORPID,
        "check_signature",
        json!({ "msg_signature": echo.msg_signature, "timestamp": TIMESTAMP, "nonce": NONCE, "echostr": echo.echostr }),
    ));
    // Refusals: a tampered signature, a ciphertext sealed for another corp, and the reverse.
    let push = ours.push("1000002", "m", TIMESTAMP, NONCE).unwrap();
    cases.push(wechatpy_case(
        CORPID,
        "decrypt_message",
        json!({ "body": push.body, "msg_signature": "0".repeat(40), "timestamp": TIMESTAMP, "nonce": NONCE }),
    ));
    let foreign = MsgCrypt::new(TOKEN, KEY, OTHER_CORPID).unwrap().echo("1", TIMESTAMP, NONCE).unwrap();
    cases.push(wechatpy_case(
        CORPID,
        "check_signature",
        json!({ "msg_signature": foreign.msg_signature, "timestamp": TIMESTAMP, "nonce": NONCE, "echostr": foreign.echostr }),
    ));
    cases.push(wechatpy_case(OTHER_CORPID, "encrypt_message", json!({ "msg": "m", "nonce": NONCE, "timestamp": TIMESTAMP })));

    let answers = ask(&python, "wechatpy_peer.py", &cases);
    let mut answers = answers.iter();
    for msg in &messages {
        let reply = answers.next().unwrap()["body"].as_str().unwrap();
        assert_eq!(ours.open_reply(reply).as_deref(), Ok(msg.as_str()), "wechatpy reply {reply}");
        assert_eq!(answers.next().unwrap()["msg"], json!(msg), "our push decrypted by wechatpy");
    }
    assert_eq!(answers.next().unwrap()["msg"], "1616140317555161061");
    assert_eq!(answers.next().unwrap()["error"], "InvalidSignatureException");
    assert_eq!(answers.next().unwrap()["error"], "InvalidCorpIdException");
    let foreign_reply = answers.next().unwrap()["body"].as_str().unwrap();
    assert_eq!(ours.open_reply(foreign_reply), Err(CryptError::ValidateCorpid));
    let other_token = MsgCrypt::new("another", KEY, OTHER_CORPID).unwrap();
    assert_eq!(other_token.open_reply(foreign_reply), Err(CryptError::ValidateSignature));
    eprintln!("wechatpy: {} cases agreed", cases.len());
}

#[test]
fn npm_wecom_crypto() {
    let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let package = root().join("node_modules/@wecom/crypto/package.json").exists();
    if !available("node with @wecom/crypto in node_modules", node_ok && package) {
        return;
    }
    let ours = MsgCrypt::new(TOKEN, KEY, CORPID).unwrap();
    let messages = messages();
    let mut cases = Vec::new();
    let mut ciphertexts = Vec::new();
    for (i, msg) in messages.iter().enumerate() {
        cases.push(json!({ "op": "encrypt", "key": KEY, "msg": msg, "id": CORPID }));
        let encrypt = ours.encrypt(msg).unwrap();
        cases.push(json!({ "op": "decrypt", "key": KEY, "encrypt": encrypt }));
        let nonce = format!("{}", 1_000_000_007u64 * (i as u64 + 1));
        cases.push(json!({ "op": "signature", "token": TOKEN, "timestamp": TIMESTAMP, "nonce": nonce, "encrypt": encrypt }));
        ciphertexts.push((encrypt, nonce));
    }
    cases.push(json!({ "op": "encrypt", "key": KEY, "msg": "m", "id": OTHER_CORPID }));
    let pages = ["http://mp.weixin.qq.com?params=value", "http://mp.weixin.qq.com", "https://app.example.com/a/b?x=1&y=中文"];
    for url in pages {
        cases.push(
            json!({ "op": "jsapi", "ticket": "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            "noncestr": "Wm3WZYTPz0wzccnW", "timestamp": "1414587457", "url": url }),
        );
    }

    let answers = ask(Path::new("node"), "wecom_crypto_peer.js", &cases);
    let mut answers = answers.iter();
    for (msg, (encrypt, nonce)) in messages.iter().zip(&ciphertexts) {
        let theirs = answers.next().unwrap()["encrypt"].as_str().unwrap();
        assert_eq!(ours.decrypt(theirs).as_deref(), Ok(msg.as_str()), "@wecom/crypto ciphertext {theirs}");
        assert_eq!(answers.next().unwrap(), &json!({ "msg": msg, "id": CORPID }), "our ciphertext decrypted by @wecom/crypto");
        assert_eq!(answers.next().unwrap()["signature"], ours.signature(TIMESTAMP, nonce, encrypt));
    }
    let foreign = answers.next().unwrap()["encrypt"].as_str().unwrap();
    assert_eq!(ours.decrypt(foreign), Err(CryptError::ValidateCorpid));
    for url in pages {
        let ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";
        assert_eq!(answers.next().unwrap()["signature"], jsapi::signature(ticket, "Wm3WZYTPz0wzccnW", "1414587457", url), "{url}");
    }
    eprintln!("@wecom/crypto: {} cases agreed", cases.len());
}
