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
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use wecom_model::agent::AttributeChange;
use wecom_model::callback::{
    event_push, message_push, AppState, MemberEvent, MemberMessage, Owner as CallbackOwner, Settings as CallbackSettings,
};
use wecom_model::chat::{Receiver, ReceiverKind};
use wecom_model::credential::{new_corpid, Scope};
use wecom_model::removed::{new_card_code, new_shake_ticket, Kf, Shake, SHAKE_TICKET_SECS};
use wecom_model::seed::{check_credential, AppSeed, CorpSeed, GroupSeed, Seed};
use wecom_model::user::{self, MemberBody};
use wecom_model::webhook::ChatKind;
use wecom_model::ApiError;
use wecom_store::{CardClick, Origin, Sender, Stock, StoreError};

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
        .route("/corps/{corpid}/callbacks", get(callbacks))
        .route("/corps/{corpid}/callbacks/deliveries", get(deliveries))
        .route("/corps/{corpid}/callbacks/{owner}", get(callback).put(set_callback).delete(delete_callback))
        .route("/corps/{corpid}/members/{userid}/apps/{agentid}/events", post(member_event))
        .route("/corps/{corpid}/members/{userid}/apps/{agentid}/messages", post(member_message))
        .route("/corps/{corpid}/members/join", post(join_member))
        .route("/corps/{corpid}/members/{userid}/leave", post(leave_member))
        .route("/corps/{corpid}/contact_sync/read_ips", put(set_read_ips))
        .route("/corps/{corpid}/groups/{groupid}/get_tag_members", put(set_get_tag_members))
        // Seeds of large corps are large: a million members is about 110 MB of TOML.
        .route("/seed", post(seed).layer(DefaultBodyLimit::max(SEED_LIMIT)))
        .route("/reset", post(reset))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/corps/{corpid}/apps/{agentid}", patch(change_app))
        .route("/corps/{corpid}/kf", put(set_kf))
        .route("/corps/{corpid}/kf/messages", get(kf_messages))
        .route("/corps/{corpid}/shakes", post(shake))
        .route("/corps/{corpid}/cards/{card_id}/codes", post(receive_card))
        .route("/corps/{corpid}/members/{userid}/inbox", get(inbox))
        .route("/fanouts", get(fanouts).put(set_fanouts))
        .route("/batch", get(batch_jobs).put(set_batch_jobs))
        .route("/corps/{corpid}/appchats/{chatid}/messages", get(appchat_messages))
        .route("/corps/{corpid}/chat", post(enable_chat))
        .route("/corps/{corpid}/chats", get(chats))
        .route("/corps/{corpid}/chats/{chatid}/messages", get(chat_messages).post(member_says))
        .route("/corps/{corpid}/single_chats/{userid}/messages", get(single_chat_messages))
        .route("/corps/{corpid}/robots", get(robots).post(create_robot))
        .route("/corps/{corpid}/robots/{key}", put(set_robot).delete(delete_robot))
        .route("/corps/{corpid}/robots/{key}/messages", get(robot_messages))
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

/// A store read answered as JSON, or its failure as a problem.
fn answer<T: serde::Serialize>(r: Result<T, StoreError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => store_problem(e),
    }
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

/// A request the control API refuses before doing anything: its status and why. Kept apart from
/// `Response` so that refusing helpers return something small.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        problem(self.0, self.1)
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refused> {
    serde_json::from_slice(body).map_err(|e| Refused(StatusCode::BAD_REQUEST, format!("body: {e}")))
}

/// Fills a field the caller left out, then reads the body as the seed type it describes.
fn parse_with<T: DeserializeOwned>(body: &[u8], field: &str, fill: i64) -> Result<T, Refused> {
    let mut v: Value = parse(body)?;
    if let Value::Object(m) = &mut v {
        m.entry(field).or_insert(fill.into());
    }
    serde_json::from_value(v).map_err(|e| Refused(StatusCode::BAD_REQUEST, format!("body: {e}")))
}

fn owner(s: &str) -> Result<Scope, Refused> {
    Scope::parse_owner_key(s)
        .ok_or_else(|| Refused(StatusCode::NOT_FOUND, format!("{s:?} is not app:<agentid>, contact_sync or group:<groupid>")))
}

/// After anything that changes who a token stands for: drop this instance's cache and tell others.
pub(crate) async fn credentials_changed(app: &App) {
    app.auth.flush();
    app.directories.forget();
    if let Err(e) = app.store.notify("flush").await {
        tracing::error!("cannot tell other instances to flush: {e}");
    }
}

pub async fn on_notice(app: &App, notice: &str) {
    match notice {
        "flush" => {
            app.auth.flush();
            app.directories.forget();
        }
        "clock" | "reset" | "reconnected" => {
            app.auth.flush();
            app.directories.forget();
            if notice == "reset" {
                app.limits.clear();
                app.faults.clear();
                app.fanouts.set_paused(false);
                app.jobs.switch.set_paused(false);
            }
            if let Err(e) = app.clock.reload(&app.store).await {
                tracing::error!("cannot reload the clock: {e}");
            }
        }
        "ranges" => app.auth.forget_ranges(),
        "directory" => app.directories.forget(),
        other => tracing::warn!("unknown notice {other:?}"),
    }
}

async fn health(State(app): State_) -> Response {
    Json(json!({ "status": "ok", "backend": app.store.backend().name(), "version": env!("CARGO_PKG_VERSION") })).into_response()
}

async fn list_corps(State(app): State_) -> Response {
    answer(app.store.corps().await)
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
        Err(p) => return p.into_response(),
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
        kf: None,
        chat_secret: None,
        contact_sync_read_ips: None,
        callback: vec![],
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
        let read_ips = app.store.contact_sync_read_ips(corpid).await?;
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
            "chat": secret_of(Scope::Chat),
            "contact_sync_read_ips": read_ips,
            "apps": apps,
            "groups": groups,
        }))
    };
    answer(view.await)
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
        Err(p) => return p.into_response(),
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
        Err(p) => return p.into_response(),
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
        Err(p) => return p.into_response(),
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
        Err(p) => return p.into_response(),
    };
    if !scope.has_trusted_ips() {
        return problem(StatusCode::BAD_REQUEST, "management groups (企业号) have no trusted-IP list");
    }
    let body: TrustedIps = match parse(&body) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
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
        Err(p) => return p.into_response(),
    };
    match app.store.set_tag_locked(&corpid, tagid, locked).await {
        Ok(()) => {
            crate::directory::directory_changed(&app).await;
            Json(json!({ "tagid": tagid, "locked": locked })).into_response()
        }
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadIps {
    read_ips: Option<Vec<String>>,
}

/// The IPs the contacts-sync secret read contact details from before 2022-08-15 (others get 48009
/// on user/list, user/simplelist, department/list); `null`: the corp predates that rule.
async fn set_read_ips(State(app): State_, Path(corpid): Path<String>, body: Bytes) -> Response {
    let ReadIps { read_ips } = match parse(&body) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    if let Err(e) = check_credential(None, read_ips.as_deref().unwrap_or_default()) {
        return problem(StatusCode::BAD_REQUEST, e);
    }
    match app.store.set_contact_sync_read_ips(&corpid, read_ips.as_deref()).await {
        Ok(()) => {
            credentials_changed(&app).await;
            Json(json!({ "read_ips": read_ips })).into_response()
        }
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Switch {
    enabled: bool,
}

/// A 管理组's 接口权限 "获取标签成员": without it, tag/get answers 48002.
async fn set_get_tag_members(State(app): State_, Path((corpid, groupid)): Path<(String, i64)>, body: Bytes) -> Response {
    let Switch { enabled } = match parse(&body) {
        Ok(s) => s,
        Err(p) => return p.into_response(),
    };
    match app.store.set_group_get_tag_members(&corpid, groupid, enabled).await {
        Ok(()) => Json(json!({ "groupid": groupid, "get_tag_members": enabled })).into_response(),
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
    answer(app.store.events(&corpid, after).await)
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
    app.directories.forget();
    app.limits.clear();
    app.faults.clear();
    app.fanouts.set_paused(false);
    app.jobs.switch.set_paused(false);
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
        Err(p) => return p.into_response(),
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
        Err(p) => return p.into_response(),
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

/// Turns on the legacy chat service (企业会话服务): the corp's chat secret, made once and kept.
async fn enable_chat(State(app): State_, Path(corpid): Path<String>) -> Response {
    match app.store.enable_chat_service(&corpid, app.clock.now()).await {
        Ok(secret) => {
            credentials_changed(&app).await;
            (StatusCode::CREATED, Json(json!({ "secret": secret }))).into_response()
        }
        Err(e) => store_problem(e),
    }
}

/// The corp's chats (legacy chat service) and the members who muted them.
async fn chats(State(app): State_, Path(corpid): Path<String>) -> Response {
    let view = async { Ok::<_, StoreError>(json!({ "chats": app.store.chats(&corpid).await?, "muted": app.store.muted(&corpid).await? })) };
    answer(view.await)
}

/// Everything said in a group chat, oldest first: chat/send, members, robots.
async fn chat_messages(State(app): State_, Path((corpid, chatid)): Path<(String, String)>) -> Response {
    answer(app.store.chat_messages(&corpid, &Receiver { kind: ReceiverKind::Group, id: chatid }).await)
}

/// What chat/send sent a member in single (one-to-one) chats.
async fn single_chat_messages(State(app): State_, Path((corpid, userid)): Path<(String, String)>) -> Response {
    answer(app.store.chat_messages(&corpid, &Receiver { kind: ReceiverKind::Single, id: userid }).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberSays {
    sender: String,
    content: String,
}

/// Member action: a member of the chat types a text in it. The platform pushed such messages to
/// the chat callback as a package, recorded in the events.
async fn member_says(State(app): State_, Path((corpid, chatid)): Path<(String, String)>, body: Bytes) -> Response {
    let MemberSays { sender, content } = match parse(&body) {
        Ok(m) => m,
        Err(p) => return p.into_response(),
    };
    if content.is_empty() || content.len() > wecom_model::chat::TEXT_MAX_BYTES {
        return problem(StatusCode::BAD_REQUEST, "content is 1 to 2048 bytes");
    }
    match app.store.member_says(&corpid, &chatid, &sender, &content, app.clock.now()).await {
        Ok(Ok((msgid, package_id))) => (StatusCode::CREATED, Json(json!({ "msgid": msgid, "package_id": package_id }))).into_response(),
        Ok(Err(wecom_model::Errcode::ChatidNotFound)) => problem(StatusCode::NOT_FOUND, format!("corp {corpid} has no chat {chatid}")),
        Ok(Err(e)) => problem(StatusCode::BAD_REQUEST, format!("{sender} cannot speak in chat {chatid}: {}", e.text())),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRobot {
    chatid: String,
    #[serde(default)]
    kind: ChatKind,
    #[serde(default)]
    name: String,
}

/// A group robot added to a chat (`kind` `chat`, the default, or `appchat`: an appchat of the
/// corp's); its key is its webhook credential.
async fn create_robot(State(app): State_, Path(corpid): Path<String>, body: Bytes) -> Response {
    let NewRobot { chatid, kind, name } = match parse(&body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    if chatid.is_empty() {
        return problem(StatusCode::BAD_REQUEST, "a robot belongs to a chat: chatid is required");
    }
    match app.store.create_robot(&corpid, &chatid, kind, &name, app.clock.now()).await {
        Ok(robot) => {
            let mut v = json!(robot);
            v["webhook_path"] = wecom_model::webhook::webhook_path(&robot.key).into();
            (StatusCode::CREATED, Json(v)).into_response()
        }
        Err(e) => store_problem(e),
    }
}

async fn robots(State(app): State_, Path(corpid): Path<String>) -> Response {
    answer(app.store.robots(&corpid).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RobotState {
    enabled: bool,
}

/// Turns a robot off (its sends answer 93004) or on again.
async fn set_robot(State(app): State_, Path((corpid, key)): Path<(String, String)>, body: Bytes) -> Response {
    let RobotState { enabled } = match parse(&body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    match app.store.set_robot_enabled(&corpid, &key, enabled).await {
        Ok(()) => Json(json!({ "key": key, "enabled": enabled })).into_response(),
        Err(e) => store_problem(e),
    }
}

/// Removes a robot from its chat: its key answers 93000 from then on.
async fn delete_robot(State(app): State_, Path((corpid, key)): Path<(String, String)>) -> Response {
    match app.store.delete_robot(&corpid, &key).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_problem(e),
    }
}

/// What a robot said, oldest first, each as its chat's message list shows it. A removed robot's
/// messages stay in its chat's list (for an appchat robot, only there).
async fn robot_messages(State(app): State_, Path((corpid, key)): Path<(String, String)>) -> Response {
    match app.store.robot(&key).await {
        Ok(Some(robot)) if robot.corpid == corpid && robot.kind == ChatKind::AppChat => {
            answer(app.store.appchat_messages(&corpid, &robot.chatid, Some(Sender::Robot(&key))).await)
        }
        Ok(_) => answer(app.store.robot_messages(&corpid, &key).await),
        Err(e) => store_problem(e),
    }
}

/// Member action: someone joins the corp by itself (an invitation link or QR code) with a
/// user/create body without userid: the platform makes up the userid (which user/update may then
/// change once, new_userid) and the member is active.
async fn join_member(State(app): State_, Path(corpid): Path<String>, body: Bytes) -> Response {
    let body: MemberBody = match parse(&body) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    let refused = |e: ApiError| problem(StatusCode::BAD_REQUEST, format!("{} {}", e.errcode, e.text));
    let m = match user::joined(body) {
        Ok(m) => m,
        Err(e) => return refused(e),
    };
    // A new member must not join an @all sent before it joined.
    if let Err(e) = app.store.settle_fanouts(&corpid, None, &|| true).await {
        return store_problem(e);
    }
    match app.store.create_member(&corpid, &m, Origin::Control, &user::created_event(&m), app.clock.now()).await {
        Ok(Ok(())) => (StatusCode::CREATED, Json(json!({ "userid": m.userid }))).into_response(),
        Ok(Err(e)) => refused(e),
        Err(e) => store_problem(e),
    }
}

/// Member action: the member leaves the corp (退出企业): WeCom shows status 5.
async fn leave_member(State(app): State_, Path((corpid, userid)): Path<(String, String)>) -> Response {
    match app.store.leave_member(&corpid, &userid, Origin::Control, app.clock.now()).await {
        Ok(()) => Json(json!({ "userid": userid, "status": 5 })).into_response(),
        Err(e) => store_problem(e),
    }
}

/// Changes an app's attributes (name, description, type, home_url, logo, flags, close) as a seed
/// would; what is left out stays.
async fn change_app(State(app): State_, Path((corpid, agentid)): Path<(String, i64)>, body: Bytes) -> Response {
    let change: AttributeChange = match parse(&body) {
        Ok(c) => c,
        Err(p) => return p.into_response(),
    };
    if let Err(e) = change.check() {
        return problem(StatusCode::BAD_REQUEST, e);
    }
    let changed = app.store.change_agent(&corpid, agentid, &change).await;
    if matches!(changed, Ok(true)) {
        // `close` decides whether the app's secret and tokens still work.
        credentials_changed(&app).await;
    }
    match changed {
        Ok(true) => match app.store.agent(&corpid, agentid).await {
            Ok(Some(a)) => Json(json!({ "agentid": a.agentid, "name": a.name, "description": a.description, "attributes": a.attributes }))
                .into_response(),
            Ok(None) => problem(StatusCode::NOT_FOUND, format!("no app {agentid} in corp {corpid}")),
            Err(e) => store_problem(e),
        },
        Ok(false) => problem(StatusCode::NOT_FOUND, format!("no app {agentid} in corp {corpid}")),
        Err(e) => store_problem(e),
    }
}

/// The corp's 企业客服 (kf/list, kf/send), replaced as a whole.
async fn set_kf(State(app): State_, Path(corpid): Path<String>, body: Bytes) -> Response {
    let kf: Kf = match parse(&body) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    if let Err(e) = app.store.corp(&corpid).await.and_then(|c| c.ok_or_else(|| StoreError::NotFound(format!("no corp {corpid}")))) {
        return store_problem(e);
    }
    match app.store.set_kf(&corpid, &kf).await {
        Ok(()) => Json(kf).into_response(),
        Err(e) => store_problem(e),
    }
}

/// Every kf/send of the corp, oldest first.
async fn kf_messages(State(app): State_, Path(corpid): Path<String>) -> Response {
    answer(app.store.kf_messages(&corpid).await)
}

/// Member action: a member shakes near a beacon; the answer is the ticket the shake page's URL
/// carries, for shakearound/getshakeinfo within 30 minutes.
async fn shake(State(app): State_, Path(corpid): Path<String>, body: Bytes) -> Response {
    let shake: Shake = match parse(&body) {
        Ok(s) => s,
        Err(p) => return p.into_response(),
    };
    match app.store.member(&corpid, &shake.userid).await {
        Ok(Some(_)) => {}
        Ok(None) => return problem(StatusCode::NOT_FOUND, format!("no member {} in corp {corpid}", shake.userid)),
        Err(e) => return store_problem(e),
    }
    let ticket = new_shake_ticket();
    match app.store.add_shake(&corpid, &ticket, &shake, app.clock.now()).await {
        Ok(()) => (StatusCode::CREATED, Json(json!({ "ticket": ticket, "expires_in": SHAKE_TICKET_SECS }))).into_response(),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Receiving {
    userid: String,
}

/// Member action: a member receives (领取) one of a card's stock, as scanning its QR code or the
/// JS-SDK's addCard would give it; the answer is the code card/code/* take.
async fn receive_card(State(app): State_, Path((corpid, card_id)): Path<(String, String)>, body: Bytes) -> Response {
    let Receiving { userid } = match parse(&body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let given = async {
        let member = app
            .store
            .member(&corpid, &userid)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no member {userid} in corp {corpid}")))?;
        let openid = app.store.openid(&corpid, &member.userid, 0).await?;
        let code = new_card_code();
        Ok::<_, StoreError>((app.store.give_card(&corpid, &card_id, &code, &member.userid, &openid, app.clock.now()).await?, code, openid))
    };
    match given.await {
        Ok((Stock::Changed, code, openid)) => {
            (StatusCode::CREATED, Json(json!({ "card_id": card_id, "code": code, "openid": openid, "userid": userid }))).into_response()
        }
        Ok((Stock::Unknown, ..)) => problem(StatusCode::NOT_FOUND, format!("no card {card_id} in corp {corpid}")),
        Ok((Stock::TooLow, ..)) => problem(StatusCode::CONFLICT, format!("card {card_id} is out of stock")),
        Err(e) => store_problem(e),
    }
}

/// What a member received, oldest first: each message as the member sees it (recalled flag, the
/// card after update_template_card), from WeCom apps, 企业号 apps and appchats alike.
async fn inbox(State(app): State_, Path((corpid, userid)): Path<(String, String)>) -> Response {
    let found = async {
        app.store.member(&corpid, &userid).await?.ok_or_else(|| StoreError::NotFound(format!("no member {userid} in corp {corpid}")))?;
        app.store.inbox(&corpid, &userid).await
    };
    answer(found.await)
}

/// @all messages whose recipient rows are still being written, and whether this instance's
/// fan-out worker is paused.
async fn fanouts(State(app): State_) -> Response {
    let view = async { Ok::<_, StoreError>(json!({ "paused": app.fanouts.paused(), "pending": app.store.fanouts().await? })) };
    answer(view.await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Paused {
    paused: bool,
}

/// Pauses or resumes this instance's fan-out worker (between batches). Reads that show recipients
/// still finish pending fan-outs themselves, so pausing changes when rows are written, not what
/// anyone sees; it lets a test catch a fan-out half-way.
async fn set_fanouts(State(app): State_, body: Bytes) -> Response {
    let Paused { paused } = match parse(&body) {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
    app.fanouts.set_paused(paused);
    fanouts(State(app)).await
}

/// Unfinished batch jobs of every corp, and whether this instance's job worker is paused.
async fn batch_jobs(State(app): State_) -> Response {
    match app.store.unfinished_batch_jobs().await {
        Ok(jobs) => Json(json!({ "paused": app.jobs.switch.paused(), "pending": jobs })).into_response(),
        Err(e) => store_problem(e),
    }
}

/// Pauses or resumes this instance's batch job worker (between steps, per instance, not stored):
/// a test catches a job half-way, or changes the directory before a job runs.
async fn set_batch_jobs(State(app): State_, body: Bytes) -> Response {
    let Paused { paused } = match parse(&body) {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
    app.jobs.switch.set_paused(paused);
    batch_jobs(State(app)).await
}

/// The messages apps sent to an appchat, oldest first.
async fn appchat_messages(State(app): State_, Path((corpid, chatid)): Path<(String, String)>) -> Response {
    let found = async {
        app.store.appchat(&corpid, &chatid).await?.ok_or_else(|| StoreError::NotFound(format!("no appchat {chatid} in corp {corpid}")))?;
        app.store.appchat_messages(&corpid, &chatid, None).await
    };
    answer(found.await)
}

fn callback_owner(s: &str) -> Result<CallbackOwner, Refused> {
    CallbackOwner::parse(s).ok_or_else(|| Refused(StatusCode::NOT_FOUND, format!("{s:?} is not app:<agentid>, contact_sync or chat")))
}

/// The corp's callback receivers.
async fn callbacks(State(app): State_, Path(corpid): Path<String>) -> Response {
    answer(app.store.callbacks(&corpid).await)
}

async fn callback(State(app): State_, Path((corpid, owner)): Path<(String, String)>) -> Response {
    let owner = match callback_owner(&owner) {
        Ok(o) => o,
        Err(p) => return p.into_response(),
    };
    match app.store.callback(&corpid, owner).await {
        Ok(Some(c)) => Json(c).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, format!("corp {corpid} has no callback for {}", owner.key())),
        Err(e) => store_problem(e),
    }
}

/// Saves a receiver as the admin console does: the URL must pass the platform's verification
/// (wecom-api.md §10.3) first; a failure is refused with its reason and errcode 40057.
async fn set_callback(State(app): State_, Path((corpid, owner)): Path<(String, String)>, body: Bytes) -> Response {
    let owner = match callback_owner(&owner) {
        Ok(o) => o,
        Err(p) => return p.into_response(),
    };
    let settings: CallbackSettings = match parse(&body) {
        Ok(s) => s,
        Err(p) => return p.into_response(),
    };
    if let Err(e) = settings.check() {
        return problem(StatusCode::BAD_REQUEST, e);
    }
    if let Err(e) = app.store.check_callback_owner(&corpid, owner).await {
        return store_problem(e);
    }
    if let Err(reason) = crate::callback::verify(&app, &corpid, &settings).await {
        let code = wecom_model::Errcode::InvalidCallbackUrl;
        let body = json!({ "error": format!("URL verification failed: {reason}"), "errcode": code.code(), "errmsg": code.text() });
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    match app.store.set_callback(&corpid, owner, &settings, app.clock.now()).await {
        Ok(c) => Json(c).into_response(),
        Err(e) => store_problem(e),
    }
}

async fn delete_callback(State(app): State_, Path((corpid, owner)): Path<(String, String)>) -> Response {
    let owner = match callback_owner(&owner) {
        Ok(o) => o,
        Err(p) => return p.into_response(),
    };
    match app.store.delete_callback(&corpid, owner).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
struct DeliveryFilter {
    owner: Option<String>,
}

/// Every push of the corp's events: per delivery the decrypted request, its state and every
/// attempt (time, latency, HTTP status, error, the receiver's answer and opened reply).
async fn deliveries(State(app): State_, Path(corpid): Path<String>, Query(f): Query<DeliveryFilter>) -> Response {
    let owner = match f.owner.as_deref().map(callback_owner).transpose() {
        Ok(o) => o,
        Err(p) => return p.into_response(),
    };
    answer(app.store.deliveries(&corpid, owner).await)
}

/// The member and the app of a member action: both exist and the app's range sees the member.
async fn member_in_app(app: &App, corpid: &str, userid: &str, agentid: i64) -> Result<(String, wecom_model::agent::Agent), Response> {
    let found = async {
        let place = app
            .store
            .member_place(corpid, userid)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no member {userid} in corp {corpid}")))?;
        let row =
            app.store.app(corpid, agentid).await?.ok_or_else(|| StoreError::NotFound(format!("no app {agentid} in corp {corpid}")))?;
        let agent =
            app.store.agent(corpid, agentid).await?.ok_or_else(|| StoreError::NotFound(format!("no app {agentid} in corp {corpid}")))?;
        Ok::<_, StoreError>((place, row, agent))
    };
    let (place, row, agent) = found.await.map_err(store_problem)?;
    if !crate::auth::app_range(&row).sees(&place) {
        return Err(problem(StatusCode::FORBIDDEN, format!("{userid} is outside app {agentid}'s visible range")));
    }
    Ok((place.userid, agent))
}

/// Records a member's push (a card click's with the response_code it carries, which the answer
/// shows) and wakes the delivery worker.
async fn record_push(app: &App, corpid: &str, push: &wecom_model::callback::MemberPush, click: Option<CardClick<'_>>) -> Response {
    match app.store.record_member_push(corpid, push, click.as_ref(), app.clock.now()).await {
        Ok(seq) => {
            app.deliverer.wake();
            let mut answer = json!({ "pushed": true, "seq": seq, "msgid": push.msgid() });
            if let Some(c) = click {
                answer["response_code"] = c.response_code.into();
            }
            (StatusCode::CREATED, Json(answer)).into_response()
        }
        Err(e) => store_problem(e),
    }
}

/// Member action: an event in an app (subscribe, unsubscribe, enter_agent, LOCATION, a menu
/// button: click, view, mini-program, scan, pictures, location; a template card button). Events
/// the app does not ask for are not pushed.
async fn member_event(State(app): State_, Path((corpid, userid, agentid)): Path<(String, String, i64)>, body: Bytes) -> Response {
    let event: MemberEvent = match parse(&body) {
        Ok(e) => e,
        Err(p) => return p.into_response(),
    };
    let (userid, agent) = match member_in_app(&app, &corpid, &userid, agentid).await {
        Ok(m) => m,
        Err(p) => return p.into_response(),
    };
    let loaded = async {
        let menu = app.store.menu(&corpid, agentid).await?;
        let card = match &event {
            MemberEvent::TemplateCardEvent { msgid, .. } => app.store.clicked_card(&corpid, agentid, msgid, &userid).await?,
            _ => None,
        };
        Ok::<_, StoreError>((menu, card))
    };
    let (menu, card) = match loaded.await {
        Ok(l) => l,
        Err(e) => return store_problem(e),
    };
    let state = AppState {
        report_location: agent.attributes.report_location_flag > 0,
        report_enter: agent.attributes.isreportenter,
        menu: menu.as_ref(),
        card: card.as_ref().map(|(_, c)| c),
    };
    match event_push(agentid, &userid, &event, &state) {
        Ok(Some(push)) => {
            let click = card.as_ref().map(|(seq, c)| CardClick { seq: *seq, userid: &userid, response_code: &c.response_code });
            record_push(&app, &corpid, &push, click).await
        }
        Ok(None) => Json(json!({ "pushed": false, "reason": format!("app {agentid} does not report this event (isreportenter / report_location_flag)") })).into_response(),
        Err(e) => problem(StatusCode::BAD_REQUEST, e),
    }
}

/// Member action: the member sends the app a message (text, image, voice, video, location, link).
async fn member_message(State(app): State_, Path((corpid, userid, agentid)): Path<(String, String, i64)>, body: Bytes) -> Response {
    let message: MemberMessage = match parse(&body) {
        Ok(m) => m,
        Err(p) => return p.into_response(),
    };
    let userid = match member_in_app(&app, &corpid, &userid, agentid).await {
        Ok((u, _)) => u,
        Err(p) => return p.into_response(),
    };
    match message_push(agentid, &userid, &message) {
        Ok(push) => record_push(&app, &corpid, &push, None).await,
        Err(e) => problem(StatusCode::BAD_REQUEST, e),
    }
}
