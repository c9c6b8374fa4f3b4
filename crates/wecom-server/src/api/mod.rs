//! The API areas, one module each, named as the reference names them.

mod agent;
mod appchat;
mod batch;
mod chat;
mod department;
mod ip;
mod material;
pub(crate) mod media;
mod menu;
mod message;
mod removed;
mod tag;
mod ticket;
mod token;
mod user;
mod webhook;

use crate::auth::Caller;
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::{Dialect, Endpoint};

/// A successful answer's fields in the dialect they are for, or the failure.
pub type Answer = Result<(Dialect, Map<String, Value>), Failure>;

/// Endpoints whose credential is a corp secret (gettoken).
pub async fn by_secret(app: &App, req: &Request) -> Answer {
    match req.endpoint {
        Endpoint::GetToken => token::gettoken(app, req).await,
        other => Err(misrouted(other)),
    }
}

/// Endpoints whose credential is an access_token, with the caller it resolved to.
pub async fn by_token(app: &App, req: &Request, caller: &Caller) -> Answer {
    let fields = match req.endpoint {
        Endpoint::GetCallbackIp => ip::getcallbackip(app),
        Endpoint::GetApiDomainIp => ip::get_api_domain_ip(app),
        Endpoint::GetJsapiTicket => ticket::get_jsapi_ticket(app, req, caller).await?,
        Endpoint::TicketGet => ticket::get(app, req, caller).await?,
        Endpoint::UserConvertToOpenid => user::convert_to_openid(app, req, caller).await?,
        Endpoint::UserConvertToUserid => user::convert_to_userid(app, req, caller).await?,
        Endpoint::DepartmentCreate => department::create(app, req, caller).await?,
        Endpoint::DepartmentUpdate => department::update(app, req, caller).await?,
        Endpoint::DepartmentDelete => department::delete(app, req, caller).await?,
        Endpoint::DepartmentList => department::list(app, req, caller).await?,
        Endpoint::DepartmentSimplelist => department::simplelist(app, req, caller).await?,
        Endpoint::DepartmentGet => department::get(app, req, caller).await?,
        Endpoint::TagCreate => tag::create(app, req, caller).await?,
        Endpoint::TagUpdate => tag::update(app, req, caller).await?,
        Endpoint::TagDelete => tag::delete(app, req, caller).await?,
        Endpoint::TagGet => tag::get(app, req, caller).await?,
        Endpoint::TagAddtagusers => tag::addtagusers(app, req, caller).await?,
        Endpoint::TagDeltagusers => tag::deltagusers(app, req, caller).await?,
        Endpoint::TagList => tag::list(app, caller).await?,
        Endpoint::UserCreate => user::create(app, req, caller).await?,
        Endpoint::UserGet => user::get(app, req, caller).await?,
        Endpoint::UserUpdate => user::update(app, req, caller).await?,
        Endpoint::UserDelete => user::delete(app, req, caller).await?,
        Endpoint::UserBatchdelete => user::batchdelete(app, req, caller).await?,
        Endpoint::UserSimplelist => user::simplelist(app, req, caller).await?,
        Endpoint::UserList => user::list(app, req, caller).await?,
        Endpoint::UserListId => user::list_id(app, req, caller).await?,
        Endpoint::UserGetuserid => user::getuserid(app, req, caller).await?,
        Endpoint::UserGetUseridByEmail => user::get_userid_by_email(app, req, caller).await?,
        Endpoint::UserAuthsucc => user::authsucc(app, req, caller).await?,
        Endpoint::BatchInvite => user::batch_invite(app, req, caller).await?,
        Endpoint::BatchSyncuser => batch::syncuser(app, req, caller).await?,
        Endpoint::BatchReplaceuser => batch::replaceuser(app, req, caller).await?,
        Endpoint::BatchReplaceparty => batch::replaceparty(app, req, caller).await?,
        Endpoint::BatchGetresult => batch::getresult(app, req, caller).await?,
        Endpoint::BatchInviteuser => batch::inviteuser(app, req, caller).await?,
        Endpoint::ChatCreate => chat::create(app, req, caller).await?,
        Endpoint::ChatGet => chat::get(app, req, caller).await?,
        Endpoint::ChatUpdate => chat::update(app, req, caller).await?,
        Endpoint::ChatQuit => chat::quit(app, req, caller).await?,
        Endpoint::ChatClearnotify => chat::clearnotify(app, req, caller).await?,
        Endpoint::ChatSend => chat::send(app, req, caller).await?,
        Endpoint::ChatSetmute => chat::setmute(app, req, caller).await?,
        Endpoint::AgentGet => agent::get(app, req, caller).await?,
        Endpoint::AgentSet => agent::set(app, req, caller).await?,
        Endpoint::AgentList => agent::list(app, caller).await?,
        Endpoint::MenuCreate => menu::create(app, req, caller).await?,
        Endpoint::MenuGet => menu::get(app, req, caller).await?,
        Endpoint::MenuDelete => menu::delete(app, req, caller).await?,
        Endpoint::KfSend => removed::kf_send(app, req, caller).await?,
        Endpoint::KfList => removed::kf_list(app, req, caller).await?,
        Endpoint::ShakearoundGetshakeinfo => removed::getshakeinfo(app, req, caller).await?,
        Endpoint::CardCreate => removed::card_create(app, req, caller).await?,
        Endpoint::CardGet => removed::card_get(app, req, caller).await?,
        Endpoint::CardBatchget => removed::card_batchget(app, req, caller).await?,
        Endpoint::CardDelete => removed::card_delete(app, req, caller).await?,
        Endpoint::CardModifystock => removed::card_modifystock(app, req, caller).await?,
        Endpoint::CardQrcodeCreate => removed::card_qrcode_create(app, req, caller).await?,
        Endpoint::CardMpnewsGethtml => removed::card_mpnews_gethtml(app, req, caller).await?,
        Endpoint::CardCodeGet => removed::card_code_get(app, req, caller).await?,
        Endpoint::CardCodeConsume => removed::card_code_consume(app, req, caller).await?,
        Endpoint::MessageSend => message::send(app, req, caller).await?,
        Endpoint::MessageRecall => message::recall(app, req, caller).await?,
        Endpoint::MessageUpdateTemplateCard => message::update_template_card(app, req, caller).await?,
        Endpoint::MessageUpdateTaskcard => message::update_taskcard(app, req, caller).await?,
        Endpoint::AppchatCreate => appchat::create(app, req, caller).await?,
        Endpoint::AppchatUpdate => appchat::update(app, req, caller).await?,
        Endpoint::AppchatGet => appchat::get(app, req, caller).await?,
        Endpoint::AppchatSend => appchat::send(app, req, caller).await?,
        Endpoint::MediaUpload => media::upload(app, req, caller).await?,
        Endpoint::MediaUploadimg => media::uploadimg(app, req, caller).await?,
        Endpoint::MediaUploadByUrl => media::upload_by_url(app, req, caller).await?,
        Endpoint::MediaGetUploadByUrlResult => media::get_upload_by_url_result(app, req, caller).await?,
        Endpoint::MaterialAddMpnews => material::add_mpnews(app, req, caller).await?,
        Endpoint::MaterialAddMaterial => material::add_material(app, req, caller).await?,
        Endpoint::MaterialDel => material::del(app, req, caller).await?,
        Endpoint::MaterialUpdateMpnews => material::update_mpnews(app, req, caller).await?,
        Endpoint::MaterialGetCount => material::get_count(app, req, caller).await?,
        Endpoint::MaterialBatchget => material::batchget(app, req, caller).await?,
        other => return Err(misrouted(other)),
    };
    Ok((caller.dialect(), fields))
}

/// Endpoints whose success is a file (`Endpoint::answers_file`), with the caller.
pub async fn file_by_token(app: &App, req: &Request, caller: &Caller) -> Result<axum::response::Response, Failure> {
    match req.endpoint {
        Endpoint::MediaGet | Endpoint::MediaGetJssdk => media::get(app, req, caller).await,
        Endpoint::MaterialGet => material::get(app, req, caller).await,
        other => Err(misrouted(other)),
    }
}

/// Endpoints whose credential is a group robot's key.
pub async fn by_key(app: &App, req: &Request) -> Answer {
    match req.endpoint {
        Endpoint::WebhookSend => webhook::send(app, req).await,
        Endpoint::WebhookUploadMedia => webhook::upload_media(app, req).await,
        other => Err(misrouted(other)),
    }
}

/// An endpoint reached the handler family its credential does not belong to: the endpoint table
/// and the dispatch disagree. Answered as the platform answers internal failures.
fn misrouted(endpoint: Endpoint) -> Failure {
    tracing::error!("{endpoint:?} dispatched against its credential in the endpoint table");
    Failure::new(wecom_model::Errcode::SystemBusy, None)
}
