//! gettoken (wecom-api.md §2.1, legacy-api.md §1.1): the secret decides the dialect and scope of
//! the token. The live token is returned while valid, with its 7200 s restarted.

use super::Answer;
use crate::auth::{caller_of, check_ip, internal, Current};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use wecom_model::credential::is_well_formed_secret;
use wecom_model::token::{gettoken_params, gettoken_view, new_token};
use wecom_model::Errcode;

pub async fn gettoken(app: &App, req: &Request) -> Answer {
    let anon = |e: Errcode| Failure::new(e, None);
    let (corpid, secret) = gettoken_params(req.query.get("corpid"), req.query.get("corpsecret")).map_err(anon)?;
    app.limits.gettoken_banned(req.ip, req.now).map_err(anon)?;
    let holder = if is_well_formed_secret(secret) { app.auth.holder(&app.store, corpid, secret).await? } else { None };
    let Some(holder) = holder else {
        if app.store.corp(corpid).await.map_err(internal)?.is_none() {
            return Err(anon(Errcode::InvalidCorpid));
        }
        app.limits.gettoken_failed(req.ip, req.now);
        return Err(anon(Errcode::InvalidCredential));
    };
    let dialect = holder.cred.scope.dialect();
    let fail = |e: Errcode| Failure::new(e, Some(dialect));
    if holder.cred.closed {
        return Err(fail(Errcode::AppDisabled));
    }
    check_ip(&holder.trusted, req.ip).map_err(fail)?;
    let corpid = caller_of(&holder.cred).corpid;
    app.limits.corp_api(&corpid, req.endpoint, false, req.now).map_err(fail)?;

    let token = match holder.current(req.now) {
        Current::Token(token) => token,
        Current::Refresh(refreshing) => {
            let fresh = new_token(dialect, app.config.wecom_token_len);
            // None: the secret was regenerated since it was read.
            let token =
                app.store.issue_token(&holder.cred, req.now, fresh).await.map_err(internal)?.ok_or(anon(Errcode::InvalidCredential))?;
            refreshing.done(&token, req.now);
            token
        }
    };
    Ok((dialect, gettoken_view(&token)))
}
