//! Callbacks, the IO half (wecom-api.md §10): URL verification when a receiver is saved, and the
//! worker that pushes the outbox's events. Which receiver gets what, the XML and the retry policy
//! are `wecom_model::callback`'s; claiming and logging deliveries is the store's.

use crate::App;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use wecom_crypto::MsgCrypt;
use wecom_model::callback::{self, Answer, Owner, Settings};
use wecom_model::credential::Scope;
use wecom_model::message::check_card_update;
use wecom_store::{Attempt, Audience, Claimed, Directory, NewMessage, Sender, Settle, StoreError};

/// A delivery is held this long by the worker that claimed it: the 5 s push timeout plus room
/// to handle the reply. After a crash, another worker (or the restarted one) takes it over.
const LEASE_MS: i64 = 15_000;
/// How often the worker looks for work when nothing woke it.
const POLL: Duration = Duration::from_millis(100);
/// Deliveries (one per receiver) claimed per pass.
const CLAIM: i64 = 64;

pub(crate) struct Deliverer {
    wake: Notify,
}

impl Deliverer {
    pub fn new() -> Deliverer {
        Deliverer { wake: Notify::new() }
    }

    /// Something to deliver may be waiting (a member action, a settled push).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `url` with the query parameters appended, each percent-encoded (echostr is base64: `+`, `/`
/// and `=` must survive).
fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

/// An outgoing request's error with the causes reqwest keeps apart (a refused connection, the
/// certificate TLS did not trust), for the log and the 40057 reason.
pub(crate) fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// The platform's URL verification (§10.3): a GET with an encrypted echostr, which the receiver
/// must answer with the plaintext within 1 s. `Err` says why it failed.
pub async fn verify(app: &App, corpid: &str, s: &Settings) -> Result<(), String> {
    let crypt = MsgCrypt::new(&s.token, &s.encodingaeskey, corpid).map_err(|e| e.to_string())?;
    let echo = callback::new_echo();
    let (timestamp, nonce) = (app.clock.now().to_string(), callback::new_echo());
    let e = crypt.echo(&echo, &timestamp, &nonce).map_err(|e| e.to_string())?;
    let url =
        with_query(&s.url, &[("msg_signature", &e.msg_signature), ("timestamp", &timestamp), ("nonce", &nonce), ("echostr", &e.echostr)]);
    let r = app.http.get(url).timeout(Duration::from_millis(callback::VERIFY_TIMEOUT_MS)).send().await.map_err(|e| {
        if e.is_timeout() {
            "no answer within 1 s".to_string()
        } else {
            format!("request failed: {}", causes(&e))
        }
    })?;
    let status = r.status().as_u16();
    let body = r.bytes().await.map_err(|e| format!("reading the answer failed: {e}"))?;
    if status != 200 {
        return Err(format!("the URL answered HTTP {status}"));
    }
    if !callback::echo_matches(&body, &echo) {
        return Err(format!("the URL answered {:?}, not the decrypted echostr", String::from_utf8_lossy(&body)));
    }
    Ok(())
}

/// Runs the delivery worker for the life of the server.
pub fn spawn(app: Arc<App>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = pass(&app).await {
                tracing::warn!("callback delivery: {e}");
            }
            let _ = tokio::time::timeout(POLL, app.deliverer.wake.notified()).await;
        }
    });
}

/// Routes new events, then starts a push for every receiver whose next delivery is due.
async fn pass(app: &Arc<App>) -> Result<(), StoreError> {
    let now = now_ms();
    app.store.route_events(now).await?;
    for d in app.store.claim_deliveries(&app.instance, now, LEASE_MS, CLAIM).await? {
        let app = app.clone();
        tokio::spawn(async move {
            let done = push(&app, &d).await;
            if let Err(e) = done {
                tracing::warn!("callback delivery {}: {e}", d.id);
            }
            app.deliverer.wake();
        });
    }
    Ok(())
}

/// One attempt of one delivery, logged and settled.
async fn push(app: &App, d: &Claimed) -> Result<(), StoreError> {
    let started_at = now_ms();
    let clock = Instant::now();
    let mut attempt = Attempt { started_at, ..Attempt::default() };
    let answer = match post(app, d, &mut attempt).await {
        Ok(a) => a,
        Err(e) => Answer::Failed(e),
    };
    attempt.latency_ms = clock.elapsed().as_millis() as i64;
    let settle = match answer {
        Answer::Ack => Settle::Delivered,
        Answer::Reply => {
            // HTTP 200: received, whatever becomes of the reply.
            if let Err(e) = passive_reply(app, d, &mut attempt).await {
                attempt.error = e;
            }
            Settle::Delivered
        }
        Answer::Failed(e) => {
            attempt.error = e;
            let first = if d.first_at == 0 { started_at } else { d.first_at };
            match callback::retry_delay_ms(d.owner, d.attempts as u32 + 1, (started_at - first).max(0) as u64) {
                Some(delay) => Settle::RetryAt(now_ms() + delay as i64),
                None => Settle::GiveUp,
            }
        }
    };
    if !app.store.finish_attempt(&app.instance, d, &attempt, settle).await? {
        tracing::warn!("callback delivery {}: the lease ran out before the attempt was logged", d.id);
    }
    Ok(())
}

/// POSTs the encrypted envelope with the receiver's current settings; the answer as the model
/// reads it. `Err` is a failure before any HTTP answer.
async fn post(app: &App, d: &Claimed, attempt: &mut Attempt) -> Result<Answer, String> {
    let cfg = app.store.callback(&d.corpid, d.owner).await.map_err(|e| e.to_string())?;
    let cfg = cfg.ok_or_else(|| format!("{} has no callback any more", d.owner.key()))?;
    let crypt = MsgCrypt::new(&cfg.token, &cfg.encodingaeskey, &d.corpid).map_err(|e| e.to_string())?;
    let timestamp = d.timestamp.to_string();
    let push = crypt.push(&d.owner.agent_id(), &d.xml, &timestamp, &d.nonce).map_err(|e| e.to_string())?;
    let url = with_query(&cfg.url, &[("msg_signature", &push.msg_signature), ("timestamp", &timestamp), ("nonce", &d.nonce)]);
    let r = app
        .http
        .post(url)
        .header("content-type", "text/xml")
        .body(push.body)
        .timeout(Duration::from_millis(callback::PUSH_TIMEOUT_MS))
        .send()
        .await
        .map_err(|e| if e.is_timeout() { "no answer within 5 s".to_string() } else { format!("request failed: {}", causes(&e)) })?;
    let status = r.status().as_u16();
    attempt.status = i64::from(status);
    attempt.reply = r.text().await.map_err(|e| format!("reading the answer failed: {e}"))?;
    let package_id = (!d.package_id.is_empty()).then_some(d.package_id.as_str());
    Ok(callback::answer(status, &attempt.reply, package_id))
}

/// An app's encrypted reply (§10.5): verified and decrypted with its settings, then delivered to
/// the member who caused the push, as a message from the app.
async fn passive_reply(app: &App, d: &Claimed, attempt: &mut Attempt) -> Result<(), String> {
    let Owner::App(agentid) = d.owner else {
        return Err("only apps reply passively".into());
    };
    let member = callback::from_user(&d.xml).filter(|u| u != "sys").ok_or("a reply to a system event goes nowhere")?;
    let cfg = app.store.callback(&d.corpid, d.owner).await.map_err(|e| e.to_string())?.ok_or("no callback any more")?;
    let crypt = MsgCrypt::new(&cfg.token, &cfg.encodingaeskey, &d.corpid).map_err(|e| e.to_string())?;
    attempt.reply_xml = crypt.open_reply(&attempt.reply).map_err(|e| format!("the reply does not open: {e}"))?;
    let reply = callback::parse_reply(&attempt.reply_xml)?;
    if !reply.to_user.eq_ignore_ascii_case(&member) {
        return Err(format!("the reply is to {:?}, not to {member:?} who caused the push", reply.to_user));
    }
    if reply.updates_card() {
        return update_clicked_card(app, d, agentid, &reply.content).await;
    }
    let msg = NewMessage {
        sender: Sender::Caller(Scope::App { agentid }),
        agentid,
        chatid: "",
        msgtype: &reply.msgtype,
        content: &reply.content,
        safe: 0,
        task_id: None,
        updatable: false,
        duplicate: None,
    };
    let to = Audience::Named { userids: vec![member], parties: vec![], tags: vec![], ranges: vec![] };
    // Named userids only: no departments or tags to resolve.
    match app.store.send_message(&d.corpid, &msg, &to, &Directory::default(), app.clock.now()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("the inbox refused the reply: {}", e.text())),
        Err(e) => Err(e.to_string()),
    }
}

/// update_button / update_template_card (§10.5): the card the member clicked changes for that
/// member, by message/update_template_card's rules (the same card_type, a valid card), without
/// spending the response_code the click's push carried, which names both the card and the member.
async fn update_clicked_card(app: &App, d: &Claimed, agentid: i64, body: &Value) -> Result<(), String> {
    let code = callback::clicked_response_code(&d.xml).ok_or("a card update answers a template_card_event only")?;
    let clicked = app.store.response_code(&d.corpid, &code).await.map_err(|e| e.to_string())?;
    let clicked = clicked.filter(|c| c.message.agentid == agentid).ok_or("the clicked card is gone")?;
    let member = clicked.clicked_by.ok_or("the push's ResponseCode is not a click's")?;
    let body = body.as_object().ok_or("a card update is an object")?;
    let card =
        check_card_update(body, &clicked.message.content).map_err(|e| format!("the card update is refused: {} {}", e.errcode, e.text))?;
    app.store.show_card(&d.corpid, clicked.message.seq, &[member], &card).await.map_err(|e| e.to_string())
}
