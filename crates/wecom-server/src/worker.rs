//! What the background workers (the @all fan-out, batch jobs) share: a wake-up for when there is
//! work, and a pause switch the control API sets on one instance (not stored).

use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

#[derive(Default)]
pub struct Switch {
    wake: Notify,
    paused: AtomicBool,
}

impl Switch {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
        self.wake();
    }

    /// Waits for a wake-up, or `sweep` at most (work another instance left behind).
    pub async fn idle(&self, sweep: std::time::Duration) {
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(sweep) => {}
        }
    }
}
