//! JS-SDK tickets (wecom-api.md §12.1, legacy-api.md §8.3, §9): which ticket each dialect hands
//! out, whose it is, and the answer. `get_jsapi_ticket` answers the corp's `wx.config` ticket in
//! both dialects; `ticket/get?type=` answers the others.

use crate::credential::{random_url_safe, Scope};
use crate::{Dialect, Errcode};
use serde_json::{Map, Value};

/// A ticket lives 7200 s on wecomd's clock; until then every request gets the same one.
pub const TICKET_SECS: i64 = 7200;
/// Tickets look like the platform's: 86 URL-safe characters (the signature vector's ticket).
const TICKET_LEN: usize = 86;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The corp's `wx.config` ticket (get_jsapi_ticket).
    Jsapi,
    /// WeCom: an app's `wx.agentConfig` ticket.
    AgentConfig,
    /// The card API ticket (卡券 JS-SDK), kept by WeCom too (legacy-api.md §8.3).
    WxCard,
    /// 企业号: a 管理组's group ticket for openEnterpriseContact (legacy-api.md §9.2).
    Contact,
}

impl Kind {
    /// How the store names the kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Jsapi => "jsapi",
            Kind::AgentConfig => "agent_config",
            Kind::WxCard => "wx_card",
            Kind::Contact => "contact",
        }
    }
}

/// ticket/get's `type` in the caller's dialect: WeCom agent_config and wx_card, 企业号 wx_card
/// and contact; anything else (absent too) 91040.
pub fn kind_of(dialect: Dialect, ticket_type: Option<&str>) -> Result<Kind, Errcode> {
    match (dialect, ticket_type.unwrap_or("")) {
        (Dialect::WeCom, "agent_config") => Ok(Kind::AgentConfig),
        (_, "wx_card") => Ok(Kind::WxCard),
        (Dialect::Legacy, "contact") => Ok(Kind::Contact),
        _ => Err(Errcode::InvalidTicketType),
    }
}

/// Whose ticket a caller gets: the corp's (`""`) for jsapi and wx_card, the app's for
/// agent_config, the group's for contact. An agent_config ticket needs an app's token (the
/// contacts-sync secret has no app: 48002); a group ticket a 管理组's.
pub fn owner(kind: Kind, caller: Scope) -> Result<String, Errcode> {
    match (kind, caller) {
        (Kind::Jsapi | Kind::WxCard, _) => Ok(String::new()),
        (Kind::AgentConfig, Scope::App { .. }) | (Kind::Contact, Scope::Group { .. }) => Ok(caller.owner_key()),
        _ => Err(Errcode::ApiForbidden),
    }
}

pub fn new_ticket() -> String {
    random_url_safe(TICKET_LEN)
}

/// `{"ticket","expires_in"}`; a group ticket also names its group (`group_id`, a string as in the
/// 企业号's samples), which openEnterpriseContact takes as `groupId`.
pub fn view(caller: Scope, kind: Kind, ticket: &str, expires_in: i64) -> Map<String, Value> {
    let mut m = Map::new();
    if let (Kind::Contact, Scope::Group { groupid }) = (kind, caller) {
        m.insert("group_id".into(), groupid.to_string().into());
    }
    m.insert("ticket".into(), ticket.into());
    m.insert("expires_in".into(), expires_in.into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: Scope = Scope::App { agentid: 1000002 };
    const GROUP: Scope = Scope::Group { groupid: 1 };

    #[test]
    fn types_per_dialect() {
        assert_eq!(kind_of(Dialect::WeCom, Some("agent_config")), Ok(Kind::AgentConfig));
        assert_eq!(kind_of(Dialect::WeCom, Some("wx_card")), Ok(Kind::WxCard));
        assert_eq!(kind_of(Dialect::Legacy, Some("wx_card")), Ok(Kind::WxCard));
        assert_eq!(kind_of(Dialect::Legacy, Some("contact")), Ok(Kind::Contact));
        assert_eq!(kind_of(Dialect::WeCom, Some("contact")), Err(Errcode::InvalidTicketType));
        assert_eq!(kind_of(Dialect::Legacy, Some("agent_config")), Err(Errcode::InvalidTicketType));
        assert_eq!(kind_of(Dialect::WeCom, None), Err(Errcode::InvalidTicketType));
        assert_eq!(Errcode::InvalidTicketType.code(), 91040);
    }

    #[test]
    fn owners() {
        assert_eq!(owner(Kind::Jsapi, GROUP), Ok(String::new()));
        assert_eq!(owner(Kind::WxCard, APP), Ok(String::new()));
        assert_eq!(owner(Kind::AgentConfig, APP), Ok("app:1000002".into()));
        assert_eq!(owner(Kind::AgentConfig, Scope::ContactSync), Err(Errcode::ApiForbidden));
        assert_eq!(owner(Kind::Contact, GROUP), Ok("group:1".into()));
    }

    #[test]
    fn views() {
        let t = new_ticket();
        assert_eq!(t.len(), 86);
        let v = Value::Object(view(GROUP, Kind::Contact, &t, 7200));
        assert_eq!(v, serde_json::json!({ "group_id": "1", "ticket": t, "expires_in": 7200 }));
        assert!(!view(APP, Kind::AgentConfig, &t, 10).contains_key("group_id"));
    }
}
