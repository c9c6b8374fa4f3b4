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
