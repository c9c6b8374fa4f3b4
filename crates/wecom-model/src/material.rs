//! Permanent material (永久素材) of the 企业号 (legacy-api.md §6): the five types and how many of
//! each an app keeps, material ids, the article lists of mpnews, batchget's paging, which media a
//! 企业号 message may name, and the answers. Files are checked as temporary media are
//! (`media::Check`). WeCom has no permanent material.

use crate::media::{id_starting_with, MediaType};
use crate::message::{articles, int_of, mpnews_article, Channel};
use crate::{ApiError, Dialect, Errcode};
use serde_json::{json, Map, Value};

/// "一个图文消息支持1到10个图文": add_mpnews, update_mpnews, and the 企业号's message/send news and mpnews.
pub const ARTICLES_MAX: usize = 10;
/// batchget returns 1 to 50 items a call.
pub const BATCHGET_MAX: i64 = 50;
/// "图文消息素材和图片素材的上限为5000，其他类型为1000" (45028 past it).
const MANY: i64 = 5000;
const FEW: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaterialType {
    Image,
    Voice,
    Video,
    File,
    Mpnews,
}

impl MaterialType {
    /// In get_count's order.
    pub const ALL: [MaterialType; 5] =
        [MaterialType::Image, MaterialType::Voice, MaterialType::Video, MaterialType::File, MaterialType::Mpnews];

    /// batchget's `type`: the four file types or mpnews, anything else 40005.
    pub fn parse(s: Option<&str>) -> Result<MaterialType, Errcode> {
        match s {
            Some("mpnews") => Ok(MaterialType::Mpnews),
            other => MediaType::parse(other).map(MaterialType::from),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MaterialType::Image => "image",
            MaterialType::Voice => "voice",
            MaterialType::Video => "video",
            MaterialType::File => "file",
            MaterialType::Mpnews => "mpnews",
        }
    }

    /// How many of this type an app keeps.
    pub fn limit(self) -> i64 {
        match self {
            MaterialType::Image | MaterialType::Mpnews => MANY,
            MaterialType::Voice | MaterialType::Video | MaterialType::File => FEW,
        }
    }

    /// One more when `held` are kept already: 45028 at the limit.
    pub fn check_room(self, held: i64) -> Result<(), Errcode> {
        if held >= self.limit() {
            return Err(Errcode::MaterialCountOutOfLimit);
        }
        Ok(())
    }
}

impl From<MediaType> for MaterialType {
    fn from(t: MediaType) -> MaterialType {
        match t {
            MediaType::Image => MaterialType::Image,
            MediaType::Voice => MaterialType::Voice,
            MediaType::Video => MaterialType::Video,
            MediaType::File => MaterialType::File,
        }
    }
}

/// A new permanent material id: `2` and 43 URL-safe characters.
pub fn new_material_id() -> String {
    id_starting_with('2')
}

/// Permanent material ids start with `2`; temporary media ids with `1` (legacy-api.md §6).
pub fn is_material_id(media_id: &str) -> bool {
    media_id.starts_with('2')
}

/// The app whose permanent material a message on `channel` may name, if any: a 企业号 app's
/// message/send names temporary media or material "由发消息的应用创建" (created by the sending app);
/// WeCom, appchat and the chat service name temporary media only.
pub fn material_owner(channel: Channel, agentid: i64) -> Option<i64> {
    (channel == Channel::App(Dialect::Legacy)).then_some(agentid)
}

/// The permanent mpnews a 企业号 message sends by its media_id (`message::check_content` keeps
/// `{"media_id":…}` for it); its stored articles are what members receive.
pub fn sent_mpnews<'a>(msgtype: &str, payload: &'a Value) -> Option<&'a str> {
    match msgtype {
        "mpnews" if payload.get("articles").is_none() => payload.get("media_id").and_then(Value::as_str),
        _ => None,
    }
}

/// `{"mpnews":{"articles":[…]}}` of add_mpnews and update_mpnews: 1–10 articles (45008), each by
/// the mpnews rules of message/send, with show_cover_pic (1 shows the cover; anything else is 0).
pub fn parse_articles(body: &Map<String, Value>) -> Result<Vec<Value>, ApiError> {
    let empty = Map::new();
    let mpnews = body.get("mpnews").and_then(Value::as_object).unwrap_or(&empty);
    articles(mpnews, ARTICLES_MAX, |a| {
        let mut article = mpnews_article(a)?;
        let cover = i64::from(a.get("show_cover_pic").and_then(int_of) == Some(1));
        if let Value::Object(m) = &mut article {
            m.insert("show_cover_pic".into(), cover.into());
        }
        Ok(article)
    })
}

/// The thumb_media_id of each checked article (each must be an image material of the app).
pub fn thumbs(articles: &[Value]) -> Vec<&str> {
    articles.iter().filter_map(|a| a.get("thumb_media_id").and_then(Value::as_str)).collect()
}

/// What batchget asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub material_type: MaterialType,
    pub offset: i64,
    pub count: i64,
}

/// batchget's `{"type","offset","count"}`: type 40005; offset absent is 0, negative 40035; count
/// 1–50, else 40035.
pub fn parse_batchget(body: &Map<String, Value>) -> Result<Page, ApiError> {
    let material_type = MaterialType::parse(body.get("type").and_then(Value::as_str))?;
    let invalid = |what: &str| ApiError::with_detail(Errcode::InvalidParameter, what);
    let offset = match body.get("offset") {
        None | Some(Value::Null) => 0,
        Some(v) => int_of(v).filter(|o| *o >= 0).ok_or_else(|| invalid("offset"))?,
    };
    let count = body.get("count").and_then(int_of).filter(|c| (1..=BATCHGET_MAX).contains(c)).ok_or_else(|| invalid("count"))?;
    Ok(Page { material_type, offset, count })
}

/// One entry of batchget's itemlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub media_id: String,
    pub update_time: i64,
    pub body: ItemBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemBody {
    /// An image, voice, video or file: the name it was uploaded with.
    File {
        filename: String,
    },
    Mpnews {
        articles: Vec<Value>,
    },
}

/// add_mpnews and add_material: `{"errcode":0,"errmsg":"ok","media_id":"2…"}`.
pub fn added_view(media_id: &str) -> Map<String, Value> {
    object(json!({ "media_id": media_id }))
}

/// material/get of an mpnews: `{"type":"mpnews","mpnews":{"articles":[…]}}`, without errcode and
/// errmsg (legacy-api.md §1.3).
pub fn mpnews_view(articles: &[Value]) -> Map<String, Value> {
    object(json!({ "type": "mpnews", "mpnews": { "articles": articles } }))
}

/// get_count: the total and each type's count.
pub fn count_view(count: impl Fn(MaterialType) -> i64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("total_count".into(), MaterialType::ALL.iter().map(|t| count(*t)).sum::<i64>().into());
    for t in MaterialType::ALL {
        m.insert(format!("{}_count", t.as_str()), count(t).into());
    }
    m
}

/// batchget: the type, how many of it the app keeps, and the page (update_time a digit string, as
/// the docs show it).
pub fn batchget_view(material_type: MaterialType, total: i64, items: &[Item]) -> Map<String, Value> {
    let list: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut m = Map::new();
            m.insert("media_id".into(), i.media_id.clone().into());
            match &i.body {
                ItemBody::File { filename } => m.insert("filename".into(), filename.clone().into()),
                ItemBody::Mpnews { articles } => m.insert("articles".into(), articles.clone().into()),
            };
            m.insert("update_time".into(), i.update_time.to_string().into());
            Value::Object(m)
        })
        .collect();
    object(json!({ "type": material_type.as_str(), "total_count": total, "item_count": list.len(), "itemlist": list }))
}

fn object(v: Value) -> Map<String, Value> {
    let Value::Object(m) = v else { unreachable!("views are objects") };
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article() -> Value {
        json!({ "title": "T", "thumb_media_id": "2thumb", "content": "<p>c</p>" })
    }

    fn code(r: Result<Vec<Value>, ApiError>) -> i64 {
        r.unwrap_err().errcode
    }

    #[test]
    fn types_and_limits() {
        assert_eq!(MaterialType::parse(Some("mpnews")), Ok(MaterialType::Mpnews));
        assert_eq!(MaterialType::parse(Some("file")), Ok(MaterialType::File));
        assert_eq!(MaterialType::parse(Some("news")), Err(Errcode::InvalidMediaType));
        assert_eq!(MaterialType::parse(None), Err(Errcode::InvalidMediaType));
        assert_eq!(MaterialType::Image.check_room(4999), Ok(()));
        assert_eq!(MaterialType::Image.check_room(5000), Err(Errcode::MaterialCountOutOfLimit));
        assert_eq!(MaterialType::Mpnews.limit(), 5000);
        assert_eq!(MaterialType::Voice.check_room(999), Ok(()));
        assert_eq!(MaterialType::File.check_room(1000).map_err(Errcode::code), Err(45028));
    }

    #[test]
    fn ids_say_where_they_are_kept() {
        let id = new_material_id();
        assert_eq!(id.len(), 44);
        assert!(is_material_id(&id) && !is_material_id(&crate::media::new_media_id()));
        assert_eq!(material_owner(Channel::App(Dialect::Legacy), 7), Some(7));
        assert_eq!(material_owner(Channel::App(Dialect::WeCom), 7), None);
        assert_eq!(material_owner(Channel::AppChat, 7), None);
        assert_eq!(sent_mpnews("mpnews", &json!({ "media_id": "2m" })), Some("2m"));
        assert_eq!(sent_mpnews("mpnews", &json!({ "articles": [] })), None);
        assert_eq!(sent_mpnews("image", &json!({ "media_id": "2m" })), None);
    }

    #[test]
    fn article_lists() {
        let ok = parse_articles(&object(json!({ "agentid": 1, "mpnews": { "articles": [article()] } }))).unwrap();
        assert_eq!(
            ok[0],
            json!({ "title": "T", "thumb_media_id": "2thumb", "author": "", "content_source_url": "", "content": "<p>c</p>",
                    "digest": "", "show_cover_pic": 0 })
        );
        let mut cover = article();
        cover["show_cover_pic"] = json!("1");
        assert_eq!(parse_articles(&object(json!({ "mpnews": { "articles": [cover] } }))).unwrap()[0]["show_cover_pic"], 1);
        assert_eq!(thumbs(&ok), vec!["2thumb"]);

        assert_eq!(parse_articles(&object(json!({ "mpnews": { "articles": vec![article(); 10] } }))).unwrap().len(), 10);
        assert_eq!(code(parse_articles(&object(json!({ "mpnews": { "articles": vec![article(); 11] } })))), 45008);
        assert_eq!(code(parse_articles(&object(json!({ "mpnews": { "articles": [] } })))), 45008);
        assert_eq!(code(parse_articles(&object(json!({ "articles": [article()] })))), 45008, "top-level articles are not read");
        let without = |field: &str| {
            let mut a = article();
            a.as_object_mut().unwrap().remove(field);
            code(parse_articles(&object(json!({ "mpnews": { "articles": [article(), a] } }))))
        };
        assert_eq!(without("title"), 41016);
        assert_eq!(without("thumb_media_id"), 41006);
        assert_eq!(without("content"), 44004);
        let mut long = article();
        long["author"] = json!("a".repeat(65));
        assert_eq!(code(parse_articles(&object(json!({ "mpnews": { "articles": [long] } })))), 45032);
    }

    #[test]
    fn batchget_pages() {
        let p = parse_batchget(&object(json!({ "type": "image", "count": 50 }))).unwrap();
        assert_eq!(p, Page { material_type: MaterialType::Image, offset: 0, count: 50 });
        assert_eq!(parse_batchget(&object(json!({ "type": "mpnews", "offset": "3", "count": "1" }))).unwrap().offset, 3);
        let code = |v: Value| parse_batchget(&object(v)).unwrap_err().errcode;
        assert_eq!(code(json!({ "type": "thumb", "count": 1 })), 40005);
        assert_eq!(code(json!({ "type": "file", "count": 51 })), 40035);
        assert_eq!(code(json!({ "type": "file", "count": 0 })), 40035);
        assert_eq!(code(json!({ "type": "file" })), 40035);
        assert_eq!(code(json!({ "type": "file", "offset": -1, "count": 1 })), 40035);
    }

    #[test]
    fn answers() {
        assert_eq!(Value::Object(added_view("2abc")), json!({ "media_id": "2abc" }));
        assert_eq!(
            Value::Object(mpnews_view(&[json!({ "title": "T" })])),
            json!({ "type": "mpnews", "mpnews": { "articles": [{ "title": "T" }] } })
        );
        let counts = count_view(|t| match t {
            MaterialType::Image => 2,
            MaterialType::Mpnews => 1,
            _ => 0,
        });
        assert_eq!(
            Value::Object(counts),
            json!({ "total_count": 3, "image_count": 2, "voice_count": 0, "video_count": 0, "file_count": 0, "mpnews_count": 1 })
        );
        let items = [
            Item { media_id: "2f".into(), update_time: 1380000000, body: ItemBody::File { filename: "a.pdf".into() } },
            Item { media_id: "2n".into(), update_time: 1380000001, body: ItemBody::Mpnews { articles: vec![json!({ "title": "T" })] } },
        ];
        assert_eq!(
            Value::Object(batchget_view(MaterialType::File, 7, &items)),
            json!({ "type": "file", "total_count": 7, "item_count": 2, "itemlist": [
                { "media_id": "2f", "filename": "a.pdf", "update_time": "1380000000" },
                { "media_id": "2n", "articles": [{ "title": "T" }], "update_time": "1380000001" },
            ] })
        );
    }
}
