//! Errcodes and the errmsg format, in one place (wecom-api.md §1.7, §13; legacy-api.md §0).

use crate::Dialect;
use rand::Rng;
use std::borrow::Cow;
use std::net::IpAddr;

/// The errcodes wecomd answers, each with the English text the platform sends before the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errcode {
    SystemBusy,
    InvalidCredential,
    InvalidCorpid,
    InvalidAccessToken,
    AccessTokenMissing,
    CorpidMissing,
    CorpsecretMissing,
    AccessTokenExpired,
    ApiFreqOutOfLimit,
    ApiConcurrentOutOfLimit,
    ApiForbidden,
    NotAllowIp,
    InvalidRequestParameter,
    DataFormatError,
    EmptyPostData,
    RequestBodyTooLarge,
    UseridMissing,
    UseridNotFound,
    NoPrivilege,
    NotBoundWeixin,
    InvalidOpenid,
    InvalidAgentid,
    InvalidUserid,
    InvalidUseridList,
    InvalidUseridListSize,
    InvalidParameter,
    InvalidDepartmentList,
    InvalidTagid,
    TagListAllInvalid,
    InvalidTagName,
    InvalidTagNameSize,
    TagidMissing,
    TagNameMissing,
    DepartmentMissing,
    UserNotExist,
    InvalidCursor,
    InvalidDepartmentNameSize,
    DepartmentLevelTooDeep,
    DepartmentNotFound,
    ParentDepartmentNotFound,
    DepartmentHasMembers,
    DepartmentHasChildren,
    RootDepartmentUndeletable,
    DepartmentExisted,
    InvalidDepartmentName,
    DepartmentCycle,
    TagHasMembers,
    UseridExisted,
    InvalidMobile,
    MobileExisted,
    InvalidEmail,
    EmailExisted,
    InvalidWeixinid,
    WeixinidExisted,
    TooManyDepartments,
    InvalidName,
    NoContactWay,
    InvalidGender,
    InvalidDepartmentId,
    InvalidParentDepartmentId,
    InvalidDepartmentNameChars,
    DepartmentIdMissing,
    MobileAndEmailEmpty,
    LeaderListMismatch,
    DepartmentFull,
    DepartmentTooDeep,
    TagFull,
    TagNoPrivilege,
    TooManyTagNodes,
    CreatorUndeletable,
    InvalidPosition,
    InvalidTelephone,
    InvalidEnglishName,
    InvalidUseridInList,
    AgentidMissing,
    NoAppPrivilege,
    InvalidAppName,
    InvalidAppDescription,
    UrlWithoutScheme,
    InvalidUrl,
    DomainNotVerified,
    InvalidReportLocationFlag,
    InvalidMediaId,
    InvalidButtonSize,
    InvalidButtonType,
    InvalidButtonNameSize,
    InvalidButtonKeySize,
    InvalidButtonUrlSize,
    InvalidSubButtonLevel,
    InvalidSubButtonSize,
    InvalidSubButtonType,
    InvalidSubButtonNameSize,
    InvalidSubButtonKeySize,
    InvalidSubButtonUrlSize,
    InvalidSubButtonUrlDomain,
    InvalidButtonUrlDomain,
    MenuNameMissing,
    MenuNoExist,
    ApiDeprecated,
    InvalidMessageType,
    EmptyContent,
}

impl Errcode {
    pub fn code(self) -> i64 {
        match self {
            Errcode::SystemBusy => -1,
            Errcode::InvalidCredential => 40001,
            Errcode::InvalidCorpid => 40013,
            Errcode::InvalidAccessToken => 40014,
            Errcode::AccessTokenMissing => 41001,
            Errcode::CorpidMissing => 41002,
            Errcode::CorpsecretMissing => 41004,
            Errcode::AccessTokenExpired => 42001,
            Errcode::ApiFreqOutOfLimit => 45009,
            Errcode::ApiConcurrentOutOfLimit => 45033,
            Errcode::ApiForbidden => 48002,
            Errcode::NotAllowIp => 60020,
            Errcode::InvalidRequestParameter => 40058,
            Errcode::DataFormatError => 47001,
            Errcode::EmptyPostData => 44002,
            Errcode::RequestBodyTooLarge => 40206,
            Errcode::UseridMissing => 41009,
            Errcode::UseridNotFound => 60111,
            Errcode::NoPrivilege => 60011,
            Errcode::NotBoundWeixin => 43004,
            Errcode::InvalidOpenid => 40073,
            Errcode::InvalidAgentid => 40056,
            Errcode::InvalidUserid => 40003,
            Errcode::InvalidUseridList => 40031,
            Errcode::InvalidUseridListSize => 40032,
            Errcode::InvalidParameter => 40035,
            Errcode::InvalidDepartmentList => 40066,
            Errcode::InvalidTagid => 40068,
            Errcode::TagListAllInvalid => 40070,
            Errcode::InvalidTagName => 40071,
            Errcode::InvalidTagNameSize => 40072,
            Errcode::TagidMissing => 41017,
            Errcode::TagNameMissing => 41018,
            Errcode::DepartmentMissing => 41019,
            Errcode::UserNotExist => 46004,
            Errcode::InvalidCursor => 50100,
            Errcode::InvalidDepartmentNameSize => 60001,
            Errcode::DepartmentLevelTooDeep => 60002,
            Errcode::DepartmentNotFound => 60003,
            Errcode::ParentDepartmentNotFound => 60004,
            Errcode::DepartmentHasMembers => 60005,
            Errcode::DepartmentHasChildren => 60006,
            Errcode::RootDepartmentUndeletable => 60007,
            Errcode::DepartmentExisted => 60008,
            Errcode::InvalidDepartmentName => 60009,
            Errcode::DepartmentCycle => 60010,
            Errcode::TagHasMembers => 60016,
            Errcode::UseridExisted => 60102,
            Errcode::InvalidMobile => 60103,
            Errcode::MobileExisted => 60104,
            Errcode::InvalidEmail => 60105,
            Errcode::EmailExisted => 60106,
            Errcode::InvalidWeixinid => 60107,
            Errcode::WeixinidExisted => 60108,
            Errcode::TooManyDepartments => 60110,
            Errcode::InvalidName => 60112,
            Errcode::NoContactWay => 60113,
            Errcode::InvalidGender => 60114,
            Errcode::InvalidDepartmentId => 60123,
            Errcode::InvalidParentDepartmentId => 60124,
            Errcode::InvalidDepartmentNameChars => 60125,
            Errcode::DepartmentIdMissing => 60127,
            Errcode::MobileAndEmailEmpty => 60129,
            Errcode::LeaderListMismatch => 60132,
            Errcode::DepartmentFull => 81001,
            Errcode::DepartmentTooDeep => 81002,
            Errcode::TagFull => 81003,
            Errcode::TagNoPrivilege => 81011,
            Errcode::TooManyTagNodes => 81014,
            Errcode::CreatorUndeletable => 301005,
            Errcode::InvalidPosition => 301012,
            Errcode::InvalidTelephone => 301013,
            Errcode::InvalidEnglishName => 301014,
            Errcode::InvalidUseridInList => 301021,
            Errcode::AgentidMissing => 41011,
            Errcode::NoAppPrivilege => 301002,
            Errcode::InvalidAppName => 45022,
            Errcode::InvalidAppDescription => 45004,
            Errcode::UrlWithoutScheme => 45034,
            Errcode::InvalidUrl => 40094,
            Errcode::DomainNotVerified => 85005,
            Errcode::InvalidReportLocationFlag => 40059,
            Errcode::InvalidMediaId => 40007,
            Errcode::InvalidButtonSize => 40016,
            Errcode::InvalidButtonType => 40017,
            Errcode::InvalidButtonNameSize => 40018,
            Errcode::InvalidButtonKeySize => 40019,
            Errcode::InvalidButtonUrlSize => 40020,
            Errcode::InvalidSubButtonLevel => 40022,
            Errcode::InvalidSubButtonSize => 40023,
            Errcode::InvalidSubButtonType => 40024,
            Errcode::InvalidSubButtonNameSize => 40025,
            Errcode::InvalidSubButtonKeySize => 40026,
            Errcode::InvalidSubButtonUrlSize => 40027,
            Errcode::InvalidSubButtonUrlDomain => 40054,
            Errcode::InvalidButtonUrlDomain => 40055,
            Errcode::MenuNameMissing => 41102,
            Errcode::MenuNoExist => 46003,
            Errcode::ApiDeprecated => 48005,
            Errcode::InvalidMessageType => 40008,
            Errcode::EmptyContent => 44004,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Errcode::SystemBusy => "system busy",
            Errcode::InvalidCredential => "invalid credential",
            Errcode::InvalidCorpid => "invalid corpid",
            Errcode::InvalidAccessToken => "invalid access_token",
            Errcode::AccessTokenMissing => "access_token missing",
            Errcode::CorpidMissing => "corpid missing",
            Errcode::CorpsecretMissing => "corpsecret missing",
            Errcode::AccessTokenExpired => "access_token expired",
            Errcode::ApiFreqOutOfLimit => "api freq out of limit",
            Errcode::ApiConcurrentOutOfLimit => "api concurrent out of limit",
            Errcode::ApiForbidden => "api forbidden",
            Errcode::NotAllowIp => "not allow to access from your ip",
            Errcode::InvalidRequestParameter => "invalid Request Parameter",
            Errcode::DataFormatError => "data format error",
            Errcode::EmptyPostData => "empty post data",
            Errcode::RequestBodyTooLarge => "request body too large",
            Errcode::UseridMissing => "userid missing",
            Errcode::UseridNotFound => "userid not found",
            Errcode::NoPrivilege => "no privilege to access/modify contact/party/agent",
            Errcode::NotBoundWeixin => "userid not bind weixin or not follow weixin plugin",
            Errcode::InvalidOpenid => "invalid openid",
            Errcode::InvalidAgentid => "invalid agentid",
            Errcode::InvalidUserid => "invalid userid",
            Errcode::InvalidUseridList => "all list invalid",
            Errcode::InvalidUseridListSize => "invalid userid list size",
            Errcode::InvalidParameter => "invalid parameter",
            Errcode::InvalidDepartmentList => "invalid department list",
            Errcode::InvalidTagid => "invalid tagid",
            Errcode::TagListAllInvalid => "all list invalid ",
            Errcode::InvalidTagName => "invalid tag name",
            Errcode::InvalidTagNameSize => "invalid tag name size",
            Errcode::TagidMissing => "tagid missing",
            Errcode::TagNameMissing => "tagname missing",
            Errcode::DepartmentMissing => "department missing",
            Errcode::UserNotExist => "user no exist",
            Errcode::InvalidCursor => "invalid cursor",
            Errcode::InvalidDepartmentNameSize => "invalid department name size",
            Errcode::DepartmentLevelTooDeep => "department level too deep",
            Errcode::DepartmentNotFound => "department not found",
            Errcode::ParentDepartmentNotFound => "parent department not found",
            Errcode::DepartmentHasMembers => "department contains members",
            Errcode::DepartmentHasChildren => "department contains sub-departments",
            Errcode::RootDepartmentUndeletable => "root department can not be deleted",
            Errcode::DepartmentExisted => "department existed",
            Errcode::InvalidDepartmentName => "invalid department name",
            Errcode::DepartmentCycle => "department cycle",
            Errcode::TagHasMembers => "tag contains members",
            Errcode::UseridExisted => "userid existed",
            Errcode::InvalidMobile => "invalid mobile",
            Errcode::MobileExisted => "mobile existed",
            Errcode::InvalidEmail => "invalid email",
            Errcode::EmailExisted => "email existed",
            Errcode::InvalidWeixinid => "invalid weixinid",
            Errcode::WeixinidExisted => "weixinid existed",
            Errcode::TooManyDepartments => "too many departments",
            Errcode::InvalidName => "invalid name",
            Errcode::NoContactWay => "mobile weixinid and email are all empty",
            Errcode::InvalidGender => "invalid gender",
            Errcode::InvalidDepartmentId => "invalid department id",
            Errcode::InvalidParentDepartmentId => "invalid parent department id",
            Errcode::InvalidDepartmentNameChars => "invalid department name",
            Errcode::DepartmentIdMissing => "department missing",
            Errcode::MobileAndEmailEmpty => "mobile and email are both empty",
            Errcode::LeaderListMismatch => "is_leader_in_dept size not match department size",
            Errcode::DepartmentFull => "department children exceed limit",
            Errcode::DepartmentTooDeep => "department level exceed 15",
            Errcode::TagFull => "tag nodes exceed 30000",
            Errcode::TagNoPrivilege => "no privilege to operate tag",
            Errcode::TooManyTagNodes => "too many users or parties in one call",
            Errcode::CreatorUndeletable => "not allow to delete creator",
            Errcode::InvalidPosition => "invalid position",
            Errcode::InvalidTelephone => "invalid telephone",
            Errcode::InvalidEnglishName => "invalid english_name",
            Errcode::InvalidUseridInList => "userid invalid",
            Errcode::AgentidMissing => "agentid missing",
            Errcode::NoAppPrivilege => "no privilege to access/modify agent",
            Errcode::InvalidAppName => "invalid agent name size",
            Errcode::InvalidAppDescription => "invalid agent description size",
            Errcode::UrlWithoutScheme => "url must start with http:// or https://",
            Errcode::InvalidUrl => "invalid url",
            Errcode::DomainNotVerified => "redirect_domain ownership not verified",
            Errcode::InvalidReportLocationFlag => "invalid report location flag",
            Errcode::InvalidMediaId => "invalid media_id",
            Errcode::InvalidButtonSize => "invalid button size",
            Errcode::InvalidButtonType => "invalid button type",
            Errcode::InvalidButtonNameSize => "invalid button name size",
            Errcode::InvalidButtonKeySize => "invalid button key size",
            Errcode::InvalidButtonUrlSize => "invalid button url size",
            Errcode::InvalidSubButtonLevel => "invalid sub button level",
            Errcode::InvalidSubButtonSize => "invalid sub button size",
            Errcode::InvalidSubButtonType => "invalid sub button type",
            Errcode::InvalidSubButtonNameSize => "invalid sub button name size",
            Errcode::InvalidSubButtonKeySize => "invalid sub button key size",
            Errcode::InvalidSubButtonUrlSize => "invalid sub button url size",
            Errcode::InvalidSubButtonUrlDomain => "invalid sub button url domain",
            Errcode::InvalidButtonUrlDomain => "invalid button url domain",
            Errcode::MenuNameMissing => "menu name missing",
            Errcode::MenuNoExist => "menu no exist",
            Errcode::ApiDeprecated => "api deprecated",
            Errcode::InvalidMessageType => "invalid message type",
            Errcode::EmptyContent => "empty content",
        }
    }
}

/// An API failure as it goes on the wire: always HTTP 200 with errcode and errmsg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub errcode: i64,
    pub text: Cow<'static, str>,
}

impl ApiError {
    /// The code's text followed by what exactly was wrong, as the platform does for 40058.
    pub fn with_detail(code: Errcode, detail: impl std::fmt::Display) -> Self {
        ApiError { errcode: code.code(), text: Cow::Owned(format!("{}: {detail}", code.text())) }
    }

    /// An errcode chosen from outside the table (fault injection through the control API).
    pub fn injected(errcode: i64) -> Self {
        ApiError { errcode, text: Cow::Borrowed("injected fault") }
    }
}

impl From<Errcode> for ApiError {
    fn from(e: Errcode) -> Self {
        ApiError { errcode: e.code(), text: Cow::Borrowed(e.text()) }
    }
}

/// The errmsg of an error. WeCom appends a hint, the caller's IP and the lookup URL; the legacy
/// 企业号 sent the bare text (`{"errcode":42001,"errmsg":"access_token expired"}`). A caller whose
/// dialect is not known yet (no valid token) gets the WeCom form, as the shared host would send.
pub fn errmsg(err: &ApiError, dialect: Option<Dialect>, now_secs: i64, ip: IpAddr) -> String {
    match dialect {
        Some(Dialect::Legacy) => err.text.to_string(),
        _ => format!(
            "{}, hint: [{}], from ip: {}, more info at https://open.work.weixin.qq.com/devtool/query?e={}",
            err.text,
            hint(now_secs),
            ip,
            err.errcode
        ),
    }
}

/// `<unix time>_<n>_<32 hex>`, the shape of the platform's request ids.
fn hint(now_secs: i64) -> String {
    let mut rng = rand::rng();
    format!("{}_{}_{:032x}", now_secs, rng.random_range(1..100u32), rng.random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wecom_errmsg_has_hint_ip_and_link() {
        let m = errmsg(&Errcode::InvalidAccessToken.into(), Some(Dialect::WeCom), 1700000000, "10.1.2.3".parse().unwrap());
        let (text, rest) = m.split_once(", hint: [").unwrap();
        assert_eq!(text, "invalid access_token");
        let (hint, rest) = rest.split_once("], from ip: ").unwrap();
        let parts: Vec<&str> = hint.split('_').collect();
        assert_eq!(parts[0], "1700000000");
        assert!(parts[1].parse::<u32>().is_ok());
        assert_eq!(parts[2].len(), 32);
        assert!(parts[2].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(rest, "10.1.2.3, more info at https://open.work.weixin.qq.com/devtool/query?e=40014");
    }

    #[test]
    fn unknown_dialect_answers_like_wecom() {
        let m = errmsg(&Errcode::AccessTokenMissing.into(), None, 1, "127.0.0.1".parse().unwrap());
        assert!(m.starts_with("access_token missing, hint: ["));
    }

    #[test]
    fn legacy_errmsg_is_bare() {
        let m = errmsg(&Errcode::AccessTokenExpired.into(), Some(Dialect::Legacy), 1, "127.0.0.1".parse().unwrap());
        assert_eq!(m, "access_token expired");
    }

    #[test]
    fn codes_match_the_platform_table() {
        let pairs = [
            (Errcode::SystemBusy, -1),
            (Errcode::InvalidCredential, 40001),
            (Errcode::InvalidCorpid, 40013),
            (Errcode::InvalidAccessToken, 40014),
            (Errcode::AccessTokenMissing, 41001),
            (Errcode::CorpidMissing, 41002),
            (Errcode::CorpsecretMissing, 41004),
            (Errcode::AccessTokenExpired, 42001),
            (Errcode::ApiFreqOutOfLimit, 45009),
            (Errcode::ApiConcurrentOutOfLimit, 45033),
            (Errcode::ApiForbidden, 48002),
            (Errcode::NotAllowIp, 60020),
            (Errcode::InvalidRequestParameter, 40058),
            (Errcode::DataFormatError, 47001),
            (Errcode::EmptyPostData, 44002),
            (Errcode::RequestBodyTooLarge, 40206),
            (Errcode::UseridMissing, 41009),
            (Errcode::UseridNotFound, 60111),
            (Errcode::NoPrivilege, 60011),
            (Errcode::NotBoundWeixin, 43004),
            (Errcode::InvalidOpenid, 40073),
            (Errcode::InvalidAgentid, 40056),
        ];
        for (e, c) in pairs {
            assert_eq!(e.code(), c, "{e:?}");
        }
    }
}
