//! Test harness: start the real `wecomd` binary on a random port over a fresh database (a temp
//! directory for SQLite, a new database for PostgreSQL) and speak HTTP to it.
#![allow(dead_code)] // each test file uses a different part of the harness

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wecom_crypto::MsgCrypt;

pub const CORPID: &str = "ww0123456789abcdef";
pub const APP_SECRET: &str = "app-secret-1000002-xxxxxxxxxxxxxxxxxxxxxxxx";
pub const APP2_SECRET: &str = "app-secret-1000003-xxxxxxxxxxxxxxxxxxxxxxxx";
pub const SYNC_SECRET: &str = "sync-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
pub const GROUP_SECRET: &str = "group-secret-1-xxxxxxxxxxxxxxxxxxxxxxxxxxxx";
pub const GROUP2_SECRET: &str = "group-secret-2-xxxxxxxxxxxxxxxxxxxxxxxxxxxx";
pub const OTHER_CORPID: &str = "wx8042b22041aa4f39";
pub const OTHER_SECRET: &str = "other-corp-secret-xxxxxxxxxxxxxxxxxxxxxxxxx";

/// A corp with two apps (1000002 sees everyone, 1000003 sees R&D), the contacts-sync secret and
/// two legacy management groups (1 writes everything, 2 reads R&D and uses 1000003), plus a second
/// corp for cross-corp checks. zhangsan (R&D) and wangwu (Sales) have logged in; lisi has not.
pub const SEED: &str = r#"
[[corp]]
corpid = "ww0123456789abcdef"
name = "Test Corp"
contact_sync_secret = "sync-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

[[corp.app]]
agentid = 1000002
name = "Notify"
created = "2021-03-01"
secret = "app-secret-1000002-xxxxxxxxxxxxxxxxxxxxxxxx"
allow_parties = [1]

[[corp.app]]
agentid = 1000003
name = "Approval"
created = "2021-03-01"
secret = "app-secret-1000003-xxxxxxxxxxxxxxxxxxxxxxxx"
allow_parties = [2]

[[corp.department]]
id = 2
name = "R&D"
parentid = 1

[[corp.department]]
id = 3
name = "Sales"
parentid = 1

[[corp.member]]
userid = "zhangsan"
name = "Zhang San"
department = [2]
mobile = "13800000001"
active = true

[[corp.member]]
userid = "wangwu"
name = "Wang Wu"
department = [3]
mobile = "13800000003"
active = true

[[corp.member]]
userid = "lisi"
name = "Li Si"
department = [1]
email = "lisi@example.com"

[[corp.tag]]
tagid = 1
tagname = "Managers"
owner = "group:1"
users = ["zhangsan"]

[[corp.group]]
groupid = 1
name = "All"
secret = "group-secret-1-xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
apps = [{ agentid = 1000002, right = "manage" }]
departments = [{ id = 1, right = "write" }]
tags = [1]

[[corp.group]]
groupid = 2
name = "R&D readers"
secret = "group-secret-2-xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
apps = [{ agentid = 1000003, right = "use" }]
departments = [{ id = 2, right = "read" }]

[[corp]]
corpid = "wx8042b22041aa4f39"
name = "Other Corp"

[[corp.app]]
agentid = 1000002
name = "Other"
created = "2021-03-01"
secret = "other-corp-secret-xxxxxxxxxxxxxxxxxxxxxxxxx"
"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// PostgreSQL for tests: `WECOMD_TEST_PG` (default the local trust-auth server). When it is
/// unreachable the PostgreSQL leg fails under CI and is skipped loudly elsewhere.
pub async fn postgres_available() -> bool {
    let url = pg_base();
    match sqlx::PgConnection::connect(&url).await {
        Ok(c) => {
            let _ = c.close().await;
            true
        }
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL at {url} is unreachable under CI: {e}");
            }
            eprintln!("\n!!! SKIPPING the PostgreSQL leg: {url} is unreachable ({e}) !!!\n");
            false
        }
    }
}

fn pg_base() -> String {
    std::env::var("WECOMD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// One database that one or more servers share.
pub struct Db {
    pub backend: Backend,
    dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl Db {
    pub async fn new(backend: Backend) -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        let pg_name = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let name = format!("wecomd_t_{:016x}", rand::random::<u64>());
                let mut c = sqlx::PgConnection::connect(&pg_base()).await.expect("PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut c).await.expect("create database");
                Some(name)
            }
        };
        Db { backend, dir, pg_name }
    }

    fn args(&self) -> Vec<String> {
        match &self.pg_name {
            None => vec!["--data-dir".into(), self.dir.path().display().to_string()],
            Some(name) => {
                let base = pg_base();
                let root = &base[..base.rfind('/').expect("url has a database")];
                vec!["--database".into(), format!("{root}/{name}"), "--data-dir".into(), self.dir.path().display().to_string()]
            }
        }
    }

    /// The database's URL, for tests that look at what was stored.
    pub fn url(&self) -> String {
        match &self.pg_name {
            None => format!("sqlite://{}", self.dir.path().join("wecomd.sqlite3").display()),
            Some(name) => {
                let base = pg_base();
                format!("{}/{name}", &base[..base.rfind('/').expect("url has a database")])
            }
        }
    }

    /// Cuts every connection to the PostgreSQL database and refuses new ones, or lets them in again.
    pub async fn set_reachable(&self, reachable: bool) {
        let name = self.pg_name.as_ref().expect("a PostgreSQL database");
        let mut c = sqlx::PgConnection::connect(&pg_base()).await.expect("PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}")))
            .execute(&mut c)
            .await
            .expect("alter database");
        if !reachable {
            sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
                .bind(name)
                .execute(&mut c)
                .await
                .expect("terminate");
        }
    }

    /// Drops the PostgreSQL database (after every server on it has stopped).
    pub async fn drop_db(self) {
        if let Some(name) = &self.pg_name {
            let mut c = sqlx::PgConnection::connect(&pg_base()).await.expect("PostgreSQL");
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut c).await;
        }
    }
}

pub struct Server {
    child: tokio::sync::Mutex<Child>,
    pub base: String,
    pub stdout: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

impl Server {
    /// Starts wecomd on `db` with the test seed and no demo, plus `extra` flags.
    pub async fn start(db: &Db, extra: &[&str]) -> Server {
        let seed = db.dir.path().join("seed.toml");
        std::fs::write(&seed, SEED).expect("write seed");
        let mut args = vec!["--no-demo".to_string(), "--seed".into(), seed.display().to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        Server::start_raw(db, &args).await
    }

    /// Starts wecomd on `db` with exactly these flags (and a random loopback port unless given).
    pub async fn start_raw(db: &Db, flags: &[String]) -> Server {
        let mut args = db.args();
        if !flags.iter().any(|f| f == "--listen") {
            args.extend(["--listen".into(), "127.0.0.1:0".into()]);
        }
        args.extend(flags.iter().cloned());
        let mut child = Command::new(env!("CARGO_BIN_EXE_wecomd"))
            .args(&args)
            .env("WECOMD_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn wecomd");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("wecomd started within 60 s")
            .expect("read stdout")
            .expect("wecomd printed a line");
        let base = first.split("listening on ").nth(1).and_then(|r| r.split_whitespace().next()).expect("listening line").to_string();
        let stdout = Arc::new(Mutex::new(vec![first]));
        let sink = stdout.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = lines.next_line().await {
                sink.lock().unwrap().push(l);
            }
        });
        Server { child: tokio::sync::Mutex::new(child), base, stdout, http: reqwest::Client::new() }
    }

    /// kill -9: no chance to flush or shut down cleanly.
    pub async fn kill(&self) {
        let mut child = self.child.lock().await;
        child.start_kill().expect("kill");
        let _ = child.wait().await;
    }

    /// What the server printed, once it holds `needle` (lines after the first are read by a task
    /// of their own, so they may still be on their way), or as it is after 10 s.
    pub async fn printed(&self, needle: &str) -> String {
        for _ in 0..200 {
            let out = self.stdout.lock().unwrap().join("\n");
            if out.contains(needle) {
                return out;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.stdout.lock().unwrap().join("\n")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET a /cgi-bin path: the platform answers HTTP 200 JSON for every API outcome.
    pub async fn api(&self, path_and_query: &str) -> Value {
        let r = self.http.get(self.url(&format!("/cgi-bin/{path_and_query}"))).send().await.expect("request");
        assert_eq!(r.status(), 200, "{path_and_query}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/json"), "{ct}");
        r.json().await.expect("json body")
    }

    pub async fn token(&self, corpid: &str, secret: &str) -> String {
        let v = self.api(&format!("gettoken?corpid={corpid}&corpsecret={secret}")).await;
        v["access_token"].as_str().unwrap_or_else(|| panic!("no token: {v}")).to_string()
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(&format!("/control{path}")));
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let r = req.send().await.expect("control request");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.control(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.control(reqwest::Method::GET, path, None).await
    }

    /// POST a /cgi-bin path with a raw body (no Content-Type, as wechatpy sends it).
    pub async fn api_post(&self, path_and_query: &str, body: impl Into<reqwest::Body>) -> Value {
        let r = self.http.post(self.url(&format!("/cgi-bin/{path_and_query}"))).body(body).send().await.expect("request");
        assert_eq!(r.status(), 200, "{path_and_query}");
        r.json().await.expect("json body")
    }

    /// media/upload of `data` as `filename` in the part `media`, as SDKs send it.
    pub async fn upload(&self, token: &str, media_type: &str, filename: &str, data: &[u8]) -> Value {
        let (ct, body) = multipart("media", filename, data);
        let path = format!("/cgi-bin/media/upload?access_token={token}&type={media_type}");
        let r = self.http.post(self.url(&path)).header("content-type", ct).body(body).send().await.expect("request");
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.expect("json body")
    }

    /// The media_id of a fresh upload that must succeed.
    pub async fn media_id(&self, token: &str, media_type: &str, filename: &str, data: &[u8]) -> String {
        let v = self.upload(token, media_type, filename, data).await;
        v["media_id"].as_str().unwrap_or_else(|| panic!("upload refused: {v}")).to_string()
    }

    pub async fn advance(&self, seconds: i64) {
        let (s, v) = self.post("/clock/advance", serde_json::json!({ "seconds": seconds })).await;
        assert_eq!(s, 200, "{v}");
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

/// Runs a check on SQLite and on PostgreSQL, as `<name>_sqlite` and `<name>_postgres` tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::Db::new($crate::common::Backend::Sqlite).await;
                    super::$name(&db).await;
                    db.drop_db().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !$crate::common::postgres_available().await {
                        return;
                    }
                    let db = $crate::common::Db::new($crate::common::Backend::Postgres).await;
                    super::$name(&db).await;
                    db.drop_db().await;
                }
            )*
        }
    };
}

/// The first bytes of a JPEG (its signature) and some more: what media/upload takes as an image.
pub const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01 picture bytes \xff\xd9";

/// A multipart/form-data body with one file part called `field`: (Content-Type, body).
pub fn multipart(field: &str, filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "------------------------wecomdtest7d3a";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"; filelength={}\r\nContent-Type: application/octet-stream\r\n\r\n",
        data.len()
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `seconds` of AMR-NB (12.2 kbit/s: 50 frames of 32 bytes a second): what media/upload takes as a voice.
pub fn amr(seconds: usize) -> Vec<u8> {
    let mut v = b"#!AMR\n".to_vec();
    for _ in 0..seconds * 50 {
        v.push(0x3c);
        v.extend_from_slice(&[0x55u8; 31]);
    }
    v
}

/// An `ftyp` box first: what media/upload takes as a video.
pub const MP4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom video bytes";

/// Rows in `table` (SQL after FROM, so a WHERE may follow), read straight from the database.
pub async fn rows(db: &Db, table: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&db.url()).await.expect("database");
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(&mut c).await.expect("count");
    let _ = c.close().await;
    n
}

/// POST a raw body with its Content-Type (a multipart upload) and read the JSON answer.
pub async fn post_raw(s: &Server, path: &str, content_type: &str, body: Vec<u8>) -> Value {
    let r = s.http().post(s.url(path)).header("content-type", content_type).body(body).send().await.expect("request");
    assert_eq!(r.status(), 200, "{path}");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    r.json().await.expect("json")
}

/// Row counts of `tables` once they are `want` (a refused upload's rows are removed just after its
/// answer), or as they are after 5 s.
pub async fn rows_when(db: &Db, tables: &[&str], want: &[i64]) -> Vec<i64> {
    let mut counts = Vec::new();
    for _ in 0..50 {
        counts.clear();
        for table in tables {
            counts.push(rows(db, table).await);
        }
        if counts == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    counts
}

/// A whole download of [`JPEG`] stored as `media_id`, with the headers media/get sends (and
/// material/get, which serves files the same way).
pub async fn assert_jpeg_download(r: reqwest::Response, media_id: &str) {
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["content-disposition"], format!("attachment; filename=\"{media_id}.jpg\"").as_str());
    assert_eq!(h["content-length"], JPEG.len().to_string().as_str());
    assert_eq!(h["cache-control"], "no-cache, must-revalidate");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(&r.bytes().await.unwrap()[..], JPEG);
}

/// A certificate for 127.0.0.1 and localhost, signed by itself, as a developer makes one for a
/// local https receiver: its PEM (what `--tls-ca-file` takes) and a TLS acceptor serving it.
pub fn self_signed() -> (String, tokio_rustls::TlsAcceptor) {
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()]).expect("certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .expect("TLS config");
    (made.cert.pem(), tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` on a random loopback port until the test ends, over https with `tls`:
/// `http(s)://127.0.0.1:<port>`. A client that refuses the certificate just ends its connection.
pub async fn serve(router: axum::Router, tls: Option<tokio_rustls::TlsAcceptor>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let Some(tls) = tls else {
        tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
        return format!("http://127.0.0.1:{port}");
    };
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (tls, router) = (tls.clone(), router.clone());
            tokio::spawn(async move {
                let Ok(stream) = tls.accept(tcp).await else { return };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

/// Serves `data` as video/mp4 at `/v.mp4` (over https with `tls`): an upload_by_url source.
pub async fn file_server(data: &'static [u8], tls: Option<tokio_rustls::TlsAcceptor>) -> String {
    let file = move || async move { ([(axum::http::header::CONTENT_TYPE, "video/mp4")], data) };
    format!("{}/v.mp4", serve(axum::Router::new().route("/v.mp4", axum::routing::get(file)), tls).await)
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `pem` where `--tls-ca-file` can read it, in a directory that lives as long as the result.
pub fn ca_file(pem: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, pem).expect("write CA file");
    (dir, path.display().to_string())
}

// --- A callback receiver, as an app's developer writes one with wecom-crypto ---------------------

pub const TOKEN: &str = "QDG6eK";
pub const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Verifies, decrypts, acks (and replies to member texts).
    Up,
    /// Answers every request HTTP 503.
    Down,
    /// Answers verification with something other than the echo.
    WrongEcho,
    /// Takes this long before answering anything.
    Slow(u64),
}

pub struct Inner {
    pub crypt: MsgCrypt,
    pub mode: Mode,
    /// Every push that verified and decrypted: the query's timestamp and nonce, the inner XML.
    pub pushes: Vec<(String, String, String)>,
    /// Requests that did not verify (wrong signature, undecryptable).
    pub rejected: usize,
    /// Answer member texts with a passive text reply.
    pub reply: bool,
    /// Answer card clicks with this passive reply (its `{to}` the member who clicked).
    pub card_reply: Option<String>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_for(CORPID).await
    }

    pub async fn start_for(corpid: &str) -> Receiver {
        Receiver::start_with(corpid, None).await
    }

    /// A receiver at an https URL, with this certificate.
    pub async fn start_https(tls: tokio_rustls::TlsAcceptor) -> Receiver {
        Receiver::start_with(CORPID, Some(tls)).await
    }

    async fn start_with(corpid: &str, tls: Option<tokio_rustls::TlsAcceptor>) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner {
            crypt: MsgCrypt::new(TOKEN, AES_KEY, corpid).unwrap(),
            mode: Mode::Up,
            pushes: vec![],
            rejected: 0,
            reply: false,
            card_reply: None,
        }));
        let router = Router::new().route("/callback", get(verify).post(receive)).with_state(inner.clone());
        Receiver { url: format!("{}/callback?app=test", serve(router, tls).await), inner }
    }

    pub fn set(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = mode;
    }

    pub fn pushes(&self) -> Vec<String> {
        self.inner.lock().unwrap().pushes.iter().map(|p| p.2.clone()).collect()
    }

    /// Waits up to `secs` for `n` pushes.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        let start = Instant::now();
        loop {
            let got = self.pushes();
            if got.len() >= n || start.elapsed() > Duration::from_secs(secs) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

type Q = Query<HashMap<String, String>>;

async fn pause(inner: &Arc<Mutex<Inner>>) -> Mode {
    let mode = inner.lock().unwrap().mode;
    if let Mode::Slow(ms) = mode {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    mode
}

async fn verify(State(inner): State<Arc<Mutex<Inner>>>, Query(q): Q) -> Response {
    let mode = pause(&inner).await;
    if mode == Mode::Down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let inner = inner.lock().unwrap();
    match inner.crypt.verify_url(&q["msg_signature"], &q["timestamp"], &q["nonce"], &q["echostr"]) {
        Ok(_) if mode == Mode::WrongEcho => "not the echo".into_response(),
        Ok(plain) => plain.into_response(),
        Err(e) => (StatusCode::FORBIDDEN, e.to_string()).into_response(),
    }
}

async fn receive(State(inner): State<Arc<Mutex<Inner>>>, Query(q): Q, body: Bytes) -> Response {
    let mode = pause(&inner).await;
    if mode == Mode::Down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut inner = inner.lock().unwrap();
    let body = String::from_utf8_lossy(&body).to_string();
    let xml = match inner.crypt.decrypt_msg(&q["msg_signature"], &q["timestamp"], &q["nonce"], &body) {
        Ok(x) => x,
        Err(e) => {
            inner.rejected += 1;
            return (StatusCode::FORBIDDEN, e.to_string()).into_response();
        }
    };
    inner.pushes.push((q["timestamp"].clone(), q["nonce"].clone(), xml.clone()));
    if let Some(id) = element(&xml, "PackageId") {
        return id.into_response();
    }
    if let Some(reply) = inner.card_reply.clone().filter(|_| element(&xml, "Event").as_deref() == Some("template_card_event")) {
        let reply = reply.replace("{to}", &element(&xml, "FromUserName").unwrap());
        return inner.crypt.encrypt_msg(&reply, "1700000000", "43").unwrap().into_response();
    }
    if inner.reply && element(&xml, "MsgType").as_deref() == Some("text") {
        let from = element(&xml, "FromUserName").unwrap();
        let reply = format!(
            "<xml><ToUserName><![CDATA[{from}]]></ToUserName><FromUserName><![CDATA[{CORPID}]]></FromUserName><CreateTime>1</CreateTime>\
             <MsgType><![CDATA[text]]></MsgType><Content><![CDATA[you said: {}]]></Content></xml>",
            element(&xml, "Content").unwrap()
        );
        return inner.crypt.encrypt_msg(&reply, "1700000000", "42").unwrap().into_response();
    }
    "".into_response()
}

/// The text of the first `<name>` element (CDATA or plain).
pub fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    let v = &xml[start..end];
    Some(v.strip_prefix("<![CDATA[").and_then(|v| v.strip_suffix("]]>")).unwrap_or(v).to_string())
}

pub async fn put(s: &Server, path: &str, body: Value) -> (u16, Value) {
    s.control(reqwest::Method::PUT, path, Some(body)).await
}

pub async fn configure(s: &Server, owner: &str, r: &Receiver) {
    let (st, v) =
        put(s, &format!("/corps/{CORPID}/callbacks/{owner}"), json!({ "url": r.url, "token": TOKEN, "encodingaeskey": AES_KEY })).await;
    assert_eq!(st, 200, "{v}");
}

pub async fn deliveries(s: &Server, owner: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/corps/{CORPID}/callbacks/deliveries?owner={owner}")).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Waits until every delivery of `owner` has settled.
pub async fn settled(s: &Server, owner: &str, n: usize, secs: u64) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let d = deliveries(s, owner).await;
        if d.len() >= n && d.iter().all(|d| d["state"] != "pending") || start.elapsed() > Duration::from_secs(secs) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
