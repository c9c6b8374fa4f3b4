//! A minimal hello-world axum server: the baseline `bench/run.sh` compares wecomd against.
//! It answers gettoken and getcallbackip with fixed bodies and does no other work.
//!
//! Usage: `cargo run --release -p wecomd --example hello -- 127.0.0.1:0`

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::sync::LazyLock;

/// A 214-character token, the length wecomd issues by default.
static GETTOKEN: LazyLock<String> = LazyLock::new(|| {
    let token: String = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_".chars().cycle().take(214).collect();
    format!(r#"{{"errcode":0,"errmsg":"ok","access_token":"{token}","expires_in":7200}}"#)
});

const GETCALLBACKIP: &str = r#"{"ip_list":["127.0.0.1"],"errcode":0,"errmsg":"ok"}"#;

const JSON: [(header::HeaderName, &str); 1] = [(header::CONTENT_TYPE, "application/json; charset=UTF-8")];

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_string());
    let app = Router::new()
        .route("/cgi-bin/gettoken", get(|| async { (JSON, GETTOKEN.as_str()).into_response() }))
        .route("/cgi-bin/getcallbackip", get(|| async { (JSON, GETCALLBACKIP).into_response() }));
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap_or_else(|e| panic!("listen on {addr}: {e}"));
    println!("listening on http://{}", listener.local_addr().expect("bound address"));
    axum::serve(listener, app).await.expect("serve");
}
