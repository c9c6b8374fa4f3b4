//! App menus (wecom-api.md §3.4): the rules of menu/create and the shape menu/get answers in each
//! dialect. A menu is stored as the normalised `button` list that menu/create accepted.

use crate::{ApiError, Dialect, Errcode};
use serde_json::{json, Map, Value};

pub const BUTTONS_MAX: usize = 3;
pub const SUB_BUTTONS_MAX: usize = 5;
/// Names are measured in UTF-8 bytes: a Chinese character is 3.
pub const NAME_MAX_BYTES: usize = 16;
pub const SUB_NAME_MAX_BYTES: usize = 40;
pub const KEY_MAX_BYTES: usize = 128;
pub const URL_MAX_BYTES: usize = 1024;

/// Button types and what each needs besides its name.
const KEY_TYPES: &[&str] =
    &["click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select"];

/// Where a button sits; the same mistake has one code at the top and another in a sub-menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Top,
    Sub,
}

impl Level {
    fn name_max(self) -> usize {
        match self {
            Level::Top => NAME_MAX_BYTES,
            Level::Sub => SUB_NAME_MAX_BYTES,
        }
    }

    fn code(self, top: Errcode, sub: Errcode) -> Errcode {
        match self {
            Level::Top => top,
            Level::Sub => sub,
        }
    }
}

fn text<'a>(b: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match b.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::with_detail(Errcode::InvalidRequestParameter, format!("button.{field} must be a string"))),
    }
}

fn sub_buttons(b: &Map<String, Value>) -> Result<&[Value], ApiError> {
    match b.get("sub_button") {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(ApiError::with_detail(Errcode::InvalidRequestParameter, "sub_button must be an array")),
    }
}

/// Checks a menu/create body and returns the `button` list to store. Checked in order: the
/// number of buttons, then each button as it comes (name, then type, then its key or url), a
/// parent's sub-buttons before the next button.
pub fn check(dialect: Dialect, body: &Value) -> Result<Value, ApiError> {
    let buttons = match body.get("button") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => return Err(Errcode::InvalidButtonSize.into()),
        Some(_) => return Err(ApiError::with_detail(Errcode::InvalidRequestParameter, "button must be an array")),
    };
    if buttons.is_empty() || buttons.len() > BUTTONS_MAX {
        return Err(Errcode::InvalidButtonSize.into());
    }
    let mut out = Vec::with_capacity(buttons.len());
    for b in buttons {
        let b = object(b)?;
        let subs = sub_buttons(b)?;
        if subs.is_empty() {
            out.push(leaf(dialect, b, Level::Top)?);
            continue;
        }
        let name = check_name(dialect, b, Level::Top)?;
        if subs.len() > SUB_BUTTONS_MAX {
            return Err(Errcode::InvalidSubButtonSize.into());
        }
        let mut children = Vec::with_capacity(subs.len());
        for s in subs {
            let s = object(s)?;
            if !sub_buttons(s)?.is_empty() {
                return Err(Errcode::InvalidSubButtonLevel.into());
            }
            children.push(leaf(dialect, s, Level::Sub)?);
        }
        out.push(json!({ "name": name, "sub_button": children }));
    }
    Ok(Value::Array(out))
}

fn object(v: &Value) -> Result<&Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| ApiError::with_detail(Errcode::InvalidRequestParameter, "a button must be an object"))
}

fn check_name(dialect: Dialect, b: &Map<String, Value>, level: Level) -> Result<String, ApiError> {
    let name = text(b, "name")?.filter(|n| !n.is_empty()).ok_or(Errcode::MenuNameMissing)?;
    if name.len() > level.name_max() {
        // The live WeCom server words this one as a 40058 (wecom-api.md §3.4); 企业号 used the table's code.
        return Err(match (dialect, level) {
            (Dialect::WeCom, Level::Top) => ApiError::with_detail(Errcode::InvalidRequestParameter, "button.name exceed max length 16"),
            _ => level.code(Errcode::InvalidButtonNameSize, Errcode::InvalidSubButtonNameSize).into(),
        });
    }
    Ok(name.to_string())
}

/// A button without sub-buttons: name, type, and what the type needs.
fn leaf(dialect: Dialect, b: &Map<String, Value>, level: Level) -> Result<Value, ApiError> {
    let name = check_name(dialect, b, level)?;
    let kind = text(b, "type")?.unwrap_or("");
    let mut out = json!({ "type": kind, "name": name });
    if KEY_TYPES.contains(&kind) {
        let key = text(b, "key")?.unwrap_or("");
        if key.is_empty() || key.len() > KEY_MAX_BYTES {
            return Err(level.code(Errcode::InvalidButtonKeySize, Errcode::InvalidSubButtonKeySize).into());
        }
        out["key"] = key.into();
    } else if kind == "view" {
        let url = text(b, "url")?.unwrap_or("");
        if url.is_empty() || url.len() > URL_MAX_BYTES {
            return Err(level.code(Errcode::InvalidButtonUrlSize, Errcode::InvalidSubButtonUrlSize).into());
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(level.code(Errcode::InvalidButtonUrlDomain, Errcode::InvalidSubButtonUrlDomain).into());
        }
        out["url"] = url.into();
    } else if kind == "view_miniprogram" {
        for field in ["appid", "pagepath"] {
            let v = text(b, field)?.filter(|v| !v.is_empty());
            let v = v.ok_or_else(|| ApiError::with_detail(Errcode::InvalidRequestParameter, format!("view_miniprogram needs {field}")))?;
            out[field] = v.into();
        }
    } else {
        return Err(level.code(Errcode::InvalidButtonType, Errcode::InvalidSubButtonType).into());
    }
    Ok(out)
}

/// menu/get: WeCom `{"button":[…]}` inside the usual envelope; the 企业号 answered
/// `{"menu":{"button":[…]}}` with no errcode at all (legacy-api.md §1.3).
pub fn get_view(dialect: Dialect, button: Value) -> Map<String, Value> {
    let mut m = Map::new();
    match dialect {
        Dialect::WeCom => m.insert("button".into(), button),
        Dialect::Legacy => m.insert("menu".into(), json!({ "button": button })),
    };
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(d: Dialect, body: Value) -> i64 {
        check(d, &body).unwrap_err().errcode
    }

    fn click(name: &str) -> Value {
        json!({ "type": "click", "name": name, "key": "K" })
    }

    #[test]
    fn counts() {
        let w = Dialect::WeCom;
        assert_eq!(code(w, json!({})), 40016);
        assert_eq!(code(w, json!({ "button": [] })), 40016);
        assert_eq!(code(w, json!({ "button": [click("a"), click("b"), click("c"), click("d")] })), 40016);
        let six: Vec<Value> = (0..6).map(|i| click(&i.to_string())).collect();
        assert_eq!(code(w, json!({ "button": [{ "name": "More", "sub_button": six }] })), 40023);
        let deep = json!({ "button": [{ "name": "More", "sub_button": [{ "name": "x", "sub_button": [click("y")] }] }] });
        assert_eq!(code(w, deep), 40022);
    }

    #[test]
    fn names_in_bytes() {
        assert_eq!(code(Dialect::Legacy, json!({ "button": [click(&"a".repeat(17))] })), 40018);
        let e = check(Dialect::WeCom, &json!({ "button": [click(&"a".repeat(17))] })).unwrap_err();
        assert_eq!((e.errcode, e.text.as_ref()), (40058, "invalid Request Parameter: button.name exceed max length 16"));
        assert!(check(Dialect::WeCom, &json!({ "button": [click("五个汉字")] })).is_ok(), "12 bytes");
        assert!(check(Dialect::Legacy, &json!({ "button": [click("五个汉字啊")] })).is_ok(), "15 bytes");
        assert_eq!(code(Dialect::Legacy, json!({ "button": [click("六个汉字啊呀")] })), 40018, "18 bytes");
        assert_eq!(code(Dialect::WeCom, json!({ "button": [{ "name": "M", "sub_button": [click(&"b".repeat(41))] }] })), 40025);
        assert_eq!(code(Dialect::WeCom, json!({ "button": [{ "type": "click", "key": "K" }] })), 41102);
        assert_eq!(code(Dialect::WeCom, json!({ "button": [{ "sub_button": [click("x")] }] })), 41102);
    }

    #[test]
    fn types_keys_urls() {
        let w = Dialect::WeCom;
        assert_eq!(code(w, json!({ "button": [{ "type": "bogus", "name": "x" }] })), 40017);
        assert_eq!(code(w, json!({ "button": [{ "name": "x" }] })), 40017);
        assert_eq!(code(w, json!({ "button": [{ "name": "M", "sub_button": [{ "type": "bogus", "name": "x" }] }] })), 40024);
        assert_eq!(code(w, json!({ "button": [{ "type": "click", "name": "x" }] })), 40019);
        assert_eq!(code(w, json!({ "button": [{ "type": "pic_weixin", "name": "x", "key": "k".repeat(129) }] })), 40019);
        assert_eq!(code(w, json!({ "button": [{ "name": "M", "sub_button": [{ "type": "location_select", "name": "x" }] }] })), 40026);
        assert_eq!(code(w, json!({ "button": [{ "type": "view", "name": "x" }] })), 40020);
        assert_eq!(code(w, json!({ "button": [{ "type": "view", "name": "x", "url": "www.example.com" }] })), 40055);
        let long = format!("https://{}", "a".repeat(1020));
        assert_eq!(code(w, json!({ "button": [{ "name": "M", "sub_button": [{ "type": "view", "name": "x", "url": long }] }] })), 40027);
        assert_eq!(
            code(w, json!({ "button": [{ "name": "M", "sub_button": [{ "type": "view", "name": "x", "url": "ftp://a" }] }] })),
            40054
        );
        assert_eq!(code(w, json!({ "button": [{ "type": "view_miniprogram", "name": "x", "appid": "wx1" }] })), 40058);
    }

    #[test]
    fn stores_what_it_understood() {
        let body = json!({ "button": [
            { "type": "click", "name": "Today", "key": "T", "sub_button": [], "extra": 1 },
            { "name": "More", "type": "ignored", "sub_button": [
                { "type": "view", "name": "Search", "url": "https://www.example.com/" },
                { "type": "view_miniprogram", "name": "Mini", "appid": "wx0123456789abcdef", "pagepath": "pages/index" }
            ] }
        ] });
        let stored = check(Dialect::WeCom, &body).unwrap();
        assert_eq!(
            stored,
            json!([
                { "type": "click", "name": "Today", "key": "T" },
                { "name": "More", "sub_button": [
                    { "type": "view", "name": "Search", "url": "https://www.example.com/" },
                    { "type": "view_miniprogram", "name": "Mini", "appid": "wx0123456789abcdef", "pagepath": "pages/index" }
                ] }
            ])
        );
        assert_eq!(get_view(Dialect::WeCom, stored.clone())["button"], stored);
        assert_eq!(get_view(Dialect::Legacy, stored.clone())["menu"]["button"], stored);
    }
}
