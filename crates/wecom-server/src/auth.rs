//! Who is calling: an access_token from the query string resolved to a [`Caller`], with the
//! platform's order of checks (missing 41001, invalid 40014, expired 42001, then trusted IP 60020).
//! Valid tokens are cached in memory; the store is asked on a miss and before declaring a cached
//! token expired, since another instance may have extended it.

use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use dashmap::DashMap;
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use wecom_model::credential::{parse_trusted_ip, Scope};
use wecom_model::scope::{check_detail_read, Range, WriteRange};
use wecom_model::seed::ContactRight;
use wecom_model::token::{Issued, EXPIRES_IN};
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
    closed: bool,
}

/// A secret holder as gettoken sees it, with the token it last handed out.
pub struct Holder {
    pub cred: CredentialRow,
    pub trusted: Vec<IpNet>,
    live: Mutex<Option<(String, Issued)>>,
    extending: AtomicBool,
}

/// What gettoken does with a holder's cached token.
pub enum Current {
    /// Hand it out as it is.
    Token(String),
    /// Go to the store (no live token, or its 7200 s need restarting); only one request at a time
    /// extends, the others keep handing out the still-valid token meanwhile.
    Refresh(Refreshing),
}

/// Held by the one request refreshing a holder's token.
pub struct Refreshing(Arc<Holder>);

impl Drop for Refreshing {
    fn drop(&mut self) {
        self.0.extending.store(false, Ordering::Release);
    }
}

impl Refreshing {
    pub fn done(self, token: &str, now: i64) {
        *self.0.live.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((token.to_string(), Issued { expires_at: now + EXPIRES_IN, revoked: false }));
    }
}

impl Holder {
    pub fn current(self: &Arc<Self>, now: i64) -> Current {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match live {
            Some((token, issued)) if issued.check(now).is_ok() && !issued.needs_extension(now) => Current::Token(token),
            Some((token, issued)) if issued.check(now).is_ok() && self.extending.swap(true, Ordering::AcqRel) => Current::Token(token),
            Some(_) => Current::Refresh(Refreshing(self.clone())),
            None => {
                // Wait for no one: a concurrent first fetch is settled by the store's lock.
                self.extending.store(true, Ordering::Release);
                Current::Refresh(Refreshing(self.clone()))
            }
        }
    }
}

#[derive(Default)]
pub struct Auth {
    tokens: DashMap<String, Arc<Entry>>,
    holders: DashMap<(String, String), Arc<Holder>>,
    ranges: DashMap<(String, Scope), Arc<Range>>,
    /// Per corp: the IPs its contacts-sync secret read contact details from before 2022-08-15.
    read_ips: DashMap<String, Arc<Option<Vec<IpNet>>>>,
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
                let entry = Arc::new(Entry {
                    caller: caller_of(&row.credential),
                    issued: row.issued,
                    trusted: trusted(&row.credential),
                    closed: row.credential.closed,
                });
                self.tokens.insert(token.to_string(), entry.clone());
                entry
            }
        };
        check_ip(&entry.trusted, ip).map_err(|e| Failure::new(e, Some(entry.caller.dialect())))?;
        if entry.closed {
            return Err(Failure::new(Errcode::AppDisabled, Some(entry.caller.dialect())));
        }
        Ok(entry.caller.clone())
    }

    /// The holder of `secret` in `corpid`, or `None` when no holder has it (not remembered).
    pub async fn holder(&self, store: &Store, corpid: &str, secret: &str) -> Result<Option<Arc<Holder>>, Failure> {
        let key = (corpid.to_string(), secret.to_string());
        if let Some(h) = self.holders.get(&key) {
            return Ok(Some(h.clone()));
        }
        let Some(cred) = store.credential_by_secret(corpid, secret).await.map_err(internal)? else { return Ok(None) };
        let holder = Arc::new(Holder { trusted: trusted(&cred), cred, live: Mutex::new(None), extending: AtomicBool::new(false) });
        self.holders.insert(key, holder.clone());
        Ok(Some(holder))
    }

    /// Forget every cached token and secret (a secret was regenerated, trusted IPs changed, or
    /// state reset).
    pub fn flush(&self) {
        self.tokens.clear();
        self.holders.clear();
        self.ranges.clear();
        self.read_ips.clear();
    }

    /// Forget cached ranges: a deleted department or tag left apps' and groups' rights.
    pub fn forget_ranges(&self) {
        self.ranges.clear();
    }
}

/// What the caller can see of the directory: an app its visible range, the contacts-sync
/// assistant everything, a 管理组 its department subtrees. Cached until credentials, seeds or
/// state change (`Auth::flush`), since every contacts read needs it.
pub async fn range(app: &App, caller: &Caller) -> Result<Arc<Range>, Failure> {
    let key = (caller.corpid.to_string(), caller.scope);
    if let Some(r) = app.auth.ranges.get(&key) {
        return Ok(r.clone());
    }
    let r = Arc::new(load_range(&app.store, caller).await?);
    app.auth.ranges.insert(key, r.clone());
    Ok(r)
}

/// After a department or tag is deleted: no cached range may still name it, here or on another
/// instance.
pub async fn ranges_changed(app: &App) {
    app.auth.forget_ranges();
    if let Err(e) = app.store.notify("ranges").await {
        tracing::error!("cannot tell other instances to forget ranges: {e}");
    }
}

/// user/list, user/simplelist and department/list read contact details, which the contacts-sync
/// secret may do only from the IPs it read from before 2022-08-15 (else 48009).
pub async fn detail_read(app: &App, req: &Request, caller: &Caller) -> Result<(), Failure> {
    if caller.scope != Scope::ContactSync {
        return Ok(());
    }
    let cached = app.auth.read_ips.get(&*caller.corpid).map(|k| k.clone());
    let known = match cached {
        Some(k) => k,
        None => {
            let ips = app.store.contact_sync_read_ips(&caller.corpid).await.map_err(internal)?;
            let known = Arc::new(ips.map(|ips| ips.iter().filter_map(|s| parse_trusted_ip(s).ok()).collect()));
            app.auth.read_ips.insert(caller.corpid.to_string(), known.clone());
            known
        }
    };
    check_detail_read(caller.scope, req.ip, known.as_deref()).map_err(|e| Failure::new(e, Some(caller.dialect())))
}

async fn load_range(store: &Store, caller: &Caller) -> Result<Range, Failure> {
    let gone = || Failure::new(Errcode::InvalidAccessToken, Some(caller.dialect()));
    Ok(match caller.scope {
        // The chat service's usage range is taken to be the whole corp (compatibility ledger).
        Scope::ContactSync | Scope::Chat => Range::All,
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

/// What the caller may change: everything with the contacts-sync secret, a 管理组's subtrees held
/// with write rights, a self-built app granted contact edit its visible departments; any other
/// self-built app may not write contacts (48002).
pub async fn write_range(store: &Store, caller: &Caller) -> Result<WriteRange, Failure> {
    let gone = || Failure::new(Errcode::InvalidAccessToken, Some(caller.dialect()));
    match caller.scope {
        Scope::ContactSync => Ok(WriteRange::All),
        Scope::Chat => Err(Failure::new(Errcode::ApiForbidden, Some(caller.dialect()))),
        Scope::App { agentid } => {
            let app = store.app(&caller.corpid, agentid).await.map_err(internal)?.ok_or_else(gone)?;
            if app.contact_edit {
                Ok(WriteRange::Subtrees(app.allow_parties))
            } else {
                Err(Failure::new(Errcode::ApiForbidden, Some(caller.dialect())))
            }
        }
        Scope::Group { groupid } => {
            let group = store.group(&caller.corpid, groupid).await.map_err(internal)?.ok_or_else(gone)?;
            Ok(WriteRange::Subtrees(group.departments.iter().filter(|d| d.right == ContactRight::Write).map(|d| d.id).collect()))
        }
    }
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
