//! The member fields WeCom added after the 企业号 (wecom-api.md §4.1, §4.2, §10.7): corp mail
//! (biz_mail and its aliases), the external profile shown to customers, ExtAttr as change_contact
//! events carry it, and which callers no longer see the sensitive fields. WeCom only: a legacy
//! caller neither writes nor sees them.

use crate::credential::Scope;
use crate::user::{valid_email, Member};
use crate::{ApiError, Errcode};
use serde_json::{json, Map, Value};

/// Self-built apps created from 2022-06-20 20:00 (Beijing time) on no longer get the sensitive
/// member fields from user/get and user/list.
pub const SENSITIVE_HIDDEN_SINCE: i64 = 1_655_726_400;
/// external_position: at most 12 characters.
pub const MAX_EXTERNAL_POSITION: usize = 12;
/// external_attr text values (90101) and web/miniprogram titles (90102/90104).
pub const MAX_EXTERNAL_TEXT: usize = 64;
pub const MAX_EXTERNAL_TITLE: usize = 12;
/// biz_mail_alias: at most 5 aliases.
pub const MAX_BIZ_MAIL_ALIAS: usize = 5;

/// Whether a caller sees a member's avatar, thumb_avatar, gender, mobile, email, biz_mail,
/// qr_code and address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitive {
    Shown,
    /// Blanked (gender "0"): apps created after the 2022-06-20 change.
    Hidden,
}

/// The contacts-sync assistant and 管理组 keep the sensitive fields; an app only when it was
/// created before the change (`app_created_at`, unix seconds).
pub fn sensitive(scope: Scope, app_created_at: Option<i64>) -> Sensitive {
    match (scope, app_created_at) {
        (Scope::App { .. }, Some(created)) if created >= SENSITIVE_HIDDEN_SINCE => Sensitive::Hidden,
        _ => Sensitive::Shown,
    }
}

fn bad_param(detail: &str) -> ApiError {
    ApiError::with_detail(Errcode::InvalidRequestParameter, detail)
}

/// Applies the WeCom-only fields of a user/create or user/update body to `m`.
pub fn apply_wecom(
    m: &mut Member,
    biz_mail: Option<String>,
    biz_mail_alias: Option<Value>,
    external_position: Option<String>,
    external_profile: Option<Value>,
) -> Result<(), ApiError> {
    if let Some(mail) = biz_mail {
        if !mail.is_empty() && !valid_email(&mail) {
            return Err(Errcode::InvalidBizMail.into());
        }
        m.biz_mail = mail;
    }
    if let Some(alias) = biz_mail_alias {
        m.biz_mail_alias = aliases(&alias)?;
    }
    if let Some(position) = external_position {
        if position.chars().count() > MAX_EXTERNAL_POSITION {
            return Err(bad_param("external_position exceeds 12 characters"));
        }
        m.external_position = position;
    }
    if let Some(profile) = external_profile {
        check_external_profile(&profile)?;
        m.external_profile = Some(profile);
    }
    Ok(())
}

/// `{"item":["a@corp.com",…]}`: up to 5 well-formed addresses, none twice (60143).
fn aliases(v: &Value) -> Result<Vec<String>, ApiError> {
    let items = v.get("item").and_then(Value::as_array).ok_or_else(|| bad_param("biz_mail_alias must be {\"item\":[...]}"))?;
    let mut list: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let mail = item.as_str().filter(|m| valid_email(m)).ok_or(ApiError::from(Errcode::InvalidBizMail))?;
        if list.iter().any(|l| l.eq_ignore_ascii_case(mail)) {
            return Err(Errcode::InvalidBizMail.into());
        }
        list.push(mail.to_string());
    }
    if list.len() > MAX_BIZ_MAIL_ALIAS {
        return Err(bad_param("biz_mail_alias holds at most 5 items"));
    }
    Ok(list)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

fn http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
}

/// external_profile: an object; `external_attr` items of type 0 text, 1 web, 2 miniprogram with
/// the platform's 90100–90106 for each broken part.
fn check_external_profile(p: &Value) -> Result<(), ApiError> {
    if !p.is_object() {
        return Err(bad_param("external_profile must be an object"));
    }
    if p.get("external_corp_name").is_some_and(|n| !n.is_string()) {
        return Err(bad_param("external_corp_name must be a string"));
    }
    if p.get("wechat_channels").is_some_and(|c| !c.is_object()) {
        return Err(bad_param("wechat_channels must be an object"));
    }
    let Some(attrs) = p.get("external_attr") else { return Ok(()) };
    let attrs = attrs.as_array().ok_or_else(|| bad_param("external_attr must be an array"))?;
    let within = |s: Option<&str>, max: usize| s.is_some_and(|s| s.chars().count() <= max);
    for a in attrs {
        if str_at(a, &["name"]).is_none() {
            return Err(bad_param("external_attr name missing"));
        }
        match a.get("type").and_then(Value::as_i64) {
            Some(0) if !within(str_at(a, &["text", "value"]), MAX_EXTERNAL_TEXT) => return Err(Errcode::ExternalAttrTextTooLong.into()),
            Some(0) => {}
            Some(1) if !within(str_at(a, &["web", "title"]), MAX_EXTERNAL_TITLE) => return Err(Errcode::ExternalAttrWebTitleTooLong.into()),
            Some(1) if !str_at(a, &["web", "url"]).is_some_and(http_url) => return Err(Errcode::InvalidExternalAttrWebUrl.into()),
            Some(1) => {}
            Some(2) if !str_at(a, &["miniprogram", "appid"]).is_some_and(|id| id.starts_with("wx") && id.len() > 2) => {
                return Err(Errcode::InvalidExternalAttrMiniprogramAppid.into())
            }
            Some(2) if !within(str_at(a, &["miniprogram", "title"]), MAX_EXTERNAL_TITLE) => {
                return Err(Errcode::ExternalAttrMiniprogramTitleTooLong.into())
            }
            Some(2) if str_at(a, &["miniprogram", "pagepath"]).is_none_or(str::is_empty) => {
                return Err(Errcode::InvalidExternalAttrMiniprogramPagepath.into())
            }
            Some(2) => {}
            _ => return Err(Errcode::InvalidExternalAttrType.into()),
        }
    }
    Ok(())
}

/// The WeCom-only fields of user/get: biz_mail always, the aliases and the external profile when
/// there are any.
pub fn insert_wecom(v: &mut Map<String, Value>, m: &Member) {
    v.insert("biz_mail".into(), m.biz_mail.clone().into());
    if !m.biz_mail_alias.is_empty() {
        v.insert("biz_mail_alias".into(), json!({ "item": m.biz_mail_alias }));
    }
    v.insert("external_position".into(), m.external_position.clone().into());
    if let Some(p) = &m.external_profile {
        v.insert("external_profile".into(), p.clone());
    }
}

/// Blanks what apps created after 2022-06-20 may not see.
pub fn blank_sensitive(v: &mut Map<String, Value>) {
    for k in ["avatar", "thumb_avatar", "mobile", "email", "biz_mail", "qr_code", "address"] {
        if let Some(f) = v.get_mut(k) {
            *f = "".into();
        }
    }
    v.insert("gender".into(), "0".into());
}

fn cdata(s: &str) -> String {
    // "]]>" cannot sit inside one CDATA section: split it across two.
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

/// The inner XML of a change_contact `ExtAttr` element: one `<Item>` per attribute, text or web
/// (wecom-api.md §10.7). The callbacks insert it as markup, not as text.
pub fn extattr_xml(extattr: &Value) -> String {
    let attrs = extattr.get("attrs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    attrs
        .iter()
        .map(|a| {
            let name = cdata(str_at(a, &["name"]).unwrap_or_default());
            let body = match a.get("type").and_then(Value::as_i64) {
                Some(1) => format!(
                    "<Type>1</Type><Web><Title>{}</Title><Url>{}</Url></Web>",
                    cdata(str_at(a, &["web", "title"]).unwrap_or_default()),
                    cdata(str_at(a, &["web", "url"]).unwrap_or_default())
                ),
                // The 企业号's attributes were {name, value}: text.
                _ => format!(
                    "<Type>0</Type><Text><Value>{}</Value></Text>",
                    cdata(str_at(a, &["text", "value"]).or_else(|| str_at(a, &["value"])).unwrap_or_default())
                ),
            };
            format!("<Item><Name>{name}</Name>{body}</Item>")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{create, MemberBody};
    use crate::Dialect;

    fn member() -> Member {
        let body: MemberBody = serde_json::from_value(json!({"userid":"u1","name":"N","department":[1],"mobile":"13800000000"})).unwrap();
        create(Dialect::WeCom, body).unwrap()
    }

    fn code(r: Result<(), ApiError>) -> i64 {
        r.map(|_| 0).unwrap_or_else(|e| e.errcode)
    }

    fn profile(attr: Value) -> Result<(), ApiError> {
        apply_wecom(&mut member(), None, None, None, Some(json!({ "external_attr": [attr] })))
    }

    #[test]
    fn external_attr_errcodes() {
        assert_eq!(code(profile(json!({"type":0,"name":"a","text":{"value":"v"}}))), 0);
        assert_eq!(code(profile(json!({"type":3,"name":"a"}))), 90100);
        assert_eq!(code(profile(json!({"type":0,"name":"a","text":{"value":"v".repeat(65)}}))), 90101);
        assert_eq!(code(profile(json!({"type":1,"name":"a","web":{"title":"t".repeat(13),"url":"https://x.cn"}}))), 90102);
        assert_eq!(code(profile(json!({"type":1,"name":"a","web":{"title":"t","url":"ftp://x.cn"}}))), 90103);
        assert_eq!(code(profile(json!({"type":1,"name":"a","web":{"title":"t","url":"https://x.cn"}}))), 0);
        let mp =
            |appid: &str, title: &str, path: &str| json!({"type":2,"name":"a","miniprogram":{"appid":appid,"title":title,"pagepath":path}});
        assert_eq!(code(profile(mp("wx8bd80126147dfa12", "t", "/index"))), 0);
        assert_eq!(code(profile(mp("wx8bd80126147dfa12", &"t".repeat(13), "/index"))), 90104);
        assert_eq!(code(profile(mp("wx8bd80126147dfa12", "t", ""))), 90105);
        assert_eq!(code(profile(mp("", "t", "/index"))), 90106);
        assert_eq!(code(apply_wecom(&mut member(), None, None, None, Some(json!([])))), 40058);
        assert_eq!(code(apply_wecom(&mut member(), None, None, Some("职".repeat(13)), None)), 40058);
        assert_eq!(code(apply_wecom(&mut member(), None, None, Some("职".repeat(12)), None)), 0);
    }

    #[test]
    fn biz_mail_and_aliases() {
        let mut m = member();
        assert_eq!(code(apply_wecom(&mut m, Some("bad".into()), None, None, None)), 60143);
        assert_eq!(code(apply_wecom(&mut m, None, Some(json!({"item":["a@corp.cn","A@corp.cn"]})), None, None)), 60143);
        assert_eq!(code(apply_wecom(&mut m, None, Some(json!({"item":["x"]})), None, None)), 60143);
        assert_eq!(code(apply_wecom(&mut m, None, Some(json!(["a@corp.cn"])), None, None)), 40058);
        let six: Vec<String> = (0..6).map(|i| format!("a{i}@corp.cn")).collect();
        assert_eq!(code(apply_wecom(&mut m, None, Some(json!({ "item": six })), None, None)), 40058);
        apply_wecom(&mut m, Some("zs@corp.cn".into()), Some(json!({"item":["a@corp.cn"]})), None, None).unwrap();
        assert_eq!((m.biz_mail.as_str(), m.biz_mail_alias.clone()), ("zs@corp.cn", vec!["a@corp.cn".to_string()]));
    }

    #[test]
    fn sensitive_fields_by_caller() {
        let app = Scope::App { agentid: 1000002 };
        assert_eq!(sensitive(app, Some(SENSITIVE_HIDDEN_SINCE - 1)), Sensitive::Shown);
        assert_eq!(sensitive(app, Some(SENSITIVE_HIDDEN_SINCE)), Sensitive::Hidden);
        assert_eq!(sensitive(Scope::ContactSync, None), Sensitive::Shown);
        assert_eq!(sensitive(Scope::Group { groupid: 1 }, None), Sensitive::Shown);
        let mut v = Map::new();
        v.insert("mobile".into(), "138".into());
        v.insert("gender".into(), "1".into());
        v.insert("name".into(), "N".into());
        blank_sensitive(&mut v);
        assert_eq!(Value::Object(v), json!({"mobile":"","gender":"0","name":"N"}));
    }

    #[test]
    fn extattr_as_event_xml() {
        let x = extattr_xml(&json!({"attrs":[
            {"type":0,"name":"爱好","text":{"value":"travel"}},
            {"type":1,"name":"Site","web":{"title":"T","url":"https://x.cn"}},
            {"name":"old","value":"a]]>b"}]}));
        assert_eq!(
            x,
            "<Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[travel]]></Value></Text></Item>\
             <Item><Name><![CDATA[Site]]></Name><Type>1</Type><Web><Title><![CDATA[T]]></Title><Url><![CDATA[https://x.cn]]></Url></Web></Item>\
             <Item><Name><![CDATA[old]]></Name><Type>0</Type><Text><Value><![CDATA[a]]]]><![CDATA[>b]]></Value></Text></Item>"
        );
        assert_eq!(extattr_xml(&json!({"attrs":[]})), "");
    }
}
