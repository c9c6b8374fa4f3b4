//! The batch job worker: processes unfinished jobs step by step (the store's `batch_step`, one
//! transaction per step). It runs at start-up (jobs a previous run left unfinished continue where
//! they stopped), when a job starts, and every few seconds for jobs another instance left behind
//! when its lease ran out. After a step that changed contacts the caches that read them are
//! forgotten, here and on other instances, as the API's own writes do.

use crate::auth::ranges_changed;
use crate::directory::directory_changed;
use crate::worker::Switch;
use crate::App;
use std::sync::Arc;
use std::time::Duration;
use wecom_store::Step;

const SWEEP: Duration = Duration::from_secs(2);

pub struct Jobs {
    /// Woken when a job starts; paused through the control API between steps.
    pub switch: Switch,
    /// This process, as job leases name it.
    instance: String,
}

impl Default for Jobs {
    fn default() -> Jobs {
        Jobs { switch: Switch::default(), instance: format!("{}-{:08x}", std::process::id(), rand::random::<u32>()) }
    }
}

pub async fn run(app: Arc<App>) {
    loop {
        if !app.jobs.switch.paused() {
            match app.store.due_batch_jobs(&app.jobs.instance).await {
                Ok(jobs) => {
                    for (corpid, seq) in jobs {
                        if let Err(e) = work(&app, &corpid, seq).await {
                            tracing::error!("batch job {seq} of {corpid}: {e}");
                        }
                    }
                }
                Err(e) => tracing::error!("batch jobs: {e}"),
            }
        }
        app.jobs.switch.idle(SWEEP).await;
    }
}

/// Steps through one job until it is done, held by another instance, or the worker is paused.
async fn work(app: &App, corpid: &str, seq: i64) -> Result<(), wecom_store::StoreError> {
    while !app.jobs.switch.paused() {
        // Pending @all messages reach the members they were sent to before the job changes who
        // those are, as before an API write (Endpoint::changes_audience).
        app.store.settle_fanouts(corpid, None, &|| true).await?;
        let step = app.store.batch_step(corpid, seq, &app.jobs.instance, app.clock.now()).await?;
        if let Step::More { changed: true } | Step::Finished { changed: true } = step {
            directory_changed(app).await;
            ranges_changed(app).await;
        }
        match step {
            Step::More { .. } => {}
            Step::Finished { .. } => {
                app.deliverer.wake();
                return Ok(());
            }
            Step::Idle => return Ok(()),
        }
    }
    Ok(())
}
