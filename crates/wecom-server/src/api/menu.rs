//! App menus (wecom-api.md §3.4): menu/create, menu/get, menu/delete. The app is reached as
//! agent/set reaches it (its own app for WeCom, 管理权限 for a 管理组); the rules are in
//! `wecom_model::menu`.

use super::agent::reach;
use crate::auth::{internal, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::agent::{parse_agentid_text, Agent, Use};
use wecom_model::menu::{check, get_view};
use wecom_model::Errcode;

type Fields = Result<Map<String, Value>, Failure>;

async fn agent(app: &App, req: &Request, caller: &Caller) -> Result<Agent, Failure> {
    reach(app, caller, parse_agentid_text(req.query.get("agentid")), Use::Manage).await
}

pub async fn create(app: &App, req: &Request, caller: &Caller) -> Fields {
    let agent = agent(app, req, caller).await?;
    let body: Value = req.json(caller.dialect())?;
    let button = check(caller.dialect(), &body).map_err(|e| Failure::new(e, Some(caller.dialect())))?;
    app.store.set_menu(&caller.corpid, agent.agentid, &button).await.map_err(internal)?;
    Ok(Map::new())
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let agent = agent(app, req, caller).await?;
    let button = app.store.menu(&caller.corpid, agent.agentid).await.map_err(internal)?;
    let button = button.ok_or(Failure::new(Errcode::MenuNoExist, Some(caller.dialect())))?;
    Ok(get_view(caller.dialect(), button))
}

pub async fn delete(app: &App, req: &Request, caller: &Caller) -> Fields {
    let agent = agent(app, req, caller).await?;
    app.store.delete_menu(&caller.corpid, agent.agentid).await.map_err(internal)?;
    Ok(Map::new())
}
