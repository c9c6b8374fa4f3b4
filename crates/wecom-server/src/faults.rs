//! Fault injection from the control API: the next N calls of an API (or of any API) answer a
//! chosen errcode, or are delayed, or both. Per instance.

use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use wecom_model::{ApiError, Endpoint};

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The path after `/cgi-bin/`; absent means every authenticated API.
    pub path: Option<String>,
    pub errcode: Option<i64>,
    #[serde(default)]
    pub delay_ms: u64,
    /// How many calls it applies to.
    pub count: u32,
}

#[derive(Default)]
pub struct Faults {
    any: AtomicBool,
    faults: Mutex<Vec<Fault>>,
}

impl Faults {
    pub fn add(&self, f: Fault) {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        faults.push(f);
        self.any.store(true, Ordering::Release);
    }

    pub fn clear(&self) {
        self.faults.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.any.store(false, Ordering::Release);
    }

    pub fn pending(&self) -> Vec<Fault> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Takes one use of the first fault that matches, sleeps its delay, then fails if it says so.
    pub async fn apply(&self, endpoint: Endpoint) -> Result<(), ApiError> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let fault = {
            let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
            let Some(i) = faults.iter().position(|f| f.path.as_deref().is_none_or(|p| p == endpoint.path())) else {
                return Ok(());
            };
            let f = faults[i].clone();
            faults[i].count -= 1;
            if faults[i].count == 0 {
                faults.remove(i);
                self.any.store(!faults.is_empty(), Ordering::Release);
            }
            f
        };
        if fault.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        }
        match fault.errcode {
            Some(code) => Err(ApiError::injected(code)),
            None => Ok(()),
        }
    }
}
