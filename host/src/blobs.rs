//! Object storage for files: a local directory by default, a Google Cloud Storage bucket in
//! production.
//!
//! Every object a tenant owns lives under `tenants/<tenant_id>/`, which is what lets a tenant
//! deletion find and remove all of them. Content shared across tenants (such as identical
//! plugin binaries) lives elsewhere and is not removed with a tenant.
//!
//! A GCS bucket is an upstream with a circuit breaker ([`crate::breaker`], labelled `gcs`):
//! each operation, after object_store's own retries, counts as a failure when the bucket did
//! not answer (5xx, 408, 429, connection errors, timeouts) and as a success when it did
//! (including not-found, 401 and 403, which are about the request, not the bucket's health).
//! While the circuit is open, operations fail at once with [`BlobError::CircuitOpen`] instead
//! of spending the retry timeout. The local directory has no breaker.

use std::future::Future;
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

use serde_json::{Value, json};

use crate::breaker::{Breaker, BreakerSettings, CircuitState};
use crate::config::GcsConfig;
use crate::metrics::Metrics;

/// The GCS upstream's name in metrics, logs and health details.
pub const GCS: &str = "gcs";

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid object name `{0}`")]
    InvalidName(String),
    /// A store configuration that cannot work (found when the store is built).
    #[error("invalid object storage configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] object_store::Error),
    /// The store's circuit is open after repeated failures: no request was sent.
    #[error("object storage unavailable: the {upstream} circuit is open after repeated failures")]
    CircuitOpen { upstream: &'static str },
}

impl BlobError {
    /// Whether the store failed to answer (after its retries) rather than Caravan asking for
    /// something impossible: an outage, a timeout, a refusal by the bucket, an open circuit.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Store(_) | Self::CircuitOpen { .. })
    }
}

/// The object store, shared by every service.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// `local`, `gcs`, or `other` for a store handed to [`Blobs::new`].
    backend: &'static str,
    /// The bucket's circuit (GCS only).
    breaker: Option<Breaker>,
    metrics: Option<Arc<Metrics>>,
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
        let mut blobs = Self::new(Arc::new(LocalFileSystem::new_with_prefix(dir)?));
        blobs.backend = "local";
        Ok(blobs)
    }

    /// A Google Cloud Storage bucket, reached through object_store's GCS client (the XML
    /// API) with the configured credentials, retries and per-request timeout.
    ///
    /// Each request is retried on 5xx, 408, 429 and connection failures with exponential
    /// backoff and jitter (`initial_backoff_ms` doubling up to `max_backoff_ms`), at most
    /// `max_retries` times and not once `retry_timeout_ms` has passed since the first
    /// attempt; every attempt is cut off after `request_timeout_ms`. A request therefore
    /// gives up after about `retry_timeout_ms + max_backoff_ms + request_timeout_ms` at most.
    /// object_store 0.14 does not read `Retry-After`: a 429 is retried on its own backoff.
    ///
    /// Operations go through the bucket's circuit breaker (`breaker_failures`,
    /// `breaker_open_min_ms`, `breaker_open_max_ms`), whose gauge is in `metrics` from now on.
    pub fn gcs(config: &GcsConfig, metrics: &Arc<Metrics>) -> Result<Self, BlobError> {
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
        let breaker = Breaker::new(
            GCS,
            BreakerSettings::from_ms(
                config.breaker_failures,
                config.breaker_open_min_ms,
                config.breaker_open_max_ms,
            ),
            metrics,
        );
        Ok(Self {
            store: Arc::new(builder.build()?),
            backend: GCS,
            breaker: Some(breaker),
            metrics: Some(metrics.clone()),
        })
    }

    /// Any object store, without a circuit breaker.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            backend: "other",
            breaker: None,
            metrics: None,
        }
    }

    /// `local` or `gcs`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The bucket's circuit, when the store has one (GCS).
    pub fn circuit_state(&self) -> Option<CircuitState> {
        self.breaker.as_ref().map(Breaker::state)
    }

    /// The `/health/ready` details: the backend and its circuit (`not_applicable` for a
    /// local directory). Informational: an open circuit fails file operations fast, it does
    /// not stop the host from serving everything else.
    pub fn health(&self) -> Value {
        let circuit = self.circuit_state();
        json!({
            "backend": self.backend,
            "circuit": circuit.map_or("not_applicable", CircuitState::as_str),
            "status": match circuit {
                None | Some(CircuitState::Closed) => "up",
                Some(_) => "degraded",
            },
        })
    }

    /// Runs one store operation through the circuit breaker, if there is one: refused at
    /// once while it is open, its outcome recorded otherwise.
    async fn guarded<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, object_store::Error>>,
    ) -> Result<T, BlobError> {
        let Some(breaker) = &self.breaker else {
            return Ok(call.await?);
        };
        let upstream = breaker.name();
        if !breaker.is_call_permitted() {
            self.observe(upstream, operation, "circuit_open");
            return Err(BlobError::CircuitOpen { upstream });
        }
        let result = call.await;
        let outcome = match &result {
            Ok(_) => {
                breaker.on_success();
                "ok"
            }
            Err(error) => match upstream_fault(error) {
                Some(true) => {
                    breaker.on_error();
                    tracing::warn!(upstream, operation, %error, "object store call failed");
                    "unavailable"
                }
                Some(false) => {
                    breaker.on_success();
                    "rejected"
                }
                None => "rejected",
            },
        };
        self.observe(upstream, operation, outcome);
        Ok(result?)
    }

    fn observe(&self, upstream: &str, operation: &str, outcome: &str) {
        if let Some(metrics) = &self.metrics {
            metrics.observe_upstream_call(upstream, operation, outcome);
        }
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
        self.guarded("put", self.store.put(path, PutPayload::from(bytes)))
            .await?;
        Ok(())
    }

    pub async fn get(&self, path: &Path) -> Result<Bytes, BlobError> {
        self.guarded("get", async { self.store.get(path).await?.bytes().await })
            .await
    }

    /// Whether an object exists.
    pub async fn exists(&self, path: &Path) -> Result<bool, BlobError> {
        match self.guarded("head", self.store.head(path)).await {
            Ok(_) => Ok(true),
            Err(BlobError::Store(object_store::Error::NotFound { .. })) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes one object; a missing object is not an error.
    pub async fn delete(&self, path: &Path) -> Result<(), BlobError> {
        match self.guarded("delete", self.store.delete(path)).await {
            Ok(()) | Err(BlobError::Store(object_store::Error::NotFound { .. })) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Names of every object a tenant owns.
    pub async fn list_tenant(&self, tenant_id: &str) -> Result<Vec<Path>, BlobError> {
        let prefix = Path::from_iter(["tenants", tenant_id]);
        let metas: Vec<_> = self
            .guarded("list", self.store.list(Some(&prefix)).try_collect())
            .await?;
        Ok(metas.into_iter().map(|m| m.location).collect())
    }

    /// Removes every object a tenant owns; returns how many there were.
    pub async fn delete_tenant(&self, tenant_id: &str) -> Result<usize, BlobError> {
        let paths = self.list_tenant(tenant_id).await?;
        let count = paths.len();
        let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
        let deleted: Vec<Path> = self
            .guarded("delete", self.store.delete_stream(stream).try_collect())
            .await?;
        debug_assert_eq!(deleted.len(), count);
        Ok(count)
    }
}

/// Whether a failed operation says the bucket is unwell (`Some(true)`: 5xx, 408, 429,
/// connection errors and timeouts, all after object_store's retries), that it answered
/// (`Some(false)`: not found, conflicts, preconditions, 401, 403 and other 4xx), or neither
/// (`None`: a request Caravan could not even make, such as an invalid path).
fn upstream_fault(error: &object_store::Error) -> Option<bool> {
    use object_store::Error as E;
    match error {
        E::NotFound { .. }
        | E::AlreadyExists { .. }
        | E::Precondition { .. }
        | E::NotModified { .. }
        | E::PermissionDenied { .. }
        | E::Unauthenticated { .. } => Some(false),
        // object_store keeps the status of other answers inside a private error type; its
        // text ("… non-2xx status code: 400 Bad Request …") is the one public trace of it.
        E::Generic { .. } => Some(!is_client_error(&error.to_string())),
        _ => None,
    }
}

/// Whether an error text reports an HTTP 4xx answer other than 408 and 429.
fn is_client_error(text: &str) -> bool {
    let Some((_, rest)) = text.split_once("status code: ") else {
        return false;
    };
    match rest.get(..3).and_then(|code| code.parse::<u16>().ok()) {
        Some(408 | 429) => false,
        Some(status) => (400..500).contains(&status),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gcs_store_needs_a_bucket_and_names_the_variable() {
        let err = Blobs::gcs(&GcsConfig::default(), &Arc::new(Metrics::new())).unwrap_err();
        assert!(matches!(err, BlobError::Config(_)), "{err}");
        assert!(err.to_string().contains("CARAVAN_GCS_BUCKET"), "{err}");
        assert!(!err.is_unavailable());
    }

    #[test]
    fn a_gcs_store_is_built_without_contacting_the_bucket() {
        let blobs = Blobs::gcs(
            &GcsConfig {
                bucket: Some("caravan-files".to_owned()),
                base_url: "http://127.0.0.1:9".to_owned(),
                anonymous: true,
                ..GcsConfig::default()
            },
            &Arc::new(Metrics::new()),
        )
        .unwrap();
        assert!(format!("{blobs:?}").contains("caravan-files"), "{blobs:?}");
    }

    #[test]
    fn a_malformed_service_account_key_stops_the_store_from_being_built() {
        let err = Blobs::gcs(
            &GcsConfig {
                bucket: Some("caravan-files".to_owned()),
                service_account_key: Some(crate::config::Secret::new("not json")),
                ..GcsConfig::default()
            },
            &Arc::new(Metrics::new()),
        )
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

    #[test]
    fn only_failures_of_the_bucket_count_against_its_circuit() {
        let generic = |text: &str| object_store::Error::Generic {
            store: "GCS",
            source: text.to_owned().into(),
        };
        let retried = generic(
            "Error performing PUT http://127.0.0.1/b/o in 2s, after 5 retries - \
             Server returned non-2xx status code: 503 Service Unavailable: ",
        );
        assert_eq!(upstream_fault(&retried), Some(true));
        let throttled = generic("… Server returned non-2xx status code: 429 Too Many Requests");
        assert_eq!(upstream_fault(&throttled), Some(true));
        let refused = generic("… Server returned non-2xx status code: 400 Bad Request: bad");
        assert_eq!(upstream_fault(&refused), Some(false));
        let connection = generic("error sending request: Connection refused");
        assert_eq!(upstream_fault(&connection), Some(true));
        let missing = object_store::Error::NotFound {
            path: "tenants/a/x".to_owned(),
            source: "404".into(),
        };
        assert_eq!(upstream_fault(&missing), Some(false));
        let denied = object_store::Error::PermissionDenied {
            path: "tenants/a/x".to_owned(),
            source: "403".into(),
        };
        assert_eq!(upstream_fault(&denied), Some(false));
        let unsupported = object_store::Error::NotSupported {
            source: "copy".into(),
        };
        assert_eq!(upstream_fault(&unsupported), None);
    }

    #[test]
    fn an_open_circuit_is_an_unavailable_store() {
        let err = BlobError::CircuitOpen { upstream: GCS };
        assert!(err.is_unavailable());
        assert!(err.to_string().contains("circuit is open"), "{err}");
    }

    #[test]
    fn a_local_store_has_no_circuit_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        assert_eq!(blobs.circuit_state(), None);
        assert_eq!(
            blobs.health(),
            json!({"backend": "local", "circuit": "not_applicable", "status": "up"})
        );
    }
}
