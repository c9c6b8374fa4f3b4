//! gettoken (wecom-api.md §2.1, legacy-api.md §1.1): the secret decides the dialect and scope of
//! the token. The live token is returned while valid, with its 7200 s restarted.

use super::Answer;
use crate::auth::{check_ip, internal, trusted};
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
    if app.store.corp(corpid).await.map_err(internal)?.is_none() {
        return Err(anon(Errcode::InvalidCorpid));
    }
    let cred = if is_well_formed_secret(secret) { app.store.credential_by_secret(corpid, secret).await.map_err(internal)? } else { None };
    let Some(cred) = cred else {
        app.limits.gettoken_failed(req.ip, req.now);
        return Err(anon(Errcode::InvalidCredential));
    };
    let dialect = cred.scope.dialect();
    check_ip(&trusted(&cred), req.ip).map_err(|e| Failure::new(e, Some(dialect)))?;
    let corpid = crate::auth::caller_of(&cred).corpid;
    app.limits.corp_api(&corpid, req.endpoint, false, req.now).map_err(|e| Failure::new(e, Some(dialect)))?;

    let live = app.store.live_token(cred.id, req.now).await.map_err(internal)?;
    let token = match live {
        Some((token, issued)) if !issued.needs_extension(req.now) => token,
        _ => {
            let fresh = new_token(dialect, app.config.wecom_token_len);
            // None: the secret was regenerated between the read and the write.
            app.store.issue_token(&cred, req.now, fresh).await.map_err(internal)?.ok_or(anon(Errcode::InvalidCredential))?
        }
    };
    Ok((dialect, gettoken_view(&token)))
}
