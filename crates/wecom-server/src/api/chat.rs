//! The legacy chat service (legacy-api.md §7): chat/create, get, update, quit, clearnotify, send,
//! setmute, with the chat secret's tokens only (the endpoint table and the router see to that).
//! Rules and views are `wecom_model::chat`'s; these handlers resolve members and ask the store.

use crate::auth::{internal, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::chat::{self as rules, Change, Chat, CreateBody, Receiver, ReceiverKind, SetmuteBody, UpdateBody};
use wecom_model::event::ChatItem;
use wecom_model::{ApiError, Errcode};
use wecom_store::{Author, NewChatMessage, Origin};

type Fields = Result<Map<String, Value>, Failure>;

fn fail(caller: &Caller) -> impl Fn(Errcode) -> Failure + '_ {
    move |e| Failure::new(e, Some(caller.dialect()))
}

/// Each userid in the member's stored case, or `unknown` for the first that names no member.
async fn resolve(app: &App, caller: &Caller, userids: &[String], unknown: Errcode) -> Result<Vec<String>, Failure> {
    let found = app.store.stored_userids(&caller.corpid, userids).await.map_err(internal)?;
    userids.iter().map(|u| found.get(&u.to_lowercase()).cloned().ok_or(fail(caller)(unknown))).collect()
}

async fn existing(app: &App, caller: &Caller, chatid: &str) -> Result<Chat, Failure> {
    app.store.chat(&caller.corpid, chatid).await.map_err(internal)?.ok_or(fail(caller)(Errcode::ChatidNotFound))
}

/// The other end of a conversation exists: a member for single chats (40003), a chat the
/// member is in for group chats (86003, 86217). Returns the receiver with stored spellings.
async fn conversation(app: &App, caller: &Caller, member: &str, receiver: Receiver) -> Result<(String, Receiver), Failure> {
    let member = resolve(app, caller, &[member.to_string()], Errcode::InvalidUserid).await?.remove(0);
    let id = match receiver.kind {
        ReceiverKind::Single => resolve(app, caller, &[receiver.id], Errcode::InvalidUserid).await?.remove(0),
        ReceiverKind::Group => {
            let chat = existing(app, caller, &receiver.id).await?;
            if !chat.has(&member) {
                return Err(fail(caller)(Errcode::ChatSenderNotInChat));
            }
            chat.chatid
        }
    };
    Ok((member, Receiver { kind: receiver.kind, id }))
}

pub async fn create(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: CreateBody = req.json(caller.dialect())?;
    let mut chat = rules::create(body).map_err(fail(caller))?;
    chat.userlist = resolve(app, caller, &chat.userlist, Errcode::InvalidChatMember).await?;
    chat.owner = chat.userlist.iter().find(|u| u.eq_ignore_ascii_case(&chat.owner)).cloned().unwrap_or_default();
    app.store.create_chat(&caller.corpid, &chat, Origin::Caller(caller.scope), req.now).await.map_err(internal)?.map_err(fail(caller))?;
    Ok(Map::new())
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let chatid = rules::check_chatid(req.query.get("chatid")).map_err(fail(caller))?;
    Ok(rules::get_view(&existing(app, caller, chatid).await?))
}

pub async fn update(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: UpdateBody = req.json(caller.dialect())?;
    let chatid = rules::check_chatid(body.chatid.as_deref()).map_err(fail(caller))?;
    let op_user = body.op_user.as_deref().filter(|o| !o.is_empty()).ok_or(fail(caller)(Errcode::InvalidChatParam))?;
    let add = resolve(app, caller, &rules::distinct(&body.add_user_list.unwrap_or_default()), Errcode::InvalidChatMemberId).await?;
    let owner = match body.owner.as_deref().filter(|o| !o.is_empty()) {
        Some(o) => Some(resolve(app, caller, &[o.to_string()], Errcode::InvalidChatOwner).await?.remove(0)),
        None => None,
    };
    let del = body.del_user_list.unwrap_or_default();
    let change = Change { op_user, name: body.name.as_deref(), owner: owner.as_deref(), add: &add, del: &del };
    let apply = |chat: &Chat| {
        let next = rules::update(chat, &change)?;
        let item = ChatItem::update_chat(op_user, chat, &next, req.now);
        Ok((next, item))
    };
    let done = app.store.change_chat(&caller.corpid, chatid, Origin::Caller(caller.scope), apply, req.now).await.map_err(internal)?;
    done.map_err(fail(caller))?;
    Ok(Map::new())
}

#[derive(serde::Deserialize)]
struct QuitBody {
    chatid: Option<String>,
    op_user: Option<String>,
}

pub async fn quit(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: QuitBody = req.json(caller.dialect())?;
    let chatid = rules::check_chatid(body.chatid.as_deref()).map_err(fail(caller))?;
    let op_user = body.op_user.as_deref().filter(|o| !o.is_empty()).ok_or(fail(caller)(Errcode::InvalidChatParam))?;
    let apply = |chat: &Chat| {
        let next = rules::quit(chat, op_user)?;
        let member = chat.userlist.iter().find(|u| !next.has(u)).map_or(op_user, String::as_str);
        Ok((next, ChatItem::quit_chat(member, &chat.chatid, req.now)))
    };
    let done = app.store.change_chat(&caller.corpid, chatid, Origin::Caller(caller.scope), apply, req.now).await.map_err(internal)?;
    done.map_err(fail(caller))?;
    Ok(Map::new())
}

/// Unread counts are not modelled: the call is checked and answered, nothing else changes.
pub async fn clearnotify(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let (op_user, chat) = rules::clearnotify(&body).map_err(fail(caller))?;
    conversation(app, caller, op_user, chat).await?;
    Ok(Map::new())
}

pub async fn send(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let out = rules::send(&body).map_err(|e: ApiError| Failure::new(e, Some(caller.dialect())))?;
    super::media::require_named(app, req, caller, None, &out.msgtype, &out.payload).await?;
    let (sender, receiver) = conversation(app, caller, &out.sender, out.receiver).await?;
    let m = NewChatMessage { receiver: &receiver, author: Author::Api, sender: &sender, msgtype: &out.msgtype, payload: &out.payload };
    app.store.send_chat_message(&caller.corpid, &m, req.now).await.map_err(internal)?;
    Ok(Map::new())
}

pub async fn setmute(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: SetmuteBody = req.json(caller.dialect())?;
    let list = rules::setmute(body).map_err(fail(caller))?;
    let userids: Vec<String> = list.iter().map(|m| m.userid.clone()).collect();
    let found = app.store.stored_userids(&caller.corpid, &userids).await.map_err(internal)?;
    let (known, unknown): (Vec<_>, Vec<_>) = list.into_iter().partition(|m| found.contains_key(&m.userid.to_lowercase()));
    let mutes: Vec<(String, bool)> = known.into_iter().map(|m| (m.userid.to_lowercase(), m.status == 1)).collect();
    app.store.set_mutes(&caller.corpid, &mutes).await.map_err(internal)?;
    Ok(rules::setmute_view(&unknown.into_iter().map(|m| m.userid).collect::<Vec<_>>()))
}
