//! Group robots (wecom-api.md §9.6): webhook/send and webhook/upload_media, identified by the
//! robot's `key`, not a token. Formats and limits are `wecom_model::webhook`'s.

use super::Answer;
use crate::auth::internal;
use crate::multipart;
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::webhook::{self as rules, upload_view, MediaType};
use wecom_model::{Dialect, Errcode};
use wecom_store::RobotRow;

/// Robot answers are WeCom's: errmsg with hint, every success with errcode.
fn fail(e: impl Into<wecom_model::ApiError>) -> Failure {
    Failure::new(e, None)
}

/// The robot behind `key`: unknown or removed → 93000, turned off → 93004.
async fn robot(app: &App, req: &Request) -> Result<RobotRow, Failure> {
    let key = req.query.get("key").filter(|k| !k.is_empty()).ok_or(fail(Errcode::InvalidWebhookUrl))?;
    let robot = app.store.robot(key).await.map_err(internal)?.ok_or(fail(Errcode::InvalidWebhookUrl))?;
    if !robot.enabled {
        return Err(fail(Errcode::RobotDisabled));
    }
    Ok(robot)
}

pub async fn send(app: &App, req: &Request) -> Answer {
    let robot = robot(app, req).await?;
    let body: Map<String, Value> = req.json(Dialect::WeCom)?;
    let message = rules::message(&body).map_err(fail)?;
    let sent = app.store.robot_send(&robot.key, &message, app.config.rate_limits, req.now).await.map_err(internal)?;
    sent.map_err(fail)?;
    Ok((Dialect::WeCom, Map::new()))
}

/// The file is judged before the key (observed live): an empty upload is 44001 whatever the key.
/// The part is streamed through the checks and not kept: a robot's media is its name and size.
pub async fn upload_media(app: &App, req: &Request) -> Answer {
    let empty = || fail(Errcode::EmptyMediaData);
    let body = req.take_upload().ok_or_else(empty)?;
    let mut part =
        multipart::file(req.content_type.as_deref(), body.into_stream(), "media", req.endpoint.body_limit()).await.ok_or_else(empty)?;
    let first = loop {
        match part.chunk().await.map_err(|_| empty())? {
            Some(piece) if piece.is_empty() => continue,
            Some(piece) => break piece,
            None => return Err(empty()),
        }
    };
    let robot = robot(app, req).await?;
    let media_type = MediaType::parse(req.query.get("type")).map_err(fail)?;
    let mut check = media_type.check();
    check.feed(&first).map_err(fail)?;
    while let Some(piece) = part.chunk().await.map_err(|_| empty())? {
        check.feed(&piece).map_err(fail)?;
    }
    let size = check.size();
    check.finish().map_err(fail)?;
    let media_id = app.store.robot_upload(&robot.key, media_type, &part.filename, size, req.now).await.map_err(internal)?;
    Ok((Dialect::WeCom, upload_view(media_type, &media_id, req.now)))
}
