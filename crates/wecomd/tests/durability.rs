//! kill -9 under a write load: every write that was answered success is there after a restart.

mod common;

use common::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An app whose creation was answered: (agentid, secret, its first token once that was answered).
type Acked = (i64, String, Option<String>);

async fn acknowledged_writes_survive_kill_9(db: &Db) {
    let s = Arc::new(Server::start(db, &["--no-rate-limits"]).await);
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = vec![];
    for w in 0..4i64 {
        let (s, acked, stop) = (s.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let agentid = 2_000_000 + w * 100_000 + i;
                let r = s
                    .http()
                    .post(s.url(&format!("/control/corps/{CORPID}/apps")))
                    .body(json!({ "agentid": agentid, "name": "load" }).to_string())
                    .send()
                    .await;
                let Ok(r) = r else { break };
                if r.status() != 201 {
                    break;
                }
                let Ok(v) = r.json::<serde_json::Value>().await else { break };
                let secret = v["secret"].as_str().unwrap().to_string();
                acked.lock().unwrap().push((agentid, secret.clone(), None));
                let r = s.http().get(s.url(&format!("/cgi-bin/gettoken?corpid={CORPID}&corpsecret={secret}"))).send().await;
                let Ok(r) = r else { break };
                let Ok(v) = r.json::<serde_json::Value>().await else { break };
                if v["errcode"] == 0 {
                    let token = v["access_token"].as_str().unwrap().to_string();
                    acked.lock().unwrap().iter_mut().find(|a| a.0 == agentid).unwrap().2 = Some(token);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // kill -9 while the writers are mid-request.
    s.kill().await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 10, "the load wrote something: {}", acked.len());

    let s = Server::start(db, &[]).await;
    let (_, corp) = s.get(&format!("/corps/{CORPID}")).await;
    let apps = corp["apps"].as_array().unwrap();
    let mut tokens = 0;
    for (agentid, secret, token) in &acked {
        let app = apps.iter().find(|a| a["agentid"] == *agentid).unwrap_or_else(|| panic!("acknowledged app {agentid} lost"));
        assert_eq!(app["credential"]["secret"], secret.as_str());
        if let Some(token) = token {
            tokens += 1;
            let v = s.api(&format!("getcallbackip?access_token={token}")).await;
            assert_eq!(v["errcode"], 0, "acknowledged token of {agentid} lost: {v}");
        }
    }
    eprintln!("{:?}: {} acknowledged apps and {tokens} tokens all present after kill -9", db.backend, acked.len());
}

on_both_backends!(acknowledged_writes_survive_kill_9);
