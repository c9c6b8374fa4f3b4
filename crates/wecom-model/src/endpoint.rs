//! The endpoint table: every `/cgi-bin` path wecomd serves, the credential it needs and the
//! dialects that serve it. A request is decoded into an [`Endpoint`] once; everything after that
//! dispatches on the enum (the shape of Garage's S3 router).

use crate::Dialect;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    GetToken,
    GetCallbackIp,
    GetApiDomainIp,
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
    TagCreate,
    TagUpdate,
    TagDelete,
    TagGet,
    TagAddtagusers,
    TagDeltagusers,
    TagList,
    MessageSend,
    MessageRecall,
    MessageUpdateTemplateCard,
    AppchatCreate,
    AppchatUpdate,
    AppchatGet,
    AppchatSend,
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
}

/// Which dialects serve an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialects {
    Both,
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
        Endpoint::TagCreate,
        Endpoint::TagUpdate,
        Endpoint::TagDelete,
        Endpoint::TagGet,
        Endpoint::TagAddtagusers,
        Endpoint::TagDeltagusers,
        Endpoint::TagList,
        Endpoint::MessageSend,
        Endpoint::MessageRecall,
        Endpoint::MessageUpdateTemplateCard,
        Endpoint::AppchatCreate,
        Endpoint::AppchatUpdate,
        Endpoint::AppchatGet,
        Endpoint::AppchatSend,
    ];

    pub fn spec(self) -> Spec {
        use Credential::*;
        use LegacySuccess::*;
        use Method::*;
        let (path, method, credential, dialects, legacy_success) = match self {
            Endpoint::GetToken => ("gettoken", Get, CorpSecret, Dialects::Both, Bare),
            Endpoint::GetCallbackIp => ("getcallbackip", Get, AccessToken, Dialects::Both, Bare),
            Endpoint::GetApiDomainIp => ("get_api_domain_ip", Get, AccessToken, Dialects::Both, Bare),
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
            Endpoint::TagCreate => ("tag/create", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagUpdate => ("tag/update", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagDelete => ("tag/delete", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagGet => ("tag/get", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagAddtagusers => ("tag/addtagusers", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagDeltagusers => ("tag/deltagusers", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::TagList => ("tag/list", Get, AccessToken, Dialects::Both, Envelope),
            Endpoint::MessageSend => ("message/send", Post, AccessToken, Dialects::Both, Envelope),
            Endpoint::MessageRecall => ("message/recall", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::MessageUpdateTemplateCard => ("message/update_template_card", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::AppchatCreate => ("appchat/create", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::AppchatUpdate => ("appchat/update", Post, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::AppchatGet => ("appchat/get", Get, AccessToken, Dialects::WeCom, Envelope),
            Endpoint::AppchatSend => ("appchat/send", Post, AccessToken, Dialects::WeCom, Envelope),
        };
        let success_errmsg = match self {
            Endpoint::DepartmentCreate | Endpoint::UserCreate | Endpoint::TagCreate => "created",
            Endpoint::DepartmentUpdate | Endpoint::UserUpdate | Endpoint::TagUpdate => "updated",
            Endpoint::DepartmentDelete
            | Endpoint::UserDelete
            | Endpoint::UserBatchdelete
            | Endpoint::TagDelete
            | Endpoint::TagDeltagusers => "deleted",
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
            (Dialects::WeCom, d) => d == Dialect::WeCom,
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
    fn appchat_recall_and_card_updates_are_wecom_only() {
        for e in [Endpoint::AppchatCreate, Endpoint::AppchatSend, Endpoint::MessageRecall, Endpoint::MessageUpdateTemplateCard] {
            assert!(e.serves(Dialect::WeCom) && !e.serves(Dialect::Legacy), "{e:?}");
        }
        assert!(Endpoint::MessageSend.serves(Dialect::Legacy));
        assert_eq!(Endpoint::from_path("appchat/get"), Some(Endpoint::AppchatGet));
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
