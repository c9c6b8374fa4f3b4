//! Message rules without IO (wecom-api.md §9.1–9.4, legacy-api.md §7 notes): which msgtypes each
//! channel takes, each payload's fields and errcodes, the recipient lists of message/send, id
//! translation, and the answers. message/send and appchat/send share [`check_content`].

use crate::credential::random_url_safe;
use crate::ratelimit::{Quota, PER_MEMBER_FROM_APP, PER_MEMBER_IN_APPCHATS};
use crate::{ApiError, Dialect, Errcode};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// touser names at most 1000 userids (40032), toparty 100 departments (82002), totag 100 tags (82003).
pub const TOUSER_MAX: usize = 1000;
pub const TOPARTY_MAX: usize = 100;
pub const TOTAG_MAX: usize = 100;
/// enable_duplicate_check's window: 1800 s unless asked, at most 4 hours.
pub const DUPLICATE_INTERVAL_DEFAULT: i64 = 1800;
pub const DUPLICATE_INTERVAL_MAX: i64 = 14400;
/// message/recall takes messages of the last 24 hours (42052).
pub const RECALL_WINDOW: i64 = 24 * 3600;
/// A template card's response_code serves one update within 72 hours (60140).
pub const RESPONSE_CODE_TTL: i64 = 72 * 3600;

const TEXT_MAX_BYTES: usize = 2048;
const MARKDOWN_MAX_BYTES: usize = 2048;
const TITLE_MAX_BYTES: usize = 128;
const DESCRIPTION_MAX_BYTES: usize = 512;
const URL_MAX_BYTES: usize = 2048;
const BTNTXT_MAX_CHARS: usize = 4;
const ARTICLES_MAX: usize = 8;
const AUTHOR_MAX_BYTES: usize = 64;
const MPNEWS_CONTENT_MAX_BYTES: usize = 666 * 1024;
const TASK_ID_MAX_BYTES: usize = 128;
/// A task card holds 1–2 buttons; a button's name (and the name it shows once clicked) is cut at
/// 18 bytes.
const TASKCARD_BUTTONS_MAX: usize = 2;
const BUTTON_NAME_MAX_BYTES: usize = 18;
/// What a clicked task card button shows unless the card says otherwise.
const DEFAULT_REPLACE_NAME: &str = "已处理";

/// Where a message goes: an app's message/send in the caller's dialect, or an appchat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    App(Dialect),
    AppChat,
}

/// The msgtypes a channel takes. 企业号 had no markdown (微工作台 never showed it), no
/// miniprogram_notice and no template_card; appchat takes the nine types its page lists.
pub fn msgtypes(channel: Channel) -> &'static [&'static str] {
    match channel {
        Channel::App(Dialect::WeCom) => &[
            "text",
            "image",
            "voice",
            "video",
            "file",
            "textcard",
            "news",
            "mpnews",
            "markdown",
            "miniprogram_notice",
            "template_card",
            "interactive_taskcard",
        ],
        Channel::App(Dialect::Legacy) => &["text", "image", "voice", "video", "file", "textcard", "news", "mpnews"],
        Channel::AppChat => &["text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown"],
    }
}

/// A payload as members receive it (long fields cut where the platform cuts them).
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub msgtype: String,
    pub payload: Value,
    pub safe: i64,
    /// template_card with a task_id: the id must be new for the app.
    pub task_id: Option<String>,
    /// Interaction cards and cards with action_menu can be updated: they get a response_code.
    pub updatable: bool,
}

fn detail(code: Errcode, what: impl std::fmt::Display) -> ApiError {
    ApiError::with_detail(code, what)
}

/// An integer field sent as a number or a digit string (SDKs differ); anything else is `None`.
pub fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// agentid: absent 41011, not an integer 40056.
pub fn parse_agentid(v: Option<&Value>) -> Result<i64, Errcode> {
    match v {
        None | Some(Value::Null) => Err(Errcode::AgentidMissing),
        Some(v) => int_of(v).ok_or(Errcode::InvalidAgentid),
    }
}

/// A 0/1 switch (safe, enable_id_trans, enable_duplicate_check, atall); absent is 0.
pub fn flag(body: &Map<String, Value>, name: &str) -> Result<i64, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => int_of(v).ok_or_else(|| detail(Errcode::InvalidRequestParameter, format!("{name} must be an integer"))),
    }
}

/// duplicate_check_interval: 1800 s by default; larger than 4 hours is taken as 4 hours.
pub fn duplicate_interval(body: &Map<String, Value>) -> Result<i64, ApiError> {
    match flag(body, "duplicate_check_interval")? {
        0 => Ok(DUPLICATE_INTERVAL_DEFAULT),
        n if n < 0 => Err(detail(Errcode::InvalidRequestParameter, "duplicate_check_interval must be positive")),
        n => Ok(n.min(DUPLICATE_INTERVAL_MAX)),
    }
}

/// The longest prefix of `s` within `max` bytes that ends on a character boundary.
fn cut_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn cut_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn text<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    o.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn object<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Map<String, Value>> {
    body.get(name).and_then(Value::as_object)
}

fn list<'a>(o: &'a Map<String, Value>, name: &str) -> &'a [Value] {
    o.get(name).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn has_scheme(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// A url that must be there and carry its scheme (45034).
fn check_url(url: Option<&str>) -> Result<String, ApiError> {
    match url {
        Some(u) if has_scheme(u) => Ok(cut_bytes(u, URL_MAX_BYTES).to_string()),
        Some(u) => Err(detail(Errcode::UrlWithoutScheme, u)),
        None => Err(detail(Errcode::UrlWithoutScheme, "url missing")),
    }
}

/// Reads `msgtype`, its payload object and `safe` from a message/send or appchat/send body, and
/// checks them by the platform's rules for `channel`.
pub fn check_content(body: &Map<String, Value>, channel: Channel) -> Result<Content, ApiError> {
    let msgtype = body.get("msgtype").and_then(Value::as_str).unwrap_or("");
    if !msgtypes(channel).contains(&msgtype) {
        return Err(detail(Errcode::InvalidMsgtype, format!("msgtype {msgtype:?}")));
    }
    let empty = Map::new();
    let p = object(body, msgtype).unwrap_or(&empty);
    let safe = flag(body, "safe")?;
    let safe_max = if msgtype == "mpnews" { 2 } else { 1 };
    if !(0..=safe_max).contains(&safe) {
        return Err(detail(Errcode::InvalidRequestParameter, format!("safe {safe} for {msgtype}")));
    }
    if msgtype == "news" && safe == 1 {
        return Err(Errcode::SafeNotSupported.into());
    }
    let mut task_id = None;
    let mut updatable = false;
    let payload = match msgtype {
        "text" => {
            let content = text(p, "content").ok_or(Errcode::EmptyContent)?;
            // The send page says longer text is cut at 2048 bytes (compatibility ledger).
            serde_json::json!({ "content": cut_bytes(content, TEXT_MAX_BYTES) })
        }
        "markdown" => {
            let content = text(p, "content").ok_or(Errcode::EmptyContent)?;
            if content.len() > MARKDOWN_MAX_BYTES {
                return Err(Errcode::ContentSizeOutOfLimit.into());
            }
            serde_json::json!({ "content": content })
        }
        "image" | "voice" | "file" => serde_json::json!({ "media_id": media_id(p)? }),
        "video" => {
            let mut v = Map::new();
            v.insert("media_id".into(), media_id(p)?.into());
            for (field, max) in [("title", TITLE_MAX_BYTES), ("description", DESCRIPTION_MAX_BYTES)] {
                if let Some(s) = text(p, field) {
                    v.insert(field.into(), cut_bytes(s, max).into());
                }
            }
            Value::Object(v)
        }
        "textcard" => {
            let title = text(p, "title").ok_or(Errcode::TitleMissing)?;
            let description = text(p, "description").ok_or(Errcode::DescriptionMissing)?;
            let url = check_url(text(p, "url"))?;
            let btntxt = text(p, "btntxt").map_or_else(|| "详情".to_string(), |b| cut_chars(b, BTNTXT_MAX_CHARS));
            serde_json::json!({
                "title": cut_bytes(title, TITLE_MAX_BYTES),
                "description": cut_bytes(description, DESCRIPTION_MAX_BYTES),
                "url": url,
                "btntxt": btntxt,
            })
        }
        "news" => serde_json::json!({ "articles": articles(p, articles_max(channel), news_article)? }),
        "mpnews" => match (channel, text(p, "media_id")) {
            // 企业号 could send a permanent mpnews material by its media_id (legacy-api.md §6).
            (Channel::App(Dialect::Legacy), Some(id)) if p.get("articles").is_none() => serde_json::json!({ "media_id": id }),
            _ => serde_json::json!({ "articles": articles(p, articles_max(channel), mpnews_article)? }),
        },
        "miniprogram_notice" => miniprogram_notice(p)?,
        "template_card" => {
            let card = check_template_card(p)?;
            task_id = card.task_id;
            updatable = card.updatable;
            Value::Object(p.clone())
        }
        "interactive_taskcard" => {
            let (card, id) = taskcard(p)?;
            task_id = Some(id);
            card
        }
        _ => return Err(Errcode::InvalidMsgtype.into()),
    };
    Ok(Content { msgtype: msgtype.to_string(), payload, safe, task_id, updatable })
}

/// How many articles a news or mpnews message holds: 8 in WeCom; the 企业号's message/send took
/// 10 (its SDKs' limit, as for permanent mpnews: "一个图文消息支持1到10个图文").
fn articles_max(channel: Channel) -> usize {
    match channel {
        Channel::App(Dialect::Legacy) => crate::material::ARTICLES_MAX,
        _ => ARTICLES_MAX,
    }
}

/// A media id must be given here; that it names usable media is looked up by the handler
/// (`media::named_media`).
fn media_id(p: &Map<String, Value>) -> Result<&str, ApiError> {
    text(p, "media_id").ok_or_else(|| Errcode::MediaIdMissing.into())
}

/// `p.articles`: 1 to `max` articles (45008), each checked by `one`. Shared with the 企业号's
/// permanent mpnews, which hold up to 10.
pub(crate) fn articles(
    p: &Map<String, Value>,
    max: usize,
    one: fn(&Map<String, Value>) -> Result<Value, ApiError>,
) -> Result<Vec<Value>, ApiError> {
    let list = list(p, "articles");
    if list.is_empty() || list.len() > max {
        return Err(detail(Errcode::ArticleCountInvalid, format!("{} articles", list.len())));
    }
    list.iter().map(|a| one(a.as_object().unwrap_or(&Map::new()))).collect()
}

fn news_article(a: &Map<String, Value>) -> Result<Value, ApiError> {
    let title = text(a, "title").ok_or(Errcode::TitleMissing)?;
    let mut v = Map::new();
    v.insert("title".into(), cut_bytes(title, TITLE_MAX_BYTES).into());
    if let Some(d) = text(a, "description") {
        v.insert("description".into(), cut_bytes(d, DESCRIPTION_MAX_BYTES).into());
    }
    // A mini-program article (appid + pagepath) needs no url.
    match (text(a, "appid"), text(a, "pagepath")) {
        (Some(appid), Some(pagepath)) => {
            v.insert("appid".into(), appid.into());
            v.insert("pagepath".into(), pagepath.into());
        }
        _ => {
            v.insert("url".into(), check_url(text(a, "url"))?.into());
        }
    }
    if let Some(pic) = text(a, "picurl") {
        v.insert("picurl".into(), pic.into());
    }
    Ok(Value::Object(v))
}

/// One mpnews article: title 41016, thumb_media_id 41006, content 44004 / over 666 KB 45002,
/// author over 64 bytes 45032; title and digest cut. Permanent mpnews articles are the same.
pub(crate) fn mpnews_article(a: &Map<String, Value>) -> Result<Value, ApiError> {
    let title = text(a, "title").ok_or(Errcode::TitleMissing)?;
    let thumb = text(a, "thumb_media_id").ok_or(Errcode::MediaIdMissing)?;
    let content = text(a, "content").ok_or(Errcode::EmptyContent)?;
    if content.len() > MPNEWS_CONTENT_MAX_BYTES {
        return Err(Errcode::ContentSizeOutOfLimit.into());
    }
    let author = text(a, "author").unwrap_or("");
    if author.len() > AUTHOR_MAX_BYTES {
        return Err(Errcode::AuthorTooLong.into());
    }
    let mut v = Map::new();
    v.insert("title".into(), cut_bytes(title, TITLE_MAX_BYTES).into());
    v.insert("thumb_media_id".into(), thumb.into());
    v.insert("author".into(), author.into());
    v.insert("content_source_url".into(), text(a, "content_source_url").unwrap_or("").into());
    v.insert("content".into(), content.into());
    v.insert("digest".into(), cut_bytes(text(a, "digest").unwrap_or(""), DESCRIPTION_MAX_BYTES).into());
    Ok(Value::Object(v))
}

fn chars_between(s: Option<&str>, min: usize, max: usize) -> bool {
    s.is_none_or(|s| (min..=max).contains(&s.chars().count()))
}

fn miniprogram_notice(p: &Map<String, Value>) -> Result<Value, ApiError> {
    text(p, "appid").ok_or(Errcode::MiniprogramAppidMissing)?;
    let title = text(p, "title").ok_or(Errcode::TitleMissing)?;
    if !chars_between(Some(title), 4, 12) || !chars_between(text(p, "description"), 4, 12) {
        return Err(detail(Errcode::InvalidRequestParameter, "title and description are 4-12 characters"));
    }
    if text(p, "page").is_some_and(|page| page.len() > 1024) {
        return Err(Errcode::MiniprogramPageInvalid.into());
    }
    let items = list(p, "content_item");
    if items.len() > 10 {
        return Err(Errcode::MiniprogramItemsTooMany.into());
    }
    for item in items {
        let item = item.as_object().unwrap_or(&Map::new()).clone();
        if !chars_between(Some(text(&item, "key").unwrap_or("")), 1, 10) {
            return Err(Errcode::MiniprogramKeyInvalid.into());
        }
        if !chars_between(Some(text(&item, "value").unwrap_or("")), 1, 30) {
            return Err(Errcode::MiniprogramValueInvalid.into());
        }
    }
    Ok(Value::Object(p.clone()))
}

/// What a valid template card carries beyond itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub task_id: Option<String>,
    pub updatable: bool,
}

const CARD_TYPES: [&str; 5] = ["text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction"];

/// template_card by §9.2: the card_type, the sub-objects each type needs, and their errcodes.
pub fn check_template_card(card: &Map<String, Value>) -> Result<Card, ApiError> {
    let card_type = card.get("card_type").and_then(Value::as_str).unwrap_or("");
    if !CARD_TYPES.contains(&card_type) {
        return Err(detail(Errcode::CardTypeInvalid, format!("card_type {card_type:?}")));
    }
    let notice = card_type.ends_with("_notice");
    let menu = object(card, "action_menu");
    if let Some(menu) = menu {
        let actions = list(menu, "action_list");
        let mut keys: Vec<&str> = Vec::new();
        for a in actions {
            let key = a.get("key").and_then(Value::as_str).unwrap_or("");
            if key.is_empty() || keys.contains(&key) {
                return Err(Errcode::CardActionKeyConflict.into());
            }
            keys.push(key);
        }
        if actions.is_empty() || actions.len() > 3 {
            return Err(detail(Errcode::CardActionKeyConflict, "action_list holds 1-3 actions"));
        }
    }
    let task_id = text(card, "task_id");
    if let Some(id) = task_id {
        if !is_key(id) {
            return Err(Errcode::InvalidTaskId.into());
        }
    } else if !notice || menu.is_some() {
        return Err(detail(Errcode::InvalidTaskId, "task_id missing"));
    }
    if let Some(q) = object(card, "quote_area") {
        jump_target(q)?;
    }
    let horizontal = list(card, "horizontal_content_list");
    if horizontal.len() > 6 {
        return Err(Errcode::CardHorizontalListInvalid.into());
    }
    for h in horizontal.iter().map(as_object) {
        text(&h, "keyname").ok_or(Errcode::CardKeynameMissing)?;
        match h.get("type").and_then(int_of).unwrap_or(0) {
            1 => drop(text(&h, "url").ok_or(Errcode::CardUrlMissing)?),
            2 => drop(text(&h, "media_id").ok_or(Errcode::CardMediaIdMissing)?),
            3 => drop(text(&h, "userid").ok_or(Errcode::CardUseridInvalid)?),
            _ => {}
        }
    }
    let jumps = list(card, "jump_list");
    if jumps.len() > 3 {
        return Err(Errcode::CardJumpListInvalid.into());
    }
    for j in jumps.iter().map(as_object) {
        text(&j, "title").ok_or(Errcode::CardTitleMissing)?;
        jump_target(&j)?;
    }
    match object(card, "card_action") {
        Some(a) if matches!(a.get("type").and_then(int_of), Some(1 | 2)) => jump_target(a)?,
        Some(a) if !notice && a.get("type").and_then(int_of).unwrap_or(0) == 0 => {}
        // Notice cards must open something when tapped.
        _ if notice => return Err(Errcode::CardActionInvalid.into()),
        Some(_) => return Err(Errcode::CardActionInvalid.into()),
        None => {}
    }
    match card_type {
        "news_notice" => {
            if let Some(img) = object(card, "card_image") {
                let ratio = img.get("aspect_ratio").and_then(Value::as_f64).unwrap_or(1.3);
                if text(img, "url").is_none() || !(1.3..=2.25).contains(&ratio) {
                    return Err(Errcode::CardImageUrlInvalid.into());
                }
            }
            let vertical = list(card, "vertical_content_list");
            if vertical.len() > 4 {
                return Err(Errcode::CardVerticalListInvalid.into());
            }
            for v in vertical.iter().map(as_object) {
                text(&v, "title").ok_or(Errcode::CardTitleMissing)?;
            }
        }
        "button_interaction" => {
            if let Some(sel) = object(card, "button_selection") {
                text(sel, "question_key").ok_or(Errcode::CardQuestionKeyInvalid)?;
            }
            let buttons = list(card, "button_list");
            if buttons.is_empty() || buttons.len() > 6 {
                return Err(detail(Errcode::CardButtonTextInvalid, "button_list holds 1-6 buttons"));
            }
            for b in buttons.iter().map(as_object) {
                text(&b, "text").ok_or(Errcode::CardButtonTextInvalid)?;
                match b.get("type").and_then(int_of).unwrap_or(0) {
                    1 => drop(text(&b, "url").ok_or(Errcode::CardUrlMissing)?),
                    _ => drop(text(&b, "key").ok_or(Errcode::CardButtonKeyInvalid)?),
                }
            }
        }
        "vote_interaction" => {
            let checkbox = object(card, "checkbox").ok_or(Errcode::CardQuestionKeyInvalid)?;
            question(checkbox, 20)?;
            submit_button(card)?;
        }
        "multiple_interaction" => {
            let selects = list(card, "select_list");
            if selects.is_empty() || selects.len() > 3 {
                return Err(Errcode::CardSelectListInvalid.into());
            }
            for s in selects.iter().map(as_object) {
                question(&s, 10)?;
            }
            submit_button(card)?;
        }
        _ => {}
    }
    Ok(Card { task_id: task_id.map(str::to_string), updatable: !notice || menu.is_some() })
}

/// task_ids and task card button keys: `[0-9A-Za-z_-@]`, at most 128 bytes.
fn is_key(s: &str) -> bool {
    s.len() <= TASK_ID_MAX_BYTES && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-@".contains(&b))
}

/// A button key a task card or update_taskcard names: missing 42019, malformed 42018.
fn button_key(o: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    let key = text(o, name).ok_or(Errcode::ButtonKeyMissing)?;
    if !is_key(key) {
        return Err(detail(Errcode::InvalidButtonKey, key));
    }
    Ok(key.to_string())
}

/// interactive_taskcard: title (41016) and description (41033) cut at 128/512 bytes, an optional
/// url with its scheme (45034), task_id (42014), 1–2 buttons each with a distinct key (42019,
/// 42018) and a name (42020), red or blue. Returns the card as members see it and its task_id.
fn taskcard(p: &Map<String, Value>) -> Result<(Value, String), ApiError> {
    let title = text(p, "title").ok_or(Errcode::TitleMissing)?;
    let description = text(p, "description").ok_or(Errcode::DescriptionMissing)?;
    let task_id = text(p, "task_id").ok_or_else(|| detail(Errcode::InvalidTaskId, "task_id missing"))?;
    if !is_key(task_id) {
        return Err(Errcode::InvalidTaskId.into());
    }
    let buttons = list(p, "btn");
    if buttons.is_empty() || buttons.len() > TASKCARD_BUTTONS_MAX {
        return Err(detail(Errcode::InvalidRequestParameter, "btn holds 1-2 buttons"));
    }
    let mut btn = Vec::new();
    let mut keys = Vec::new();
    for b in buttons.iter().map(as_object) {
        let key = button_key(&b, "key")?;
        if keys.contains(&key) {
            return Err(detail(Errcode::InvalidButtonKey, format!("{key} twice")));
        }
        let name = text(&b, "name").ok_or(Errcode::ButtonNameMissing)?;
        let color = match b.get("color").and_then(Value::as_str).unwrap_or("blue") {
            c @ ("red" | "blue") => c,
            other => return Err(detail(Errcode::InvalidRequestParameter, format!("color {other:?} is neither red nor blue"))),
        };
        btn.push(serde_json::json!({
            "key": key,
            "name": cut_bytes(name, BUTTON_NAME_MAX_BYTES),
            "replace_name": cut_bytes(text(&b, "replace_name").unwrap_or(DEFAULT_REPLACE_NAME), BUTTON_NAME_MAX_BYTES),
            "color": color,
            "is_bold": b.get("is_bold").and_then(Value::as_bool).unwrap_or(false),
        }));
        keys.push(key);
    }
    let mut card = Map::new();
    card.insert("title".into(), cut_bytes(title, TITLE_MAX_BYTES).into());
    card.insert("description".into(), cut_bytes(description, DESCRIPTION_MAX_BYTES).into());
    if let Some(url) = text(p, "url") {
        card.insert("url".into(), check_url(Some(url))?.into());
    }
    card.insert("task_id".into(), task_id.into());
    card.insert("btn".into(), btn.into());
    Ok((Value::Object(card), task_id.to_string()))
}

/// update_taskcard's `userids` (1–1000: none 82101, more 40032) and `task_id` (42014).
pub fn parse_taskcard_update(body: &Map<String, Value>) -> Result<(Vec<String>, String), ApiError> {
    let userids: Vec<String> = list(body, "userids").iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    if userids.is_empty() {
        return Err(Errcode::UpdateTargetsEmpty.into());
    }
    if userids.len() > TOUSER_MAX {
        return Err(Errcode::InvalidUseridListSize.into());
    }
    let task_id = text(body, "task_id").ok_or_else(|| detail(Errcode::InvalidTaskId, "task_id missing"))?;
    Ok((userids, task_id.to_string()))
}

/// What update_taskcard turns the card's buttons into for the members named: `replace_name` (cut
/// at 18 bytes), or else the button `clicked_key` (missing 42019, malformed 42018, not one of the
/// card's keys 42017) shown as clicked.
pub fn taskcard_update(body: &Map<String, Value>, sent: &Value) -> Result<Value, ApiError> {
    if let Some(name) = text(body, "replace_name") {
        return Ok(serde_json::json!({ "replace_name": cut_bytes(name, BUTTON_NAME_MAX_BYTES) }));
    }
    let key = button_key(body, "clicked_key")?;
    let known =
        sent.get("btn").and_then(Value::as_array).is_some_and(|b| b.iter().any(|b| b.get("key") == Some(&Value::from(key.as_str()))));
    if !known {
        return Err(Errcode::ButtonKeyNotExist.into());
    }
    Ok(serde_json::json!({ "clicked_key": key }))
}

fn as_object(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// type 1 opens `url` (42028), type 2 a mini-program `appid` (42030).
fn jump_target(o: &Map<String, Value>) -> Result<(), ApiError> {
    match o.get("type").and_then(int_of).unwrap_or(0) {
        1 => drop(text(o, "url").ok_or(Errcode::CardUrlMissing)?),
        2 => drop(text(o, "appid").ok_or(Errcode::CardAppidMissing)?),
        _ => {}
    }
    Ok(())
}

/// A checkbox or select: question_key (42043) and 1..=max options with id (42040) and text (42041).
fn question(q: &Map<String, Value>, max: usize) -> Result<(), ApiError> {
    text(q, "question_key").ok_or(Errcode::CardQuestionKeyInvalid)?;
    let options = list(q, "option_list");
    if options.is_empty() || options.len() > max {
        return Err(Errcode::CardOptionListInvalid.into());
    }
    for o in options.iter().map(as_object) {
        text(&o, "id").ok_or(Errcode::CardOptionIdInvalid)?;
        text(&o, "text").ok_or(Errcode::CardOptionTextInvalid)?;
    }
    Ok(())
}

fn submit_button(card: &Map<String, Value>) -> Result<(), ApiError> {
    let b = object(card, "submit_button").ok_or(Errcode::CardSubmitTextInvalid)?;
    text(b, "text").ok_or(Errcode::CardSubmitTextInvalid)?;
    text(b, "key").ok_or(Errcode::CardSubmitKeyInvalid)?;
    Ok(())
}

/// The recipients message/send names: `|`-separated userids, department ids and tag ids, or
/// `@all` (then toparty and totag are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    pub all: bool,
    pub users: Vec<String>,
    pub parties: Vec<String>,
    pub tags: Vec<String>,
}

/// Splits a `|` list (numbers are accepted where SDKs send them); blanks around items and empty
/// items are dropped, repeats kept once.
fn split(v: Option<&Value>) -> Vec<String> {
    let raw = match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for item in raw.split('|').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(item)) {
            out.push(item.to_string());
        }
    }
    out
}

/// touser/toparty/totag: all empty 82001; over 1000 users 40032, 100 parties 82002, 100 tags 82003.
pub fn parse_recipients(body: &Map<String, Value>) -> Result<Recipients, Errcode> {
    let users = split(body.get("touser"));
    if users.iter().any(|u| u == "@all") {
        return Ok(Recipients { all: true, ..Recipients::default() });
    }
    let r = Recipients { all: false, users, parties: split(body.get("toparty")), tags: split(body.get("totag")) };
    if r.users.is_empty() && r.parties.is_empty() && r.tags.is_empty() {
        return Err(Errcode::RecipientsEmpty);
    }
    if r.users.len() > TOUSER_MAX {
        return Err(Errcode::InvalidUseridListSize);
    }
    if r.parties.len() > TOPARTY_MAX {
        return Err(Errcode::PartyListTooLong);
    }
    if r.tags.len() > TOTAG_MAX {
        return Err(Errcode::TagListTooLong);
    }
    Ok(r)
}

/// Named recipients the sender may not reach: unknown, or outside what the sender sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalid {
    pub users: Vec<String>,
    pub parties: Vec<String>,
    pub tags: Vec<String>,
}

impl Invalid {
    /// `invaliduser` / `invalidparty` / `invalidtag`: pipe-joined strings, userids lower-cased,
    /// each present only when not empty.
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let users: Vec<String> = self.users.iter().map(|u| u.to_lowercase()).collect();
        for (name, items) in [("invaliduser", &users), ("invalidparty", &self.parties), ("invalidtag", &self.tags)] {
            if !items.is_empty() {
                m.insert(name.into(), items.join("|").into());
            }
        }
        m
    }
}

/// Did every named recipient turn out invalid (81013)? `@all` never does.
pub fn all_invalid(named: &Recipients, invalid: &Invalid) -> bool {
    !named.all
        && invalid.users.len() == named.users.len()
        && invalid.parties.len() == named.parties.len()
        && invalid.tags.len() == named.tags.len()
}

/// message/send's answer: the invalid lists, and in WeCom the msgid (and a response_code for
/// updatable cards). 企业号 answered the lists alone: it had no recall and no cards.
pub fn send_view(dialect: Dialect, invalid: &Invalid, msgid: &str, response_code: Option<&str>) -> Map<String, Value> {
    let mut m = invalid.fields();
    if dialect == Dialect::WeCom {
        m.insert("msgid".into(), msgid.into());
        if let Some(code) = response_code {
            m.insert("response_code".into(), code.into());
        }
    }
    m
}

/// Who counts against a recipient throttle: each app's messages to a member apart, and all apps'
/// messages in appchats together (wecom-api.md §1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    App(i64),
    AppChat,
}

impl Throttle {
    /// An app message (`chatid` empty) or an appchat message.
    pub fn of(agentid: i64, chatid: &str) -> Throttle {
        if chatid.is_empty() {
            Throttle::App(agentid)
        } else {
            Throttle::AppChat
        }
    }

    /// The key stored with each delivery: only ASCII letters, digits and `:`, so SQL may carry it
    /// as a literal.
    pub fn key(self) -> String {
        match self {
            Throttle::App(agentid) => format!("app:{agentid}"),
            Throttle::AppChat => "appchat".into(),
        }
    }

    pub fn quotas(self) -> &'static [Quota] {
        match self {
            Throttle::App(_) => &PER_MEMBER_FROM_APP,
            Throttle::AppChat => &PER_MEMBER_IN_APPCHATS,
        }
    }
}

/// msgids are opaque strings; wecomd makes 44 URL-safe characters.
pub fn new_msgid() -> String {
    random_url_safe(44)
}

pub fn new_response_code() -> String {
    random_url_safe(64)
}

/// Can a response_code issued at `issued_at` still serve an update at `now` (72 hours)?
pub fn response_code_live(issued_at: i64, now: i64) -> bool {
    now - issued_at <= RESPONSE_CODE_TTL
}

/// The `$userName=ID$` and `$departmentName=ID$` placeholders in a payload's strings.
pub fn id_trans_names(payload: &Value) -> (Vec<String>, Vec<i64>) {
    let mut users = Vec::new();
    let mut departments = Vec::new();
    visit_strings(payload, &mut |s| {
        for (kind, id) in placeholders(s) {
            match kind {
                Placeholder::User => users.push(id.to_string()),
                Placeholder::Department => departments.extend(id.parse::<i64>().ok()),
            }
        }
    });
    (users, departments)
}

/// Replaces the placeholders with the names found; an id with no name stays as written.
pub fn id_trans(payload: &mut Value, users: &HashMap<String, String>, departments: &HashMap<i64, String>) {
    match payload {
        Value::String(s) => {
            let mut out = s.clone();
            for (kind, id) in placeholders(s) {
                let name = match kind {
                    Placeholder::User => users.get(&id.to_lowercase()),
                    Placeholder::Department => id.parse().ok().and_then(|d: i64| departments.get(&d)),
                };
                if let Some(name) = name {
                    out = out.replace(&format!("${}={id}$", kind.word()), name);
                }
            }
            *s = out;
        }
        Value::Array(a) => a.iter_mut().for_each(|v| id_trans(v, users, departments)),
        Value::Object(o) => o.values_mut().for_each(|v| id_trans(v, users, departments)),
        _ => {}
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    User,
    Department,
}

impl Placeholder {
    fn word(self) -> &'static str {
        match self {
            Placeholder::User => "userName",
            Placeholder::Department => "departmentName",
        }
    }
}

fn placeholders(s: &str) -> Vec<(Placeholder, &str)> {
    let mut found = Vec::new();
    for kind in [Placeholder::User, Placeholder::Department] {
        let open = format!("${}=", kind.word());
        let mut rest = s;
        while let Some(at) = rest.find(&open) {
            let after = &rest[at + open.len()..];
            let Some(end) = after.find('$') else { break };
            found.push((kind, &after[..end]));
            rest = &after[end + 1..];
        }
    }
    found
}

fn visit_strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|v| visit_strings(v, f)),
        Value::Object(o) => o.values().for_each(|v| visit_strings(v, f)),
        _ => {}
    }
}

/// The key under which enable_duplicate_check compares messages: the same app sending the same
/// request JSON (its recipients and content, whatever the field order).
pub fn duplicate_key(agentid: i64, body: &Map<String, Value>) -> String {
    let mut canonical = body.clone();
    for volatile in ["enable_duplicate_check", "duplicate_check_interval"] {
        canonical.remove(volatile);
    }
    // serde_json's Map keeps keys sorted, so equal bodies serialise alike.
    let text = format!("{agentid}:{}", Value::Object(canonical));
    // Two FNV-1a passes with different bases: stable across builds and instances, unlike std's
    // hasher, and wide enough that distinct bodies do not meet.
    let fnv = |basis: u64| text.bytes().fold(basis, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{:016x}{:016x}", fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142))
}

/// update_template_card's targets: JSON arrays (unlike message/send's pipe strings) and atall.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardTargets {
    pub all: bool,
    pub users: Vec<String>,
    pub parties: Vec<i64>,
    pub tags: Vec<i64>,
}

/// userids ≤ 1000, partyids ≤ 100, tagids ≤ 100; none at all 82101.
pub fn parse_card_targets(body: &Map<String, Value>) -> Result<CardTargets, ApiError> {
    let strings = |name: &str| -> Vec<String> { list(body, name).iter().filter_map(|v| v.as_str().map(str::to_string)).collect() };
    let ints = |name: &str| -> Vec<i64> { list(body, name).iter().filter_map(int_of).collect() };
    let t = CardTargets { all: flag(body, "atall")? == 1, users: strings("userids"), parties: ints("partyids"), tags: ints("tagids") };
    if !t.all && t.users.is_empty() && t.parties.is_empty() && t.tags.is_empty() {
        return Err(Errcode::UpdateTargetsEmpty.into());
    }
    if t.users.len() > TOUSER_MAX {
        return Err(Errcode::InvalidUseridListSize.into());
    }
    if t.parties.len() > TOPARTY_MAX {
        return Err(Errcode::PartyListTooLong.into());
    }
    if t.tags.len() > TOTAG_MAX {
        return Err(Errcode::TagListTooLong.into());
    }
    Ok(t)
}

/// What update_template_card turns the card into: its buttons replaced by a label, or a whole new
/// card of the same card_type.
pub fn check_card_update(body: &Map<String, Value>, sent: &Value) -> Result<Value, ApiError> {
    if let Some(name) = object(body, "button").and_then(|b| text(b, "replace_name")) {
        return Ok(serde_json::json!({ "button": { "replace_name": name } }));
    }
    let card = object(body, "template_card").ok_or_else(|| detail(Errcode::InvalidRequestParameter, "button or template_card required"))?;
    check_template_card(card)?;
    if card.get("card_type") != sent.get("card_type") {
        return Err(detail(Errcode::CardTypeInvalid, "card_type differs from the card sent"));
    }
    Ok(serde_json::json!({ "template_card": card }))
}

/// update_template_card's answer: the named userids that did not receive the card, as an array.
pub fn card_update_view(not_recipients: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("invaliduser".into(), not_recipients.iter().map(|u| Value::from(u.to_lowercase())).collect::<Vec<_>>().into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn code(r: Result<Content, ApiError>) -> i64 {
        r.unwrap_err().errcode
    }

    const WECOM: Channel = Channel::App(Dialect::WeCom);

    #[test]
    fn msgtypes_per_channel() {
        let b = |t: &str| obj(json!({ "msgtype": t, t: { "content": "hi" } }));
        assert!(check_content(&b("markdown"), WECOM).is_ok());
        assert_eq!(code(check_content(&b("markdown"), Channel::App(Dialect::Legacy))), 40008);
        assert!(check_content(&b("markdown"), Channel::AppChat).is_ok());
        assert_eq!(code(check_content(&b("template_card"), Channel::AppChat)), 40008);
        assert_eq!(code(check_content(&b("nope"), WECOM)), 40008);
        assert_eq!(code(check_content(&obj(json!({})), WECOM)), 40008);
    }

    #[test]
    fn text_and_markdown() {
        assert_eq!(code(check_content(&obj(json!({ "msgtype": "text", "text": { "content": "" } })), WECOM)), 44004);
        assert_eq!(code(check_content(&obj(json!({ "msgtype": "text" })), WECOM)), 44004);
        let long = "中".repeat(1000);
        let c = check_content(&obj(json!({ "msgtype": "text", "text": { "content": long } })), WECOM).unwrap();
        assert_eq!(c.payload["content"].as_str().unwrap().len(), 2046, "cut at 2048 bytes on a character boundary");
        let md = check_content(&obj(json!({ "msgtype": "markdown", "markdown": { "content": "a".repeat(2049) } })), WECOM);
        assert_eq!(code(md), 45002);
    }

    #[test]
    fn safe_rules() {
        let news = json!({ "articles": [{ "title": "t", "url": "https://x" }] });
        assert_eq!(code(check_content(&obj(json!({ "msgtype": "news", "news": news, "safe": 1 })), WECOM)), 40074);
        assert!(check_content(&obj(json!({ "msgtype": "news", "news": news, "safe": 0 })), WECOM).is_ok());
        let text = json!({ "content": "x" });
        assert_eq!(code(check_content(&obj(json!({ "msgtype": "text", "text": text, "safe": 2 })), WECOM)), 40058);
        let art = json!({ "articles": [{ "title": "t", "thumb_media_id": "m", "content": "c" }] });
        assert_eq!(check_content(&obj(json!({ "msgtype": "mpnews", "mpnews": art, "safe": 2 })), WECOM).unwrap().safe, 2);
    }

    #[test]
    fn cards_and_articles() {
        let tc = |p: Value| check_content(&obj(json!({ "msgtype": "textcard", "textcard": p })), WECOM);
        assert_eq!(code(tc(json!({ "title": "t", "url": "https://x" }))), 41033);
        assert_eq!(code(tc(json!({ "description": "d", "url": "https://x" }))), 41016);
        assert_eq!(code(tc(json!({ "title": "t", "description": "d", "url": "x.com" }))), 45034);
        let ok = tc(json!({ "title": "t", "description": "d", "url": "https://x", "btntxt": "更多更多更多" })).unwrap();
        assert_eq!(ok.payload["btntxt"], "更多更多");
        assert_eq!(tc(json!({ "title": "t", "description": "d", "url": "https://x" })).unwrap().payload["btntxt"], "详情");

        let news = |n: usize| json!({ "msgtype": "news", "news": { "articles": vec![json!({ "title": "t", "url": "http://x" }); n] } });
        assert_eq!(code(check_content(&obj(news(0)), WECOM)), 45008);
        assert_eq!(code(check_content(&obj(news(9)), WECOM)), 45008);
        assert!(check_content(&obj(news(8)), WECOM).is_ok());
        let mp = |a: Value| check_content(&obj(json!({ "msgtype": "mpnews", "mpnews": { "articles": [a] } })), WECOM);
        assert_eq!(code(mp(json!({ "title": "t", "content": "c" }))), 41006);
        assert_eq!(code(mp(json!({ "title": "t", "thumb_media_id": "m", "content": "c", "author": "a".repeat(65) }))), 45032);
        let legacy = Channel::App(Dialect::Legacy);
        assert!(check_content(&obj(news(10)), legacy).is_ok(), "the 企业号 took 10 articles");
        assert_eq!(code(check_content(&obj(news(11)), legacy)), 45008);
        let mps = |n: usize| json!({ "msgtype": "mpnews", "mpnews": { "articles": vec![json!({ "title": "t", "thumb_media_id": "m", "content": "c" }); n] } });
        assert_eq!(code(check_content(&obj(mps(9)), WECOM)), 45008);
        assert!(check_content(&obj(mps(10)), legacy).is_ok());
        assert_eq!(code(check_content(&obj(mps(11)), legacy)), 45008);
        let legacy_material = obj(json!({ "msgtype": "mpnews", "mpnews": { "media_id": "2-abc" } }));
        assert!(check_content(&legacy_material, legacy).is_ok());
        assert_eq!(code(check_content(&legacy_material, WECOM)), 45008);
        assert_eq!(code(check_content(&obj(json!({ "msgtype": "image", "image": {} })), WECOM)), 41006);
    }

    #[test]
    fn template_cards() {
        let card = |c: Value| check_template_card(&obj(c));
        let err = |c: Value| card(c).unwrap_err().errcode;
        assert_eq!(err(json!({ "card_type": "x" })), 42031);
        assert_eq!(err(json!({ "card_type": "text_notice" })), 42045, "notice cards need card_action");
        let notice = json!({ "card_type": "text_notice", "card_action": { "type": 1, "url": "https://x" } });
        assert_eq!(card(notice.clone()).unwrap(), Card { task_id: None, updatable: false });
        assert_eq!(err(json!({ "card_type": "text_notice", "card_action": { "type": 1 } })), 42028);
        assert_eq!(err(json!({ "card_type": "text_notice", "card_action": { "type": 2 } })), 42030);
        let mut h = notice.clone();
        h["horizontal_content_list"] = json!([{ "type": 3, "keyname": "who" }]);
        assert_eq!(err(h.clone()), 42050);
        h["horizontal_content_list"] = json!([{ "value": "v" }]);
        assert_eq!(err(h), 42027);
        let button = json!({ "card_type": "button_interaction", "button_list": [{ "text": "OK", "key": "ok" }] });
        assert_eq!(err(button.clone()), 42014, "interaction cards need a task_id");
        let mut b = button.clone();
        b["task_id"] = json!("task-1");
        assert_eq!(card(b.clone()).unwrap(), Card { task_id: Some("task-1".into()), updatable: true });
        b["task_id"] = json!("bad id");
        assert_eq!(err(b), 42014);
        let vote = json!({ "card_type": "vote_interaction", "task_id": "t", "checkbox": { "question_key": "q", "option_list": [] } });
        assert_eq!(err(vote), 42037);
        let mut menu = notice;
        menu["task_id"] = json!("t2");
        menu["action_menu"] = json!({ "desc": "d", "action_list": [{ "text": "a", "key": "k" }, { "text": "b", "key": "k" }] });
        assert_eq!(err(menu), 42051);
    }

    #[test]
    fn taskcards() {
        let send = |p: Value| check_content(&obj(json!({ "msgtype": "interactive_taskcard", "interactive_taskcard": p })), WECOM);
        let ok = json!({ "title": "Gift", "description": "A31 tea set", "url": "https://x", "task_id": "task-1",
            "btn": [{ "key": "yes", "name": "批准", "color": "red", "is_bold": true }, { "key": "no", "name": "驳回驳回驳回驳回" }] });
        let c = send(ok.clone()).unwrap();
        assert_eq!(c.task_id.as_deref(), Some("task-1"));
        assert!(!c.updatable, "no response_code: update_taskcard goes by task_id");
        assert_eq!(c.payload["btn"][0], json!({ "key": "yes", "name": "批准", "replace_name": "已处理", "color": "red", "is_bold": true }));
        assert_eq!(c.payload["btn"][1]["name"], "驳回驳回驳回", "cut at 18 bytes");
        assert_eq!(c.payload["btn"][1]["color"], "blue");
        let with = |k: &str, v: Value| {
            let mut p = ok.clone();
            p[k] = v;
            send(p).map(|_| ()).unwrap_err().errcode
        };
        assert_eq!(with("title", json!("")), 41016);
        assert_eq!(with("description", Value::Null), 41033);
        assert_eq!(with("url", json!("x.com")), 45034);
        assert_eq!(with("task_id", json!("no spaces")), 42014);
        assert_eq!(with("task_id", Value::Null), 42014);
        assert_eq!(with("btn", json!([])), 40058);
        assert_eq!(with("btn", json!([{ "key": "a", "name": "a" }, { "key": "b", "name": "b" }, { "key": "c", "name": "c" }])), 40058);
        assert_eq!(with("btn", json!([{ "name": "a" }])), 42019);
        assert_eq!(with("btn", json!([{ "key": "a b", "name": "a" }])), 42018);
        assert_eq!(with("btn", json!([{ "key": "a", "name": "a" }, { "key": "a", "name": "b" }])), 42018);
        assert_eq!(with("btn", json!([{ "key": "a" }])), 42020);
        assert_eq!(with("btn", json!([{ "key": "a", "name": "a", "color": "green" }])), 40058);
        assert_eq!(
            check_content(&obj(json!({ "msgtype": "interactive_taskcard" })), Channel::App(Dialect::Legacy)).unwrap_err().errcode,
            40008
        );

        let sent = c.payload;
        let upd = |b: Value| taskcard_update(&obj(b), &sent);
        assert_eq!(upd(json!({ "replace_name": "已批准", "clicked_key": "zzz" })).unwrap(), json!({ "replace_name": "已批准" }));
        assert_eq!(upd(json!({ "clicked_key": "no" })).unwrap(), json!({ "clicked_key": "no" }));
        assert_eq!(upd(json!({ "clicked_key": "maybe" })).unwrap_err().errcode, 42017);
        assert_eq!(upd(json!({ "clicked_key": "m b" })).unwrap_err().errcode, 42018);
        assert_eq!(upd(json!({})).unwrap_err().errcode, 42019);
        assert_eq!(parse_taskcard_update(&obj(json!({ "userids": [], "task_id": "t" }))).unwrap_err().errcode, 82101);
        assert_eq!(parse_taskcard_update(&obj(json!({ "userids": ["a"] }))).unwrap_err().errcode, 42014);
        assert_eq!(
            parse_taskcard_update(&obj(json!({ "userids": ["a"], "task_id": "t" }))).unwrap(),
            (vec!["a".to_string()], "t".to_string())
        );
    }

    #[test]
    fn recipients() {
        let r = parse_recipients(&obj(json!({ "touser": "a| b |A||c", "toparty": 2, "totag": "" }))).unwrap();
        assert_eq!(r.users, ["a", "b", "c"]);
        assert_eq!(r.parties, ["2"]);
        assert!(parse_recipients(&obj(json!({ "touser": "@all", "toparty": "x" }))).unwrap().all);
        assert_eq!(parse_recipients(&obj(json!({ "touser": "", "toparty": "" }))), Err(Errcode::RecipientsEmpty));
        let many = (0..1001).map(|i| format!("u{i}")).collect::<Vec<_>>().join("|");
        assert_eq!(parse_recipients(&obj(json!({ "touser": many }))), Err(Errcode::InvalidUseridListSize));
        let parties = (0..101).map(|i| i.to_string()).collect::<Vec<_>>().join("|");
        assert_eq!(parse_recipients(&obj(json!({ "toparty": parties }))), Err(Errcode::PartyListTooLong));
    }

    #[test]
    fn invalid_lists_are_pipe_strings() {
        let inv = Invalid { users: vec!["ZhangSan".into(), "x".into()], parties: vec![], tags: vec!["9".into()] };
        let m = send_view(Dialect::WeCom, &inv, "mid", None);
        assert_eq!(Value::Object(m), json!({ "invaliduser": "zhangsan|x", "invalidtag": "9", "msgid": "mid" }));
        assert_eq!(Value::Object(send_view(Dialect::Legacy, &Invalid::default(), "mid", Some("rc"))), json!({}));
    }

    #[test]
    fn id_translation() {
        let mut p = json!({ "content": "hi $userName=ZhangSan$ of $departmentName=2$ and $userName=ghost$" });
        let (users, depts) = id_trans_names(&p);
        assert_eq!((users, depts), (vec!["ZhangSan".to_string(), "ghost".to_string()], vec![2]));
        let names = HashMap::from([("zhangsan".to_string(), "Zhang San".to_string())]);
        id_trans(&mut p, &names, &HashMap::from([(2, "R&D".to_string())]));
        assert_eq!(p["content"], "hi Zhang San of R&D and $userName=ghost$");
    }

    #[test]
    fn duplicate_keys_ignore_field_order_and_the_check_fields() {
        let a = obj(json!({ "touser": "a", "text": { "content": "x" }, "enable_duplicate_check": 1 }));
        let b = obj(json!({ "text": { "content": "x" }, "touser": "a", "duplicate_check_interval": 60 }));
        assert_eq!(duplicate_key(1, &a), duplicate_key(1, &b));
        assert_ne!(duplicate_key(1, &a), duplicate_key(2, &a));
    }

    #[test]
    fn throttles_per_app_and_for_appchats() {
        assert_eq!(Throttle::of(1000002, ""), Throttle::App(1000002));
        assert_eq!(Throttle::of(1000002, "chat1"), Throttle::AppChat);
        assert_eq!(Throttle::App(1000002).key(), "app:1000002");
        assert_eq!(Throttle::AppChat.key(), "appchat");
        assert_eq!(Throttle::App(-1).key(), "app:-1");
        assert_eq!(Throttle::App(1).quotas()[0].limit, 30);
        assert_eq!(Throttle::AppChat.quotas()[1].limit, 10_000);
    }

    #[test]
    fn agentids() {
        assert_eq!(parse_agentid(None), Err(Errcode::AgentidMissing));
        assert_eq!(parse_agentid(Some(&json!("1000002"))), Ok(1000002));
        assert_eq!(parse_agentid(Some(&json!("x"))), Err(Errcode::InvalidAgentid));
        assert_eq!(duplicate_interval(&obj(json!({ "duplicate_check_interval": 99999 }))), Ok(DUPLICATE_INTERVAL_MAX));
        assert_eq!(duplicate_interval(&obj(json!({}))), Ok(DUPLICATE_INTERVAL_DEFAULT));
    }
}
