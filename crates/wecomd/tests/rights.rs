//! Who may change contacts: the contacts-sync secret everything, a self-built app nothing unless
//! granted contact edit (then its visible departments), a 管理组 its write subtrees.

mod common;

use common::*;
use serde_json::{json, Value};

const EDITOR_SECRET: &str = "editor-app-secret-xxxxxxxxxxxxxxxxxxxxxxxx";

async fn create_department(s: &Server, token: &str, name: &str, parentid: i64) -> Value {
    s.api_post(&format!("department/create?access_token={token}"), json!({ "name": name, "parentid": parentid }).to_string()).await
}

async fn only_granted_credentials_write(db: &Db) {
    let s = Server::start(db, &[]).await;
    // An app granted contact edit that sees R&D (2).
    let seed = format!(
        "[[corp]]\ncorpid = \"{CORPID}\"\nname = \"Test Corp\"\n[[corp.app]]\nagentid = 1000004\nname = \"Editor\"\nsecret = \"{EDITOR_SECRET}\"\nallow_parties = [2]\ncontact_edit = true\n"
    );
    let r = s.http().post(s.url("/control/seed")).body(seed).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let editor = s.token(CORPID, EDITOR_SECRET).await;
    let v = create_department(&s, &editor, "Platform", 2).await;
    assert_eq!(v["errcode"], 0, "inside its visible range: {v}");
    assert_eq!(v["errmsg"], "created");
    let v = create_department(&s, &editor, "Outside", 3).await;
    assert_eq!(v["errcode"], 60011, "outside its visible range: {v}");

    let plain = s.token(CORPID, APP_SECRET).await;
    let v = create_department(&s, &plain, "Nope", 2).await;
    assert_eq!(v["errcode"], 48002, "{v}");
    assert!(v["errmsg"].as_str().unwrap().starts_with("api forbidden, hint: ["));

    let sync = s.token(CORPID, SYNC_SECRET).await;
    assert_eq!(create_department(&s, &sync, "Anywhere", 3).await["errcode"], 0);

    let reader = s.token(CORPID, GROUP2_SECRET).await;
    assert_eq!(create_department(&s, &reader, "Read only", 2).await["errcode"], 60011, "group 2 only reads R&D");
    let writer = s.token(CORPID, GROUP_SECRET).await;
    assert_eq!(create_department(&s, &writer, "Legacy made", 3).await["errcode"], 0, "group 1 writes the whole tree");
}

on_both_backends!(only_granted_credentials_write);
