//! Group robots (群机器人, wecom-api.md §9.6): keys, the message formats webhook/send takes, the
//! files webhook/upload_media takes, and the limits.

use crate::{media, ApiError, Errcode};
use base64::Engine;
use md5::{Digest, Md5};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// Each robot sends at most 20 messages a minute (45009).
pub const PER_MINUTE: i64 = 20;
pub const MINUTE: i64 = 60;
/// Robot media live 3 days, like temporary media.
pub const MEDIA_TTL: i64 = 3 * 86_400;
pub const TEXT_MAX_BYTES: usize = 2048;
pub const MARKDOWN_MAX_BYTES: usize = 4096;
pub const IMAGE_MAX_BYTES: usize = 2 * 1024 * 1024;
pub const NEWS_MAX_ARTICLES: usize = 8;
pub const FILE_MAX_BYTES: u64 = 20 * 1024 * 1024;
pub const VOICE_MAX_BYTES: u64 = 2 * 1024 * 1024;

/// A webhook key is a UUID: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, lowercase hex.
pub fn new_key() -> String {
    let b: [u8; 16] = rand::rng().random();
    let hex: String = b.iter().enumerate().map(|(i, x)| format!("{:02x}", if i == 6 { (x & 0x0f) | 0x40 } else { *x })).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The part of the webhook URL users paste: what a robot's key is shown with.
pub fn webhook_path(key: &str) -> String {
    format!("/cgi-bin/webhook/send?key={key}")
}

/// A robot's messages in an appchat are stored with the apps' ones; this is the sender they carry
/// there, in the shape of the apps' owner keys (`app:<agentid>`).
pub fn sender_key(key: &str) -> String {
    format!("robot:{key}")
}

/// The kind of chat a robot is in: a chat of the legacy chat service, or one wecomd does not model
/// (`chat`), or a WeCom appchat (`appchat`), whose members' inboxes get what the robot says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    #[default]
    Chat,
    AppChat,
}

impl ChatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Chat => "chat",
            ChatKind::AppChat => "appchat",
        }
    }

    pub fn parse(s: &str) -> Option<ChatKind> {
        [ChatKind::Chat, ChatKind::AppChat].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    File,
    Voice,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::File => "file",
            MediaType::Voice => "voice",
        }
    }

    /// `type=file|voice`; anything else is 40005.
    pub fn parse(s: Option<&str>) -> Result<MediaType, Errcode> {
        match s {
            Some("file") => Ok(MediaType::File),
            Some("voice") => Ok(MediaType::Voice),
            _ => Err(Errcode::InvalidMediaType),
        }
    }

    /// What webhook/upload_media takes, judged as its bytes arrive: temporary media's checks
    /// (at least 5 B, 40006; a voice AMR, 301017, of whole frames, 301016, playing at most 60 s,
    /// 45007) with the robots' sizes: a file at most 20 MB, a voice at most 2 MB (45001).
    pub fn check(self) -> media::Check {
        match self {
            MediaType::File => media::Check::new(media::MediaType::File, FILE_MAX_BYTES, Errcode::MediaSizeOutOfLimit),
            MediaType::Voice => media::Check::new(media::MediaType::Voice, VOICE_MAX_BYTES, Errcode::MediaSizeOutOfLimit),
        }
    }
}

pub fn upload_view(media_type: MediaType, media_id: &str, created_at: i64) -> Map<String, Value> {
    // created_at is a digit string, as every media answer has it (wecom-api.md §9.6).
    let Value::Object(m) = json!({ "type": media_type.as_str(), "media_id": media_id, "created_at": created_at.to_string() }) else {
        unreachable!()
    };
    m
}

pub fn new_media_id() -> String {
    format!("3{}", crate::credential::random_url_safe(63))
}

/// A robot message as checked: its type, its payload as stored, and the uploaded media it names.
#[derive(Debug, Clone, PartialEq)]
pub struct RobotMessage {
    pub msgtype: String,
    pub payload: Value,
    pub media: Option<(MediaType, String)>,
}

/// 40058 worded as the platform words over-long fields.
fn too_long(field: &str, max: usize) -> ApiError {
    ApiError {
        errcode: Errcode::InvalidRequestParameter.code(),
        text: Cow::Owned(format!("{field} exceed max length {max}. invalid Request Parameter")),
    }
}

fn invalid(detail: &str) -> ApiError {
    ApiError::with_detail(Errcode::InvalidRequestParameter, detail)
}

/// webhook/send's checks: msgtype (40008), then that type's payload.
pub fn message(body: &Map<String, Value>) -> Result<RobotMessage, ApiError> {
    const TYPES: [&str; 8] = ["text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"];
    let msgtype = body.get("msgtype").and_then(Value::as_str).filter(|t| TYPES.contains(t)).ok_or(Errcode::InvalidMsgtype)?;
    let p = body.get(msgtype).and_then(Value::as_object).ok_or_else(|| invalid(&format!("{msgtype} missing")))?;
    let text = |name: &str| p.get(name).and_then(Value::as_str).filter(|s| !s.is_empty());
    let mut media = None;
    let payload = match msgtype {
        "text" => {
            let content = text("content").ok_or(Errcode::EmptyContent)?;
            if content.len() > TEXT_MAX_BYTES {
                return Err(too_long("text.content", TEXT_MAX_BYTES));
            }
            let mut out = json!({ "content": content });
            for list in ["mentioned_list", "mentioned_mobile_list"] {
                out[list] = strings(p.get(list)).ok_or_else(|| invalid(&format!("text.{list} is not a list of strings")))?.into();
            }
            out
        }
        "markdown" | "markdown_v2" => {
            let content = text("content").ok_or(Errcode::EmptyContent)?;
            if content.len() > MARKDOWN_MAX_BYTES {
                return Err(too_long(&format!("{msgtype}.content"), MARKDOWN_MAX_BYTES));
            }
            json!({ "content": content })
        }
        "image" => image(text("base64"), text("md5"))?,
        "news" => news(p.get("articles"))?,
        "file" | "voice" => {
            let media_id = text("media_id").ok_or(Errcode::MediaIdMissing)?;
            let kind = if msgtype == "file" { MediaType::File } else { MediaType::Voice };
            media = Some((kind, media_id.to_string()));
            json!({ "media_id": media_id })
        }
        _ => template_card(p)?,
    };
    Ok(RobotMessage { msgtype: msgtype.to_string(), payload, media })
}

/// An absent list is empty; a present one must hold strings only.
fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        None | Some(Value::Null) => Some(vec![]),
        Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

/// base64 of a JPG or PNG of at most 2 MB, and the md5 of its bytes. What is kept is the md5 and
/// the size, not the picture.
fn image(b64: Option<&str>, md5: Option<&str>) -> Result<Value, ApiError> {
    let (Some(b64), Some(md5)) = (b64, md5) else { return Err(invalid("image.base64 and image.md5 are required")) };
    let data = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| invalid("image.base64 is not base64"))?;
    if data.is_empty() || data.len() > IMAGE_MAX_BYTES {
        return Err(Errcode::InvalidImageSize.into());
    }
    let digest: String = Md5::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
    if !digest.eq_ignore_ascii_case(md5) {
        return Err(Errcode::InvalidMd5.into());
    }
    if !(data.starts_with(&[0xff, 0xd8, 0xff]) || data.starts_with(b"\x89PNG\r\n\x1a\n")) {
        return Err(Errcode::InvalidMediaFileType.into());
    }
    Ok(json!({ "md5": digest, "size": data.len() }))
}

fn news(articles: Option<&Value>) -> Result<Value, ApiError> {
    let articles = articles.and_then(Value::as_array).filter(|a| !a.is_empty()).ok_or_else(|| invalid("news.articles missing"))?;
    if articles.len() > NEWS_MAX_ARTICLES {
        return Err(invalid(&format!("news.articles exceed max count {NEWS_MAX_ARTICLES}")));
    }
    let mut out = Vec::new();
    for a in articles {
        let field = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("");
        if field("title").is_empty() || field("url").is_empty() {
            return Err(invalid("news.articles[].title and url are required"));
        }
        out.push(json!({ "title": field("title"), "description": field("description"), "url": field("url"), "picurl": field("picurl") }));
    }
    Ok(json!({ "articles": out }))
}

/// Robots send the two notice cards (text_notice, news_notice); each needs a title and a
/// card_action that names where a click goes (type 1 url, 2 mini program).
fn template_card(p: &Map<String, Value>) -> Result<Value, ApiError> {
    let card_type = p.get("card_type").and_then(Value::as_str).unwrap_or("");
    let title = p.get("main_title").and_then(|t| t.get("title")).and_then(Value::as_str).filter(|s| !s.is_empty());
    match card_type {
        "text_notice" if title.is_some() || p.get("sub_title_text").and_then(Value::as_str).is_some_and(|s| !s.is_empty()) => {}
        "news_notice" if title.is_some() => {}
        "text_notice" | "news_notice" => return Err(invalid("template_card.main_title.title missing")),
        _ => return Err(invalid("template_card.card_type must be text_notice or news_notice")),
    }
    let action = p.get("card_action").ok_or_else(|| invalid("template_card.card_action missing"))?;
    let has = |k: &str| action.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    match action.get("type").and_then(Value::as_i64) {
        Some(1) if has("url") => {}
        Some(2) if has("appid") => {}
        _ => return Err(invalid("template_card.card_action needs type 1 with url or 2 with appid")),
    }
    Ok(Value::Object(p.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(v: Value) -> i64 {
        message(v.as_object().unwrap()).map(|_| 0).unwrap_or_else(|e| e.errcode)
    }

    #[test]
    fn keys_are_uuids() {
        let k = new_key();
        let parts: Vec<&str> = k.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('4'));
        assert!(k.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(new_key(), new_key());
    }

    #[test]
    fn msgtypes_and_text() {
        assert_eq!(code(json!({})), 40008);
        assert_eq!(code(json!({"msgtype":"video","video":{}})), 40008);
        assert_eq!(code(json!({"msgtype":"text"})), 40058);
        assert_eq!(code(json!({"msgtype":"text","text":{"content":""}})), 44004);
        assert_eq!(code(json!({"msgtype":"text","text":{"content":"hi","mentioned_list":["wangqing","@all"]}})), 0);
        assert_eq!(code(json!({"msgtype":"text","text":{"content":"hi","mentioned_list":"wangqing"}})), 40058);
        assert_eq!(code(json!({"msgtype":"text","text":{"content":"x".repeat(2048)}})), 0);
        let e = message(json!({"msgtype":"markdown","markdown":{"content":"x".repeat(4097)}}).as_object().unwrap()).unwrap_err();
        assert_eq!((e.errcode, e.text.as_ref()), (40058, "markdown.content exceed max length 4096. invalid Request Parameter"));
        assert_eq!(code(json!({"msgtype":"markdown_v2","markdown_v2":{"content":"# t"}})), 0);
    }

    #[test]
    fn images_need_matching_md5() {
        let png = b"\x89PNG\r\n\x1a\nrest-of-image".to_vec();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
        let md5: String = Md5::digest(&png).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(code(json!({"msgtype":"image","image":{"base64":b64,"md5":md5}})), 0);
        assert_eq!(code(json!({"msgtype":"image","image":{"base64":b64,"md5":"0".repeat(32)}})), 301019);
        assert_eq!(code(json!({"msgtype":"image","image":{"base64":"!!","md5":md5}})), 40058);
        let gif = base64::engine::general_purpose::STANDARD.encode(b"GIF89a");
        let gif_md5: String = Md5::digest(b"GIF89a").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(code(json!({"msgtype":"image","image":{"base64":gif,"md5":gif_md5}})), 40004);
    }

    #[test]
    fn news_files_and_cards() {
        let a = json!({"title":"t","url":"https://x"});
        assert_eq!(code(json!({"msgtype":"news","news":{"articles":[a]}})), 0);
        assert_eq!(code(json!({"msgtype":"news","news":{"articles":vec![a.clone(); 9]}})), 40058);
        assert_eq!(code(json!({"msgtype":"news","news":{"articles":[{"title":"t"}]}})), 40058);
        assert_eq!(code(json!({"msgtype":"file","file":{}})), 41006);
        let m = message(json!({"msgtype":"voice","voice":{"media_id":"m1"}}).as_object().unwrap()).unwrap();
        assert_eq!(m.media, Some((MediaType::Voice, "m1".into())));
        let card = json!({"card_type":"text_notice","main_title":{"title":"T"},"card_action":{"type":1,"url":"https://x"}});
        assert_eq!(code(json!({"msgtype":"template_card","template_card":card})), 0);
        assert_eq!(code(json!({"msgtype":"template_card","template_card":{"card_type":"button_interaction"}})), 40058);
        assert_eq!(code(json!({"msgtype":"template_card","template_card":{"card_type":"news_notice","main_title":{"title":"T"}}})), 40058);
    }

    #[test]
    fn upload_rules() {
        let judged = |t: MediaType, data: &[u8]| {
            let mut c = t.check();
            c.feed(data)?;
            c.finish().map(|_| ())
        };
        assert_eq!(MediaType::parse(Some("image")), Err(Errcode::InvalidMediaType));
        assert_eq!(judged(MediaType::File, b"1234"), Err(Errcode::InvalidFileSize));
        assert_eq!(judged(MediaType::File, b"12345"), Ok(()));
        assert_eq!(judged(MediaType::File, &vec![0; FILE_MAX_BYTES as usize + 1]), Err(Errcode::MediaSizeOutOfLimit));
        assert_eq!(judged(MediaType::Voice, b"#!AM"), Err(Errcode::InvalidFileSize));
        assert_eq!(judged(MediaType::Voice, b"RIFF...."), Err(Errcode::VoiceNotAmr));
        assert_eq!(judged(MediaType::Voice, &amr(b"#!AMR\n", 0x3c, 32, 3000)), Ok(()), "60 s");
        assert_eq!(judged(MediaType::Voice, &amr(b"#!AMR\n", 0x3c, 32, 3001)), Err(Errcode::VoicePlaytimeOutOfLimit));
        assert_eq!(
            judged(MediaType::Voice, &amr(b"#!AMR\n", 0x7c, 1, 4000)),
            Err(Errcode::VoicePlaytimeOutOfLimit),
            "NO_DATA frames play too"
        );
        let mut big = amr(b"#!AMR\n", 0x3c, 32, 1);
        big.resize(VOICE_MAX_BYTES as usize + 1, 0);
        assert_eq!(judged(MediaType::Voice, &big), Err(Errcode::MediaSizeOutOfLimit), "robots answer 45001, media/upload 40006");
        assert_eq!(judged(MediaType::Voice, &amr(b"#!AMR\n", 0x48, 1, 2)), Err(Errcode::InvalidVoiceFile), "type 9 is reserved");
        assert_eq!(judged(MediaType::Voice, b"#!AMR\n\x3c\x00"), Err(Errcode::InvalidVoiceFile), "cut inside a frame");
        assert_eq!(judged(MediaType::Voice, &amr(b"#!AMR-WB\n", 0x44, 61, 10)), Ok(()), "wide-band 23.85 kbit/s frames");
    }

    /// An AMR file of `n` frames whose header byte is `header` and whose size is `size`.
    fn amr(magic: &[u8], header: u8, size: usize, n: usize) -> Vec<u8> {
        let mut frame = vec![0; size];
        frame[0] = header;
        let mut out = magic.to_vec();
        (0..n).for_each(|_| out.extend_from_slice(&frame));
        out
    }

    #[test]
    fn keys_and_views() {
        assert_eq!(ChatKind::parse("appchat"), Some(ChatKind::AppChat));
        assert_eq!(ChatKind::parse("group"), None);
        assert_eq!(sender_key("k"), "robot:k");
        assert_eq!(upload_view(MediaType::File, "m", 1380000000)["created_at"], "1380000000");
    }
}
