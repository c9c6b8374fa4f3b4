//! Apps (wecom-api.md §3.1–3.3, legacy-api.md §2): agent/get, agent/set, agent/list. Who reaches
//! which app, the set rules and both views are in `wecom_model::agent`.

use crate::auth::{internal, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::agent::{
    allowed, check_mode, get_view, list_view, listed, parse_agentid, parse_agentid_text, set_change, Agent, AllowedUser, SetBody, Use,
};
use wecom_model::credential::Scope;
use wecom_model::seed::GroupAppRight;
use wecom_model::Errcode;

type Fields = Result<Map<String, Value>, Failure>;

fn fail(caller: &Caller) -> impl Fn(Errcode) -> Failure + '_ {
    move |e| Failure::new(e, Some(caller.dialect()))
}

/// A 管理组's rights on apps; WeCom callers have none.
async fn rights(app: &App, caller: &Caller) -> Result<Vec<GroupAppRight>, Failure> {
    let Scope::Group { groupid } = caller.scope else { return Ok(Vec::new()) };
    let group = app.store.group(&caller.corpid, groupid).await.map_err(internal)?;
    Ok(group.map(|g| g.apps).unwrap_or_default())
}

/// The app `agentid` names, once the caller may `want` it: unknown → 40056, then the caller's
/// rights, then (企业号 changes) the app's callback mode. Shared with the menus, which need the same app.
pub async fn reach(app: &App, caller: &Caller, agentid: Result<i64, Errcode>, want: Use) -> Result<Agent, Failure> {
    let agentid = agentid.map_err(fail(caller))?;
    let agent = app.store.agent(&caller.corpid, agentid).await.map_err(internal)?.ok_or(fail(caller)(Errcode::InvalidAgentid))?;
    allowed(caller.scope, &rights(app, caller).await?, agentid, want).map_err(fail(caller))?;
    check_mode(caller.dialect(), &agent, want).map_err(fail(caller))?;
    Ok(agent)
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let agent = reach(app, caller, parse_agentid_text(req.query.get("agentid")), Use::Read).await?;
    let row = app.store.app(&caller.corpid, agent.agentid).await.map_err(internal)?.ok_or(fail(caller)(Errcode::InvalidAgentid))?;
    // Members named in the visible range that still exist, in their stored case.
    let mut users = Vec::new();
    for userid in &row.allow_users {
        if let Some(m) = app.store.member(&caller.corpid, userid).await.map_err(internal)? {
            let status = m.status(caller.dialect());
            users.push(AllowedUser { userid: m.userid, status });
        }
    }
    Ok(get_view(caller.dialect(), &agent, &users, &row.allow_parties, &row.allow_tags))
}

pub async fn set(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: SetBody = req.json(caller.dialect())?;
    let agent = reach(app, caller, parse_agentid(body.agentid.as_ref()), Use::Manage).await?;
    let mut change = set_change(caller.dialect(), &body, &agent.attributes).map_err(|e| Failure::new(e, Some(caller.dialect())))?;
    if let Some(media_id) = &body.logo_mediaid {
        change.settings.square_logo_url = Some(super::media::keep_logo(app, req, caller, media_id).await?);
    }
    if !app.store.change_agent(&caller.corpid, agent.agentid, &change).await.map_err(internal)? {
        return Err(fail(caller)(Errcode::InvalidAgentid));
    }
    Ok(Map::new())
}

pub async fn list(app: &App, caller: &Caller) -> Fields {
    let agents = app.store.agents(&caller.corpid).await.map_err(internal)?;
    let ids: Vec<i64> = agents.iter().map(|a| a.agentid).collect();
    let shown = listed(caller.scope, &rights(app, caller).await?, &ids).map_err(fail(caller))?;
    let agents: Vec<Agent> = agents.into_iter().filter(|a| shown.contains(&a.agentid)).collect();
    Ok(list_view(caller.dialect(), &agents))
}
