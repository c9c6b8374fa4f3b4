//! Permanent material of the 企业号 (legacy-api.md §6): material/add_mpnews, add_material, get,
//! del, update_mpnews, get_count and batchget, each for an app the 管理组 may use. Rules and answers
//! are `wecom_model::material`'s; files go through the upload and download paths of media.rs.
//! WeCom tokens never get here (the endpoint table answers them 48005).

use crate::auth::{internal, Caller};
use crate::reply::{self, Failure};
use crate::router::Request;
use crate::App;
use axum::response::Response;
use serde_json::{json, Map, Value};
use wecom_model::agent::{parse_agentid, parse_agentid_text, Use};
use wecom_model::material::{added_view, batchget_view, count_view, mpnews_view, new_material_id, parse_articles, parse_batchget, thumbs};
use wecom_model::media::{Check, MediaType};
use wecom_model::{ApiError, Errcode};
use wecom_store::{Material, MediaKind};

type Fields = Result<Map<String, Value>, Failure>;

fn fail(caller: &Caller) -> impl Fn(ApiError) -> Failure + '_ {
    move |e| Failure::new(e, Some(caller.dialect()))
}

fn invalid_media_id(caller: &Caller) -> Failure {
    fail(caller)(Errcode::InvalidMediaId.into())
}

/// The app a call names: agentid absent 41011, not an integer or no such app 40056, an app the
/// 管理组 may neither use nor manage 60011 ("管理组须拥有agent的使用权限": use rights suffice).
async fn app_of(app: &App, caller: &Caller, agentid: Result<i64, Errcode>) -> Result<i64, Failure> {
    Ok(super::agent::reach(app, caller, agentid, Use::Read).await?.agentid)
}

/// A material of app `agentid`: media_id absent 41006, unknown 40007, another app's 45029
/// (media_id对该应用不可见). Shared with the messages that name material.
pub(crate) async fn owned(app: &App, caller: &Caller, agentid: i64, media_id: Option<&str>) -> Result<Material, Failure> {
    let media_id = media_id.filter(|m| !m.is_empty()).ok_or_else(|| fail(caller)(Errcode::MediaIdMissing.into()))?;
    let material = app.store.material(&caller.corpid, media_id).await.map_err(internal)?.ok_or_else(|| invalid_media_id(caller))?;
    if material.agentid() != agentid {
        return Err(fail(caller)(Errcode::MaterialNotVisible.into()));
    }
    Ok(material)
}

/// An mpnews's thumbs are image materials of its app ("可以在上传永久素材接口中获得"); anything else 40007.
async fn require_thumbs(app: &App, caller: &Caller, agentid: i64, articles: &[Value]) -> Result<(), Failure> {
    for thumb in thumbs(articles) {
        match owned(app, caller, agentid, Some(thumb)).await? {
            Material::File(m) if m.media_type == MediaType::Image.as_str() => {}
            _ => return Err(invalid_media_id(caller)),
        }
    }
    Ok(())
}

/// The articles a 企业号 message sends by a permanent mpnews's media_id (the sending app's).
pub(crate) async fn sent_articles(app: &App, caller: &Caller, agentid: i64, media_id: &str) -> Result<Value, Failure> {
    match owned(app, caller, agentid, Some(media_id)).await? {
        Material::Mpnews(m) => Ok(json!({ "articles": m.articles })),
        Material::File(_) => Err(invalid_media_id(caller)),
    }
}

/// `{"agentid","mpnews":{"articles":[…]}}` → a new mpnews; nothing is written when refused.
pub async fn add_mpnews(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let agentid = app_of(app, caller, parse_agentid(body.get("agentid"))).await?;
    let articles = parse_articles(&body).map_err(fail(caller))?;
    require_thumbs(app, caller, agentid, &articles).await?;
    let media_id = new_material_id();
    let added = app.store.add_mpnews(&caller.corpid, agentid, &media_id, &articles, req.now).await.map_err(internal)?;
    added.map_err(|e| fail(caller)(e.into()))?;
    Ok(added_view(&media_id))
}

/// `?type=image|voice|video|file&agentid=` with the part `media`: checked and streamed as
/// media/upload is, then kept for the app while it has room (45028).
pub async fn add_material(app: &App, req: &Request, caller: &Caller) -> Fields {
    let agentid = app_of(app, caller, parse_agentid_text(req.query.get("agentid"))).await?;
    let media_type = MediaType::parse(req.query.get("type")).map_err(|e| fail(caller)(e.into()))?;
    let kind = MediaKind::Material { agentid };
    let media = super::media::receive(app, req, caller, Check::upload(media_type), kind, media_type).await?;
    Ok(added_view(&media.media_id))
}

/// `?media_id=&agentid=`: a file as media/get sends it (headers, ranges); an mpnews as bare JSON.
pub async fn get(app: &App, req: &Request, caller: &Caller) -> Result<Response, Failure> {
    let agentid = app_of(app, caller, parse_agentid_text(req.query.get("agentid"))).await?;
    match owned(app, caller, agentid, req.query.get("media_id")).await? {
        Material::File(media) => super::media::download(app, req, caller, &media),
        Material::Mpnews(m) => Ok(reply::json(&mpnews_view(&m.articles))),
    }
}

/// `?media_id=&agentid=` → errmsg "deleted". An image that mpnews use as thumb may be deleted;
/// they keep the thumb_media_id they were given.
pub async fn del(app: &App, req: &Request, caller: &Caller) -> Fields {
    let agentid = app_of(app, caller, parse_agentid_text(req.query.get("agentid"))).await?;
    let material = owned(app, caller, agentid, req.query.get("media_id")).await?;
    app.store.delete_material(&caller.corpid, &material).await.map_err(internal)?;
    Ok(Map::new())
}

/// `{"agentid","media_id","mpnews":{"articles":[…]}}`: the whole article list is replaced; a
/// media_id that is no mpnews 40007.
pub async fn update_mpnews(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let agentid = app_of(app, caller, parse_agentid(body.get("agentid"))).await?;
    let Material::Mpnews(mpnews) = owned(app, caller, agentid, body.get("media_id").and_then(Value::as_str)).await? else {
        return Err(invalid_media_id(caller));
    };
    let articles = parse_articles(&body).map_err(fail(caller))?;
    require_thumbs(app, caller, agentid, &articles).await?;
    if !app.store.update_mpnews(&caller.corpid, &mpnews.media_id, &articles, req.now).await.map_err(internal)? {
        return Err(invalid_media_id(caller));
    }
    Ok(Map::new())
}

/// `?agentid=`: the app's materials, by type.
pub async fn get_count(app: &App, req: &Request, caller: &Caller) -> Fields {
    let agentid = app_of(app, caller, parse_agentid_text(req.query.get("agentid"))).await?;
    let counts = app.store.material_counts(&caller.corpid, agentid).await.map_err(internal)?;
    Ok(count_view(|t| counts.get(&t).copied().unwrap_or(0)))
}

/// `{"type","agentid","offset","count"}`: a page of the app's materials of one type.
pub async fn batchget(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Map<String, Value> = req.json(caller.dialect())?;
    let agentid = app_of(app, caller, parse_agentid(body.get("agentid"))).await?;
    let page = parse_batchget(&body).map_err(fail(caller))?;
    let (total, items) = app.store.materials(&caller.corpid, agentid, page).await.map_err(internal)?;
    Ok(batchget_view(page.material_type, total, &items))
}
