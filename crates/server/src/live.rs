//! The live snapshot: built from the store at start, rebuilt whenever the
//! store's data version moves (a write here, or one made by another
//! instance or by the command line), and swapped in atomically so that
//! readers never wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use locadocs_core::Snapshot;
use locadocs_core::snapshot::Geo;

use crate::store::{Store, StoreError};

/// The published data as readers see it, plus the store it comes from.
pub struct Live {
    store: Arc<dyn Store>,
    current: ArcSwap<Snapshot>,
    geo_version: AtomicI64,
    rebuild: tokio::sync::Mutex<()>,
}

impl Live {
    /// Loads everything from the store.
    pub async fn load(store: Arc<dyn Store>) -> Result<Arc<Live>, StoreError> {
        let live = Arc::new(Live {
            store,
            current: ArcSwap::from_pointee(Snapshot::empty()),
            geo_version: AtomicI64::new(-1),
            rebuild: tokio::sync::Mutex::new(()),
        });
        live.refresh().await?;
        Ok(live)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The current snapshot; cheap, never blocks.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The current snapshot for a short, synchronous read: cheaper than
    /// [`Live::snapshot`] on hot paths (no shared reference count to
    /// update), but not to be held across an `.await`.
    pub fn peek(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// Rebuilds the snapshot if the store has moved on. Returns whether it did.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let _guard = self.rebuild.lock().await;
        let version = self.store.data_version().await?;
        let current = self.snapshot();
        if version == current.version {
            return Ok(false);
        }
        let started = Instant::now();
        let geo_version = self.store.geo_version().await?;
        let geo = if geo_version == self.geo_version.load(Ordering::Acquire) {
            current.geo().clone()
        } else {
            let territories = self.store.load_territories().await?;
            Arc::new(
                tokio::task::spawn_blocking(move || Geo::new(territories))
                    .await
                    .map_err(|e| StoreError::Corrupt {
                        table: "communes",
                        key: String::new(),
                        message: e.to_string(),
                    })?,
            )
        };
        let mut data = self.store.load_ref_data().await?;
        for stored in self.store.published_guides().await? {
            // Guides are validated when saved; one that no longer parses is
            // left out rather than taking the others down.
            match locadocs_core::guide::parse(&stored.source) {
                Ok(g) => data.guides.push(g),
                Err(e) => {
                    tracing::error!(guide = %stored.slug, error = %e, "published guide does not parse; not served")
                }
            }
        }
        let snapshot = Snapshot::build(version, geo, data);
        self.current.store(Arc::new(snapshot));
        self.geo_version.store(geo_version, Ordering::Release);
        release_free_memory();
        tracing::info!(
            version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshot rebuilt"
        );
        Ok(true)
    }

    /// Watches the store's version in the background.
    pub fn watch(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let live = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(live) = live.upgrade() else { break };
                if let Err(e) = live.refresh().await {
                    tracing::warn!(error = %e, "snapshot refresh failed; serving the previous one");
                }
            }
        })
    }
}

/// Gives the memory freed by a rebuild (the rows read, the previous
/// snapshot) back to the system, so that resident memory reflects what the
/// snapshot needs rather than the peak of loading it.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it has no
    // preconditions and touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
