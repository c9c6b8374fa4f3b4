//! Who a secret belongs to, and the shapes of corpids, secrets and agentids.

use crate::Dialect;
use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The holder of a secret, and so the scope of every token it mints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// A self-built app (自建应用); reads within its visible range.
    App { agentid: i64 },
    /// The contacts-sync assistant (通讯录同步助手); full contact read/write.
    ContactSync,
    /// A legacy management group (管理组); rights on apps, department subtrees and tags.
    Group { groupid: i64 },
    /// The legacy chat service's dedicated secret (企业会话服务): its tokens call chat/* only.
    Chat,
}

impl Scope {
    pub fn dialect(self) -> Dialect {
        match self {
            Scope::App { .. } | Scope::ContactSync => Dialect::WeCom,
            Scope::Group { .. } | Scope::Chat => Dialect::Legacy,
        }
    }

    /// The stable key a credential is stored under (`app:1000002`, `contact_sync`, `group:1`).
    pub fn owner_key(self) -> String {
        self.to_string()
    }

    pub fn parse_owner_key(s: &str) -> Option<Scope> {
        if s == "contact_sync" {
            return Some(Scope::ContactSync);
        }
        if s == "chat" {
            return Some(Scope::Chat);
        }
        let (kind, id) = s.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "app" => Some(Scope::App { agentid: id }),
            "group" => Some(Scope::Group { groupid: id }),
            _ => None,
        }
    }

    /// Trusted-IP lists (企业可信IP) exist only for WeCom credentials; 企业号 had none.
    pub fn has_trusted_ips(self) -> bool {
        self.dialect() == Dialect::WeCom
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::App { agentid } => write!(f, "app:{agentid}"),
            Scope::ContactSync => f.write_str("contact_sync"),
            Scope::Group { groupid } => write!(f, "group:{groupid}"),
            Scope::Chat => f.write_str("chat"),
        }
    }
}

/// Secrets on the platform are 43 characters of `[A-Za-z0-9_-]`.
pub const SECRET_LEN: usize = 43;

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random string of URL-safe characters, the alphabet of secrets and tokens.
pub fn random_url_safe(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| URL_SAFE[rng.random_range(0..URL_SAFE.len())] as char).collect()
}

pub fn new_secret() -> String {
    random_url_safe(SECRET_LEN)
}

/// Modern corps are `ww` + 16 hex digits; corps born on 企业号 kept their `wx` ids.
pub fn is_valid_corpid(s: &str) -> bool {
    s.len() == 18
        && (s.starts_with("ww") || s.starts_with("wx"))
        && s[2..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub fn new_corpid() -> String {
    let mut rng = rand::rng();
    format!("ww{:016x}", rng.random::<u64>())
}

/// A secret as the platform accepts it: non-empty and URL-safe. Anything else cannot match.
pub fn is_well_formed_secret(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| URL_SAFE.contains(&b))
}

/// A trusted-IP entry (企业可信IP): one address or a CIDR range.
pub fn parse_trusted_ip(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("trusted ip {s:?} is neither an address nor a CIDR range"))
}

/// The first agentid WeCom gives a self-built app.
pub const FIRST_AGENTID: i64 = 1_000_001;

/// Admin tokens for the control API: long enough not to be guessed.
pub fn new_admin_token() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_keys_round_trip() {
        for s in [Scope::App { agentid: 1000002 }, Scope::ContactSync, Scope::Group { groupid: 3 }, Scope::Chat] {
            assert_eq!(Scope::parse_owner_key(&s.owner_key()), Some(s));
        }
        assert_eq!(Scope::parse_owner_key("app:x"), None);
        assert_eq!(Scope::parse_owner_key("robot:1"), None);
    }

    #[test]
    fn dialect_follows_the_secret_holder() {
        assert_eq!(Scope::App { agentid: 1 }.dialect(), Dialect::WeCom);
        assert_eq!(Scope::ContactSync.dialect(), Dialect::WeCom);
        assert_eq!(Scope::Group { groupid: 1 }.dialect(), Dialect::Legacy);
        assert_eq!(Scope::Chat.dialect(), Dialect::Legacy);
        assert!(!Scope::Chat.has_trusted_ips(), "企业号 had no trusted IPs");
    }

    #[test]
    fn corpid_shapes() {
        assert!(is_valid_corpid("ww0123456789abcdef"));
        assert!(is_valid_corpid("wx8042b22041aa4f39"));
        assert!(!is_valid_corpid("ww0123456789ABCDEF"));
        assert!(!is_valid_corpid("ww0123"));
        assert!(!is_valid_corpid("zz0123456789abcdef"));
        assert!(is_valid_corpid(&new_corpid()));
    }

    #[test]
    fn trusted_ips_take_addresses_and_ranges() {
        assert!(parse_trusted_ip("10.0.0.0/8").unwrap().contains(&"10.9.8.7".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_trusted_ip("127.0.0.1").unwrap().contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_trusted_ip("::1").is_ok());
        assert!(parse_trusted_ip("10.0.0.0/33").is_err());
        assert!(parse_trusted_ip("example.com").is_err());
    }

    #[test]
    fn secrets_are_url_safe() {
        let s = new_secret();
        assert_eq!(s.len(), SECRET_LEN);
        assert!(is_well_formed_secret(&s));
        assert!(!is_well_formed_secret(""));
        assert!(!is_well_formed_secret("a b"));
    }
}
