//! The directory cache: what resolving message recipients reads of a corp's contacts (department
//! tree, tags, tag departments), kept between writes so a single send does not read them again.
//! A department or tag write forgets it here and, through the store's notices (the same path as
//! `auth::ranges_changed`), on every other instance.

use crate::auth::internal;
use crate::reply::Failure;
use crate::App;
use dashmap::DashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use wecom_store::Directory;

#[derive(Default)]
pub struct Directories {
    cached: DashMap<Arc<str>, Arc<Directory>>,
    /// Bumped by every forget: a load that started before a write is not kept after it.
    generation: AtomicU64,
}

impl Directories {
    pub fn forget(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cached.clear();
    }
}

pub async fn directory(app: &App, corpid: &Arc<str>) -> Result<Arc<Directory>, Failure> {
    let dirs = &app.directories;
    if let Some(d) = dirs.cached.get(corpid) {
        return Ok(d.clone());
    }
    let generation = dirs.generation.load(Ordering::Acquire);
    let loaded = Arc::new(app.store.directory(corpid).await.map_err(internal)?);
    dirs.cached.insert(corpid.clone(), loaded.clone());
    // Checked after inserting, so a forget that raced the insert still wins.
    if dirs.generation.load(Ordering::Acquire) != generation {
        dirs.cached.remove(corpid);
    }
    Ok(loaded)
}

/// After a department or tag write: no instance may resolve recipients from the old directory.
pub async fn directory_changed(app: &App) {
    app.directories.forget();
    if let Err(e) = app.store.notify("directory").await {
        tracing::error!("cannot tell other instances to forget directories: {e}");
    }
}
