//! The fan-out worker: writes pending @all recipient rows in the background. It runs at start-up
//! (fan-outs a previous run left unfinished), when a send queues one, and every few seconds for
//! fan-outs another instance left behind. Reads that show recipients finish pending fan-outs
//! themselves (in the store), so the worker only decides how soon rows appear, never what they are.

use crate::App;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const SWEEP: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Fanouts {
    wake: Notify,
    /// Set through the control API: this instance's worker stops between batches.
    paused: AtomicBool,
}

impl Fanouts {
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
}

pub async fn run(app: Arc<App>) {
    loop {
        if !app.fanouts.paused() {
            match app.store.fanout_corps().await {
                Ok(corps) => {
                    for corpid in corps {
                        if let Err(e) = app.store.settle_fanouts(&corpid, None, &|| !app.fanouts.paused()).await {
                            tracing::error!("fan-out in {corpid}: {e}");
                        }
                    }
                }
                Err(e) => tracing::error!("fan-outs: {e}"),
            }
        }
        tokio::select! {
            _ = app.fanouts.wake.notified() => {}
            _ = tokio::time::sleep(SWEEP) => {}
        }
    }
}
