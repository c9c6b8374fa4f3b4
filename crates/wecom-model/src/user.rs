//! Member rules that need no store: openids and the conversion views (wecom-api.md §4.10,
//! legacy-api.md §3.8).

use crate::credential::random_url_safe;
use crate::Dialect;
use rand::Rng;
use serde_json::{Map, Value};

/// openids look like `oDjGHs-1yCnGrRovBj2yHij5JAAA`: `o` and 27 URL-safe characters.
pub fn new_openid() -> String {
    format!("o{}", random_url_safe(27))
}

/// Each app has an appid of its own (legacy red packets pay through it): `wx` + 16 hex.
pub fn new_appid() -> String {
    format!("wx{:016x}", rand::rng().random::<u64>())
}

/// Which app an openid is scoped to. 企业号 convert_to_openid took an optional agentid and then
/// answered a per-app openid with that app's appid; WeCom's takes only the userid and answers the
/// corp-level openid, so an agentid sent by an old client is ignored there.
pub fn openid_agent(dialect: Dialect, agentid: Option<i64>) -> Option<i64> {
    match dialect {
        Dialect::Legacy => agentid,
        Dialect::WeCom => None,
    }
}

/// convert_to_openid's fields; `appid` only for a legacy per-app openid.
pub fn openid_view(openid: &str, appid: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("openid".into(), openid.into());
    if let Some(appid) = appid {
        m.insert("appid".into(), appid.into());
    }
    m
}

pub fn userid_view(userid: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("userid".into(), userid.into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let o = new_openid();
        assert_eq!(o.len(), 28);
        assert!(o.starts_with('o'));
        let a = new_appid();
        assert!(crate::credential::is_valid_corpid(&a), "same shape as a wx corpid");
        assert_eq!(openid_view("o1", None).len(), 1);
        assert_eq!(openid_view("o1", Some("wx1"))["appid"], "wx1");
        assert_eq!(openid_agent(Dialect::Legacy, Some(1000002)), Some(1000002));
        assert_eq!(openid_agent(Dialect::WeCom, Some(1000002)), None);
    }
}
