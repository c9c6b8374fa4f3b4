//! The fan-out worker: writes pending @all recipient rows in the background. It runs at start-up
//! (fan-outs a previous run left unfinished), when a send queues one, and every few seconds for
//! fan-outs another instance left behind. Reads that show recipients finish pending fan-outs
//! themselves (in the store), so the worker only decides how soon rows appear, never what they are.

use crate::App;
use std::sync::Arc;
use std::time::Duration;

const SWEEP: Duration = Duration::from_secs(2);

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
        app.fanouts.idle(SWEEP).await;
    }
}
