//! `VectorIndexes`: one [`VectorIndex`] per tenant, loaded lazily from its snapshot in object
//! storage, locked for concurrent use, and written back on request.
//!
//! Each tenant has a `tokio::sync::RwLock` around its index: searches share it, changes take
//! it alone. FAISS work runs on the blocking pool (`spawn_blocking`) with the lock guard moved
//! into the task, so a long rebuild never stalls the async workers and never races a search.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

use super::{IndexOptions, IndexStatus, Manifest, VectorError, VectorIndex};
use crate::blobs::{BlobError, Blobs};

/// The index file of a tenant's snapshot, under `tenants/<id>/`.
pub const INDEX_OBJECT: &str = "vectors/index.faiss";
/// The manifest of a tenant's snapshot (written after the index file).
pub const MANIFEST_OBJECT: &str = "vectors/manifest.json";

enum Slot {
    /// Not looked for in object storage yet.
    Unloaded,
    /// No snapshot and no vectors.
    Empty,
    Ready(VectorIndex),
}

struct Tenant {
    state: Arc<RwLock<Slot>>,
    /// Changed since the last snapshot.
    dirty: AtomicBool,
}

/// Every tenant's vector index.
pub struct VectorIndexes {
    blobs: Blobs,
    options: IndexOptions,
    tenants: Mutex<HashMap<String, Arc<Tenant>>>,
}

impl std::fmt::Debug for VectorIndexes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let loaded = self
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("VectorIndexes")
            .field("blobs", &self.blobs)
            .field("options", &self.options)
            .field("tenants", &loaded)
            .finish()
    }
}

impl VectorIndexes {
    pub fn new(blobs: Blobs, options: IndexOptions) -> Self {
        Self {
            blobs,
            options,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// The `k` vectors of `tenant` most similar to `query`, best first, as `(id, cosine)`.
    /// A tenant without an index (no snapshot, nothing added) has no results.
    pub async fn search(
        &self,
        tenant_id: &str,
        query: Vec<f32>,
        k: usize,
    ) -> Result<Vec<(i64, f32)>, VectorError> {
        let guard = self.read(tenant_id).await?;
        blocking(move || match &*guard {
            Slot::Ready(index) => index.search(&query, k),
            Slot::Unloaded | Slot::Empty => Ok(Vec::new()),
        })
        .await
    }

    /// Adds or replaces vectors (see [`VectorIndex::add`]). The first vectors of a tenant
    /// without an index set its dimension.
    pub async fn add(
        &self,
        tenant_id: &str,
        ids: Vec<i64>,
        vectors: Vec<Vec<f32>>,
    ) -> Result<(), VectorError> {
        let tenant = self.tenant(tenant_id);
        let mut guard = self.write(tenant_id, &tenant).await?;
        let options = self.options;
        blocking(move || {
            if !matches!(&*guard, Slot::Ready(_)) {
                let Some(first) = vectors.first() else {
                    return Ok(());
                };
                *guard = Slot::Ready(VectorIndex::new(first.len(), options)?);
            }
            match &mut *guard {
                Slot::Ready(index) => index.add(&ids, &vectors),
                Slot::Unloaded | Slot::Empty => Ok(()),
            }
        })
        .await?;
        tenant.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes vectors by id; returns how many were present.
    pub async fn remove(&self, tenant_id: &str, ids: Vec<i64>) -> Result<usize, VectorError> {
        let tenant = self.tenant(tenant_id);
        let mut guard = self.write(tenant_id, &tenant).await?;
        let removed = blocking(move || match &mut *guard {
            Slot::Ready(index) => index.remove(&ids),
            Slot::Unloaded | Slot::Empty => Ok(0),
        })
        .await?;
        if removed > 0 {
            tenant.dirty.store(true, Ordering::Release);
        }
        Ok(removed)
    }

    /// Replaces the tenant's index by one built from `items` (the vectors the caller holds),
    /// choosing the kind by count, and snapshots it. This is the answer to a missing or
    /// corrupt snapshot, to a change of embedding model (`dimension`), and to an approximate
    /// index whose clusters no longer fit its data.
    /// `label` is kept with the index and its snapshot (see [`Manifest::label`](super::Manifest)).
    pub async fn rebuild(
        &self,
        tenant_id: &str,
        dimension: usize,
        label: Option<String>,
        items: impl IntoIterator<Item = (i64, Vec<f32>)> + Send + 'static,
    ) -> Result<IndexStatus, VectorError> {
        let tenant = self.tenant(tenant_id);
        // No load: whatever is stored is about to be replaced (and may be what is broken).
        let mut guard = tenant.state.clone().write_owned().await;
        let options = self.options;
        let index = blocking(move || {
            let mut index = VectorIndex::build(dimension, options, items)?;
            index.set_label(label);
            Ok(index)
        })
        .await?;
        let status = index.status();
        *guard = Slot::Ready(index);
        tenant.dirty.store(true, Ordering::Release);
        drop(guard);
        tracing::info!(
            tenant_id,
            count = status.count,
            kind = ?status.kind,
            "vector index rebuilt"
        );
        self.snapshot(tenant_id).await?;
        Ok(status)
    }

    /// The label of the tenant's index (loaded first if needed); `None` without an index.
    pub async fn label(&self, tenant_id: &str) -> Result<Option<String>, VectorError> {
        let guard = self.read(tenant_id).await?;
        Ok(match &*guard {
            Slot::Ready(index) => index.label().map(str::to_owned),
            Slot::Unloaded | Slot::Empty => None,
        })
    }

    /// Applies a change in one step under the tenant's write lock: removes `remove`, adds
    /// `add` (the first vectors of a tenant without an index set its dimension) and sets the
    /// label, so a reader never sees the vectors of one version with the label of another.
    pub async fn update(
        &self,
        tenant_id: &str,
        remove: Vec<i64>,
        add: Vec<(i64, Vec<f32>)>,
        label: Option<String>,
    ) -> Result<(), VectorError> {
        let tenant = self.tenant(tenant_id);
        let mut guard = self.write(tenant_id, &tenant).await?;
        let options = self.options;
        blocking(move || {
            if !matches!(&*guard, Slot::Ready(_)) {
                let Some((_, first)) = add.first() else {
                    return Ok(());
                };
                *guard = Slot::Ready(VectorIndex::new(first.len(), options)?);
            }
            if let Slot::Ready(index) = &mut *guard {
                index.remove(&remove)?;
                let (ids, vectors): (Vec<i64>, Vec<Vec<f32>>) = add.into_iter().unzip();
                index.add(&ids, &vectors)?;
                index.set_label(label);
            }
            Ok(())
        })
        .await?;
        tenant.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// The tenant's index size and kind, or `None` when it has none (no snapshot, nothing
    /// added): a caller holding vectors for the tenant should then [`rebuild`](Self::rebuild).
    pub async fn status(&self, tenant_id: &str) -> Result<Option<IndexStatus>, VectorError> {
        let guard = self.read(tenant_id).await?;
        Ok(match &*guard {
            Slot::Ready(index) => Some(index.status()),
            Slot::Unloaded | Slot::Empty => None,
        })
    }

    /// Writes the tenant's index to object storage if it changed since its last snapshot:
    /// the index file first, then the manifest, so a manifest always describes a complete
    /// file (a crash in between leaves a pair that disagrees, which loads as corrupt).
    /// Returns whether anything was written.
    pub async fn snapshot(&self, tenant_id: &str) -> Result<bool, VectorError> {
        let tenant = self.tenant(tenant_id);
        if !tenant.dirty.swap(false, Ordering::AcqRel) {
            return Ok(false);
        }
        let guard = tenant.state.clone().read_owned().await;
        let serialised = blocking(move || match &*guard {
            Slot::Ready(index) => Ok(Some((index.to_bytes()?, index.manifest()))),
            Slot::Unloaded | Slot::Empty => Ok(None),
        })
        .await;
        let written = match serialised {
            Ok(Some((bytes, manifest))) => self.store(tenant_id, bytes, &manifest).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            // Keep the change pending so the next snapshot tries again.
            tenant.dirty.store(true, Ordering::Release);
            return Err(e);
        }
        Ok(true)
    }

    /// Snapshots every tenant with unsaved changes (for a periodic task or shutdown); returns
    /// how many were written. Failures are logged and the tenant stays pending.
    pub async fn snapshot_all(&self) -> usize {
        let pending: Vec<String> = self
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(_, t)| t.dirty.load(Ordering::Acquire))
            .map(|(id, _)| id.clone())
            .collect();
        let mut written = 0;
        for tenant_id in pending {
            match self.snapshot(&tenant_id).await {
                Ok(true) => written += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(tenant_id, error = %e, "vector index snapshot failed"),
            }
        }
        written
    }

    /// Forgets the tenant's index and deletes its snapshot.
    pub async fn drop_tenant(&self, tenant_id: &str) -> Result<(), VectorError> {
        let tenant = self.tenant(tenant_id);
        let mut guard = tenant.state.clone().write_owned().await;
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant_id);
        *guard = Slot::Empty;
        tenant.dirty.store(false, Ordering::Release);
        self.blobs
            .delete(&Blobs::tenant_path(tenant_id, MANIFEST_OBJECT)?)
            .await?;
        self.blobs
            .delete(&Blobs::tenant_path(tenant_id, INDEX_OBJECT)?)
            .await?;
        Ok(())
    }

    fn tenant(&self, tenant_id: &str) -> Arc<Tenant> {
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant_id.to_owned())
            .or_insert_with(|| {
                Arc::new(Tenant {
                    state: Arc::new(RwLock::new(Slot::Unloaded)),
                    dirty: AtomicBool::new(false),
                })
            })
            .clone()
    }

    /// The tenant's slot for reading, loaded first if needed.
    async fn read(&self, tenant_id: &str) -> Result<OwnedRwLockReadGuard<Slot>, VectorError> {
        let tenant = self.tenant(tenant_id);
        let guard = tenant.state.clone().read_owned().await;
        if !matches!(*guard, Slot::Unloaded) {
            return Ok(guard);
        }
        drop(guard);
        Ok(self.write(tenant_id, &tenant).await?.downgrade())
    }

    /// The tenant's slot for writing, loaded first if needed. A failed load leaves it
    /// unloaded, so the next call tries again (object storage may be back).
    async fn write(
        &self,
        tenant_id: &str,
        tenant: &Tenant,
    ) -> Result<OwnedRwLockWriteGuard<Slot>, VectorError> {
        let mut guard = tenant.state.clone().write_owned().await;
        if matches!(*guard, Slot::Unloaded) {
            *guard = self.load(tenant_id).await?;
        }
        Ok(guard)
    }

    async fn load(&self, tenant_id: &str) -> Result<Slot, VectorError> {
        let manifest = match self
            .blobs
            .get(&Blobs::tenant_path(tenant_id, MANIFEST_OBJECT)?)
            .await
        {
            Ok(bytes) => bytes,
            Err(BlobError::Store(object_store::Error::NotFound { .. })) => {
                tracing::debug!(tenant_id, "no vector index snapshot");
                return Ok(Slot::Empty);
            }
            Err(e) => return Err(e.into()),
        };
        let manifest: Manifest = serde_json::from_slice(&manifest)
            .map_err(|e| VectorError::CorruptSnapshot(format!("unreadable manifest: {e}")))?;
        let bytes = match self
            .blobs
            .get(&Blobs::tenant_path(tenant_id, INDEX_OBJECT)?)
            .await
        {
            Ok(bytes) => bytes,
            Err(BlobError::Store(object_store::Error::NotFound { .. })) => {
                return Err(VectorError::CorruptSnapshot(
                    "the manifest exists but the index file does not".to_owned(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let options = self.options;
        let index = blocking(move || VectorIndex::from_bytes(&bytes, &manifest, options)).await?;
        tracing::info!(
            tenant_id,
            count = index.len(),
            kind = ?index.kind(),
            "vector index loaded from its snapshot"
        );
        Ok(Slot::Ready(index))
    }

    async fn store(
        &self,
        tenant_id: &str,
        index: Vec<u8>,
        manifest: &Manifest,
    ) -> Result<(), VectorError> {
        let manifest =
            serde_json::to_vec(manifest).map_err(|e| VectorError::Io(std::io::Error::other(e)))?;
        self.blobs
            .put(
                &Blobs::tenant_path(tenant_id, INDEX_OBJECT)?,
                Bytes::from(index),
            )
            .await?;
        self.blobs
            .put(
                &Blobs::tenant_path(tenant_id, MANIFEST_OBJECT)?,
                Bytes::from(manifest),
            )
            .await?;
        Ok(())
    }
}

/// Runs FAISS work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, VectorError> + Send + 'static,
) -> Result<T, VectorError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| VectorError::Task(e.to_string()))?
}
