//! Rendering, in one place: success bodies per dialect, errors with errcode/errmsg, HTTP 200 for
//! both (wecom-api.md §1.2–1.3).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::net::IpAddr;
use wecom_model::errcode::errmsg;
use wecom_model::{ApiError, Dialect, Endpoint};

/// A failed call and, when known, the dialect of the caller it failed for.
#[derive(Debug)]
pub struct Failure {
    pub err: ApiError,
    pub dialect: Option<Dialect>,
    /// Fields the error answer still carries (the invalid lists of tag member calls).
    pub fields: Map<String, Value>,
}

impl Failure {
    pub fn new(err: impl Into<ApiError>, dialect: Option<Dialect>) -> Self {
        Failure { err: err.into(), dialect, fields: Map::new() }
    }

    pub fn with_fields(mut self, fields: Map<String, Value>) -> Self {
        self.fields = fields;
        self
    }
}

pub fn success(endpoint: Endpoint, dialect: Dialect, mut fields: Map<String, Value>) -> Response {
    if endpoint.success_has_envelope(dialect) {
        fields.insert("errcode".into(), 0.into());
        // A view may set its own errmsg (企业号's partial tag results).
        fields.entry("errmsg").or_insert_with(|| endpoint.spec().success_errmsg.into());
    }
    json(&fields)
}

pub fn failure(endpoint: Endpoint, f: Failure, now: i64, ip: IpAddr) -> Response {
    let mut fields = endpoint.error_fields();
    fields.extend(f.fields);
    fields.insert("errcode".into(), f.err.errcode.into());
    fields.insert("errmsg".into(), errmsg(&f.err, f.dialect, now, ip).into());
    json(&fields)
}

pub fn json(body: &impl serde::Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|e| {
        tracing::error!("cannot serialise a response: {e}");
        br#"{"errcode":-1,"errmsg":"system busy"}"#.to_vec()
    });
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
    r
}

/// Unknown paths: HTTP 404 with an empty body (observed live).
pub fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}
