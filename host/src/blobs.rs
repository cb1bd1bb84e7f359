//! Object storage for files: a local directory by default, a Google Cloud Storage bucket in
//! production.
//!
//! Every object a tenant owns lives under `tenants/<tenant_id>/`, which is what lets a tenant
//! deletion find and remove all of them. Content shared across tenants (such as identical
//! plugin binaries) lives elsewhere and is not removed with a tenant.

use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::gcp::{GcpCredential, GoogleCloudStorageBuilder};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    StaticCredentialProvider,
};

use crate::config::GcsConfig;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid object name `{0}`")]
    InvalidName(String),
    /// A store configuration that cannot work (found when the store is built).
    #[error("invalid object storage configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] object_store::Error),
}

impl BlobError {
    /// Whether the store failed to answer (after its retries) rather than Caravan asking for
    /// something impossible: an outage, a timeout, a refusal by the bucket.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Store(_))
    }
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

    /// A Google Cloud Storage bucket, reached through object_store's GCS client (the XML
    /// API) with the configured credentials, retries and per-request timeout.
    ///
    /// Each request is retried on 5xx, 408, 429 and connection failures with exponential
    /// backoff and jitter (`initial_backoff_ms` doubling up to `max_backoff_ms`), at most
    /// `max_retries` times and not once `retry_timeout_ms` has passed since the first
    /// attempt; every attempt is cut off after `request_timeout_ms`. A request therefore
    /// gives up after about `retry_timeout_ms + max_backoff_ms + request_timeout_ms` at most.
    pub fn gcs(config: &GcsConfig) -> Result<Self, BlobError> {
        config.check().map_err(BlobError::Config)?;
        let bucket = config.bucket.as_deref().unwrap_or_default().trim();
        let ms = Duration::from_millis;
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: ms(config.initial_backoff_ms),
                max_backoff: ms(config.max_backoff_ms),
                base: 2.0,
            },
            max_retries: config.max_retries as usize,
            retry_timeout: ms(config.retry_timeout_ms),
        };
        let request_timeout = ms(config.request_timeout_ms);
        let client = ClientOptions::new()
            .with_timeout(request_timeout)
            .with_connect_timeout(request_timeout.min(Duration::from_secs(5)))
            // Plain HTTP is allowed only for an `http://` endpoint (a local emulator or fake).
            .with_allow_http(config.base_url.starts_with("http://"));
        let mut builder = GoogleCloudStorageBuilder::new()
            .with_bucket_name(bucket)
            .with_base_url(config.base_url.trim_end_matches('/'))
            .with_retry(retry)
            .with_client_options(client);
        if let Some(key) = &config.service_account_key {
            builder = builder.with_service_account_key(key.expose());
        }
        if let Some(path) = &config.service_account_path {
            builder = builder.with_service_account_path(path.to_string_lossy());
        }
        if config.anonymous {
            // object_store 0.14 honours `skip_signature` for downloads and listings but
            // still asks its credential provider before uploads and deletions; an empty
            // static token keeps those from reaching for the GCE metadata server.
            builder = builder.with_skip_signature(true).with_credentials(Arc::new(
                StaticCredentialProvider::new(GcpCredential {
                    bearer: String::new(),
                }),
            ));
        }
        Ok(Self::new(Arc::new(builder.build()?)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gcs_store_needs_a_bucket_and_names_the_variable() {
        let err = Blobs::gcs(&GcsConfig::default()).unwrap_err();
        assert!(matches!(err, BlobError::Config(_)), "{err}");
        assert!(err.to_string().contains("CARAVAN_GCS_BUCKET"), "{err}");
        assert!(!err.is_unavailable());
    }

    #[test]
    fn a_gcs_store_is_built_without_contacting_the_bucket() {
        let blobs = Blobs::gcs(&GcsConfig {
            bucket: Some("caravan-files".to_owned()),
            base_url: "http://127.0.0.1:9".to_owned(),
            anonymous: true,
            ..GcsConfig::default()
        })
        .unwrap();
        assert!(format!("{blobs:?}").contains("caravan-files"), "{blobs:?}");
    }

    #[test]
    fn a_malformed_service_account_key_stops_the_store_from_being_built() {
        let err = Blobs::gcs(&GcsConfig {
            bucket: Some("caravan-files".to_owned()),
            service_account_key: Some(crate::config::Secret::new("not json")),
            ..GcsConfig::default()
        })
        .unwrap_err();
        assert!(matches!(err, BlobError::Store(_)), "{err}");
        assert!(!err.to_string().contains("not json"), "{err}");
    }

    #[test]
    fn tenant_paths_stay_inside_the_tenant() {
        assert_eq!(
            Blobs::tenant_path("agency", "quotes/QT-1.pdf")
                .unwrap()
                .as_ref(),
            "tenants/agency/quotes/QT-1.pdf"
        );
        for bad in ["../other/logo", "a//b", "./x", ""] {
            assert!(Blobs::tenant_path("agency", bad).is_err(), "{bad}");
        }
    }
}
