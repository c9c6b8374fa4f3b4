//! The counters behind the frequency limits (45009) and the concurrency limit (45033). Counters
//! are per instance (compatibility ledger); the rules are wecom_model::ratelimit's.

use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use wecom_model::ratelimit::{admit, is_blocked, Counter, Rule, DEBUG_MODE, GETTOKEN_BAD_SECRET_PER_IP, PER_CORP_API, PER_IP};
use wecom_model::{Endpoint, Errcode};

type Key = (Arc<str>, Endpoint);

pub struct Limits {
    enabled: bool,
    api_concurrency: u32,
    per_ip: DashMap<IpAddr, [Counter; 2]>,
    per_corp_api: DashMap<Key, [Counter; 2]>,
    debug: DashMap<Arc<str>, [Counter; 1]>,
    bad_secret: DashMap<IpAddr, [Counter; 1]>,
    in_flight: DashMap<Key, Arc<AtomicU32>>,
}

/// Holds one of a corp's concurrent slots for an API until dropped.
pub struct Slot(Option<Arc<AtomicU32>>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(n) = &self.0 {
            n.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

fn count<K: std::hash::Hash + Eq, const N: usize>(
    map: &DashMap<K, [Counter; N]>,
    key: K,
    rules: &[Rule; N],
    now: i64,
) -> Result<(), Errcode> {
    let mut counters = map.entry(key).or_insert([Counter::default(); N]);
    if admit(&mut counters, rules, now) {
        Ok(())
    } else {
        Err(Errcode::ApiFreqOutOfLimit)
    }
}

impl Limits {
    pub fn new(enabled: bool, api_concurrency: u32) -> Self {
        Limits {
            enabled,
            api_concurrency,
            per_ip: DashMap::new(),
            per_corp_api: DashMap::new(),
            debug: DashMap::new(),
            bad_secret: DashMap::new(),
            in_flight: DashMap::new(),
        }
    }

    /// Every call from an IP, before anything else is looked at.
    pub fn ip(&self, ip: IpAddr, now: i64) -> Result<(), Errcode> {
        if !self.enabled {
            return Ok(());
        }
        count(&self.per_ip, ip, &PER_IP, now)
    }

    /// A corp's calls of one API; `debug` calls also count against the debug-mode limit.
    pub fn corp_api(&self, corpid: &Arc<str>, endpoint: Endpoint, debug: bool, now: i64) -> Result<(), Errcode> {
        if !self.enabled {
            return Ok(());
        }
        if debug {
            count(&self.debug, corpid.clone(), &DEBUG_MODE, now)?;
        }
        count(&self.per_corp_api, (corpid.clone(), endpoint), &PER_CORP_API, now)
    }

    /// 45033 when the corp already has `api_concurrency` calls of this API in progress.
    pub fn enter(&self, corpid: &Arc<str>, endpoint: Endpoint) -> Result<Slot, Errcode> {
        if !self.enabled {
            return Ok(Slot(None));
        }
        let n = self.in_flight.entry((corpid.clone(), endpoint)).or_default().clone();
        if n.fetch_add(1, Ordering::AcqRel) >= self.api_concurrency {
            n.fetch_sub(1, Ordering::AcqRel);
            return Err(Errcode::ApiConcurrentOutOfLimit);
        }
        Ok(Slot(Some(n)))
    }

    /// Is this IP banned from gettoken for guessing secrets?
    pub fn gettoken_banned(&self, ip: IpAddr, now: i64) -> Result<(), Errcode> {
        match self.bad_secret.get(&ip) {
            Some(c) if self.enabled && is_blocked(&c, now) => Err(Errcode::ApiFreqOutOfLimit),
            _ => Ok(()),
        }
    }

    pub fn gettoken_failed(&self, ip: IpAddr, now: i64) {
        if self.enabled {
            let _ = count(&self.bad_secret, ip, &GETTOKEN_BAD_SECRET_PER_IP, now);
        }
    }

    pub fn clear(&self) {
        self.per_ip.clear();
        self.per_corp_api.clear();
        self.debug.clear();
        self.bad_secret.clear();
    }
}
