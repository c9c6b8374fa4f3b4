//! Every request's path through wecomd: decode the endpoint, establish the caller from the
//! credential the endpoint needs, let the API area answer, render in the caller's dialect.

use crate::auth::Caller;
use crate::limits::Slot;
use crate::multipart::BodyStream;
use crate::reply::{self, Failure};
use crate::{api, control, App};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use wecom_model::body;
use wecom_model::endpoint::{Credential, Method};
use wecom_model::{Dialect, Endpoint, Errcode};

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/cgi-bin/{*path}", any(cgi))
        .route("/media/img/{image_id}", axum::routing::get(api::media::image))
        .nest("/control", control::router(app.clone()))
        .fallback(|| async { reply::not_found() })
        .with_state(app)
}

/// The query string, decoded once. The first of repeated names wins.
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(form_urlencoded::parse(raw.unwrap_or("").as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One request as the API areas see it.
pub struct Request {
    pub endpoint: Endpoint,
    pub query: Query,
    pub ip: IpAddr,
    pub now: i64,
    /// The body of a POST endpoint, or `None` when it was over the limit.
    body: Option<Bytes>,
    /// The Content-Type header (multipart uploads name their boundary there).
    pub content_type: Option<String>,
    /// Every header: Host for the URLs wecomd hands out, Range for downloads.
    pub headers: HeaderMap,
    /// The body of an endpoint that streams it, until the handler takes it.
    upload: std::sync::Mutex<Option<BodyStream>>,
}

impl Request {
    /// The JSON body as `T`, with the caller's dialect's errcodes for what cannot be read.
    pub fn json<T: DeserializeOwned>(&self, dialect: Dialect) -> Result<T, Failure> {
        let body = self.body.as_ref().ok_or(Failure::new(Errcode::RequestBodyTooLarge, Some(dialect)))?;
        body::parse(body, dialect).map_err(|e| Failure::new(e, Some(dialect)))
    }

    /// The body of an endpoint that streams it, once.
    pub fn take_upload(&self) -> Option<BodyStream> {
        self.upload.lock().ok()?.take()
    }
}

/// What an endpoint answers: JSON fields in a dialect, or a file (media/get).
pub enum Outcome {
    Fields(Dialect, serde_json::Map<String, serde_json::Value>),
    File(Response),
}

async fn cgi(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(path): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(endpoint) = Endpoint::from_path(&path) else {
        return reply::not_found();
    };
    // Read before answering so a client is never cut off mid-upload; judged after the token.
    // Streamed uploads are read by a task that also drains what the handler leaves.
    let (body, upload) = match endpoint.spec().method {
        Method::Get => (Some(Bytes::new()), None),
        Method::Post if endpoint.streams_body() => (None, Some(BodyStream::spawn(body))),
        Method::Post => (axum::body::to_bytes(body, endpoint.body_limit()).await.ok(), None),
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let req = Request {
        endpoint,
        query: Query::parse(uri.query()),
        ip: peer.ip(),
        now: app.clock.now(),
        body,
        content_type,
        headers,
        upload: std::sync::Mutex::new(upload),
    };
    match handle(&app, &req).await {
        Ok(Outcome::Fields(dialect, fields)) => reply::success(endpoint, dialect, fields),
        Ok(Outcome::File(response)) => response,
        Err(f) => {
            if f.err.errcode == -1 {
                tracing::warn!(path = endpoint.path(), "answered system busy");
            }
            reply::failure(endpoint, f, req.now, req.ip)
        }
    }
}

async fn handle(app: &App, req: &Request) -> Result<Outcome, Failure> {
    app.limits.ip(req.ip, req.now).map_err(|e| Failure::new(e, None))?;
    let fields = match req.endpoint.spec().credential {
        Credential::CorpSecret => api::by_secret(app, req).await,
        Credential::AccessToken | Credential::ChatToken => {
            let (caller, _slot) = authorize(app, req).await?;
            if req.endpoint.changes_audience() {
                app.store.settle_fanouts(&caller.corpid, None, &|| true).await.map_err(crate::auth::internal)?;
            }
            if req.endpoint.answers_file() {
                return api::file_by_token(app, req, &caller).await.map(Outcome::File);
            }
            api::by_token(app, req, &caller).await
        }
        Credential::WebhookKey => {
            app.faults.apply(req.endpoint).await.map_err(|e| Failure::new(e, None))?;
            api::by_key(app, req).await
        }
    };
    fields.map(|(dialect, fields)| Outcome::Fields(dialect, fields))
}

/// Token, trusted IP, dialect, frequency and concurrency limits, injected faults: everything
/// between "a request arrived" and "the API area may answer" (wecom-api.md §1.11).
async fn authorize(app: &App, req: &Request) -> Result<(Caller, Slot), Failure> {
    let caller = app.auth.caller(&app.store, req.query.get("access_token"), req.ip, req.now).await?;
    let dialect = Some(caller.dialect());
    let fail = |e| Failure::new(e, dialect);
    if let Some(refusal) = req.endpoint.refusal(caller.dialect()) {
        return Err(fail(refusal));
    }
    if !req.endpoint.admits(caller.scope) {
        return Err(fail(Errcode::ApiForbidden));
    }
    let debug = req.query.get("debug").map(Cow::Borrowed) == Some(Cow::Borrowed("1"));
    app.limits.corp_api(&caller.corpid, req.endpoint, debug, req.now).map_err(fail)?;
    let slot = app.limits.enter(&caller.corpid, req.endpoint).map_err(fail)?;
    app.faults.apply(req.endpoint).await.map_err(|e| Failure::new(e, dialect))?;
    Ok((caller, slot))
}
