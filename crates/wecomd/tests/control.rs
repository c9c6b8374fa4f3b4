//! The control API, seed files, the demo corp, restarts and reset, over HTTP.

mod common;

use common::*;
use serde_json::{json, Value};

async fn corps_apps_groups_and_secrets(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (st, corp) = s.post("/corps", json!({ "name": "New Corp" })).await;
    assert_eq!(st, 201, "{corp}");
    let corpid = corp["corpid"].as_str().unwrap().to_string();
    assert!(corpid.starts_with("ww") && corpid.len() == 18);
    let sync = corp["contact_sync"]["secret"].as_str().unwrap();
    assert_eq!(sync.len(), 43);
    assert_eq!(s.token(&corpid, sync).await.len(), 214);

    let (st, app) = s.post(&format!("/corps/{corpid}/apps"), json!({ "name": "First" })).await;
    assert_eq!(st, 201, "{app}");
    assert_eq!(app["agentid"], 1000002, "the first app gets 1000002");
    let (_, app2) = s.post(&format!("/corps/{corpid}/apps"), json!({ "name": "Second", "secret": "given-secret" })).await;
    assert_eq!(app2["agentid"], 1000003);
    assert_eq!(app2["secret"], "given-secret");
    let (st, _) = s.post(&format!("/corps/{corpid}/apps"), json!({ "name": "Dup", "agentid": 1000002 })).await;
    assert_eq!(st, 409);
    let (st, _) = s.post(&format!("/corps/{corpid}/apps"), json!({ "name": "Same secret", "secret": "given-secret" })).await;
    assert_eq!(st, 409, "secrets are unique in a corp");
    let (st, _) = s.post(&format!("/corps/{corpid}/apps"), json!({ "name": "Bad", "secret": "has space" })).await;
    assert_eq!(st, 400);
    let (st, _) = s.post("/corps/ww00000000000000aa/apps", json!({ "name": "Nowhere" })).await;
    assert_eq!(st, 404);

    let (st, g) = s
        .post(
            &format!("/corps/{corpid}/groups"),
            json!({ "name": "管理组", "apps": [{ "agentid": 1000002, "right": "use" }], "departments": [{ "id": 1, "right": "read" }] }),
        )
        .await;
    assert_eq!(st, 201, "{g}");
    assert_eq!(g["groupid"], 1);
    assert_eq!(s.token(&corpid, g["secret"].as_str().unwrap()).await.len(), 64);
    let (st, v) = s.post(&format!("/corps/{corpid}/groups"), json!({ "name": "Bad", "apps": [{ "agentid": 42, "right": "use" }] })).await;
    assert_eq!(st, 400, "{v}");
    let (st, _) = s.post(&format!("/corps/{corpid}/groups"), json!({ "name": "Bad", "departments": [{ "id": 1, "right": "own" }] })).await;
    assert_eq!(st, 400);

    let (st, view) = s.get(&format!("/corps/{corpid}")).await;
    assert_eq!(st, 200);
    assert_eq!(view["apps"].as_array().unwrap().len(), 2);
    assert_eq!(view["apps"][1]["credential"]["secret"], "given-secret");
    assert_eq!(view["groups"][0]["apps"], json!([{ "agentid": 1000002, "right": "use" }]));
    assert_eq!(view["groups"][0]["departments"], json!([{ "id": 1, "right": "read" }]));

    let (_, list) = s.get("/corps").await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["corpid"].as_str().unwrap()).collect();
    assert!(ids.contains(&corpid.as_str()) && ids.contains(&CORPID), "{ids:?}");
    let (st, _) = s.post("/corps", json!({ "name": "Again", "corpid": corpid })).await;
    assert_eq!(st, 409);
    let (st, _) = s.post("/corps", json!({ "name": "Bad id", "corpid": "ww12" })).await;
    assert_eq!(st, 400);
    let (st, _) = s.post("/corps", json!({ "nmae": "typo" })).await;
    assert_eq!(st, 400);
    let r = s.http().post(s.url("/control/corps")).body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
}

async fn seeds_are_idempotent_and_all_or_nothing(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (_, before) = s.get(&format!("/corps/{CORPID}")).await;
    let token = s.token(CORPID, APP_SECRET).await;
    let r = s.http().post(s.url("/control/seed")).body(SEED).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, after) = s.get(&format!("/corps/{CORPID}")).await;
    assert_eq!(before, after, "loading the same seed again changes nothing");
    assert_eq!(s.token(CORPID, APP_SECRET).await, token, "nor the tokens");

    // The last entity is broken: nothing of the new corp may remain.
    let bad = r#"
[[corp]]
corpid = "ww00000000000000bb"
name = "Half"
[[corp.app]]
agentid = 1000002
name = "A"
[[corp.member]]
userid = "x"
name = "X"
department = [77]
"#;
    let r = s.http().post(s.url("/control/seed")).body(bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let msg = r.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
    assert!(msg.contains("77"), "{msg}");
    let (st, _) = s.get("/corps/ww00000000000000bb").await;
    assert_eq!(st, 404, "a failed seed leaves nothing behind");
    let r = s.http().post(s.url("/control/seed")).body("[[corp]]\nname = 1").send().await.unwrap();
    assert_eq!(r.status(), 400);

    // Restarting with the same --seed changes nothing either.
    drop(s);
    let s = Server::start(db, &[]).await;
    let (_, again) = s.get(&format!("/corps/{CORPID}")).await;
    assert_eq!(before, again);
    assert_eq!(s.token(CORPID, APP_SECRET).await, token, "tokens survive a restart");
}

async fn a_seed_that_changes_a_secret_revokes_its_tokens(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, APP_SECRET).await;
    let changed = SEED.replace(APP_SECRET, "replaced-secret");
    let r = s.http().post(s.url("/control/seed")).body(changed).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 40014);
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 40001);
    assert_eq!(s.token(CORPID, "replaced-secret").await.len(), 214);
}

async fn demo_corp_on_first_start_only(db: &Db) {
    let s = Server::start_raw(db, &[]).await;
    let (_, corps) = s.get("/corps").await;
    assert_eq!(corps.as_array().unwrap().len(), 1);
    let corpid = corps[0]["corpid"].as_str().unwrap().to_string();
    // The wechatpy snippet is printed last.
    let out = s.printed("print(client.access_token)").await;
    assert!(out.contains("control API admin token: "), "{out}");
    assert!(out.contains("curl '") && out.contains("wechatpy"), "{out}");
    // The printed credentials work: two app secrets, contacts sync, two legacy groups.
    let secrets: Vec<&str> = out.lines().filter_map(|l| l.split("secret ").nth(1)).filter_map(|r| r.split_whitespace().next()).collect();
    assert_eq!(secrets.len(), 5, "{out}");
    let mut lengths = vec![];
    for secret in &secrets {
        lengths.push(s.token(&corpid, secret).await.len());
    }
    assert_eq!(lengths, [214, 214, 214, 64, 64]);
    let (_, view) = s.get(&format!("/corps/{corpid}")).await;
    assert_eq!(view["apps"].as_array().unwrap().len(), 2);
    assert_eq!(view["groups"].as_array().unwrap().len(), 2);
    assert_ne!(view["groups"][0]["departments"], view["groups"][1]["departments"], "the groups' rights differ");
    drop(s);

    let s = Server::start_raw(db, &[]).await;
    let out = s.stdout.lock().unwrap().join("\n");
    assert!(!out.contains("admin token") && !out.contains("demo"), "second start prints no credentials: {out}");
    let (_, corps) = s.get("/corps").await;
    assert_eq!(corps.as_array().unwrap().len(), 1, "the demo is not created twice");
}

async fn no_demo_starts_empty(db: &Db) {
    let s = Server::start_raw(db, &["--no-demo".into()]).await;
    let (_, corps) = s.get("/corps").await;
    assert_eq!(corps, json!([]));
}

async fn reset_forgets_everything(db: &Db) {
    let s = Server::start(db, &[]).await;
    let token = s.token(CORPID, APP_SECRET).await;
    s.advance(100).await;
    let (st, _) = s.post("/reset", json!({})).await;
    assert_eq!(st, 200);
    let (_, corps) = s.get("/corps").await;
    assert_eq!(corps, json!([]));
    assert_eq!(s.api(&format!("getcallbackip?access_token={token}")).await["errcode"], 40014);
    assert_eq!(s.api(&format!("gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await["errcode"], 40013);
    let (_, clock) = s.get("/clock").await;
    assert_eq!(clock["offset"], 0);
    // The seed can be loaded again afterwards.
    let r = s.http().post(s.url("/control/seed")).body(SEED).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.token(CORPID, APP_SECRET).await.len(), 214);
}

async fn clock_only_moves_forward(db: &Db) {
    let s = Server::start(db, &[]).await;
    let (_, c0) = s.get("/clock").await;
    s.advance(3600).await;
    let (_, c1) = s.get("/clock").await;
    assert!(c1["now"].as_i64().unwrap() >= c0["now"].as_i64().unwrap() + 3600);
    assert_eq!(c1["offset"], 3600);
    let (st, _) = s.post("/clock/advance", json!({ "seconds": -5 })).await;
    assert_eq!(st, 400);
    let (st, _) = s.post("/clock/advance", json!({ "seconds": "soon" })).await;
    assert_eq!(st, 400);
    drop(s);
    let s = Server::start(db, &[]).await;
    let (_, c2) = s.get("/clock").await;
    assert_eq!(c2["offset"], 3600, "the offset survives a restart");
}

async fn admin_token_required_beyond_loopback(db: &Db) {
    let s = Server::start(db, &["--listen", "0.0.0.0:0", "--admin-token", "let-me-in"]).await;
    let (st, _) = s.get("/corps").await;
    assert_eq!(st, 401);
    let r = s.http().get(s.url("/control/corps")).header("Authorization", "Bearer wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = s.http().get(s.url("/control/corps")).header("Authorization", "Bearer let-me-in").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (st, h) = s.get("/health").await;
    assert_eq!(st, 200, "health is open");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["backend"], if db.backend == Backend::Sqlite { "sqlite" } else { "postgres" });
    // The API itself is unaffected.
    assert_eq!(s.token(CORPID, APP_SECRET).await.len(), 214);
}

on_both_backends!(
    corps_apps_groups_and_secrets,
    seeds_are_idempotent_and_all_or_nothing,
    a_seed_that_changes_a_secret_revokes_its_tokens,
    demo_corp_on_first_start_only,
    no_demo_starts_empty,
    reset_forgets_everything,
    clock_only_moves_forward,
    admin_token_required_beyond_loopback,
);

#[tokio::test]
async fn bad_configuration_exits_with_a_message() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wecomd")).args(["--token-length", "9999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("token length"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wecomd")).args(["--database", "mysql://x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database url"));
}

#[tokio::test]
async fn env_vars_and_config_file_configure_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("wecomd.toml");
    std::fs::write(&cfg, format!("data_dir = {:?}\ntoken_length = 300\nno_demo = true\n", dir.path().join("data").display().to_string()))
        .unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(&seed, SEED).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_wecomd"))
        .args(["--listen", "127.0.0.1:0"])
        .env("WECOMD_CONFIG", &cfg)
        .env("WECOMD_SEED", &seed)
        .env("WECOMD_TOKEN_LENGTH", "256")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let base = first.split("listening on ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let v: Value =
        reqwest::get(format!("{base}/cgi-bin/gettoken?corpid={CORPID}&corpsecret={APP_SECRET}")).await.unwrap().json().await.unwrap();
    assert_eq!(v["access_token"].as_str().unwrap().len(), 256, "env beats the file");
    assert!(dir.path().join("data/wecomd.sqlite3").exists(), "data_dir from the file");
    let corps: Value = reqwest::get(format!("{base}/control/corps")).await.unwrap().json().await.unwrap();
    assert_eq!(corps.as_array().unwrap().len(), 2, "no demo (file), the seed (env)");
}
