//! The endpoint table: every `/cgi-bin` path wecomd serves, the credential it needs and the
//! dialects that serve it. A request is decoded into an [`Endpoint`] once; everything after that
//! dispatches on the enum (the shape of Garage's S3 router).

use crate::credential::Scope;
use crate::{Dialect, Errcode};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    GetToken,
    GetCallbackIp,
    GetApiDomainIp,
    GetJsapiTicket,
    TicketGet,
    UserConvertToOpenid,
    UserConvertToUserid,
    DepartmentCreate,
    DepartmentUpdate,
    DepartmentDelete,
    DepartmentList,
    DepartmentSimplelist,
    DepartmentGet,
    UserCreate,
    UserGet,
    UserUpdate,
    UserDelete,
    UserBatchdelete,
    UserSimplelist,
    UserList,
    UserListId,
    UserGetuserid,
    UserGetUseridByEmail,
    UserAuthsucc,
    BatchInvite,
    BatchSyncuser,
    BatchReplaceuser,
    BatchReplaceparty,
    BatchGetresult,
    BatchInviteuser,
    TagCreate,
    TagUpdate,
    TagDelete,
    TagGet,
    TagAddtagusers,
    TagDeltagusers,
    TagList,
    ChatCreate,
    ChatGet,
    ChatUpdate,
    ChatQuit,
    ChatClearnotify,
    ChatSend,
    ChatSetmute,
    WebhookSend,
    WebhookUploadMedia,
    AgentGet,
    AgentSet,
    AgentList,
    MenuCreate,
    MenuGet,
    MenuDelete,
    KfSend,
    KfList,
    ShakearoundGetshakeinfo,
    CardCreate,
    CardGet,
    CardBatchget,
    CardDelete,
    CardModifystock,
    CardQrcodeCreate,
    CardCodeGet,
    CardCodeConsume,
    CardMpnewsGethtml,
    MessageSend,
    MessageRecall,
    MessageUpdateTemplateCard,
    MessageUpdateTaskcard,
    AppchatCreate,
    AppchatUpdate,
    AppchatGet,
    AppchatSend,
    MediaUpload,
    MediaGet,
    MediaGetJssdk,
    MediaUploadimg,
    MediaUploadByUrl,
    MediaGetUploadByUrlResult,
    MaterialAddMpnews,
    MaterialAddMaterial,
    MaterialGet,
    MaterialDel,
    MaterialUpdateMpnews,
    MaterialGetCount,
    MaterialBatchget,
}

/// GET endpoints take everything from the query; POST endpoints a JSON body as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// What a request must carry to be let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `corpid` + `corpsecret` in the query (only gettoken).
    CorpSecret,
    /// `access_token` in the query, never a header or the body (wecom-api.md §1.4).
    AccessToken,
    /// An `access_token` minted by the chat service's secret: chat/* takes no other, and such a
    /// token calls nothing else (legacy-api.md §7.1).
    ChatToken,
    /// A group robot's `key` in the query instead of a token (wecom-api.md §9.6).
    WebhookKey,
}

/// Which dialects serve an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialects {
    Both,
    /// Only the 企业号: the chat service and the APIs WeCom removed (kf, shakearound, card;
    /// legacy-api.md §7, §8); WeCom tokens are refused with 48005.
    Legacy,
    /// WeCom only: a legacy token is refused (48002).
    WeCom,
}

/// Whether a legacy success body carries errcode/errmsg (legacy-api.md §1.3). WeCom always does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacySuccess {
    /// `{"access_token":…,"expires_in":7200}`: no errcode, no errmsg.
    Bare,
    /// `{"errcode":0,"errmsg":"ok",…}` as in WeCom.
    Envelope,
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub path: &'static str,
    /// errmsg of a success: "created" / "updated" / "deleted" for writes, else "ok" (wecom-api.md §1.2).
    pub success_errmsg: &'static str,
    pub method: Method,
    pub credential: Credential,
    pub dialects: Dialects,
    pub legacy_success: LegacySuccess,
}

impl Endpoint {
    pub const ALL: &'static [Endpoint] = &[
        Endpoint::GetToken,
        Endpoint::GetCallbackIp,
        Endpoint::GetApiDomainIp,
        Endpoint::GetJsapiTicket,
        Endpoint::TicketGet,
        Endpoint::UserConvertToOpenid,
        Endpoint::UserConvertToUserid,
        Endpoint::DepartmentCreate,
        Endpoint::DepartmentUpdate,
        Endpoint::DepartmentDelete,
        Endpoint::DepartmentList,
        Endpoint::DepartmentSimplelist,
        Endpoint::DepartmentGet,
        Endpoint::UserCreate,
        Endpoint::UserGet,
        Endpoint::UserUpdate,
        Endpoint::UserDelete,
        Endpoint::UserBatchdelete,
        Endpoint::UserSimplelist,
        Endpoint::UserList,
        Endpoint::UserListId,
        Endpoint::UserGetuserid,
        Endpoint::UserGetUseridByEmail,
        Endpoint::UserAuthsucc,
        Endpoint::BatchInvite,
        Endpoint::BatchSyncuser,
        Endpoint::BatchReplaceuser,
        Endpoint::BatchReplaceparty,
        Endpoint::BatchGetresult,
        Endpoint::BatchInviteuser,
        Endpoint::TagCreate,
        Endpoint::TagUpdate,
        Endpoint::TagDelete,
        Endpoint::TagGet,
        Endpoint::TagAddtagusers,
        Endpoint::TagDeltagusers,
        Endpoint::TagList,
        Endpoint::ChatCreate,
        Endpoint::ChatGet,
        Endpoint::ChatUpdate,
        Endpoint::ChatQuit,
        Endpoint::ChatClearnotify,
        Endpoint::ChatSend,
        Endpoint::ChatSetmute,
        Endpoint::WebhookSend,
        Endpoint::WebhookUploadMedia,
        Endpoint::AgentGet,
        Endpoint::AgentSet,
        Endpoint::AgentList,
        Endpoint::MenuCreate,
        Endpoint::MenuGet,
        Endpoint::MenuDelete,
        Endpoint::KfSend,
        Endpoint::KfList,
        Endpoint::ShakearoundGetshakeinfo,
        Endpoint::CardCreate,
        Endpoint::CardGet,
        Endpoint::CardBatchget,
        Endpoint::CardDelete,
        Endpoint::CardModifystock,
        Endpoint::CardQrcodeCreate,
        Endpoint::CardCodeGet,
        Endpoint::CardCodeConsume,
        Endpoint::CardMpnewsGethtml,
        Endpoint::MessageSend,
        Endpoint::MessageRecall,
        Endpoint::MessageUpdateTemplateCard,
        Endpoint::MessageUpdateTaskcard,
        Endpoint::AppchatCreate,
        Endpoint::AppchatUpdate,
        Endpoint::AppchatGet,
        Endpoint::AppchatSend,
        Endpoint::MediaUpload,
        Endpoint::MediaGet,
        Endpoint::MediaGetJssdk,
        Endpoint::MediaUploadimg,
        Endpoint::MediaUploadByUrl,
        Endpoint::MediaGetUploadByUrlResult,
        Endpoint::MaterialAddMpnews,
        Endpoint::MaterialAddMaterial,
        Endpoint::MaterialGet,
        Endpoint::MaterialDel,
        Endpoint::MaterialUpdateMpnews,
        Endpoint::MaterialGetCount,
        Endpoint::MaterialBatchget,
    ];

    pub fn spec(self) -> Spec {
        use Credential::*;
        use LegacySuccess::*;
        use Method::*;
        let (path, method, credential, dialects, legacy_success) = match self {
            Endpoint::GetToken => ("gettoken", Get, CorpSecret, Dialects::Both, Bare),
            Endpoint::GetCallbackIp => ("getcallbackip", Get, AccessToken, Dialects::Both, Bare),
            Endpoint::GetApiDomainIp => ("get_api_domain_ip", Get, AccessToken, Dialects::Both, Bare),
            // JS-SDK tickets: both dialects; which `type` each serves is in ticket.rs.
            Endpoint::GetJsapiTicket => ("get_jsapi_ticket", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::TicketGet => ("ticket/get", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserConvertToOpenid => ("user/convert_to_openid", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserConvertToUserid => ("user/convert_to_userid", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::DepartmentCreate => ("department/create", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::DepartmentUpdate => ("department/update", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::DepartmentDelete => ("department/delete", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::DepartmentList => ("department/list", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::DepartmentSimplelist => ("department/simplelist", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::DepartmentGet => ("department/get", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserCreate => ("user/create", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserGet => ("user/get", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserUpdate => ("user/update", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserDelete => ("user/delete", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserBatchdelete => ("user/batchdelete", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserSimplelist => ("user/simplelist", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserList => ("user/list", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserListId => ("user/list_id", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserGetuserid => ("user/getuserid", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserGetUseridByEmail => ("user/get_userid_by_email", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::UserAuthsucc => ("user/authsucc", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::BatchInvite => ("batch/invite", Post, AccessToken, Dialects::Both, Envelope),
            // The 企业号 had the asynchronous imports too (legacy-api.md §3.6); its asynchronous
            // invitation WeCom replaced with batch/invite.
            Endpoint::BatchSyncuser => ("batch/syncuser", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::BatchReplaceuser => ("batch/replaceuser", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::BatchReplaceparty => ("batch/replaceparty", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::BatchGetresult => ("batch/getresult", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::BatchInviteuser => ("batch/inviteuser", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::TagCreate => ("tag/create", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagUpdate => ("tag/update", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagDelete => ("tag/delete", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagGet => ("tag/get", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagAddtagusers => ("tag/addtagusers", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagDeltagusers => ("tag/deltagusers", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagList => ("tag/list", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::ChatCreate => ("chat/create", Post, ChatToken, Dialects::Legacy, Envelope),
            Endpoint::ChatGet => ("chat/get", Get, ChatToken, Dialects::Legacy, Envelope),
            Endpoint::ChatUpdate => ("chat/update", Post, ChatToken, Dialects::Legacy, Envelope),
            Endpoint::ChatQuit => ("chat/quit", Post, ChatToken, Dialects::Legacy, Envelope),
            Endpoint::ChatClearnotify => ("chat/clearnotify", Post, ChatToken, Dialects::Legacy, Envelope),
            Endpoint::ChatSend => ("chat/send", Post, ChatToken, Dialects::Legacy, Envelope),
            Endpoint::ChatSetmute => ("chat/setmute", Post, ChatToken, Dialects::Legacy, Envelope),
            // Robots are a WeCom feature; without a token there is no dialect to choose.
            Endpoint::WebhookSend => ("webhook/send", Post, WebhookKey, Dialects::Both, Envelope),
            Endpoint::WebhookUploadMedia => ("webhook/upload_media", Post, WebhookKey, Dialects::Both, Envelope),
            Endpoint::AgentGet => ("agent/get", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::AgentSet => ("agent/set", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::AgentList => ("agent/list", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::MenuCreate => ("menu/create", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::MenuGet => ("menu/get", Get, AccessToken, Dialects::Both, Bare),
            Endpoint::MenuDelete => ("menu/delete", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::KfSend => ("kf/send", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::KfList => ("kf/list", Get, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::ShakearoundGetshakeinfo => ("shakearound/getshakeinfo", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardCreate => ("card/create", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardGet => ("card/get", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardBatchget => ("card/batchget", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardDelete => ("card/delete", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardModifystock => ("card/modifystock", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardQrcodeCreate => ("card/qrcode/create", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardCodeGet => ("card/code/get", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardCodeConsume => ("card/code/consume", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::CardMpnewsGethtml => ("card/mpnews/gethtml", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::MessageSend => ("message/send", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::MessageRecall => ("message/recall", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::MessageUpdateTemplateCard => ("message/update_template_card", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::MessageUpdateTaskcard => ("message/update_taskcard", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::AppchatCreate => ("appchat/create", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::AppchatUpdate => ("appchat/update", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::AppchatGet => ("appchat/get", Get, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::AppchatSend => ("appchat/send", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::MediaUpload => ("media/upload", Post, AccessToken, Dialects::Both, Bare),
            Endpoint::MediaGet => ("media/get", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::MediaGetJssdk => ("media/get/jssdk", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::MediaUploadimg => ("media/uploadimg", Post, AccessToken, Dialects::Both, Bare),
            // Large files by URL came with WeCom's customer contact (wecom-api.md §8.5).
            Endpoint::MediaUploadByUrl => ("media/upload_by_url", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::MediaGetUploadByUrlResult => ("media/get_upload_by_url_result", Post, AccessToken, Dialects::WeCom, Envelope),
            // Permanent material: the 企业号 only (legacy-api.md §6); WeCom tokens get 48005 as for kf and card.
            Endpoint::MaterialAddMpnews => ("material/add_mpnews", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::MaterialAddMaterial => ("material/add_material", Post, AccessToken, Dialects::Legacy, Envelope),
            // A file, or an mpnews's JSON without the envelope (legacy-api.md §1.3).
            Endpoint::MaterialGet => ("material/get", Get, AccessToken, Dialects::Legacy, Bare),
            Endpoint::MaterialDel => ("material/del", Get, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::MaterialUpdateMpnews => ("material/update_mpnews", Post, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::MaterialGetCount => ("material/get_count", Get, AccessToken, Dialects::Legacy, Envelope),
            Endpoint::MaterialBatchget => ("material/batchget", Post, AccessToken, Dialects::Legacy, Envelope),
        };
        let success_errmsg = match self {
            Endpoint::DepartmentCreate | Endpoint::UserCreate | Endpoint::TagCreate => "created",
            Endpoint::DepartmentUpdate | Endpoint::UserUpdate | Endpoint::TagUpdate => "updated",
            Endpoint::DepartmentDelete
            | Endpoint::UserDelete
            | Endpoint::UserBatchdelete
            | Endpoint::TagDelete
            | Endpoint::TagDeltagusers
            | Endpoint::MaterialDel => "deleted",
            _ => "ok",
        };
        Spec { path, success_errmsg, method, credential, dialects, legacy_success }
    }

    /// Decodes the part of the path after `/cgi-bin/`. Unknown paths are `None` (HTTP 404).
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.iter().copied().find(|e| e.spec().path == path)
    }

    pub fn path(self) -> &'static str {
        self.spec().path
    }

    pub fn serves(self, dialect: Dialect) -> bool {
        match (self.spec().dialects, dialect) {
            (Dialects::Both, _) => true,
            (Dialects::Legacy, d) => d == Dialect::Legacy,
            (Dialects::WeCom, d) => d == Dialect::WeCom,
        }
    }

    /// Writes that change which members an @all reaches. A corp's pending @all fan-outs are
    /// finished before them, so each reaches the members it would have reached when it was sent.
    pub fn changes_audience(self) -> bool {
        use Endpoint::*;
        matches!(
            self,
            UserCreate
                | UserUpdate
                | UserDelete
                | UserBatchdelete
                | DepartmentUpdate
                | TagDelete
                | TagAddtagusers
                | TagDeltagusers
                | BatchSyncuser
                | BatchReplaceuser
                | BatchReplaceparty
        )
    }

    /// Whether a token minted by `scope` may call this endpoint: the chat service's tokens and
    /// chat/* belong to each other only (legacy-api.md §7.1).
    pub fn admits(self, scope: Scope) -> bool {
        (self.spec().credential == Credential::ChatToken) == (scope == Scope::Chat)
    }

    /// The largest body read: robot images travel base64 in JSON (2 MB raw), robot files up to
    /// 20 MB in multipart (wecom-api.md §9.6).
    pub fn body_limit(self) -> usize {
        match self {
            Endpoint::WebhookSend => 4 * 1024 * 1024,
            Endpoint::WebhookUploadMedia => 21 * 1024 * 1024,
            // The largest file (20 MB) with room for the multipart framing around it.
            Endpoint::MediaUpload | Endpoint::MaterialAddMaterial => 21 * 1024 * 1024,
            Endpoint::MediaUploadimg => 3 * 1024 * 1024,
            _ => crate::body::BODY_LIMIT,
        }
    }

    /// Uploads whose body is streamed to the store as it arrives instead of being read whole
    /// first, so memory does not grow with the file (issue 6).
    pub fn streams_body(self) -> bool {
        matches!(self, Endpoint::MediaUpload | Endpoint::MediaUploadimg | Endpoint::MaterialAddMaterial | Endpoint::WebhookUploadMedia)
    }

    /// Endpoints whose success is a file, not JSON (media/get; material/get, whose mpnews are
    /// bare JSON); their errors are JSON as usual.
    pub fn answers_file(self) -> bool {
        matches!(self, Endpoint::MediaGet | Endpoint::MediaGetJssdk | Endpoint::MaterialGet)
    }

    /// What a caller whose dialect does not serve the endpoint is answered, or `None` when it
    /// does. WeCom callers of the APIs it removed get 48005, 企业号 callers of WeCom-only APIs
    /// 48002 (compatibility ledger, "Endpoint table").
    pub fn refusal(self, dialect: Dialect) -> Option<Errcode> {
        match self.spec().dialects {
            _ if self.serves(dialect) => None,
            Dialects::Legacy => Some(Errcode::ApiDeprecated),
            Dialects::WeCom => Some(Errcode::ApiForbidden),
            Dialects::Both => None,
        }
    }

    /// Fields an error answer still carries, empty as the platform sends them (wecom-api.md §1.2).
    pub fn error_fields(self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            Endpoint::GetCallbackIp | Endpoint::GetApiDomainIp => {
                m.insert("ip_list".into(), Value::Array(vec![]));
            }
            Endpoint::DepartmentSimplelist => {
                m.insert("department_id".into(), Value::Array(vec![]));
            }
            Endpoint::UserGet => {
                for list in ["department", "order", "is_leader_in_dept", "direct_leader"] {
                    m.insert(list.into(), Value::Array(vec![]));
                }
            }
            Endpoint::UserListId => {
                m.insert("dept_user".into(), Value::Array(vec![]));
            }
            _ => {}
        }
        m
    }

    /// Does a successful answer to this caller carry `errcode: 0` and `errmsg`?
    pub fn success_has_envelope(self, dialect: Dialect) -> bool {
        match (dialect, self.spec().legacy_success) {
            (Dialect::WeCom, _) => true,
            (Dialect::Legacy, LegacySuccess::Bare) => false,
            (Dialect::Legacy, LegacySuccess::Envelope) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_decodes_from_its_own_path() {
        for &e in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(e.path()), Some(e));
        }
        assert_eq!(Endpoint::from_path("gettoken/"), None);
        assert_eq!(Endpoint::from_path("nope"), None);
        assert_eq!(Endpoint::from_path(""), None);
    }

    #[test]
    fn only_gettoken_takes_a_secret() {
        for &e in Endpoint::ALL {
            assert_eq!(e.spec().credential == Credential::CorpSecret, e == Endpoint::GetToken);
        }
    }

    #[test]
    fn id_conversions_are_posts_with_an_envelope_in_both_dialects() {
        for e in [Endpoint::UserConvertToOpenid, Endpoint::UserConvertToUserid] {
            assert_eq!(e.spec().method, Method::Post);
            assert!(e.success_has_envelope(Dialect::Legacy));
        }
        assert_eq!(Endpoint::from_path("user/convert_to_openid"), Some(Endpoint::UserConvertToOpenid));
    }

    #[test]
    fn writes_answer_their_own_errmsg() {
        assert_eq!(Endpoint::UserCreate.spec().success_errmsg, "created");
        assert_eq!(Endpoint::TagUpdate.spec().success_errmsg, "updated");
        assert_eq!(Endpoint::TagDeltagusers.spec().success_errmsg, "deleted");
        assert_eq!(Endpoint::TagAddtagusers.spec().success_errmsg, "ok");
        assert_eq!(Endpoint::GetToken.spec().success_errmsg, "ok");
    }

    #[test]
    fn ip_list_errors_keep_an_empty_list() {
        assert_eq!(Endpoint::GetCallbackIp.error_fields()["ip_list"], Value::Array(vec![]));
        assert!(Endpoint::GetToken.error_fields().is_empty());
        assert_eq!(Endpoint::DepartmentSimplelist.error_fields()["department_id"], Value::Array(vec![]));
        assert_eq!(Endpoint::UserGet.error_fields()["is_leader_in_dept"], Value::Array(vec![]));
        assert_eq!(Endpoint::UserListId.error_fields()["dept_user"], Value::Array(vec![]));
    }

    #[test]
    fn chat_tokens_and_chat_endpoints_belong_to_each_other() {
        for &e in Endpoint::ALL {
            let chat = e.path().starts_with("chat/");
            assert_eq!(e.admits(Scope::Chat), chat, "{e:?}");
            assert_eq!(e.admits(Scope::Group { groupid: 1 }), !chat, "{e:?}");
            assert_eq!(e.admits(Scope::App { agentid: 1 }), !chat, "{e:?}");
            if chat {
                assert!(e.serves(Dialect::Legacy) && !e.serves(Dialect::WeCom), "{e:?} is legacy only");
            }
        }
    }

    #[test]
    fn robots_take_a_key() {
        for e in [Endpoint::WebhookSend, Endpoint::WebhookUploadMedia] {
            assert_eq!(e.spec().credential, Credential::WebhookKey);
            assert_eq!(e.spec().method, Method::Post);
            assert!(e.body_limit() > crate::body::BODY_LIMIT);
        }
        assert!(Endpoint::WebhookUploadMedia.streams_body());
    }

    #[test]
    fn removed_apis_are_legacy_only_and_deprecated_for_wecom() {
        for e in [Endpoint::KfSend, Endpoint::KfList, Endpoint::ShakearoundGetshakeinfo, Endpoint::CardCreate, Endpoint::CardMpnewsGethtml]
            .into_iter()
            .chain([Endpoint::CardCodeGet, Endpoint::CardCodeConsume])
        {
            assert!(e.serves(Dialect::Legacy) && !e.serves(Dialect::WeCom), "{e:?}");
            assert_eq!(e.refusal(Dialect::WeCom), Some(Errcode::ApiDeprecated));
            assert_eq!(e.refusal(Dialect::Legacy), None);
        }
        assert_eq!(Endpoint::AgentGet.refusal(Dialect::WeCom), None);
        assert_eq!(Endpoint::from_path("card/qrcode/create"), Some(Endpoint::CardQrcodeCreate));
    }

    #[test]
    fn legacy_menu_get_is_bare() {
        assert!(!Endpoint::MenuGet.success_has_envelope(Dialect::Legacy));
        assert!(Endpoint::MenuCreate.success_has_envelope(Dialect::Legacy));
        assert!(Endpoint::MenuGet.success_has_envelope(Dialect::WeCom));
    }

    #[test]
    fn appchat_recall_and_card_updates_are_wecom_only() {
        for e in [Endpoint::AppchatCreate, Endpoint::AppchatSend, Endpoint::MessageRecall, Endpoint::MessageUpdateTemplateCard] {
            assert!(e.serves(Dialect::WeCom) && !e.serves(Dialect::Legacy), "{e:?}");
        }
        assert!(Endpoint::MessageSend.serves(Dialect::Legacy));
        assert_eq!(Endpoint::from_path("appchat/get"), Some(Endpoint::AppchatGet));
    }

    #[test]
    fn tickets_serve_both_dialects_and_taskcards_wecom() {
        for e in [Endpoint::GetJsapiTicket, Endpoint::TicketGet] {
            assert!(e.serves(Dialect::WeCom) && e.serves(Dialect::Legacy), "{e:?}");
            assert!(e.success_has_envelope(Dialect::Legacy), "{e:?}");
        }
        assert_eq!(Endpoint::from_path("ticket/get"), Some(Endpoint::TicketGet));
        assert_eq!(Endpoint::MessageUpdateTaskcard.refusal(Dialect::Legacy), Some(Errcode::ApiForbidden));
    }

    #[test]
    fn media_uploads_stream_and_downloads_answer_files() {
        for e in [Endpoint::MediaUpload, Endpoint::MediaUploadimg] {
            assert!(e.streams_body() && e.spec().method == Method::Post, "{e:?}");
            assert!(!e.success_has_envelope(Dialect::Legacy), "legacy-api.md §1.3: {e:?}");
        }
        assert!(Endpoint::MediaGet.answers_file() && Endpoint::MediaGetJssdk.answers_file());
        assert!(!Endpoint::MediaUploadByUrl.serves(Dialect::Legacy));
        assert_eq!(Endpoint::from_path("media/get/jssdk"), Some(Endpoint::MediaGetJssdk));
    }

    #[test]
    fn permanent_material_is_legacy_only() {
        let material: Vec<Endpoint> = Endpoint::ALL.iter().copied().filter(|e| e.path().starts_with("material/")).collect();
        assert_eq!(material.len(), 7);
        for e in material {
            assert!(e.serves(Dialect::Legacy) && !e.serves(Dialect::WeCom), "{e:?}");
            assert_eq!(e.refusal(Dialect::WeCom), Some(Errcode::ApiDeprecated), "{e:?}");
        }
        assert_eq!(Endpoint::MaterialDel.spec().success_errmsg, "deleted");
        assert_eq!(Endpoint::MaterialUpdateMpnews.spec().success_errmsg, "ok");
        assert!(Endpoint::MaterialAddMaterial.streams_body() && Endpoint::MaterialGet.answers_file());
        assert_eq!(Endpoint::MaterialAddMaterial.body_limit(), Endpoint::MediaUpload.body_limit());
        assert_eq!(Endpoint::from_path("material/update_news"), None, "wechatpy's path was never served");
        assert_eq!(Endpoint::from_path("material/add_news"), None, "weixin4j's path was never served");
    }

    #[test]
    fn batch_jobs_serve_both_dialects_and_inviteuser_the_legacy_one() {
        for e in [Endpoint::BatchSyncuser, Endpoint::BatchReplaceuser, Endpoint::BatchReplaceparty, Endpoint::BatchGetresult] {
            assert!(e.serves(Dialect::WeCom) && e.serves(Dialect::Legacy) && e.success_has_envelope(Dialect::Legacy), "{e:?}");
        }
        assert_eq!(Endpoint::BatchInviteuser.refusal(Dialect::WeCom), Some(Errcode::ApiDeprecated));
        assert_eq!(Endpoint::from_path("batch/getresult"), Some(Endpoint::BatchGetresult));
        assert_eq!(Endpoint::BatchGetresult.spec().method, Method::Get);
    }

    #[test]
    fn legacy_infrastructure_successes_are_bare() {
        for e in [Endpoint::GetToken, Endpoint::GetCallbackIp, Endpoint::GetApiDomainIp] {
            assert!(e.success_has_envelope(Dialect::WeCom));
            assert!(!e.success_has_envelope(Dialect::Legacy));
            assert!(e.serves(Dialect::WeCom) && e.serves(Dialect::Legacy));
        }
    }
}
