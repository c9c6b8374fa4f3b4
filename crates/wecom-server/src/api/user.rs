//! Members (wecom-api.md §4, legacy-api.md §3): so far the userid ↔ openid conversions.

use crate::auth::{app_range, internal, range, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde::Deserialize;
use serde_json::{Map, Value};
use wecom_model::credential::Scope;
use wecom_model::user::{openid_agent, openid_view, userid_view};
use wecom_model::Errcode;

#[derive(Deserialize)]
struct ToOpenid {
    userid: Option<String>,
    agentid: Option<i64>,
}

#[derive(Deserialize)]
struct ToUserid {
    openid: Option<String>,
}

pub async fn convert_to_openid(app: &App, req: &Request, caller: &Caller) -> Result<Map<String, Value>, Failure> {
    let dialect = caller.dialect();
    let fail = |e: Errcode| Failure::new(e, Some(dialect));
    let body: ToOpenid = req.json(dialect)?;
    let userid = body.userid.filter(|u| !u.is_empty()).ok_or(fail(Errcode::UseridMissing))?;
    let member = app.store.member_place(&caller.corpid, &userid).await.map_err(internal)?.ok_or(fail(Errcode::UseridNotFound))?;
    if !range(&app.store, caller).await?.sees(&member) {
        return Err(fail(Errcode::NoPrivilege));
    }
    if !member.active {
        return Err(fail(Errcode::NotBoundWeixin));
    }
    let (agentid, appid) = match openid_agent(dialect, body.agentid) {
        None => (0, None),
        Some(agentid) => {
            let agent = app.store.app(&caller.corpid, agentid).await.map_err(internal)?.ok_or(fail(Errcode::InvalidAgentid))?;
            // 企业号: the group needs rights on the app, and the member must be in the app's range.
            let Scope::Group { groupid } = caller.scope else { return Err(fail(Errcode::NoPrivilege)) };
            let group = app.store.group(&caller.corpid, groupid).await.map_err(internal)?;
            let has_right = group.is_some_and(|g| g.apps.iter().any(|r| r.agentid == agentid));
            if !has_right || !app_range(&agent).sees(&member) {
                return Err(fail(Errcode::NoPrivilege));
            }
            (agentid, Some(agent.appid))
        }
    };
    let openid = app.store.openid(&caller.corpid, &member.userid, agentid).await.map_err(internal)?;
    Ok(openid_view(&openid, appid.as_deref()))
}

pub async fn convert_to_userid(app: &App, req: &Request, caller: &Caller) -> Result<Map<String, Value>, Failure> {
    let dialect = caller.dialect();
    let fail = |e: Errcode| Failure::new(e, Some(dialect));
    let body: ToUserid = req.json(dialect)?;
    let openid = body.openid.filter(|o| !o.is_empty()).ok_or(fail(Errcode::InvalidOpenid))?;
    let userid = app.store.openid_owner(&caller.corpid, &openid).await.map_err(internal)?.ok_or(fail(Errcode::InvalidOpenid))?;
    let member = app.store.member_place(&caller.corpid, &userid).await.map_err(internal)?.ok_or(fail(Errcode::InvalidOpenid))?;
    if !range(&app.store, caller).await?.sees(&member) {
        return Err(fail(Errcode::NoPrivilege));
    }
    Ok(userid_view(&member.userid))
}
