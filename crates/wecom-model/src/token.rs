//! access_token rules (wecom-api.md §1.4–1.6, §2.1; legacy-api.md §1.1).

use crate::credential::{is_valid_corpid, random_url_safe};
use crate::{Dialect, Errcode};
use serde_json::{json, Map, Value};

/// Every token lives 7200 s from its last fetch.
pub const EXPIRES_IN: i64 = 7200;
/// 企业号 tokens were exactly 64 characters; SDKs of that era tell tokens from app keys by it.
pub const LEGACY_TOKEN_LEN: usize = 64;
/// A token seen from an upgraded corp in 2017 (WeiXinMPSDK issue #860) was 214 characters.
pub const WECOM_TOKEN_LEN_DEFAULT: usize = 214;
/// Clients must reserve 512 bytes (doc 91039), so no token may be longer.
pub const TOKEN_LEN_MAX: usize = 512;

pub fn new_token(dialect: Dialect, wecom_len: usize) -> String {
    match dialect {
        Dialect::Legacy => random_url_safe(LEGACY_TOKEN_LEN),
        Dialect::WeCom => random_url_safe(wecom_len.clamp(LEGACY_TOKEN_LEN + 1, TOKEN_LEN_MAX)),
    }
}

/// gettoken checks the secret's presence before the corpid's (observed live, wecom-api.md §2.1).
pub fn gettoken_params<'a>(corpid: Option<&'a str>, corpsecret: Option<&'a str>) -> Result<(&'a str, &'a str), Errcode> {
    let secret = corpsecret.filter(|s| !s.is_empty()).ok_or(Errcode::CorpsecretMissing)?;
    let corpid = corpid.filter(|s| !s.is_empty()).ok_or(Errcode::CorpidMissing)?;
    if !is_valid_corpid(corpid) {
        return Err(Errcode::InvalidCorpid);
    }
    Ok((corpid, secret))
}

/// What is stored of a token that was once issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    pub expires_at: i64,
    /// Set when its secret was regenerated: the token is then simply invalid.
    pub revoked: bool,
}

impl Issued {
    /// A revoked token is invalid (40014); one that was valid and has run out is expired (42001),
    /// the only code legacy SDKs refresh on (legacy-api.md §0.4).
    pub fn check(self, now: i64) -> Result<(), Errcode> {
        if self.revoked {
            Err(Errcode::InvalidAccessToken)
        } else if now >= self.expires_at {
            Err(Errcode::AccessTokenExpired)
        } else {
            Ok(())
        }
    }

    /// gettoken returns the live token and restarts its 7200 s. Storing that at most once a
    /// second per token keeps a busy gettoken from writing on every call.
    pub fn needs_extension(self, now: i64) -> bool {
        self.expires_at < now + EXPIRES_IN - 1
    }
}

/// The success fields of gettoken; the envelope is added by the dialect's renderer.
pub fn gettoken_view(token: &str) -> Map<String, Value> {
    let Value::Object(m) = json!({ "access_token": token, "expires_in": EXPIRES_IN }) else { unreachable!() };
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lengths_per_dialect() {
        assert_eq!(new_token(Dialect::Legacy, 300).len(), 64);
        assert_eq!(new_token(Dialect::WeCom, WECOM_TOKEN_LEN_DEFAULT).len(), 214);
        assert_eq!(new_token(Dialect::WeCom, 512).len(), 512);
        assert_eq!(new_token(Dialect::WeCom, 9999).len(), 512);
        let t = new_token(Dialect::WeCom, 300);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn gettoken_checks_secret_then_corpid() {
        assert_eq!(gettoken_params(None, None), Err(Errcode::CorpsecretMissing));
        assert_eq!(gettoken_params(Some("ww0123456789abcdef"), Some("")), Err(Errcode::CorpsecretMissing));
        assert_eq!(gettoken_params(None, Some("s")), Err(Errcode::CorpidMissing));
        assert_eq!(gettoken_params(Some(""), Some("s")), Err(Errcode::CorpidMissing));
        assert_eq!(gettoken_params(Some("nope"), Some("s")), Err(Errcode::InvalidCorpid));
        assert_eq!(gettoken_params(Some("ww0123456789abcdef"), Some("s")), Ok(("ww0123456789abcdef", "s")));
    }

    #[test]
    fn issued_token_states() {
        let t = Issued { expires_at: 1000, revoked: false };
        assert_eq!(t.check(999), Ok(()));
        assert_eq!(t.check(1000), Err(Errcode::AccessTokenExpired));
        assert_eq!(Issued { revoked: true, ..t }.check(0), Err(Errcode::InvalidAccessToken));
    }

    #[test]
    fn extension_is_written_at_most_once_a_second() {
        let now = 10_000;
        assert!(!Issued { expires_at: now + EXPIRES_IN, revoked: false }.needs_extension(now));
        assert!(!Issued { expires_at: now + EXPIRES_IN - 1, revoked: false }.needs_extension(now));
        assert!(Issued { expires_at: now + EXPIRES_IN - 2, revoked: false }.needs_extension(now));
    }

    #[test]
    fn gettoken_view_fields() {
        let v = gettoken_view("T");
        assert_eq!(v["access_token"], "T");
        assert_eq!(v["expires_in"], 7200);
        assert_eq!(v.len(), 2);
    }
}
