//! The one source of time. It runs with the system clock, shifted by an offset that the control
//! API can only move forward; the offset is stored so restarts and other instances share it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use wecom_store::Store;

const OFFSET_KEY: &str = "clock_offset";

pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    pub async fn load(store: &Store) -> wecom_store::Result<Clock> {
        let clock = Clock { offset: AtomicI64::new(0) };
        clock.reload(store).await?;
        Ok(clock)
    }

    /// Unix seconds as wecomd sees them.
    pub fn now(&self) -> i64 {
        let system = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        system + self.offset.load(Ordering::Relaxed)
    }

    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    pub async fn reload(&self, store: &Store) -> wecom_store::Result<()> {
        let offset = store.setting(OFFSET_KEY).await?.and_then(|v| v.parse().ok()).unwrap_or(0);
        self.offset.store(offset, Ordering::Relaxed);
        Ok(())
    }

    /// Moves time forward by `seconds` for this instance and, through the store, for all.
    pub async fn advance(&self, store: &Store, seconds: i64) -> wecom_store::Result<()> {
        let offset = self.offset() + seconds;
        store.set_setting(OFFSET_KEY, &offset.to_string()).await?;
        self.offset.store(offset, Ordering::Relaxed);
        Ok(())
    }

    /// Back to the system clock (part of a reset).
    pub fn clear(&self) {
        self.offset.store(0, Ordering::Relaxed);
    }

    pub const STORED_KEY: &'static str = OFFSET_KEY;
}
