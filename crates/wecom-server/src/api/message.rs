//! Messages (wecom-api.md §9.1–9.4): message/send in both dialects, message/recall and
//! message/update_template_card. Content rules, recipient lists and answers are in
//! `wecom_model::message`; the store delivers to each member's inbox.

use crate::auth::{app_range, internal, range, Caller};
use crate::directory::directory;
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use std::collections::HashMap;
use wecom_model::credential::Scope;
use wecom_model::material::{material_owner, sent_mpnews};
use wecom_model::message::{
    all_invalid, card_update_view, check_card_update, check_content, duplicate_interval, duplicate_key, flag, id_trans, id_trans_names,
    parse_agentid, parse_card_targets, parse_recipients, parse_taskcard_update, response_code_live, send_view, taskcard_update, Channel,
    Content, Invalid,
};
use wecom_model::scope::Range;
use wecom_model::tag::listed;
use wecom_model::{ApiError, Errcode};
use wecom_store::{Audience, Directory, NewMessage, Sender};

type Fields = Result<Map<String, Value>, Failure>;

/// An error answered in the caller's dialect.
pub(super) fn fail(caller: &Caller) -> impl Fn(ApiError) -> Failure + '_ {
    move |e| Failure::new(e, Some(caller.dialect()))
}

/// A write's outcome: a store failure is internal, a rule failure the platform's errcode.
pub(super) fn settle<T>(caller: &Caller, r: Result<wecom_store::Rule<T>, wecom_store::StoreError>) -> Result<T, Failure> {
    r.map_err(internal)?.map_err(|e| fail(caller)(e.into()))
}

/// The app a caller sends as, and the ranges every recipient must be in. WeCom: only the token's
/// own app (301002), seeing its visible range; the contacts-sync secret sends nothing (48002).
/// 企业号: an app the 管理组 may use or manage (60011), to members both the app and the group see.
async fn sender(app: &App, caller: &Caller, agentid: i64) -> Result<Vec<Range>, Failure> {
    let fail = fail(caller);
    match caller.scope {
        Scope::ContactSync => return Err(fail(Errcode::ApiForbidden.into())),
        Scope::App { agentid: own } if own != agentid => {
            let exists = app.store.app(&caller.corpid, agentid).await.map_err(internal)?.is_some();
            return Err(fail(if exists { Errcode::NoAppPrivilege } else { Errcode::InvalidAgentid }.into()));
        }
        _ => {}
    }
    let sending = app.store.app(&caller.corpid, agentid).await.map_err(internal)?.ok_or_else(|| fail(Errcode::InvalidAgentid.into()))?;
    let mut ranges = vec![app_range(&sending)];
    if let Scope::Group { groupid } = caller.scope {
        let group = app.store.group(&caller.corpid, groupid).await.map_err(internal)?;
        if !group.is_some_and(|g| g.apps.iter().any(|a| a.agentid == agentid)) {
            return Err(fail(Errcode::NoPrivilege.into()));
        }
        ranges.push((*range(app, caller).await?).clone());
    }
    Ok(ranges)
}

/// `$userName=…$` / `$departmentName=…$` replaced by names when the sender asks for it.
async fn translate(app: &App, caller: &Caller, dir: &Directory, content: &mut Content) -> Result<(), Failure> {
    let (users, departments) = id_trans_names(&content.payload);
    if users.is_empty() && departments.is_empty() {
        return Ok(());
    }
    let names = app.store.member_names(&caller.corpid, &users).await.map_err(internal)?;
    let depts: HashMap<i64, String> = departments.iter().filter_map(|d| dir.tree.get(*d).map(|x| (*d, x.name.clone()))).collect();
    id_trans(&mut content.payload, &names, &depts);
    Ok(())
}

pub async fn send(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let fail = fail(caller);
    let agentid = parse_agentid(body.get("agentid")).map_err(|e| fail(e.into()))?;
    let ranges = sender(app, caller, agentid).await?;
    let named = parse_recipients(&body).map_err(|e| fail(e.into()))?;
    let mut content = check_content(&body, Channel::App(caller.dialect())).map_err(&fail)?;
    if named.all && content.msgtype == "miniprogram_notice" {
        return Err(fail(ApiError::with_detail(Errcode::InvalidRequestParameter, "miniprogram_notice does not take @all")));
    }
    let owner = material_owner(Channel::App(caller.dialect()), agentid);
    super::media::require_named(app, req, caller, owner, &content.msgtype, &content.payload).await?;
    if let Some(media_id) = sent_mpnews(&content.msgtype, &content.payload) {
        content.payload = super::material::sent_articles(app, caller, agentid, media_id).await?;
    }

    // Each named recipient the sender cannot reach is listed as invalid.
    let mut invalid = Invalid::default();
    let dir = directory(app, &caller.corpid).await?;
    let found = app.store.members_within(&caller.corpid, &named.users, &ranges, &dir).await.map_err(internal)?;
    let userids: Vec<String> = named.users.iter().filter(|u| found.contains_key(&u.to_lowercase())).cloned().collect();
    invalid.users = named.users.iter().filter(|u| !found.contains_key(&u.to_lowercase())).cloned().collect();
    let mut parties = Vec::new();
    for p in &named.parties {
        match p.parse::<i64>().ok().filter(|id| dir.tree.get(*id).is_some()) {
            Some(id) if ranges.iter().all(|r| r.sees_department(&dir.tree.ancestors(id))) => parties.push(id),
            _ => invalid.parties.push(p.clone()),
        }
    }
    let granted = match caller.scope {
        Scope::Group { groupid } => app.store.group(&caller.corpid, groupid).await.map_err(internal)?.map(|g| g.tags).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut tagids = Vec::new();
    for t in &named.tags {
        match t.parse::<i64>().ok().and_then(|id| dir.tags.iter().find(|tag| tag.tagid == id)) {
            Some(tag) if listed(caller.scope, &granted, tag) => tagids.push(tag.tagid),
            _ => invalid.tags.push(t.clone()),
        }
    }
    if all_invalid(&named, &invalid) {
        return Err(fail(Errcode::RecipientsAllInvalid.into()).with_fields(invalid.fields()));
    }

    if flag(&body, "enable_id_trans").map_err(&fail)? == 1 {
        translate(app, caller, &dir, &mut content).await?;
    }
    let duplicate = if flag(&body, "enable_duplicate_check").map_err(&fail)? == 1 {
        Some((duplicate_key(agentid, &body), duplicate_interval(&body).map_err(&fail)?))
    } else {
        None
    };
    let to = if named.all { Audience::Everyone { ranges } } else { Audience::Named { userids, parties, tags: tagids, ranges } };
    let msg = NewMessage {
        sender: Sender::Caller(caller.scope),
        agentid,
        chatid: "",
        msgtype: &content.msgtype,
        content: &content.payload,
        safe: content.safe,
        task_id: content.task_id.as_deref(),
        updatable: content.updatable,
        duplicate,
    };
    let sent = settle(caller, app.store.send_message(&caller.corpid, &msg, &to, &dir, req.now).await)?;
    if sent.fanout {
        app.fanouts.wake();
    }
    Ok(send_view(caller.dialect(), &invalid, &sent.msgid, sent.response_code.as_deref()))
}

pub async fn recall(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let msgid = body
        .get("msgid")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| fail(caller)(ApiError::with_detail(Errcode::InvalidRequestParameter, "msgid missing")))?;
    settle(caller, app.store.recall_message(&caller.corpid, msgid, caller.scope, req.now).await)?;
    Ok(Map::new())
}

pub async fn update_template_card(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let fail = fail(caller);
    let agentid = parse_agentid(body.get("agentid")).map_err(|e| fail(e.into()))?;
    sender(app, caller, agentid).await?;
    // message/send's code or one a click's push carried: each serves one update, whoever it names.
    let code = body.get("response_code").and_then(Value::as_str).unwrap_or_default();
    let found = match code {
        "" => None,
        code => app.store.response_code(&caller.corpid, code).await.map_err(internal)?,
    };
    let message = found
        .filter(|c| !c.spent && response_code_live(c.issued_at, req.now))
        .map(|c| c.message)
        .ok_or_else(|| fail(Errcode::InvalidResponseCode.into()))?;
    if message.agentid != agentid {
        return Err(fail(Errcode::UpdatingAgentMismatch.into()));
    }
    let targets = parse_card_targets(&body).map_err(&fail)?;
    let card = check_card_update(&body, &message.content).map_err(&fail)?;
    let dir = directory(app, &caller.corpid).await?;
    let (userids, missing) = if targets.all {
        (None, Vec::new())
    } else {
        let (hit, missing) = app
            .store
            .card_targets(&caller.corpid, message.seq, &targets.users, &targets.parties, &targets.tags, &dir)
            .await
            .map_err(internal)?;
        if !hit {
            return Err(fail(Errcode::UpdateTargetNotInMessage.into()));
        }
        (Some(targets.users.as_slice()), missing)
    };
    let done =
        app.store.update_card(&caller.corpid, code, message.seq, userids, &targets.parties, &targets.tags, &card, &dir, req.now).await;
    settle(caller, done)?;
    Ok(card_update_view(&missing))
}

/// update_taskcard: the app's interactive_taskcard with this task_id (another app's 42015, none
/// 42016) shows the named recipients its new button state; userids that did not receive it are
/// answered in `invaliduser`, none received it 82102.
pub async fn update_taskcard(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let fail = fail(caller);
    let agentid = parse_agentid(body.get("agentid")).map_err(|e| fail(e.into()))?;
    sender(app, caller, agentid).await?;
    let (userids, task_id) = parse_taskcard_update(&body).map_err(&fail)?;
    let cards = app.store.taskcards(&caller.corpid, &task_id).await.map_err(internal)?;
    let message = match cards.iter().find(|m| m.agentid == agentid) {
        Some(m) => m,
        None if !cards.is_empty() => return Err(fail(Errcode::UpdatingAgentMismatch.into())),
        None => return Err(fail(Errcode::TaskNotExist.into())),
    };
    let card = taskcard_update(&body, &message.content).map_err(&fail)?;
    let dir = directory(app, &caller.corpid).await?;
    let (hit, missing) = app.store.card_targets(&caller.corpid, message.seq, &userids, &[], &[], &dir).await.map_err(internal)?;
    if !hit {
        return Err(fail(Errcode::UpdateTargetNotInMessage.into()));
    }
    app.store.show_card(&caller.corpid, message.seq, &userids, &card).await.map_err(internal)?;
    Ok(card_update_view(&missing))
}
