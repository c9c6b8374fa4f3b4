//! Who is calling: an access_token from the query string resolved to a [`Caller`], with the
//! platform's order of checks (missing 41001, invalid 40014, expired 42001, then trusted IP 60020).
//! Valid tokens are cached in memory; the store is asked on a miss and before declaring a cached
//! token expired, since another instance may have extended it.

use crate::reply::Failure;
use dashmap::DashMap;
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::Arc;
use wecom_model::credential::{parse_trusted_ip, Scope};
use wecom_model::scope::Range;
use wecom_model::token::Issued;
use wecom_model::{Dialect, Errcode};
use wecom_store::{AppRow, CredentialRow, Store};

/// The caller of an authenticated API: its corp and the holder of the secret behind its token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub corpid: Arc<str>,
    pub scope: Scope,
}

impl Caller {
    pub fn dialect(&self) -> Dialect {
        self.scope.dialect()
    }
}

struct Entry {
    caller: Caller,
    issued: Issued,
    trusted: Vec<IpNet>,
}

#[derive(Default)]
pub struct Auth {
    tokens: DashMap<String, Arc<Entry>>,
}

impl Auth {
    pub async fn caller(&self, store: &Store, token: Option<&str>, ip: IpAddr, now: i64) -> Result<Caller, Failure> {
        let token = token.filter(|t| !t.is_empty()).ok_or(Failure::new(Errcode::AccessTokenMissing, None))?;
        let cached = self.tokens.get(token).map(|e| e.clone()).filter(|e| e.issued.check(now).is_ok());
        let entry = match cached {
            Some(e) => e,
            None => {
                let row = store.token(token).await.map_err(internal)?;
                let row = row.ok_or(Failure::new(Errcode::InvalidAccessToken, None))?;
                let dialect = row.credential.scope.dialect();
                row.issued.check(now).map_err(|e| Failure::new(e, Some(dialect)))?;
                let entry = Arc::new(Entry { caller: caller_of(&row.credential), issued: row.issued, trusted: trusted(&row.credential) });
                self.tokens.insert(token.to_string(), entry.clone());
                entry
            }
        };
        check_ip(&entry.trusted, ip).map_err(|e| Failure::new(e, Some(entry.caller.dialect())))?;
        Ok(entry.caller.clone())
    }

    /// Forget every cached token (a secret was regenerated, trusted IPs changed, or state reset).
    pub fn flush(&self) {
        self.tokens.clear();
    }
}

/// What the caller can see of the directory: an app its visible range, the contacts-sync
/// assistant everything, a 管理组 its department subtrees.
pub async fn range(store: &Store, caller: &Caller) -> Result<Range, Failure> {
    let gone = || Failure::new(Errcode::InvalidAccessToken, Some(caller.dialect()));
    Ok(match caller.scope {
        Scope::ContactSync => Range::All,
        Scope::App { agentid } => {
            let app = store.app(&caller.corpid, agentid).await.map_err(internal)?.ok_or_else(gone)?;
            app_range(&app)
        }
        Scope::Group { groupid } => {
            let group = store.group(&caller.corpid, groupid).await.map_err(internal)?.ok_or_else(gone)?;
            Range::Subtrees(group.departments.iter().map(|d| d.id).collect())
        }
    })
}

pub fn app_range(app: &AppRow) -> Range {
    Range::Visible { users: app.allow_users.clone(), parties: app.allow_parties.clone(), tags: app.allow_tags.clone() }
}

pub fn caller_of(cred: &CredentialRow) -> Caller {
    Caller { corpid: Arc::from(cred.corpid.as_str()), scope: cred.scope }
}

pub fn trusted(cred: &CredentialRow) -> Vec<IpNet> {
    cred.trusted_ips.iter().filter_map(|s| parse_trusted_ip(s).ok()).collect()
}

/// An empty list trusts every address; otherwise the caller must be inside one entry.
pub fn check_ip(trusted: &[IpNet], ip: IpAddr) -> Result<(), Errcode> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    if trusted.is_empty() || trusted.iter().any(|n| n.contains(&ip)) {
        Ok(())
    } else {
        Err(Errcode::NotAllowIp)
    }
}

pub fn internal(e: wecom_store::StoreError) -> Failure {
    tracing::error!("store: {e}");
    Failure::new(Errcode::SystemBusy, None)
}
