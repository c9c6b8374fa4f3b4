//! The control API (`/control/…`): the emulator's own surface for setting up corps, apps, secrets
//! and management groups, moving the clock, injecting faults and resetting. It speaks plain REST
//! with HTTP status codes; it is not part of the platform's API.

use crate::faults::Fault;
use crate::App;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use wecom_model::credential::{new_corpid, Scope};
use wecom_model::seed::{check_credential, AppSeed, CorpSeed, GroupSeed, Seed};
use wecom_store::{Origin, StoreError};

type State_ = State<Arc<App>>;

const SEED_LIMIT: usize = 512 * 1024 * 1024;

pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    let guarded = Router::new()
        .route("/corps", get(list_corps).post(create_corp))
        .route("/corps/{corpid}", get(corp))
        .route("/corps/{corpid}/apps", post(create_app))
        .route("/corps/{corpid}/groups", post(create_group))
        .route("/corps/{corpid}/secrets/{owner}/regenerate", post(regenerate_secret))
        .route("/corps/{corpid}/secrets/{owner}/trusted_ips", put(set_trusted_ips))
        .route("/corps/{corpid}/members/{userid}/login", post(login_member))
        .route("/corps/{corpid}/tags/{tagid}/lock", put(lock_tag))
        .route("/corps/{corpid}/events", get(events))
        // Seeds of large corps are large: a million members is about 110 MB of TOML.
        .route("/seed", post(seed).layer(DefaultBodyLimit::max(SEED_LIMIT)))
        .route("/reset", post(reset))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/corps/{corpid}/members/{userid}/inbox", get(inbox))
        .route("/corps/{corpid}/appchats/{chatid}/messages", get(appchat_messages))
        .layer(middleware::from_fn_with_state(app, admin_only));
    Router::new().route("/health", get(health)).merge(guarded)
}

/// The admin token is demanded whenever wecomd listens beyond loopback.
async fn admin_only(State(app): State_, req: Request, next: Next) -> Response {
    if app.config.require_admin_token {
        let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(app.config.admin_token.as_str()) {
            return problem(StatusCode::UNAUTHORIZED, "this control API needs 'Authorization: Bearer <admin token>'");
        }
    }
    next.run(req).await
}

fn problem(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

fn store_problem(e: StoreError) -> Response {
    match e {
        StoreError::Conflict(m) => problem(StatusCode::CONFLICT, m),
        StoreError::NotFound(m) => problem(StatusCode::NOT_FOUND, m),
        StoreError::Invalid(m) => problem(StatusCode::BAD_REQUEST, m),
        e => {
            tracing::error!("control: {e}");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "database error; see the server log")
        }
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| problem(StatusCode::BAD_REQUEST, format!("body: {e}")))
}

/// Fills a field the caller left out, then reads the body as the seed type it describes.
fn parse_with<T: DeserializeOwned>(body: &[u8], field: &str, fill: i64) -> Result<T, Response> {
    let mut v: Value = parse(body)?;
    if let Value::Object(m) = &mut v {
        m.entry(field).or_insert(fill.into());
    }
    serde_json::from_value(v).map_err(|e| problem(StatusCode::BAD_REQUEST, format!("body: {e}")))
}

fn owner(s: &str) -> Result<Scope, Response> {
    Scope::parse_owner_key(s)
        .ok_or_else(|| problem(StatusCode::NOT_FOUND, format!("{s:?} is not app:<agentid>, contact_sync or group:<groupid>")))
}

/// After anything that changes who a token stands for: drop this instance's cache and tell others.
async fn credentials_changed(app: &App) {
    app.auth.flush();
    if let Err(e) = app.store.notify("flush").await {
        tracing::error!("cannot tell other instances to flush: {e}");
    }
}

pub async fn on_notice(app: &App, notice: &str) {
    match notice {
        "flush" => app.auth.flush(),
        "clock" | "reset" | "reconnected" => {
            app.auth.flush();
            if notice == "reset" {
                app.limits.clear();
                app.faults.clear();
            }
            if let Err(e) = app.clock.reload(&app.store).await {
                tracing::error!("cannot reload the clock: {e}");
            }
        }
        other => tracing::warn!("unknown notice {other:?}"),
    }
}

async fn health(State(app): State_) -> Response {
    Json(json!({ "status": "ok", "backend": app.store.backend().name(), "version": env!("CARGO_PKG_VERSION") })).into_response()
}

async fn list_corps(State(app): State_) -> Response {
    match app.store.corps().await {
        Ok(corps) => Json(corps).into_response(),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCorp {
    corpid: Option<String>,
    name: String,
    contact_sync_secret: Option<String>,
    #[serde(default)]
    contact_sync_trusted_ips: Vec<String>,
}

async fn create_corp(State(app): State_, body: Bytes) -> Response {
    let new: NewCorp = match parse(&body) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let corp = CorpSeed {
        corpid: new.corpid.unwrap_or_else(new_corpid),
        name: new.name,
        contact_sync_secret: new.contact_sync_secret,
        contact_sync_trusted_ips: new.contact_sync_trusted_ips,
        app: vec![],
        group: vec![],
        department: vec![],
        member: vec![],
        tag: vec![],
    };
    if let Err(e) = (Seed { corp: vec![corp.clone()] }).check() {
        return problem(StatusCode::BAD_REQUEST, e.to_string());
    }
    match app.store.create_corp(&corp, app.clock.now()).await {
        Ok(()) => (StatusCode::CREATED, corp_view(&app, &corp.corpid).await).into_response(),
        Err(e) => store_problem(e),
    }
}

/// A corp with every secret holder and its secret: what a test needs to point clients at it.
async fn corp_view(app: &App, corpid: &str) -> Response {
    let view = async {
        let corp = app.store.corp(corpid).await?.ok_or_else(|| StoreError::NotFound(format!("no corp {corpid}")))?;
        let creds = app.store.credentials(corpid).await?;
        let secret_of =
            |scope: Scope| creds.iter().find(|c| c.scope == scope).map(|c| json!({ "secret": c.secret, "trusted_ips": c.trusted_ips }));
        let apps: Vec<Value> = app
            .store
            .apps(corpid)
            .await?
            .into_iter()
            .map(|a| {
                let mut v = json!(a);
                v["credential"] = secret_of(Scope::App { agentid: a.agentid }).into();
                v
            })
            .collect();
        let groups: Vec<Value> = app
            .store
            .groups(corpid)
            .await?
            .into_iter()
            .map(|g| {
                let mut v = json!(g);
                v["credential"] = secret_of(Scope::Group { groupid: g.groupid }).into();
                v
            })
            .collect();
        Ok::<_, StoreError>(json!({
            "corpid": corp.corpid,
            "name": corp.name,
            "created_at": corp.created_at,
            "contact_sync": secret_of(Scope::ContactSync),
            "apps": apps,
            "groups": groups,
        }))
    };
    match view.await {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_problem(e),
    }
}

async fn corp(State(app): State_, Path(corpid): Path<String>) -> Response {
    corp_view(&app, &corpid).await
}

async fn create_app(State(app): State_, Path(corpid): Path<String>, body: Bytes) -> Response {
    let next = match app.store.next_agentid(&corpid).await {
        Ok(n) => n,
        Err(e) => return store_problem(e),
    };
    let new: AppSeed = match parse_with(&body, "agentid", next) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if let Err(e) = new.check() {
        return problem(StatusCode::BAD_REQUEST, e);
    }
    match app.store.create_app(&corpid, &new, app.clock.now()).await {
        Ok(secret) => (StatusCode::CREATED, Json(json!({ "agentid": new.agentid, "secret": secret }))).into_response(),
        Err(e) => store_problem(e),
    }
}

async fn create_group(State(app): State_, Path(corpid): Path<String>, body: Bytes) -> Response {
    let next = match app.store.next_groupid(&corpid).await {
        Ok(n) => n,
        Err(e) => return store_problem(e),
    };
    let new: GroupSeed = match parse_with(&body, "groupid", next) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if let Err(e) = new.check() {
        return problem(StatusCode::BAD_REQUEST, e);
    }
    match app.store.create_group(&corpid, &new, app.clock.now()).await {
        Ok(secret) => (StatusCode::CREATED, Json(json!({ "groupid": new.groupid, "secret": secret }))).into_response(),
        Err(e) => store_problem(e),
    }
}

async fn regenerate_secret(State(app): State_, Path((corpid, owner_key)): Path<(String, String)>) -> Response {
    let scope = match owner(&owner_key) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match app.store.regenerate_secret(&corpid, scope).await {
        Ok(secret) => {
            credentials_changed(&app).await;
            Json(json!({ "secret": secret })).into_response()
        }
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedIps {
    trusted_ips: Vec<String>,
}

async fn set_trusted_ips(State(app): State_, Path((corpid, owner_key)): Path<(String, String)>, body: Bytes) -> Response {
    let scope = match owner(&owner_key) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !scope.has_trusted_ips() {
        return problem(StatusCode::BAD_REQUEST, "management groups (企业号) have no trusted-IP list");
    }
    let body: TrustedIps = match parse(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(e) = check_credential(None, &body.trusted_ips) {
        return problem(StatusCode::BAD_REQUEST, e);
    }
    match app.store.set_trusted_ips(&corpid, scope, &body.trusted_ips).await {
        Ok(()) => {
            credentials_changed(&app).await;
            Json(json!({ "trusted_ips": body.trusted_ips })).into_response()
        }
        Err(e) => store_problem(e),
    }
}

/// Member action: the member logs in to WeCom (activates; the mobile is frozen from then on).
async fn login_member(State(app): State_, Path((corpid, userid)): Path<(String, String)>) -> Response {
    match app.store.login_member(&corpid, &userid, Origin::Control, app.clock.now()).await {
        Ok(()) => Json(json!({ "userid": userid, "status": 1 })).into_response(),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lock {
    locked: bool,
}

async fn lock_tag(State(app): State_, Path((corpid, tagid)): Path<(String, i64)>, body: Bytes) -> Response {
    let Lock { locked } = match parse(&body) {
        Ok(l) => l,
        Err(r) => return r,
    };
    match app.store.set_tag_locked(&corpid, tagid, locked).await {
        Ok(()) => Json(json!({ "tagid": tagid, "locked": locked })).into_response(),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

/// The events recorded for a corp (the outbox), oldest first; `?after=SEQ` for newer ones.
async fn events(State(app): State_, Path(corpid): Path<String>, Query(After { after }): Query<After>) -> Response {
    match app.store.events(&corpid, after).await {
        Ok(events) => Json(events).into_response(),
        Err(e) => store_problem(e),
    }
}

/// The body is a seed file (TOML).
async fn seed(State(app): State_, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return problem(StatusCode::BAD_REQUEST, "a seed is UTF-8 TOML");
    };
    let seed = match Seed::from_toml(text) {
        Ok(s) => s,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match app.store.apply_seed(&seed, app.clock.now()).await {
        Ok(()) => {
            credentials_changed(&app).await;
            Json(json!({ "corps": seed.corp.iter().map(|c| &c.corpid).collect::<Vec<_>>() })).into_response()
        }
        Err(e) => store_problem(e),
    }
}

async fn reset(State(app): State_) -> Response {
    if let Err(e) = app.store.reset(&[crate::Clock::STORED_KEY]).await {
        return store_problem(e);
    }
    app.clock.clear();
    app.auth.flush();
    app.limits.clear();
    app.faults.clear();
    if let Err(e) = app.store.notify("reset").await {
        tracing::error!("cannot tell other instances about the reset: {e}");
    }
    Json(json!({ "reset": true })).into_response()
}

async fn clock(State(app): State_) -> Response {
    Json(json!({ "now": app.clock.now(), "offset": app.clock.offset() })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(State(app): State_, body: Bytes) -> Response {
    let Advance { seconds } = match parse(&body) {
        Ok(a) => a,
        Err(r) => return r,
    };
    if seconds <= 0 {
        return problem(StatusCode::BAD_REQUEST, "the clock only moves forward: seconds must be positive");
    }
    if let Err(e) = app.clock.advance(&app.store, seconds).await {
        return store_problem(e);
    }
    app.auth.flush();
    if let Err(e) = app.store.notify("clock").await {
        tracing::error!("cannot tell other instances about the clock: {e}");
    }
    clock(State(app)).await
}

async fn faults(State(app): State_) -> Response {
    Json(app.faults.pending()).into_response()
}

async fn add_fault(State(app): State_, body: Bytes) -> Response {
    let fault: Fault = match parse(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if fault.count == 0 {
        return problem(StatusCode::BAD_REQUEST, "count must be at least 1");
    }
    if let Some(p) = fault.path.as_deref().filter(|p| wecom_model::Endpoint::from_path(p).is_none()) {
        return problem(StatusCode::BAD_REQUEST, format!("wecomd serves no /cgi-bin/{p}"));
    }
    app.faults.add(fault);
    (StatusCode::CREATED, Json(app.faults.pending())).into_response()
}

async fn clear_faults(State(app): State_) -> Response {
    app.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// What a member received, oldest first: each message as the member sees it (recalled flag, the
/// card after update_template_card), from WeCom apps, 企业号 apps and appchats alike.
async fn inbox(State(app): State_, Path((corpid, userid)): Path<(String, String)>) -> Response {
    let found = async {
        app.store.member(&corpid, &userid).await?.ok_or_else(|| StoreError::NotFound(format!("no member {userid} in corp {corpid}")))?;
        app.store.inbox(&corpid, &userid).await
    };
    match found.await {
        Ok(items) => Json(items).into_response(),
        Err(e) => store_problem(e),
    }
}

/// The messages apps sent to an appchat, oldest first.
async fn appchat_messages(State(app): State_, Path((corpid, chatid)): Path<(String, String)>) -> Response {
    let found = async {
        app.store.appchat(&corpid, &chatid).await?.ok_or_else(|| StoreError::NotFound(format!("no appchat {chatid} in corp {corpid}")))?;
        app.store.chat_messages(&corpid, &chatid).await
    };
    match found.await {
        Ok(messages) => Json(messages).into_response(),
        Err(e) => store_problem(e),
    }
}
