//! JS-SDK tickets (wecom-api.md §12.1, legacy-api.md §9): get_jsapi_ticket and ticket/get. Which
//! type each dialect serves and whose ticket it is are in `wecom_model::ticket`.

use crate::auth::{internal, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::ticket::{kind_of, owner, view, Kind};

type Fields = Result<Map<String, Value>, Failure>;

async fn answer(app: &App, req: &Request, caller: &Caller, kind: Kind) -> Fields {
    let owner = owner(kind, caller.scope).map_err(|e| Failure::new(e, Some(caller.dialect())))?;
    let (ticket, expires_in) = app.store.ticket(&caller.corpid, kind, &owner, req.now).await.map_err(internal)?;
    Ok(view(caller.scope, kind, &ticket, expires_in))
}

/// The corp's `wx.config` ticket, the same for both dialects.
pub async fn get_jsapi_ticket(app: &App, req: &Request, caller: &Caller) -> Fields {
    answer(app, req, caller, Kind::Jsapi).await
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let kind = kind_of(caller.dialect(), req.query.get("type")).map_err(|e| Failure::new(e, Some(caller.dialect())))?;
    answer(app, req, caller, kind).await
}
