//! APIs the 企业号 had and WeCom removed (legacy-api.md §8): 企业客服 (kf/send, kf/list),
//! 摇一摇周边 (shakearound/getshakeinfo) and 卡券 (card/*). Served to legacy tokens only; WeCom
//! tokens get 48005 from the router. Rules and views are here; the state they keep is in the
//! store.

use crate::agent::check_media_id;
use crate::credential::random_url_safe;
use crate::scope::{MemberPlace, Range};
use crate::{ApiError, Errcode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

fn invalid(detail: impl std::fmt::Display) -> ApiError {
    ApiError::with_detail(Errcode::InvalidParameter, detail)
}

/// Who serves as 企业客服: members named directly, by department (subtree) or by tag, as kf/list
/// answers them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KfRange {
    #[serde(default)]
    pub user: Vec<String>,
    #[serde(default)]
    pub party: Vec<i64>,
    #[serde(default)]
    pub tag: Vec<i64>,
}

impl KfRange {
    pub fn holds(&self, m: &MemberPlace) -> bool {
        Range::Visible { users: self.user.clone(), parties: self.party.clone(), tags: self.tag.clone() }.sees(m)
    }
}

/// The corp's 企业客服: internal ones answer members (by userid), external ones WeChat users (by
/// openid).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kf {
    #[serde(default)]
    pub internal: KfRange,
    #[serde(default)]
    pub external: KfRange,
}

/// kf/list `type`: `internal`, `external`, or absent for both.
pub fn list_view(kf: &Kf, kind: Option<&str>) -> Result<Map<String, Value>, ApiError> {
    let mut m = Map::new();
    let (internal, external) = match kind.filter(|k| !k.is_empty()) {
        None => (true, true),
        Some("internal") => (true, false),
        Some("external") => (false, true),
        Some(other) => return Err(invalid(format!("type {other:?} is neither internal nor external"))),
    };
    if internal {
        m.insert("internal".into(), json!(kf.internal));
    }
    if external {
        m.insert("external".into(), json!(kf.external));
    }
    Ok(m)
}

#[derive(Debug, Clone, Deserialize)]
pub struct Party {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KfSendBody {
    pub sender: Option<Party>,
    pub receiver: Option<Party>,
    pub msgtype: Option<String>,
    #[serde(flatten)]
    pub payloads: Map<String, Value>,
}

/// The other side of a kf conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counterpart {
    /// A member, served by an internal kf.
    Userid(String),
    /// A WeChat user, served by an external kf.
    Openid(String),
}

/// A kf/send as understood: one side is the kf (a member), the other a member or a WeChat user.
#[derive(Debug, Clone, PartialEq)]
pub struct KfMessage {
    pub kf: String,
    /// Did the kf send it (true) or receive it?
    pub from_kf: bool,
    pub counterpart: Counterpart,
    pub msgtype: String,
    /// `{"content"}` for text, `{"media_id"}` for the others.
    pub payload: Value,
}

/// The shape of a kf/send: sender and receiver `{type, id}` with type kf / userid / openid and
/// exactly one kf; msgtype text (content) or image / voice / file (media_id).
pub fn check_send(body: &KfSendBody) -> Result<KfMessage, ApiError> {
    let side = |p: &Option<Party>, which: &str| -> Result<(String, String), ApiError> {
        let p = p.as_ref().ok_or_else(|| invalid(format!("{which} missing")))?;
        let kind = p.kind.clone().filter(|k| ["kf", "userid", "openid"].contains(&k.as_str()));
        let kind = kind.ok_or_else(|| invalid(format!("{which}.type must be kf, userid or openid")))?;
        let id = p.id.clone().filter(|i| !i.is_empty()).ok_or_else(|| invalid(format!("{which}.id missing")))?;
        Ok((kind, id))
    };
    let (skind, sid) = side(&body.sender, "sender")?;
    let (rkind, rid) = side(&body.receiver, "receiver")?;
    let (kf, from_kf, kind, other) = match (skind == "kf", rkind == "kf") {
        (true, false) => (sid, true, rkind, rid),
        (false, true) => (rid, false, skind, sid),
        _ => return Err(invalid("exactly one of sender and receiver is the kf")),
    };
    let counterpart = if kind == "userid" { Counterpart::Userid(other) } else { Counterpart::Openid(other) };
    let msgtype = body.msgtype.clone().unwrap_or_default();
    let item = body.payloads.get(&msgtype).and_then(Value::as_object);
    let payload = match msgtype.as_str() {
        "text" => {
            let content = item.and_then(|t| t.get("content")).and_then(Value::as_str).filter(|c| !c.is_empty());
            json!({ "content": content.ok_or(Errcode::EmptyContent)? })
        }
        "image" | "voice" | "file" => {
            let media_id = item.and_then(|t| t.get("media_id")).and_then(Value::as_str).unwrap_or("");
            check_media_id(media_id)?;
            json!({ "media_id": media_id })
        }
        _ => return Err(Errcode::InvalidMsgtype.into()),
    };
    Ok(KfMessage { kf, from_kf, counterpart, msgtype, payload })
}

/// Is `kf` a 客服 for this counterpart: internal kf for members, external for WeChat users?
pub fn check_kf(kf: &Kf, counterpart: &Counterpart, place: Option<&MemberPlace>) -> Result<(), ApiError> {
    let range = match counterpart {
        Counterpart::Userid(_) => &kf.internal,
        Counterpart::Openid(_) => &kf.external,
    };
    match place {
        Some(p) if range.holds(p) => Ok(()),
        _ => Err(invalid("the kf is not one of the corp's 企业客服 for this receiver")),
    }
}

/// A shake's ticket is valid 30 minutes (legacy-api.md §8.2).
pub const SHAKE_TICKET_SECS: i64 = 1800;

/// What a member's shake found, as the control API records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shake {
    pub userid: String,
    pub page_id: i64,
    pub uuid: String,
    pub major: i64,
    pub minor: i64,
    #[serde(default)]
    pub distance: f64,
}

pub fn new_shake_ticket() -> String {
    random_url_safe(32)
}

/// shakearound/getshakeinfo: the page and beacon of the shake, and who shook.
pub fn shake_view(s: &Shake) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "data".into(),
        json!({
            "page_id": s.page_id,
            "beacon_info": { "distance": s.distance, "major": s.major, "minor": s.minor, "uuid": s.uuid },
            "userid": s.userid,
        }),
    );
    m
}

/// ticket: present and not empty.
pub fn check_ticket(ticket: Option<&str>) -> Result<&str, ApiError> {
    ticket.filter(|t| !t.is_empty()).ok_or_else(|| invalid("ticket missing"))
}

pub fn unknown_ticket() -> ApiError {
    invalid("ticket is unknown or expired")
}

/// The five card kinds of the MP card API the 企业号 shared.
pub const CARD_TYPES: &[&str] = &["GENERAL_COUPON", "GROUPON", "DISCOUNT", "GIFT", "CASH"];
/// card/batchget pages through at most 50 ids.
pub const BATCHGET_MAX: i64 = 50;

/// A card/create body's `card`, and the stock it starts with (`base_info.sku.quantity`).
pub fn check_card(body: &Value) -> Result<(Value, i64), ApiError> {
    let card = body.get("card").filter(|c| c.is_object()).ok_or_else(|| invalid("card missing"))?;
    let kind = card.get("card_type").and_then(Value::as_str).filter(|k| CARD_TYPES.contains(k));
    let kind = kind.ok_or_else(|| invalid(format!("card_type must be one of {}", CARD_TYPES.join(", "))))?;
    let field = kind.to_lowercase();
    let base = card.get(&field).and_then(|t| t.get("base_info")).and_then(Value::as_object);
    let base = base.ok_or_else(|| invalid(format!("card.{field}.base_info missing")))?;
    if base.get("title").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(invalid("base_info.title missing"));
    }
    let quantity = match base.get("sku").and_then(|s| s.get("quantity")) {
        None => 0,
        Some(q) => q.as_i64().filter(|q| *q >= 0).ok_or_else(|| invalid("base_info.sku.quantity must be a non-negative integer"))?,
    };
    Ok((card.clone(), quantity))
}

/// card_ids look like the MP's: `p` and 27 URL-safe characters.
pub fn new_card_id() -> String {
    format!("p{}", random_url_safe(27))
}

pub fn card_id(body: &Value) -> Result<&str, ApiError> {
    body.get("card_id").and_then(Value::as_str).filter(|c| !c.is_empty()).ok_or_else(|| invalid("card_id missing"))
}

pub fn unknown_card() -> ApiError {
    invalid("invalid card_id")
}

/// card/get: the card as created, its id and current stock written into base_info.
pub fn card_view(card_id: &str, mut card: Value, quantity: i64) -> Map<String, Value> {
    let field = card.get("card_type").and_then(Value::as_str).unwrap_or_default().to_lowercase();
    if let Some(base) = card.get_mut(&field).and_then(|t| t.get_mut("base_info")) {
        base["id"] = card_id.into();
        base["sku"]["quantity"] = quantity.into();
    }
    let mut m = Map::new();
    m.insert("card".into(), card);
    m
}

/// card/batchget `{offset, count}`: count 1–50, offset not negative.
pub fn check_page(body: &Value) -> Result<(i64, i64), ApiError> {
    let offset = body.get("offset").map_or(Some(0), Value::as_i64).filter(|o| *o >= 0).ok_or_else(|| invalid("invalid offset"))?;
    let count = body.get("count").and_then(Value::as_i64).filter(|c| (1..=BATCHGET_MAX).contains(c));
    Ok((offset, count.ok_or_else(|| invalid("count must be 1-50"))?))
}

pub fn batchget_view(ids: Vec<String>, total: i64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("card_id_list".into(), ids.into());
    m.insert("total_num".into(), total.into());
    m
}

/// card/modifystock: the change to the stock (increase minus reduce), both non-negative.
pub fn stock_change(body: &Value) -> Result<i64, ApiError> {
    let amount = |f: &str| body.get(f).map_or(Some(0), Value::as_i64).filter(|v| *v >= 0).ok_or_else(|| invalid(format!("invalid {f}")));
    Ok(amount("increase_stock_value")? - amount("reduce_stock_value")?)
}

pub fn stock_too_low() -> ApiError {
    invalid("the stock cannot go below 0")
}

/// card/qrcode/create `{"action_name":"QR_CARD","action_info":{"card":{"card_id"}}}`.
pub fn qrcode_card_id(body: &Value) -> Result<&str, ApiError> {
    if body.get("action_name").and_then(Value::as_str) != Some("QR_CARD") {
        return Err(invalid("action_name must be QR_CARD"));
    }
    body.pointer("/action_info/card/card_id").and_then(Value::as_str).filter(|c| !c.is_empty()).ok_or_else(|| invalid("card_id missing"))
}

pub fn qrcode_view() -> Map<String, Value> {
    let ticket = random_url_safe(48);
    let mut m = Map::new();
    m.insert("url".into(), format!("http://weixin.qq.com/q/{}", &ticket[..22]).into());
    m.insert("show_qrcode_url".into(), format!("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket={ticket}").into());
    m.insert("ticket".into(), ticket.into());
    m
}

/// card/mpnews/gethtml: the snippet an mpnews article embeds to show the card.
pub fn mpnews_view(card_id: &str) -> Map<String, Value> {
    let mut m = Map::new();
    let src = format!("https://mp.weixin.qq.com/bizmall/appmsgcard?action=show&card_id={card_id}");
    m.insert("content".into(), format!("<iframe class=\"res_iframe card_iframe js_editor_card\" data-src=\"{src}\"></iframe>").into());
    m
}

/// A card a member received (领取), as card/code/get and card/code/consume read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardCode {
    pub code: String,
    pub card_id: String,
    /// The member's corp-level openid (the card API speaks openids).
    pub openid: String,
    pub received_at: i64,
    pub consumed: bool,
}

/// Codes are 12 digits, as the MP card API makes them when the card does not bring its own.
pub fn new_card_code() -> String {
    let mut rng = rand::rng();
    (0..12).map(|_| char::from(b'0' + rand::Rng::random_range(&mut rng, 0..10u8))).collect()
}

/// card/code/get and card/code/consume: `code` (40035 when absent), an optional `card_id` the
/// code must belong to, and card/code/get's `check_consume` (default true).
pub fn code_request(body: &Value) -> Result<(&str, Option<&str>, bool), ApiError> {
    let code = body.get("code").and_then(Value::as_str).filter(|c| !c.is_empty()).ok_or_else(|| invalid("code missing"))?;
    let card_id = body.get("card_id").and_then(Value::as_str).filter(|c| !c.is_empty());
    let check_consume = body.get("check_consume").and_then(Value::as_bool).unwrap_or(true);
    Ok((code, card_id, check_consume))
}

/// The code named, if it exists and belongs to `card_id` when one is given (40056 otherwise).
pub fn known_code(found: Option<CardCode>, card_id: Option<&str>) -> Result<CardCode, ApiError> {
    found.filter(|c| card_id.is_none_or(|id| id == c.card_id)).ok_or_else(|| Errcode::InvalidSerialCode.into())
}

/// When a received card may be used, from its base_info.date_info: a fixed range
/// (`DATE_TYPE_FIX_TIME_RANGE`) or days after receiving (`DATE_TYPE_FIX_TERM`, starting after
/// `fixed_begin_term` days and lasting `fixed_term` days). `end` 0: no end.
pub fn validity(card: &Value, received_at: i64) -> (i64, i64) {
    let field = card.get("card_type").and_then(Value::as_str).unwrap_or_default().to_lowercase();
    let date = card.get(&field).and_then(|t| t.pointer("/base_info/date_info"));
    let num = |k: &str| date.and_then(|d| d.get(k)).and_then(Value::as_i64).unwrap_or(0);
    match date.and_then(|d| d.get("type")).and_then(Value::as_str) {
        Some("DATE_TYPE_FIX_TIME_RANGE") => (num("begin_timestamp"), num("end_timestamp")),
        Some("DATE_TYPE_FIX_TERM") => {
            let begin = received_at + num("fixed_begin_term") * 86400;
            (begin, begin + num("fixed_term") * 86400)
        }
        _ => (received_at, 0),
    }
}

/// `user_card_status` of a received card: NORMAL, CONSUMED, or EXPIRE outside its validity.
pub fn code_status(card: &Value, code: &CardCode, now: i64) -> &'static str {
    let (begin, end) = validity(card, code.received_at);
    if code.consumed {
        "CONSUMED"
    } else if now < begin || (end != 0 && now > end) {
        "EXPIRE"
    } else {
        "NORMAL"
    }
}

fn unusable(status: &str) -> ApiError {
    match status {
        "CONSUMED" => Errcode::CodeConsumed.into(),
        _ => invalid(format!("the card is {status}")),
    }
}

/// card/code/get: the card's id and validity, the holder's openid, whether it can be consumed.
/// With check_consume, a code that cannot be consumed is an error instead (40099 when consumed).
pub fn code_get_view(card: &Value, code: &CardCode, check_consume: bool, now: i64) -> Result<Map<String, Value>, ApiError> {
    let status = code_status(card, code, now);
    if check_consume && status != "NORMAL" {
        return Err(unusable(status));
    }
    let (begin, end) = validity(card, code.received_at);
    let mut m = Map::new();
    m.insert("card".into(), json!({ "card_id": code.card_id, "begin_time": begin, "end_time": end }));
    m.insert("openid".into(), code.openid.as_str().into());
    m.insert("can_consume".into(), (status == "NORMAL").into());
    m.insert("user_card_status".into(), status.into());
    Ok(m)
}

/// card/code/consume: only a NORMAL card (40099 when consumed already).
pub fn check_consumable(card: &Value, code: &CardCode, now: i64) -> Result<(), ApiError> {
    match code_status(card, code, now) {
        "NORMAL" => Ok(()),
        other => Err(unusable(other)),
    }
}

pub fn consume_view(code: &CardCode) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("card".into(), json!({ "card_id": code.card_id }));
    m.insert("openid".into(), code.openid.as_str().into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(v: Value) -> Result<KfMessage, ApiError> {
        check_send(&serde_json::from_value(v).unwrap())
    }

    #[test]
    fn kf_send_shapes() {
        let ok = send(json!({ "sender": { "type": "kf", "id": "zhangsan" }, "receiver": { "type": "userid", "id": "lisi" },
            "msgtype": "text", "text": { "content": "您好" } }))
        .unwrap();
        assert_eq!(ok.kf, "zhangsan");
        assert!(ok.from_kf);
        assert_eq!(ok.counterpart, Counterpart::Userid("lisi".into()));
        assert_eq!(ok.payload, json!({ "content": "您好" }));
        let back = send(json!({ "sender": { "type": "openid", "id": "o1" }, "receiver": { "type": "kf", "id": "zhangsan" },
            "msgtype": "image", "image": { "media_id": "m1" } }))
        .unwrap();
        assert!(!back.from_kf);
        assert_eq!(back.counterpart, Counterpart::Openid("o1".into()));
        let code = |v| send(v).unwrap_err().errcode;
        assert_eq!(code(json!({ "receiver": { "type": "kf", "id": "a" } })), 40035);
        assert_eq!(code(json!({ "sender": { "type": "kf", "id": "a" }, "receiver": { "type": "kf", "id": "b" } })), 40035);
        assert_eq!(code(json!({ "sender": { "type": "boss", "id": "a" }, "receiver": { "type": "kf", "id": "b" } })), 40035);
        let base = json!({ "sender": { "type": "kf", "id": "a" }, "receiver": { "type": "userid", "id": "b" } });
        let with = |extra: Value| {
            let mut v = base.clone();
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            v
        };
        assert_eq!(code(with(json!({ "msgtype": "news" }))), 40008);
        assert_eq!(code(with(json!({ "msgtype": "text", "text": { "content": "" } }))), 44004);
        assert_eq!(code(with(json!({ "msgtype": "voice" }))), 40007);
    }

    #[test]
    fn kf_ranges_and_list() {
        let kf = Kf {
            internal: KfRange { user: vec!["ZhangSan".into()], ..Default::default() },
            external: KfRange { party: vec![2], ..Default::default() },
        };
        let place = |u: &str, d: Vec<i64>| MemberPlace { userid: u.into(), active: true, departments: d, tags: vec![] };
        assert!(check_kf(&kf, &Counterpart::Userid("x".into()), Some(&place("zhangsan", vec![1]))).is_ok());
        assert!(check_kf(&kf, &Counterpart::Openid("o".into()), Some(&place("zhangsan", vec![1]))).is_err());
        assert!(check_kf(&kf, &Counterpart::Openid("o".into()), Some(&place("lisi", vec![2, 1]))).is_ok());
        assert!(check_kf(&kf, &Counterpart::Userid("x".into()), None).is_err());
        assert_eq!(list_view(&kf, None).unwrap().len(), 2);
        assert_eq!(list_view(&kf, Some("internal")).unwrap()["internal"], json!({ "user": ["ZhangSan"], "party": [], "tag": [] }));
        assert!(!list_view(&kf, Some("external")).unwrap().contains_key("internal"));
        assert_eq!(list_view(&kf, Some("both")).unwrap_err().errcode, 40035);
    }

    #[test]
    fn cards() {
        let body =
            json!({ "card": { "card_type": "GROUPON", "groupon": { "base_info": { "title": "Lunch", "sku": { "quantity": 10 } } } } });
        let (card, q) = check_card(&body).unwrap();
        assert_eq!(q, 10);
        let view = card_view("pX", card, 7);
        assert_eq!(view["card"]["groupon"]["base_info"]["id"], "pX");
        assert_eq!(view["card"]["groupon"]["base_info"]["sku"]["quantity"], 7);
        assert!(check_card(&json!({ "card": { "card_type": "TICKET" } })).is_err());
        assert!(check_card(&json!({ "card": { "card_type": "CASH", "cash": { "base_info": {} } } })).is_err());
        assert_eq!(check_page(&json!({ "offset": 0, "count": 50 })).unwrap(), (0, 50));
        assert!(check_page(&json!({ "count": 51 })).is_err());
        assert_eq!(stock_change(&json!({ "increase_stock_value": 5, "reduce_stock_value": 8 })).unwrap(), -3);
        assert!(stock_change(&json!({ "reduce_stock_value": -1 })).is_err());
        assert_eq!(new_card_id().len(), 28);
        assert_eq!(qrcode_card_id(&json!({ "action_name": "QR_CARD", "action_info": { "card": { "card_id": "p1" } } })).unwrap(), "p1");
        assert!(qrcode_card_id(&json!({ "action_name": "QR_SCENE" })).is_err());
    }

    #[test]
    fn card_codes() {
        let code = new_card_code();
        assert!(code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        assert_eq!(code_request(&json!({ "code": "1" })).unwrap(), ("1", None, true));
        assert_eq!(code_request(&json!({ "code": "1", "card_id": "p", "check_consume": false })).unwrap(), ("1", Some("p"), false));
        assert_eq!(code_request(&json!({})).unwrap_err().errcode, 40035);
        let held = CardCode { code: "1".into(), card_id: "pA".into(), openid: "o1".into(), received_at: 1000, consumed: false };
        assert_eq!(known_code(Some(held.clone()), Some("pB")).unwrap_err().errcode, 40056);
        assert_eq!(known_code(None, None).unwrap_err().errcode, 40056);
        let term = json!({ "card_type": "GIFT", "gift": { "base_info": { "date_info": { "type": "DATE_TYPE_FIX_TERM", "fixed_term": 2, "fixed_begin_term": 0 } } } });
        assert_eq!(validity(&term, 1000), (1000, 1000 + 2 * 86400));
        let range = json!({ "card_type": "CASH", "cash": { "base_info": { "date_info": { "type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": 5, "end_timestamp": 9 } } } });
        assert_eq!(validity(&range, 1000), (5, 9));
        assert_eq!(validity(&json!({}), 1000), (1000, 0));
        let v = code_get_view(&term, &held, true, 2000).unwrap();
        assert_eq!(
            Value::Object(v),
            json!({ "card": { "card_id": "pA", "begin_time": 1000, "end_time": 173800 }, "openid": "o1", "can_consume": true, "user_card_status": "NORMAL" })
        );
        assert_eq!(code_get_view(&term, &held, true, 1000 + 3 * 86400).unwrap_err().errcode, 40035, "expired");
        let used = CardCode { consumed: true, ..held };
        assert_eq!(code_get_view(&term, &used, true, 2000).unwrap_err().errcode, 40099);
        assert_eq!(code_get_view(&term, &used, false, 2000).unwrap()["user_card_status"], "CONSUMED");
        assert_eq!(check_consumable(&term, &used, 2000).unwrap_err().text, "invalid code, this code has consumed.");
    }
}
