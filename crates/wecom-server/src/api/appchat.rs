//! App group chats (wecom-api.md §9.5), WeCom only: appchat/create, update, get, send. The rules
//! are in `wecom_model::appchat`; chat messages share message/send's content rules and land in
//! the chat's log and each member's inbox.

use super::message::{fail, settle};
use crate::auth::{internal, range, Caller};
use crate::directory::directory;
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::appchat::{
    app_may_chat, chat_name, check_new_chatid, check_size, created_view, get_view, new_chatid, owned_by, owner_of, required_chatid,
    updated_members, userids, Chat,
};
use wecom_model::message::{check_content, Channel};
use wecom_model::scope::Range;
use wecom_model::{ApiError, Errcode};
use wecom_store::{Audience, NewMessage, Sender};

type Fields = Result<Map<String, Value>, Failure>;

/// The calling app, if it may use appchat at all (48002).
async fn chatting_app(app: &App, caller: &Caller) -> Result<i64, Failure> {
    let range = range(app, caller).await?;
    app_may_chat(caller.scope, &range).map_err(|e| fail(caller)(e.into()))
}

/// The userids as stored, when every one is a member of the corp (else `invalid`).
async fn members(app: &App, caller: &Caller, list: &[String], invalid: Errcode) -> Result<Vec<String>, Failure> {
    let dir = directory(app, &caller.corpid).await?;
    let found = app.store.members_within(&caller.corpid, list, &[Range::All], &dir).await.map_err(internal)?;
    list.iter().map(|u| found.get(&u.to_lowercase()).cloned().ok_or_else(|| fail(caller)(ApiError::with_detail(invalid, u)))).collect()
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// The chat named by a body's or query's chatid, when it exists (86003) and is the caller's (86008).
async fn own_chat(app: &App, caller: &Caller, agentid: i64, chatid: Option<&str>) -> Result<Chat, Failure> {
    let fail = fail(caller);
    let chatid = required_chatid(chatid).map_err(|e| fail(e.into()))?;
    let chat = app.store.appchat(&caller.corpid, chatid).await.map_err(internal)?.ok_or_else(|| fail(Errcode::ChatidNotFound.into()))?;
    owned_by(&chat, agentid).map_err(|e| fail(e.into()))?;
    Ok(chat)
}

pub async fn create(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let fail = fail(caller);
    let agentid = chatting_app(app, caller).await?;
    let list = userids(body.get("userlist"), Errcode::ChatMemberMissing).map_err(&fail)?;
    check_size(list.len()).map_err(|e| fail(e.into()))?;
    let userlist = members(app, caller, &list, Errcode::InvalidChatMember).await?;
    let owner = owner_of(text(&body, "owner"), &userlist).map_err(|e| fail(e.into()))?;
    let chatid = match text(&body, "chatid").filter(|c| !c.is_empty()) {
        Some(c) => {
            check_new_chatid(c).map_err(|e| fail(e.into()))?;
            c.to_string()
        }
        None => new_chatid(),
    };
    let chat = Chat { chatid, name: chat_name(text(&body, "name")), owner, agentid, userlist };
    settle(caller, app.store.create_appchat(&caller.corpid, &chat, app.config.rate_limits, req.now).await)?;
    Ok(created_view(&chat.chatid))
}

pub async fn update(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let fail = fail(caller);
    let agentid = chatting_app(app, caller).await?;
    let chatid = own_chat(app, caller, agentid, text(&body, "chatid")).await?.chatid;
    let list = |name| match body.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        v => userids(v, Errcode::InvalidChatMemberId),
    };
    let add = members(app, caller, &list("add_user_list").map_err(&fail)?, Errcode::InvalidChatMemberId).await?;
    let del = list("del_user_list").map_err(&fail)?;
    let name = text(&body, "name").map(|n| chat_name(Some(n)));
    let owner = text(&body, "owner").filter(|o| !o.is_empty()).map(str::to_string);
    let change = |chat: &Chat| {
        owned_by(chat, agentid)?;
        let userlist = updated_members(&chat.userlist, &add, &del)?;
        let owner = owner_of(Some(owner.as_deref().unwrap_or(&chat.owner)), &userlist)?;
        Ok(Chat { name: name.clone().unwrap_or_else(|| chat.name.clone()), owner, userlist, ..chat.clone() })
    };
    settle(caller, app.store.update_appchat(&caller.corpid, &chatid, change).await)?;
    Ok(Map::new())
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let agentid = chatting_app(app, caller).await?;
    let chat = own_chat(app, caller, agentid, req.query.get("chatid")).await?;
    Ok(get_view(&chat))
}

pub async fn send(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let agentid = chatting_app(app, caller).await?;
    let chat = own_chat(app, caller, agentid, text(&body, "chatid")).await?;
    let content = check_content(&body, Channel::AppChat).map_err(fail(caller))?;
    super::media::require_named(app, req, caller, None, &content.msgtype, &content.payload).await?;
    let msg = NewMessage {
        sender: Sender::Caller(caller.scope),
        agentid,
        chatid: &chat.chatid,
        msgtype: &content.msgtype,
        content: &content.payload,
        safe: content.safe,
        task_id: None,
        updatable: false,
        duplicate: None,
    };
    // The page documents an ok-envelope alone: no msgid, so appchat messages cannot be recalled.
    let dir = directory(app, &caller.corpid).await?;
    settle(caller, app.store.send_message(&caller.corpid, &msg, &Audience::Chat(chat.chatid.clone()), &dir, req.now).await)?;
    Ok(Map::new())
}
