//! Object storage for files: a local directory by default.
//!
//! Every object a tenant owns lives under `tenants/<tenant_id>/`, which is what lets a tenant
//! deletion find and remove all of them. Content shared across tenants (such as identical
//! plugin binaries) lives elsewhere and is not removed with a tenant.

use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid object name `{0}`")]
    InvalidName(String),
    #[error(transparent)]
    Store(#[from] object_store::Error),
}

/// The object store, shared by every service.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blobs({})", self.store)
    }
}

impl Blobs {
    /// A store rooted at `dir` (created if missing).
    pub fn local(dir: &FsPath) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            BlobError::Store(object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(e),
            })
        })?;
        Ok(Self::new(Arc::new(LocalFileSystem::new_with_prefix(dir)?)))
    }

    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// `tenants/<tenant_id>/<name>`; `name` may contain `/` but no empty or `..` segments.
    pub fn tenant_path(tenant_id: &str, name: &str) -> Result<Path, BlobError> {
        let segments: Vec<&str> = name.split('/').collect();
        if segments
            .iter()
            .any(|s| s.is_empty() || *s == "." || *s == "..")
        {
            return Err(BlobError::InvalidName(name.to_owned()));
        }
        let path = format!("tenants/{tenant_id}/{name}");
        Path::parse(&path).map_err(|_| BlobError::InvalidName(name.to_owned()))
    }

    pub async fn put(&self, path: &Path, bytes: Bytes) -> Result<(), BlobError> {
        self.store.put(path, PutPayload::from(bytes)).await?;
        Ok(())
    }

    pub async fn get(&self, path: &Path) -> Result<Bytes, BlobError> {
        Ok(self.store.get(path).await?.bytes().await?)
    }

    /// Whether an object exists.
    pub async fn exists(&self, path: &Path) -> Result<bool, BlobError> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes one object; a missing object is not an error.
    pub async fn delete(&self, path: &Path) -> Result<(), BlobError> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Names of every object a tenant owns.
    pub async fn list_tenant(&self, tenant_id: &str) -> Result<Vec<Path>, BlobError> {
        let prefix = Path::from_iter(["tenants", tenant_id]);
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        Ok(metas.into_iter().map(|m| m.location).collect())
    }

    /// Removes every object a tenant owns; returns how many there were.
    pub async fn delete_tenant(&self, tenant_id: &str) -> Result<usize, BlobError> {
        let paths = self.list_tenant(tenant_id).await?;
        let count = paths.len();
        let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
        let deleted: Vec<Path> = self.store.delete_stream(stream).try_collect().await?;
        debug_assert_eq!(deleted.len(), count);
        Ok(count)
    }
}
