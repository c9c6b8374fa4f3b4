//! Callbacks (wecom-api.md §10, legacy-api.md §7.3 and §12): the settings a receiver is saved
//! with, who receives which event, the inner XML of every push, what a receiver's answer means and
//! when a failed push is tried again. Pure: the server's worker does the IO, wecom-crypto the
//! envelopes.

use crate::event::{ChangeContact, ChatPackage};
use crate::scope::Range;
use quick_xml::events::Event;
use quick_xml::Reader;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// URL verification: the receiver must echo within 1 s (§10.3).
pub const VERIFY_TIMEOUT_MS: u64 = 1000;
/// A push waits 5 s for the receiver's answer (§10.4).
pub const PUSH_TIMEOUT_MS: u64 = 5000;

/// Who a callback belongs to: a self-built app, the contacts-sync assistant, the legacy chat
/// service, or one batch job (its own `callback`, numbered as the corp's jobs are). Written as the
/// credential owner keys are (`app:1000002`, `contact_sync`, `chat`), a job as `job:<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    App(i64),
    ContactSync,
    Chat,
    Job(i64),
}

impl Owner {
    pub fn parse(s: &str) -> Option<Owner> {
        match s {
            "contact_sync" => Some(Owner::ContactSync),
            "chat" => Some(Owner::Chat),
            _ => match s.split_once(':')? {
                ("app", agentid) => agentid.parse().ok().map(Owner::App),
                ("job", seq) => seq.parse().ok().map(Owner::Job),
                _ => None,
            },
        }
    }

    pub fn key(self) -> String {
        match self {
            Owner::App(agentid) => format!("app:{agentid}"),
            Owner::ContactSync => "contact_sync".into(),
            Owner::Chat => "chat".into(),
            Owner::Job(seq) => format!("job:{seq}"),
        }
    }

    /// The envelope's `AgentID`: the app's id, empty for the others, which belong to no app.
    pub fn agent_id(self) -> String {
        match self {
            Owner::App(agentid) => agentid.to_string(),
            Owner::ContactSync | Owner::Chat | Owner::Job(_) => String::new(),
        }
    }
}

/// A receiver as the admin console takes it (§10.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub url: String,
    pub token: String,
    pub encodingaeskey: String,
}

impl Settings {
    /// The console's own checks, before any verification request is sent.
    pub fn check(&self) -> Result<(), String> {
        let rest = self.url.strip_prefix("http://").or_else(|| self.url.strip_prefix("https://"));
        if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) || self.url.len() > 1024 || self.url.contains(char::is_whitespace) {
            return Err(format!("url {:?} is not an http(s) URL", self.url));
        }
        if self.token.is_empty() || self.token.len() > 32 || !self.token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("token is 1 to 32 letters and digits".into());
        }
        if self.encodingaeskey.len() != 43 || !self.encodingaeskey.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("encodingaeskey is exactly 43 letters and digits".into());
        }
        Ok(())
    }
}

/// A receiver in a seed file. Seeds save it without URL verification: when wecomd starts, the
/// receiver is usually not up yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackSeed {
    /// `app:<agentid>`, `contact_sync` or `chat`.
    pub owner: String,
    pub url: String,
    pub token: String,
    pub encodingaeskey: String,
}

impl CallbackSeed {
    pub fn owner(&self) -> Result<Owner, String> {
        // A batch job's receiver comes with its job, never from a seed.
        Owner::parse(&self.owner)
            .filter(|o| !matches!(o, Owner::Job(_)))
            .ok_or_else(|| format!("callback owner {:?} is not app:<agentid>, contact_sync or chat", self.owner))
    }

    pub fn settings(&self) -> Settings {
        Settings { url: self.url.clone(), token: self.token.clone(), encodingaeskey: self.encodingaeskey.clone() }
    }
}

/// The plaintext a URL verification asks the receiver to echo: a random number, as the
/// platform's look (§10.3).
pub fn new_echo() -> String {
    (rand::random::<u64>() >> 1).to_string()
}

/// Is the verification answer the echo? The body must be the plaintext exactly: no quotes, no
/// BOM, no newline.
pub fn echo_matches(body: &[u8], echo: &str) -> bool {
    body == echo.as_bytes()
}

/// One XML element of a push: text, or children (`ScanCodeInfo`, `SelectedItems`, `Receiver`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Element {
    Text(String, String),
    Group(String, Vec<Element>),
}

impl Element {
    pub fn text(name: &str, value: impl ToString) -> Element {
        Element::Text(name.into(), value.to_string())
    }
}

/// Elements the platform writes without CDATA: numbers, and the chat Receiver's `Type`.
const PLAIN: &[&str] = &[
    "CreateTime",
    "AgentID",
    "MsgId",
    "Status",
    "Gender",
    "MainDepartment",
    "Id",
    "ParentId",
    "Order",
    "TagId",
    "ItemCount",
    "PackageId",
    "Latitude",
    "Longitude",
    "Precision",
    "Location_X",
    "Location_Y",
    "Scale",
    "Count",
    "ErrCode",
    "Type",
];

/// Groups whose children are all written in CDATA, numbers included (location_select's sample).
const ALL_CDATA: &[&str] = &["SendLocationInfo"];

fn write(out: &mut String, e: &Element, parent: &str) {
    match e {
        Element::Text(name, value) => {
            out.push_str(&format!("<{name}>"));
            if name == "ExtAttr" {
                // Already the element's inner XML (user_fields::extattr_xml).
                out.push_str(value);
            } else if PLAIN.contains(&name.as_str()) && !ALL_CDATA.contains(&parent) {
                out.push_str(&quick_xml::escape::escape(value.as_str()));
            } else {
                // A CDATA section cannot hold "]]>": split it across two sections.
                out.push_str(&format!("<![CDATA[{}]]>", value.replace("]]>", "]]]]><![CDATA[>")));
            }
            out.push_str(&format!("</{name}>"));
        }
        Element::Group(name, children) => {
            out.push_str(&format!("<{name}>"));
            children.iter().for_each(|c| write(out, c, name));
            out.push_str(&format!("</{name}>"));
        }
    }
}

fn document(elements: &[Element]) -> String {
    let mut out = String::from("<xml>");
    elements.iter().for_each(|e| write(&mut out, e, "xml"));
    out.push_str("</xml>");
    out
}

/// The common head of every member message and event (§10.6).
fn head(corpid: &str, from: &str, at: i64, msg_type: &str) -> Vec<Element> {
    vec![
        Element::text("ToUserName", corpid),
        Element::text("FromUserName", from),
        Element::text("CreateTime", at),
        Element::text("MsgType", msg_type),
    ]
}

/// change_contact (§10.7): from `sys`; an app's copy carries its AgentID, the contacts-sync
/// assistant's none.
pub fn change_contact_xml(corpid: &str, owner: Owner, at: i64, change: &ChangeContact) -> String {
    let mut e = head(corpid, "sys", at, "event");
    e.push(Element::text("Event", "change_contact"));
    e.push(Element::text("ChangeType", change.change_type.as_str()));
    e.extend(change.items.iter().map(|(k, v)| Element::text(k, v)));
    if let Owner::App(agentid) = owner {
        e.push(Element::text("AgentID", agentid));
    }
    document(&e)
}

/// batch_job_result (wecom-api.md §7.4): from `sys`, the job-level result in `<BatchJob>`.
pub fn batch_job_result_xml(corpid: &str, at: i64, items: &[(String, String)]) -> String {
    let mut e = head(corpid, "sys", at, "event");
    e.push(Element::text("Event", "batch_job_result"));
    e.push(Element::Group("BatchJob".into(), items.iter().map(|(k, v)| Element::text(k, v)).collect()));
    document(&e)
}

/// A legacy chat package (legacy-api.md §7.3).
pub fn package_xml(corpid: &str, package: &ChatPackage) -> String {
    let mut e = vec![
        Element::text("AgentType", &package.agent_type),
        Element::text("ToUserName", corpid),
        Element::text("ItemCount", package.item_count),
        Element::text("PackageId", &package.package_id),
    ];
    for item in &package.items {
        let mut children: Vec<Element> = item.elements.iter().map(|(k, v)| Element::text(k, v)).collect();
        if let Some(info) = &item.chat_info {
            children.push(Element::Group("ChatInfo".into(), info.iter().map(|(k, v)| Element::text(k, v)).collect()));
        }
        if let Some(r) = &item.receiver {
            let kind = match r.kind {
                crate::chat::ReceiverKind::Single => "single",
                crate::chat::ReceiverKind::Group => "group",
            };
            children.push(Element::Group("Receiver".into(), vec![Element::text("Type", kind), Element::text("Id", &r.id)]));
        }
        e.push(Element::Group("Item".into(), children));
    }
    document(&e)
}

/// What a member did in an app, as its callback receives it: a message (with MsgId) or an event;
/// or a system event for one app (upload_media_job_finish).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberPush {
    pub agentid: i64,
    pub from: String,
    pub msg_type: String,
    /// The elements between `MsgType` and `AgentID`.
    pub elements: Vec<Element>,
    /// The elements after `AgentID`: `AppType` of location pushes, a card click's `SelectedItems`.
    #[serde(default)]
    pub after: Vec<Element>,
    /// Whether the inner XML names the app. upload_media_job_finish does not (its sample has no
    /// `AgentID`); the envelope does.
    #[serde(default = "names_app")]
    pub names_app: bool,
}

fn names_app() -> bool {
    true
}

impl MemberPush {
    fn new(agentid: i64, from: &str, msg_type: &str, elements: Vec<Element>, after: Vec<Element>) -> MemberPush {
        MemberPush { agentid, from: from.into(), msg_type: msg_type.into(), elements, after, names_app: true }
    }

    pub fn xml(&self, corpid: &str, at: i64) -> String {
        let mut e = head(corpid, &self.from, at, &self.msg_type);
        e.extend(self.elements.iter().cloned());
        if self.names_app {
            e.push(Element::text("AgentID", self.agentid));
        }
        e.extend(self.after.iter().cloned());
        document(&e)
    }

    /// A message's MsgId (events have none).
    pub fn msgid(&self) -> Option<&str> {
        self.elements.iter().find_map(|e| match e {
            Element::Text(n, v) if n == "MsgId" => Some(v.as_str()),
            _ => None,
        })
    }
}

/// A member's event in an app (§10.6), as the control API takes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "event", deny_unknown_fields)]
pub enum MemberEvent {
    #[serde(rename = "subscribe")]
    Subscribe,
    #[serde(rename = "unsubscribe")]
    Unsubscribe,
    #[serde(rename = "enter_agent")]
    EnterAgent,
    #[serde(rename = "LOCATION")]
    Location {
        latitude: f64,
        longitude: f64,
        #[serde(default)]
        precision: f64,
    },
    #[serde(rename = "click")]
    Click { key: String },
    #[serde(rename = "view")]
    View { url: String },
    #[serde(rename = "view_miniprogram")]
    ViewMiniprogram { pagepath: String },
    #[serde(rename = "scancode_push")]
    ScancodePush {
        key: String,
        #[serde(default = "qrcode")]
        scan_type: String,
        scan_result: String,
    },
    #[serde(rename = "scancode_waitmsg")]
    ScancodeWaitmsg {
        key: String,
        #[serde(default = "qrcode")]
        scan_type: String,
        scan_result: String,
    },
    /// The pictures' MD5 sums (`PicMd5Sum`); left out, one made up.
    #[serde(rename = "pic_sysphoto")]
    PicSysphoto {
        key: String,
        #[serde(default)]
        pic_md5_sums: Vec<String>,
    },
    #[serde(rename = "pic_photo_or_album")]
    PicPhotoOrAlbum {
        key: String,
        #[serde(default)]
        pic_md5_sums: Vec<String>,
    },
    #[serde(rename = "pic_weixin")]
    PicWeixin {
        key: String,
        #[serde(default)]
        pic_md5_sums: Vec<String>,
    },
    #[serde(rename = "location_select")]
    LocationSelect {
        key: String,
        location_x: f64,
        location_y: f64,
        #[serde(default = "scale")]
        scale: i64,
        #[serde(default)]
        label: String,
        #[serde(default)]
        poiname: String,
    },
    /// The member clicks a button of a template card it received (message/send's msgid).
    #[serde(rename = "template_card_event")]
    TemplateCardEvent {
        msgid: String,
        key: String,
        #[serde(default)]
        selected_items: Vec<SelectedItem>,
    },
}

impl MemberEvent {
    /// The `Event` the push carries.
    pub fn name(&self) -> &'static str {
        match self {
            MemberEvent::Subscribe => "subscribe",
            MemberEvent::Unsubscribe => "unsubscribe",
            MemberEvent::EnterAgent => "enter_agent",
            MemberEvent::Location { .. } => "LOCATION",
            MemberEvent::Click { .. } => "click",
            MemberEvent::View { .. } => "view",
            MemberEvent::ViewMiniprogram { .. } => "view_miniprogram",
            MemberEvent::ScancodePush { .. } => "scancode_push",
            MemberEvent::ScancodeWaitmsg { .. } => "scancode_waitmsg",
            MemberEvent::PicSysphoto { .. } => "pic_sysphoto",
            MemberEvent::PicPhotoOrAlbum { .. } => "pic_photo_or_album",
            MemberEvent::PicWeixin { .. } => "pic_weixin",
            MemberEvent::LocationSelect { .. } => "location_select",
            MemberEvent::TemplateCardEvent { .. } => "template_card_event",
        }
    }
}

fn qrcode() -> String {
    "qrcode".into()
}

/// The pictures a member may send from one menu button: the system camera takes one; the album
/// and WeChat's picker take up to 9 (WeChat's picker limit).
fn pics_max(event: &str) -> usize {
    if event == "pic_sysphoto" {
        1
    } else {
        9
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectedItem {
    pub question_key: String,
    pub option_ids: Vec<String>,
}

/// The template card a member clicked, as the app sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickedCard {
    pub card: Value,
    /// The new response_code this click issues: every push carries its own.
    pub response_code: String,
    /// Did the member receive it?
    pub received: bool,
}

/// What the member's event depends on: the app's flags and menu, the clicked card.
pub struct AppState<'a> {
    pub report_location: bool,
    pub report_enter: bool,
    pub menu: Option<&'a Value>,
    pub card: Option<&'a ClickedCard>,
}

/// `AppType` follows `AgentID` in location pushes (events and messages).
fn app_type() -> Vec<Element> {
    vec![Element::text("AppType", "wxwork")]
}

/// The push a member's event makes, `None` when the app asked for none (enter_agent without
/// isreportenter, LOCATION without report_location_flag); `Err` for an event the member cannot
/// cause (a menu key the app's menu lacks, a card it did not receive).
pub fn event_push(agentid: i64, userid: &str, ev: &MemberEvent, app: &AppState) -> Result<Option<MemberPush>, String> {
    let event = ev.name();
    let key = |k: &str| Element::text("EventKey", k);
    let (elements, after) = match ev {
        MemberEvent::Subscribe => (vec![key("")], vec![]),
        MemberEvent::Unsubscribe => (vec![], vec![]),
        MemberEvent::EnterAgent if !app.report_enter => return Ok(None),
        MemberEvent::EnterAgent => (vec![key("")], vec![]),
        MemberEvent::Location { .. } if !app.report_location => return Ok(None),
        MemberEvent::Location { latitude, longitude, precision } => (
            vec![Element::text("Latitude", latitude), Element::text("Longitude", longitude), Element::text("Precision", precision)],
            app_type(),
        ),
        MemberEvent::Click { key: k } => {
            menu_has(app.menu, event, "key", k)?;
            (vec![key(k)], vec![])
        }
        MemberEvent::View { url } => {
            menu_has(app.menu, event, "url", url)?;
            (vec![key(url)], vec![])
        }
        MemberEvent::ViewMiniprogram { pagepath } => {
            menu_has(app.menu, event, "pagepath", pagepath)?;
            (vec![key(pagepath)], vec![])
        }
        MemberEvent::ScancodePush { key: k, scan_type, scan_result } | MemberEvent::ScancodeWaitmsg { key: k, scan_type, scan_result } => {
            menu_has(app.menu, event, "key", k)?;
            if scan_type != "qrcode" && scan_type != "barcode" {
                return Err("scan_type is qrcode or barcode".into());
            }
            let info = vec![Element::text("ScanType", scan_type), Element::text("ScanResult", scan_result)];
            (vec![key(k), Element::Group("ScanCodeInfo".into(), info)], vec![])
        }
        MemberEvent::PicSysphoto { key: k, pic_md5_sums }
        | MemberEvent::PicPhotoOrAlbum { key: k, pic_md5_sums }
        | MemberEvent::PicWeixin { key: k, pic_md5_sums } => {
            menu_has(app.menu, event, "key", k)?;
            (vec![key(k), pics_info(event, pic_md5_sums)?], vec![])
        }
        MemberEvent::LocationSelect { key: k, location_x, location_y, scale, label, poiname } => {
            menu_has(app.menu, event, "key", k)?;
            let info = vec![
                Element::text("Location_X", location_x),
                Element::text("Location_Y", location_y),
                Element::text("Scale", scale),
                Element::text("Label", label),
                Element::text("Poiname", poiname),
            ];
            (vec![key(k), Element::Group("SendLocationInfo".into(), info)], app_type())
        }
        MemberEvent::TemplateCardEvent { msgid, key: k, selected_items } => {
            let card = app.card.ok_or_else(|| format!("app {agentid} sent no template card {msgid}"))?;
            if !card.received {
                return Err(format!("{userid} did not receive template card {msgid}"));
            }
            if !card_keys(&card.card).contains(&k.as_str()) {
                return Err(format!("template card {msgid} has no button or submit key {k:?}"));
            }
            let text = |field: &str| card.card.get(field).and_then(Value::as_str).unwrap_or_default().to_string();
            let e = vec![
                key(k),
                Element::text("TaskId", text("task_id")),
                Element::text("CardType", text("card_type")),
                Element::text("ResponseCode", &card.response_code),
            ];
            let mut after = Vec::new();
            if !selected_items.is_empty() {
                let items = selected_items
                    .iter()
                    .map(|s| {
                        let ids = s.option_ids.iter().map(|o| Element::text("OptionId", o)).collect();
                        Element::Group(
                            "SelectedItem".into(),
                            vec![Element::text("QuestionKey", &s.question_key), Element::Group("OptionIds".into(), ids)],
                        )
                    })
                    .collect();
                after.push(Element::Group("SelectedItems".into(), items));
            }
            (e, after)
        }
    };
    let mut all = vec![Element::text("Event", event)];
    all.extend(elements);
    Ok(Some(MemberPush::new(agentid, userid, "event", all, after)))
}

/// `SendPicsInfo`: `Count`, then `PicList` with one `item` per picture. MD5 sums are 32 hex digits.
fn pics_info(event: &str, md5s: &[String]) -> Result<Element, String> {
    let made_up;
    let md5s = if md5s.is_empty() {
        made_up = vec![format!("{:032x}", rand::random::<u128>())];
        &made_up
    } else {
        md5s
    };
    let max = pics_max(event);
    if md5s.len() > max {
        return Err(format!("{event} sends 1 to {max} pictures"));
    }
    if let Some(bad) = md5s.iter().find(|m| m.len() != 32 || !m.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(format!("PicMd5Sum {bad:?} is not 32 hex digits"));
    }
    let items = md5s.iter().map(|m| Element::Group("item".into(), vec![Element::text("PicMd5Sum", m)])).collect();
    Ok(Element::Group("SendPicsInfo".into(), vec![Element::text("Count", md5s.len()), Element::Group("PicList".into(), items)]))
}

/// upload_media_job_finish (wecom-api.md §8.5) for the app whose token started the job: from
/// `sys`, the `JobId`, no `AgentID` (as the platform's sample).
pub fn job_finish_push(agentid: i64, jobid: &str) -> MemberPush {
    let elements = vec![Element::text("Event", "upload_media_job_finish"), Element::text("JobId", jobid)];
    MemberPush { names_app: false, ..MemberPush::new(agentid, "sys", "event", elements, vec![]) }
}

/// Is there a menu button (or sub-button) of this type whose `field` is `value`?
fn menu_has(menu: Option<&Value>, kind: &str, field: &str, value: &str) -> Result<(), String> {
    fn walk(buttons: &Value, kind: &str, field: &str, value: &str) -> bool {
        buttons
            .as_array()
            .is_some_and(|list| list.iter().any(|b| (b["type"] == kind && b[field] == value) || walk(&b["sub_button"], kind, field, value)))
    }
    if menu.is_some_and(|m| walk(m, kind, field, value)) {
        Ok(())
    } else {
        Err(format!("the app's menu has no {kind} button with {field} {value:?}"))
    }
}

/// Every key a member can click on a card: buttons, the submit button, menus and questions.
fn card_keys(card: &Value) -> Vec<&str> {
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("key" | "question_key", Value::String(s)) => out.push(s),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(card, &mut out);
    out
}

/// A message a member sends to an app (§10.6), as the control API takes it. Media ids and
/// picture URLs the caller leaves out are made up.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "msgtype", rename_all = "snake_case", deny_unknown_fields)]
pub enum MemberMessage {
    Text {
        content: String,
    },
    Image {
        #[serde(default)]
        media_id: String,
        #[serde(default)]
        pic_url: String,
    },
    Voice {
        #[serde(default)]
        media_id: String,
        #[serde(default = "amr")]
        format: String,
    },
    Video {
        #[serde(default)]
        media_id: String,
        #[serde(default)]
        thumb_media_id: String,
    },
    Location {
        location_x: f64,
        location_y: f64,
        #[serde(default = "scale")]
        scale: i64,
        #[serde(default)]
        label: String,
    },
    Link {
        title: String,
        #[serde(default)]
        description: String,
        url: String,
        #[serde(default)]
        pic_url: String,
    },
}

fn amr() -> String {
    "amr".into()
}
fn scale() -> i64 {
    15
}

pub fn message_push(agentid: i64, userid: &str, m: &MemberMessage) -> Result<MemberPush, String> {
    let or_new = |s: &str| if s.is_empty() { crate::credential::random_url_safe(64) } else { s.to_string() };
    let pic =
        |s: &str| if s.is_empty() { format!("https://wework.qpic.cn/wwpic/{}/0", crate::event::new_message_id()) } else { s.to_string() };
    let (msg_type, elements) = match m {
        MemberMessage::Text { content } if content.is_empty() || content.len() > 2048 => return Err("content is 1 to 2048 bytes".into()),
        MemberMessage::Text { content } => ("text", vec![Element::text("Content", content)]),
        MemberMessage::Image { media_id, pic_url } => {
            ("image", vec![Element::text("PicUrl", pic(pic_url)), Element::text("MediaId", or_new(media_id))])
        }
        MemberMessage::Voice { format, .. } if format != "amr" && format != "speex" => return Err("format is amr or speex".into()),
        MemberMessage::Voice { media_id, format } => {
            ("voice", vec![Element::text("MediaId", or_new(media_id)), Element::text("Format", format)])
        }
        MemberMessage::Video { media_id, thumb_media_id } => {
            ("video", vec![Element::text("MediaId", or_new(media_id)), Element::text("ThumbMediaId", or_new(thumb_media_id))])
        }
        MemberMessage::Location { location_x, location_y, scale, label } => (
            "location",
            vec![
                Element::text("Location_X", location_x),
                Element::text("Location_Y", location_y),
                Element::text("Scale", scale),
                Element::text("Label", label),
            ],
        ),
        MemberMessage::Link { title, description, url, pic_url } => (
            "link",
            vec![
                Element::text("Title", title),
                Element::text("Description", description),
                Element::text("Url", url),
                Element::text("PicUrl", pic(pic_url)),
            ],
        ),
    };
    let mut elements = elements;
    elements.push(Element::text("MsgId", crate::event::new_message_id()));
    let after = if msg_type == "location" { app_type() } else { vec![] };
    Ok(MemberPush::new(agentid, userid, msg_type, elements, after))
}

/// What an event is, for routing.
pub enum Routed<'a> {
    /// change_contact, caused by the credential `origin` (owner key, or `control`).
    Change { origin: &'a str },
    /// A legacy chat package.
    Package,
    /// A member's message or event in one app.
    Member { agentid: i64 },
    /// An event for one receiver only (batch_job_result: the job's own, or the contacts-sync
    /// assistant's).
    Addressed(Owner),
}

/// Who gets an event, of the receivers configured (§10.4, legacy §7.3): change_contact goes to
/// the contacts-sync assistant and to apps whose range covers the change, never back to the
/// credential whose call caused it; chat packages to the chat service only; a member's message
/// or event to its app only; an addressed event to its receiver only. `covers(agentid)` says
/// whether an app's range covers a change.
pub fn receivers(event: &Routed, configured: &[Owner], covers: impl Fn(i64) -> bool) -> Vec<Owner> {
    configured
        .iter()
        .copied()
        .filter(|o| match (event, *o) {
            (Routed::Change { origin }, Owner::ContactSync) => *origin != "contact_sync",
            (Routed::Change { origin }, Owner::App(agentid)) => *origin != format!("app:{agentid}") && covers(agentid),
            (Routed::Package, Owner::Chat) => true,
            (Routed::Member { agentid }, Owner::App(a)) => a == *agentid,
            (Routed::Addressed(to), o) => o == *to,
            _ => false,
        })
        .collect()
}

/// Does an app's range take in a change whose subject sits where `place` says (a member's
/// place, a department's ancestors, a tag)? A range that includes the root department sees every
/// change, including those whose subject is gone.
pub fn covers(range: &Range, subject: &Subject) -> bool {
    if range.sees_department(&[1]) {
        return true;
    }
    match subject {
        Subject::Member(Some(place)) => range.sees(place),
        Subject::Department(Some(ancestors)) => range.sees_department(ancestors),
        Subject::Tag(tagid) => matches!(range, Range::Visible { tags, .. } if tags.contains(tagid)),
        Subject::Member(None) | Subject::Department(None) => false,
    }
}

/// What a change_contact event is about, found when it is routed (`None`: gone since).
pub enum Subject {
    Member(Option<crate::scope::MemberPlace>),
    Department(Option<Vec<i64>>),
    Tag(i64),
}

/// How long to wait before trying a push again after `attempts` failed ones, or `None` to give
/// up. Apps and the contacts-sync assistant: 3 retries (§10.4), spaced 1, 2 and 4 s so that a
/// receiver restarting has a chance. Chat packages: retried for up to a day, at most 20 minutes
/// apart (legacy-api.md §7.3).
pub fn retry_delay_ms(owner: Owner, attempts: u32, since_first_ms: u64) -> Option<u64> {
    const DAY_MS: u64 = 24 * 3600 * 1000;
    match owner {
        Owner::Chat => (since_first_ms < DAY_MS).then(|| (1000u64 << attempts.saturating_sub(1).min(20)).min(20 * 60 * 1000)),
        Owner::App(_) | Owner::ContactSync | Owner::Job(_) => (attempts <= 3).then(|| 1000u64 << attempts.saturating_sub(1)),
    }
}

/// How a receiver's HTTP answer settles a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Received; nothing to reply.
    Ack,
    /// Received, with a body to open as an encrypted passive reply.
    Reply,
    /// Not received: try again.
    Failed(String),
}

/// Apps ack with HTTP 200 (an empty body or `success` means no reply); the chat service also
/// with the package's PackageId as the body.
pub fn answer(status: u16, body: &str, package_id: Option<&str>) -> Answer {
    if status != 200 {
        return Answer::Failed(format!("HTTP {status}"));
    }
    let body = body.trim();
    match package_id {
        Some(id) if body == id => Answer::Ack,
        Some(id) => Answer::Failed(format!("the body is not the PackageId {id}")),
        None if body.is_empty() || body == "success" => Answer::Ack,
        None => Answer::Reply,
    }
}

/// A passive reply (§10.5): a message for the member's inbox (message/send's msgtype and
/// payload), or a change to the card the member clicked (update_button, update_template_card)
/// as message/update_template_card's body would make it (`button` or `template_card`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub to_user: String,
    pub msgtype: String,
    pub content: Value,
}

impl Reply {
    pub fn updates_card(&self) -> bool {
        matches!(self.msgtype.as_str(), "update_button" | "update_template_card")
    }
}

/// Reads the decrypted reply XML.
pub fn parse_reply(xml: &str) -> Result<Reply, String> {
    let root = parse_tree(xml)?;
    let text = |name: &str| find(&root, &[name]).unwrap_or_default();
    let msgtype = text("MsgType");
    let content = match msgtype.as_str() {
        "text" => json!({ "content": text("Content") }),
        "image" | "voice" => {
            let outer = if msgtype == "image" { "Image" } else { "Voice" };
            json!({ "media_id": find(&root, &[outer, "MediaId"]).unwrap_or_default() })
        }
        "video" => json!({
            "media_id": find(&root, &["Video", "MediaId"]).unwrap_or_default(),
            "title": find(&root, &["Video", "Title"]).unwrap_or_default(),
            "description": find(&root, &["Video", "Description"]).unwrap_or_default(),
        }),
        "news" => {
            let items = children(&root, "Articles");
            let articles: Vec<Value> = items
                .iter()
                .map(|item| {
                    let t = |n: &str| find(std::slice::from_ref(item), &["item", n]).unwrap_or_default();
                    json!({ "title": t("Title"), "description": t("Description"), "url": t("Url"), "picurl": t("PicUrl") })
                })
                .collect();
            if articles.is_empty() || articles.len() > 8 {
                return Err(format!("a news reply has 1 to 8 articles, not {}", articles.len()));
            }
            json!({ "articles": articles })
        }
        "update_button" => json!({ "button": { "replace_name": find(&root, &["Button", "ReplaceName"]).unwrap_or_default() } }),
        "update_template_card" => json!({ "template_card": card_json(&children(&root, "TemplateCard")) }),
        "" => return Err("the reply has no MsgType".into()),
        other => return Err(format!("a {other} reply is not a message for the member's inbox")),
    };
    Ok(Reply { to_user: text("ToUserName"), msgtype, content })
}

/// A reply's `TemplateCard` as message/send's template_card: names from CamelCase to snake_case
/// (`KeyName` keyname, `Appid` appid, `Pagepath` pagepath, `UserId` userid), every `…List`
/// element an array of its repetitions, numbers and flags typed.
fn card_json(elements: &[Element]) -> Value {
    let mut card = Map::new();
    for e in elements {
        let (name, value) = match e {
            Element::Text(name, text) => (name, typed(&json_key(name), text)),
            Element::Group(name, kids) => (name, card_json(kids)),
        };
        let key = json_key(name);
        if name.ends_with("List") {
            if let Value::Array(list) = card.entry(key).or_insert_with(|| Value::Array(vec![])) {
                list.push(value);
            }
        } else {
            card.insert(key, value);
        }
    }
    Value::Object(card)
}

fn json_key(name: &str) -> String {
    match name {
        "KeyName" => "keyname".into(),
        "Appid" | "AppId" => "appid".into(),
        "Pagepath" | "PagePath" => "pagepath".into(),
        "UserId" | "Userid" => "userid".into(),
        _ => {
            let mut out = String::new();
            for (i, c) in name.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            }
            out
        }
    }
}

/// A card field's text as the JSON type message/send takes.
fn typed(key: &str, text: &str) -> Value {
    let number = match key {
        "type" | "desc_color" | "style" | "mode" => text.parse::<i64>().ok().map(Value::from),
        "aspect_ratio" => text.parse::<f64>().ok().map(Value::from),
        _ => None,
    };
    let flag = match (key, text) {
        ("is_checked" | "disable", "true" | "1") => Some(Value::Bool(true)),
        ("is_checked" | "disable", "false" | "0") => Some(Value::Bool(false)),
        _ => None,
    };
    number.or(flag).unwrap_or_else(|| Value::from(text))
}

/// The `ResponseCode` of a template_card_event push: the card a card-update reply changes.
pub fn clicked_response_code(xml: &str) -> Option<String> {
    let root = parse_tree(xml).ok()?;
    (find(&root, &["Event"]).as_deref() == Some("template_card_event")).then(|| find(&root, &["ResponseCode"])).flatten()
}

/// The `FromUserName` of a push's inner XML: who a passive reply goes back to.
pub fn from_user(xml: &str) -> Option<String> {
    find(&parse_tree(xml).ok()?, &["FromUserName"])
}

/// The text under a path of element names below the root.
fn find(elements: &[Element], path: &[&str]) -> Option<String> {
    let (first, rest) = path.split_first()?;
    elements.iter().find_map(|e| match (e, rest.is_empty()) {
        (Element::Text(n, v), true) if n == first => Some(v.clone()),
        (Element::Group(n, c), false) if n == first => find(c, rest),
        _ => None,
    })
}

fn children(elements: &[Element], name: &str) -> Vec<Element> {
    elements
        .iter()
        .find_map(|e| match e {
            Element::Group(n, c) if n == name => Some(c.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The children of the root element as a tree; text is trimmed, CDATA and entities resolved.
fn parse_tree(xml: &str) -> Result<Vec<Element>, String> {
    let bad = |e: &dyn std::fmt::Display| format!("the reply is not XML: {e}");
    let mut reader = Reader::from_str(xml);
    // (name, text, children) of each open element; the root's children end up in `done`.
    let mut open: Vec<(String, String, Vec<Element>)> = Vec::new();
    let mut done = Vec::new();
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Start(s) => open.push((String::from_utf8_lossy(s.name().as_ref()).into_owned(), String::new(), Vec::new())),
            Event::Empty(s) => {
                let e = Element::Text(String::from_utf8_lossy(s.name().as_ref()).into_owned(), String::new());
                match open.last_mut() {
                    Some(parent) => parent.2.push(e),
                    None => done.push(e),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = open.last_mut() {
                    cur.1.push_str(&t.decode().map_err(|e| bad(&e))?);
                }
            }
            Event::CData(t) => {
                if let Some(cur) = open.last_mut() {
                    cur.1.push_str(&t.decode().map_err(|e| bad(&e))?);
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| bad(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| bad(&e))?;
                        quick_xml::escape::resolve_predefined_entity(&name).ok_or_else(|| bad(&"unknown entity"))?.to_string()
                    }
                };
                if let Some(cur) = open.last_mut() {
                    cur.1.push_str(&c);
                }
            }
            Event::End(_) => {
                let (name, text, kids) = open.pop().ok_or_else(|| bad(&"unbalanced"))?;
                let e = if kids.is_empty() { Element::Text(name, text.trim().to_string()) } else { Element::Group(name, kids) };
                match open.last_mut() {
                    // The root itself: keep its children.
                    None => match e {
                        Element::Group(_, kids) => done.extend(kids),
                        Element::Text(..) => {}
                    },
                    Some(parent) => parent.2.push(e),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err(bad(&"truncated"));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ChangeType, ChatItem};

    #[test]
    fn owners_read_and_write_as_credential_keys() {
        for (s, o) in
            [("app:1000002", Owner::App(1000002)), ("contact_sync", Owner::ContactSync), ("chat", Owner::Chat), ("job:3", Owner::Job(3))]
        {
            assert_eq!(Owner::parse(s), Some(o));
            assert_eq!(o.key(), s);
        }
        assert_eq!(Owner::parse("group:1"), None);
        assert_eq!(Owner::parse("app:x"), None);
        assert_eq!(Owner::Job(3).agent_id(), "");
        assert_eq!((Owner::App(7).agent_id(), Owner::ContactSync.agent_id()), ("7".to_string(), String::new()));
    }

    #[test]
    fn settings_follow_the_console_rules() {
        let ok = Settings {
            url: "http://127.0.0.1:9/cb".into(),
            token: "QDG6eK".into(),
            encodingaeskey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C".into(),
        };
        assert_eq!(ok.check(), Ok(()));
        let bad = |f: fn(&mut Settings)| {
            let mut s = ok.clone();
            f(&mut s);
            s.check().unwrap_err()
        };
        assert!(bad(|s| s.url = "ftp://x".into()).contains("http(s)"));
        assert!(bad(|s| s.url = "http://".into()).contains("http(s)"));
        assert!(bad(|s| s.token = "a-b".into()).contains("token"));
        assert!(bad(|s| s.token = "a".repeat(33)).contains("token"));
        assert!(bad(|s| s.encodingaeskey.pop().map(drop).unwrap_or(())).contains("43"));
        assert!(echo_matches(b"123", "123") && !echo_matches(b"123\n", "123") && !echo_matches(b"\"123\"", "123"));
    }

    #[test]
    fn change_contact_renders_as_the_reference_example() {
        let e = ChangeContact::new(ChangeType::UpdateUser)
            .item("UserID", "zhangsan")
            .item("NewUserID", "zhangsan01")
            .item("Department", "1,2")
            .item("Status", 1);
        let xml = change_contact_xml("wwCORPID", Owner::ContactSync, 1700000000, &e);
        assert_eq!(
            xml,
            "<xml><ToUserName><![CDATA[wwCORPID]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
             <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>\
             <ChangeType><![CDATA[update_user]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID>\
             <NewUserID><![CDATA[zhangsan01]]></NewUserID><Department><![CDATA[1,2]]></Department><Status>1</Status></xml>"
        );
        assert!(change_contact_xml("ww", Owner::App(1000002), 1, &e).ends_with("<AgentID>1000002</AgentID></xml>"));
        let ext = ChangeContact::new(ChangeType::UpdateUser).item("ExtAttr", "<Item><Name><![CDATA[a]]></Name></Item>");
        assert!(
            change_contact_xml("ww", Owner::ContactSync, 1, &ext).contains("<ExtAttr><Item><Name><![CDATA[a]]></Name></Item></ExtAttr>")
        );
    }

    #[test]
    fn batch_job_result_renders_as_the_reference_example() {
        let items = crate::batch::job_result_items("JOBID", crate::batch::JobType::SyncUser, &crate::batch::ok());
        assert_eq!(
            batch_job_result_xml("wwCORPID", 1380000000, &items),
            "<xml><ToUserName><![CDATA[wwCORPID]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
             <CreateTime>1380000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[batch_job_result]]></Event>\
             <BatchJob><JobId><![CDATA[JOBID]]></JobId><JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode>\
             <ErrMsg><![CDATA[ok]]></ErrMsg></BatchJob></xml>"
        );
    }

    #[test]
    fn cdata_terminators_are_split() {
        let mut out = String::new();
        write(&mut out, &Element::text("Content", "a]]>b"), "xml");
        assert_eq!(out, "<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>");
        let parsed = parse_tree(&format!("<xml>{out}<MsgType>text</MsgType></xml>")).unwrap();
        assert_eq!(find(&parsed, &["Content"]).as_deref(), Some("a]]>b"));
    }

    #[test]
    fn packages_carry_count_id_and_receivers() {
        let r = crate::chat::Receiver { kind: crate::chat::ReceiverKind::Group, id: "c1".into() };
        let p = ChatPackage::new(vec![ChatItem::text("zhangsan", 1465560657, "hello", "7", r)]);
        let xml = package_xml("wx8042b22041aa4f39", &p);
        assert!(xml.starts_with(
            "<xml><AgentType><![CDATA[chat]]></AgentType><ToUserName><![CDATA[wx8042b22041aa4f39]]></ToUserName><ItemCount>1</ItemCount>"
        ));
        assert!(xml.contains(&format!("<PackageId>{}</PackageId><Item><FromUserName><![CDATA[zhangsan]]></FromUserName>", p.package_id)));
        assert!(xml.ends_with("<MsgId>7</MsgId><Receiver><Type>group</Type><Id>c1</Id></Receiver></Item></xml>"));
    }

    #[test]
    fn create_chat_carries_its_chat_info() {
        let chat = crate::chat::Chat {
            chatid: "c1".into(),
            name: "Team".into(),
            owner: "zhangsan".into(),
            userlist: vec!["zhangsan".into(), "lisi".into()],
        };
        let xml = package_xml("wwCORPID", &ChatPackage::new(vec![ChatItem::create_chat(&chat, 1700000000)]));
        assert!(
            xml.ends_with(
                "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[create_chat]]></Event><ChatInfo><ChatId><![CDATA[c1]]></ChatId>\
                 <Name><![CDATA[Team]]></Name><Owner><![CDATA[zhangsan]]></Owner><UserList><![CDATA[zhangsan|lisi]]></UserList></ChatInfo></Item></xml>"
            ),
            "{xml}"
        );
    }

    fn app<'a>(menu: Option<&'a Value>, card: Option<&'a ClickedCard>) -> AppState<'a> {
        AppState { report_location: false, report_enter: false, menu, card }
    }

    #[test]
    fn menu_events_need_the_button() {
        let menu = json!([{ "type": "click", "name": "Today", "key": "V1001_TODAY" },
                          { "name": "More", "sub_button": [{ "type": "view", "name": "Site", "url": "https://e.com" },
                                                           { "type": "scancode_waitmsg", "name": "Scan", "key": "scan1" }] }]);
        let push = |ev: MemberEvent| event_push(1000002, "zhangsan", &ev, &app(Some(&menu), None));
        let p = push(MemberEvent::Click { key: "V1001_TODAY".into() }).unwrap().unwrap();
        assert_eq!(
            p.xml("wwCORPID", 1700000000),
            "<xml><ToUserName><![CDATA[wwCORPID]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>\
             <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event>\
             <EventKey><![CDATA[V1001_TODAY]]></EventKey><AgentID>1000002</AgentID></xml>"
        );
        assert_eq!(p.msgid(), None);
        assert!(push(MemberEvent::Click { key: "nope".into() }).unwrap_err().contains("no click button"));
        assert!(push(MemberEvent::View { url: "https://e.com".into() }).unwrap().is_some());
        let scan = MemberEvent::ScancodeWaitmsg { key: "scan1".into(), scan_type: "qrcode".into(), scan_result: "r".into() };
        let xml = push(scan).unwrap().unwrap().xml("ww", 1);
        assert!(
            xml.contains("<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[r]]></ScanResult></ScanCodeInfo>"),
            "{xml}"
        );
        assert!(event_push(1, "u", &MemberEvent::Click { key: "k".into() }, &app(None, None)).is_err());
    }

    #[test]
    fn picture_location_and_miniprogram_buttons_render_as_the_samples() {
        let menu = json!([{ "name": "Pics", "sub_button": [{ "type": "pic_sysphoto", "name": "Camera", "key": "cam" },
                                                            { "type": "pic_photo_or_album", "name": "Album", "key": "album" },
                                                            { "type": "pic_weixin", "name": "WeChat", "key": "wx" }] },
                          { "type": "location_select", "name": "Where", "key": "loc" },
                          { "type": "view_miniprogram", "name": "Mini", "appid": "wx1", "pagepath": "pages/index" }]);
        let push = |ev: Value| event_push(1, "zhangsan", &serde_json::from_value(ev).unwrap(), &app(Some(&menu), None));
        let md5 = "1b5f7c23b5bf75682a53e7b6d163e185";
        let xml = push(json!({ "event": "pic_sysphoto", "key": "cam", "pic_md5_sums": [md5] })).unwrap().unwrap().xml("ww", 1408090816);
        assert_eq!(
            xml,
            format!(
                "<xml><ToUserName><![CDATA[ww]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1408090816</CreateTime>\
                 <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_sysphoto]]></Event><EventKey><![CDATA[cam]]></EventKey>\
                 <SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[{md5}]]></PicMd5Sum></item></PicList></SendPicsInfo>\
                 <AgentID>1</AgentID></xml>"
            )
        );
        let two = push(json!({ "event": "pic_weixin", "key": "wx", "pic_md5_sums": [md5, "c4564632a4fab91378c39bea6aad6f9e"] }))
            .unwrap()
            .unwrap()
            .xml("ww", 1);
        assert!(two.contains("<Count>2</Count><PicList><item><PicMd5Sum><![CDATA[1b5f"), "{two}");
        assert!(two.contains("</PicMd5Sum></item><item><PicMd5Sum><![CDATA[c456"), "{two}");
        // Left out, one picture with a made-up sum.
        let one = push(json!({ "event": "pic_photo_or_album", "key": "album" })).unwrap().unwrap();
        let Element::Group(_, info) = &one.elements[2] else { panic!("{one:?}") };
        assert_eq!(info[0], Element::text("Count", 1));
        assert!(push(json!({ "event": "pic_sysphoto", "key": "cam", "pic_md5_sums": [md5, md5] })).unwrap_err().contains("1 to 1"));
        assert!(push(json!({ "event": "pic_weixin", "key": "wx", "pic_md5_sums": ["xyz"] })).unwrap_err().contains("32 hex"));
        assert!(
            push(json!({ "event": "pic_weixin", "key": "cam" })).unwrap_err().contains("no pic_weixin button"),
            "the key is another type's"
        );

        let loc = json!({ "event": "location_select", "key": "loc", "location_x": 23.0, "location_y": 113.0, "label": " 广州市海珠区客村艺苑路 106号" });
        assert_eq!(
            push(loc).unwrap().unwrap().xml("ww", 1408091189),
            "<xml><ToUserName><![CDATA[ww]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1408091189</CreateTime>\
             <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[location_select]]></Event><EventKey><![CDATA[loc]]></EventKey>\
             <SendLocationInfo><Location_X><![CDATA[23]]></Location_X><Location_Y><![CDATA[113]]></Location_Y><Scale><![CDATA[15]]></Scale>\
             <Label><![CDATA[ 广州市海珠区客村艺苑路 106号]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>\
             <AgentID>1</AgentID><AppType><![CDATA[wxwork]]></AppType></xml>"
        );
        let mini = push(json!({ "event": "view_miniprogram", "pagepath": "pages/index" })).unwrap().unwrap().xml("ww", 1);
        assert!(
            mini.ends_with(
                "<Event><![CDATA[view_miniprogram]]></Event><EventKey><![CDATA[pages/index]]></EventKey><AgentID>1</AgentID></xml>"
            ),
            "{mini}"
        );
        assert!(push(json!({ "event": "view_miniprogram", "pagepath": "pages/other" })).is_err());
    }

    #[test]
    fn job_finish_names_the_job_not_the_app() {
        let p = job_finish_push(1000002, "jobid_S0Mrnndv");
        assert_eq!(
            p.xml("wwCORPID", 1425284517),
            "<xml><ToUserName><![CDATA[wwCORPID]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1425284517</CreateTime>\
             <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[upload_media_job_finish]]></Event><JobId><![CDATA[jobid_S0Mrnndv]]></JobId></xml>"
        );
        // Stored pushes from before `after` and `names_app` existed still read, naming the app.
        let old: MemberPush =
            serde_json::from_value(json!({ "agentid": 7, "from": "u", "msg_type": "text", "elements": [["Content", "x"]] })).unwrap();
        assert!(old.xml("ww", 1).ends_with("<Content><![CDATA[x]]></Content><AgentID>7</AgentID></xml>"));
        let stored: MemberPush = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(stored, p);
    }

    #[test]
    fn flags_decide_enter_and_location() {
        let loc = MemberEvent::Location { latitude: 23.1, longitude: 113.3, precision: 65.0 };
        assert_eq!(event_push(1, "u", &loc, &app(None, None)), Ok(None));
        assert_eq!(event_push(1, "u", &MemberEvent::EnterAgent, &app(None, None)), Ok(None));
        let on = AppState { report_location: true, report_enter: true, menu: None, card: None };
        let xml = event_push(1, "u", &loc, &on).unwrap().unwrap().xml("ww", 1);
        assert!(
            xml.ends_with("<Latitude>23.1</Latitude><Longitude>113.3</Longitude><Precision>65</Precision><AgentID>1</AgentID><AppType><![CDATA[wxwork]]></AppType></xml>"),
            "{xml}"
        );
        assert!(event_push(1, "u", &MemberEvent::EnterAgent, &on).unwrap().is_some());
        let sub = event_push(1, "u", &MemberEvent::Subscribe, &app(None, None)).unwrap().unwrap();
        assert_eq!(sub.elements, vec![Element::text("Event", "subscribe"), Element::text("EventKey", "")]);
    }

    #[test]
    fn card_clicks_name_task_type_code_and_selection() {
        let card = ClickedCard {
            card: json!({ "card_type": "vote_interaction", "task_id": "task_123",
                          "checkbox": { "question_key": "q1", "option_list": [{ "id": "opt_a" }] },
                          "submit_button": { "text": "Go", "key": "submit_key" } }),
            response_code: "RC".into(),
            received: true,
        };
        let ev = MemberEvent::TemplateCardEvent {
            msgid: "m".into(),
            key: "submit_key".into(),
            selected_items: vec![SelectedItem { question_key: "q1".into(), option_ids: vec!["opt_a".into(), "opt_b".into()] }],
        };
        let xml = event_push(1000002, "zhangsan", &ev, &app(None, Some(&card))).unwrap().unwrap().xml("ww", 1);
        assert!(xml.contains("<EventKey><![CDATA[submit_key]]></EventKey><TaskId><![CDATA[task_123]]></TaskId><CardType><![CDATA[vote_interaction]]></CardType><ResponseCode><![CDATA[RC]]></ResponseCode>"), "{xml}");
        assert!(xml.ends_with("<ResponseCode><![CDATA[RC]]></ResponseCode><AgentID>1000002</AgentID><SelectedItems><SelectedItem><QuestionKey><![CDATA[q1]]></QuestionKey><OptionIds><OptionId><![CDATA[opt_a]]></OptionId><OptionId><![CDATA[opt_b]]></OptionId></OptionIds></SelectedItem></SelectedItems></xml>"), "{xml}");
        let other = MemberEvent::TemplateCardEvent { msgid: "m".into(), key: "nope".into(), selected_items: vec![] };
        assert!(event_push(1, "u", &other, &app(None, Some(&card))).unwrap_err().contains("no button"));
        let unseen = ClickedCard { received: false, ..card };
        assert!(event_push(1, "u", &ev, &app(None, Some(&unseen))).unwrap_err().contains("did not receive"));
    }

    #[test]
    fn member_messages_have_msgids_and_their_elements() {
        let text: MemberMessage = serde_json::from_value(json!({ "msgtype": "text", "content": "hello" })).unwrap();
        let p = message_push(1000002, "zhangsan", &text).unwrap();
        assert!(p.msgid().is_some_and(|id| id.len() >= 18));
        assert!(p.xml("ww", 1).contains("<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>"));
        let loc: MemberMessage =
            serde_json::from_value(json!({ "msgtype": "location", "location_x": 23.13, "location_y": 113.27, "label": "here" })).unwrap();
        let xml = message_push(1, "u", &loc).unwrap().xml("ww", 1);
        assert!(
            xml.contains(
                "<Location_X>23.13</Location_X><Location_Y>113.27</Location_Y><Scale>15</Scale><Label><![CDATA[here]]></Label><MsgId>"
            ),
            "{xml}"
        );
        assert!(xml.ends_with("<AgentID>1</AgentID><AppType><![CDATA[wxwork]]></AppType></xml>"), "{xml}");
        let voice: MemberMessage = serde_json::from_value(json!({ "msgtype": "voice", "format": "mp3" })).unwrap();
        assert!(message_push(1, "u", &voice).is_err());
        assert!(serde_json::from_value::<MemberMessage>(json!({ "msgtype": "file" })).is_err());
        let empty: MemberMessage = serde_json::from_value(json!({ "msgtype": "text", "content": "" })).unwrap();
        assert!(message_push(1, "u", &empty).is_err());
    }

    #[test]
    fn routing_never_echoes_a_change_to_its_cause() {
        let all = [Owner::ContactSync, Owner::App(1000002), Owner::App(1000003), Owner::Chat];
        let everyone = |_| true;
        assert_eq!(receivers(&Routed::Change { origin: "contact_sync" }, &all, everyone), vec![Owner::App(1000002), Owner::App(1000003)]);
        assert_eq!(receivers(&Routed::Change { origin: "app:1000002" }, &all, everyone), vec![Owner::ContactSync, Owner::App(1000003)]);
        assert_eq!(receivers(&Routed::Change { origin: "control" }, &all, |a| a == 1000003), vec![Owner::ContactSync, Owner::App(1000003)]);
        assert_eq!(receivers(&Routed::Package, &all, everyone), vec![Owner::Chat]);
        assert_eq!(receivers(&Routed::Member { agentid: 1000003 }, &all, everyone), vec![Owner::App(1000003)]);
        let with_job = [Owner::ContactSync, Owner::App(1000002), Owner::Job(4)];
        assert_eq!(receivers(&Routed::Addressed(Owner::Job(4)), &with_job, everyone), vec![Owner::Job(4)]);
        assert_eq!(receivers(&Routed::Addressed(Owner::ContactSync), &with_job, everyone), vec![Owner::ContactSync]);
        assert_eq!(
            receivers(&Routed::Change { origin: "contact_sync" }, &with_job, everyone),
            vec![Owner::App(1000002)],
            "a job's receiver gets its result only"
        );
    }

    #[test]
    fn coverage_follows_the_range() {
        let root = Range::Visible { users: vec![], parties: vec![1], tags: vec![] };
        let rd = Range::Visible { users: vec![], parties: vec![2], tags: vec![5] };
        let place = |d: Vec<i64>| crate::scope::MemberPlace { userid: "u".into(), active: true, departments: d, tags: vec![] };
        assert!(covers(&root, &Subject::Member(None)));
        assert!(!covers(&rd, &Subject::Member(None)));
        assert!(covers(&rd, &Subject::Member(Some(place(vec![1, 2])))));
        assert!(!covers(&rd, &Subject::Member(Some(place(vec![1, 3])))));
        assert!(covers(&rd, &Subject::Department(Some(vec![4, 2, 1]))));
        assert!(covers(&rd, &Subject::Tag(5)) && !covers(&rd, &Subject::Tag(6)));
    }

    #[test]
    fn retries_follow_the_platform() {
        let app = Owner::App(1);
        assert_eq!((1..=4).map(|a| retry_delay_ms(app, a, 0)).collect::<Vec<_>>(), [Some(1000), Some(2000), Some(4000), None]);
        assert_eq!(retry_delay_ms(Owner::Chat, 30, 0), Some(20 * 60 * 1000));
        assert_eq!(retry_delay_ms(Owner::Chat, 2, 25 * 3600 * 1000), None);
    }

    #[test]
    fn answers_ack_fail_or_reply() {
        assert_eq!(answer(200, "", None), Answer::Ack);
        assert_eq!(answer(200, "success", None), Answer::Ack);
        assert_eq!(answer(200, "<xml>…", None), Answer::Reply);
        assert!(matches!(answer(500, "", None), Answer::Failed(_)));
        assert_eq!(answer(200, "42\n", Some("42")), Answer::Ack);
        assert!(matches!(answer(200, "", Some("42")), Answer::Failed(_)));
    }

    #[test]
    fn card_replies_read_as_update_template_card_bodies() {
        let r = parse_reply("<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><FromUserName><![CDATA[ww]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[update_button]]></MsgType><Button><ReplaceName><![CDATA[Done]]></ReplaceName></Button></xml>").unwrap();
        assert!(r.updates_card());
        assert_eq!(r.content, json!({ "button": { "replace_name": "Done" } }));
        let xml = "<xml><ToUserName>zhangsan</ToUserName><MsgType><![CDATA[update_template_card]]></MsgType><TemplateCard>\
                   <CardType><![CDATA[vote_interaction]]></CardType><Source><IconUrl><![CDATA[https://e.com/i.png]]></IconUrl><Desc><![CDATA[d]]></Desc><DescColor>1</DescColor></Source>\
                   <MainTitle><Title><![CDATA[Voted]]></Title></MainTitle><TaskId><![CDATA[task_1]]></TaskId>\
                   <HorizontalContentList><KeyName><![CDATA[k1]]></KeyName><Value><![CDATA[v1]]></Value></HorizontalContentList>\
                   <HorizontalContentList><KeyName><![CDATA[k2]]></KeyName><Type>3</Type><UserId><![CDATA[lisi]]></UserId></HorizontalContentList>\
                   <CardAction><Type>2</Type><Appid><![CDATA[wx1]]></Appid><Pagepath><![CDATA[p]]></Pagepath></CardAction>\
                   <Checkbox><QuestionKey><![CDATA[q1]]></QuestionKey><Disable>true</Disable><Mode>1</Mode>\
                   <OptionList><Id><![CDATA[a]]></Id><Text><![CDATA[A]]></Text><IsChecked>true</IsChecked></OptionList>\
                   <OptionList><Id><![CDATA[b]]></Id><Text><![CDATA[B]]></Text><IsChecked>false</IsChecked></OptionList></Checkbox>\
                   <SubmitButton><Text><![CDATA[Go]]></Text><Key><![CDATA[submit]]></Key></SubmitButton><ReplaceText><![CDATA[Thanks]]></ReplaceText>\
                   </TemplateCard></xml>";
        let r = parse_reply(xml).unwrap();
        assert!(r.updates_card());
        assert_eq!(
            r.content,
            json!({ "template_card": {
                "card_type": "vote_interaction",
                "source": { "icon_url": "https://e.com/i.png", "desc": "d", "desc_color": 1 },
                "main_title": { "title": "Voted" },
                "task_id": "task_1",
                "horizontal_content_list": [{ "keyname": "k1", "value": "v1" }, { "keyname": "k2", "type": 3, "userid": "lisi" }],
                "card_action": { "type": 2, "appid": "wx1", "pagepath": "p" },
                "checkbox": { "question_key": "q1", "disable": true, "mode": 1,
                              "option_list": [{ "id": "a", "text": "A", "is_checked": true }, { "id": "b", "text": "B", "is_checked": false }] },
                "submit_button": { "text": "Go", "key": "submit" },
                "replace_text": "Thanks",
            } })
        );
        // The body is one message/update_template_card would take.
        let sent = json!({ "card_type": "vote_interaction" });
        assert!(crate::message::check_card_update(r.content.as_object().unwrap(), &sent).is_ok());
        let text = parse_reply("<xml><MsgType>text</MsgType><Content>x</Content></xml>").unwrap();
        assert!(!text.updates_card());
        let click = event_push(
            1,
            "u",
            &MemberEvent::TemplateCardEvent { msgid: "m".into(), key: "submit_key".into(), selected_items: vec![] },
            &app(
                None,
                Some(&ClickedCard {
                    card: json!({ "submit_button": { "key": "submit_key" } }),
                    response_code: "RC9".into(),
                    received: true,
                }),
            ),
        );
        assert_eq!(clicked_response_code(&click.unwrap().unwrap().xml("ww", 1)).as_deref(), Some("RC9"));
        let other = message_push(1, "u", &MemberMessage::Text { content: "hi".into() }).unwrap();
        assert_eq!(clicked_response_code(&other.xml("ww", 1)), None);
    }

    #[test]
    fn replies_become_inbox_messages() {
        let r = parse_reply("<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><FromUserName><![CDATA[ww]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi &amp; bye]]></Content><AgentID>1</AgentID></xml>").unwrap();
        assert_eq!((r.to_user.as_str(), r.msgtype.as_str(), r.content.clone()), ("zhangsan", "text", json!({ "content": "hi &amp; bye" })));
        let r = parse_reply("<xml>\n<ToUserName>u</ToUserName>\n<MsgType>news</MsgType><ArticleCount>1</ArticleCount><Articles><item><Title>T &amp; t</Title><Description>D</Description><PicUrl>P</PicUrl><Url>U</Url></item></Articles></xml>").unwrap();
        assert_eq!(r.content, json!({ "articles": [{ "title": "T & t", "description": "D", "url": "U", "picurl": "P" }] }));
        let r = parse_reply("<xml><ToUserName>u</ToUserName><MsgType>image</MsgType><Image><MediaId>m1</MediaId></Image></xml>").unwrap();
        assert_eq!(r.content, json!({ "media_id": "m1" }));
        assert_eq!(
            from_user("<xml><ToUserName>ww</ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName></xml>").as_deref(),
            Some("zhangsan")
        );
        assert!(parse_reply("<xml><MsgType>text</MsgType>").is_err());
        assert!(parse_reply("<xml><MsgType>music</MsgType></xml>").unwrap_err().contains("music"));
        assert!(parse_reply("<xml><MsgType>news</MsgType><Articles></Articles></xml>").is_err());
    }
}
