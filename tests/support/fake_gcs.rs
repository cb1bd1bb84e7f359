//! A fake Google Cloud Storage on loopback, speaking the wire protocol object_store's GCS
//! client uses, with fault injection for retry and outage tests.
//!
//! object_store 0.14 talks to GCS through the XML API (`{base}/{bucket}/{object}`), not the
//! JSON API, so that is what this fake serves:
//!
//! | request | what it does |
//! |---|---|
//! | `PUT /{bucket}/{object}` | simple upload (`x-goog-if-generation-match: 0` = create only) |
//! | `POST /{bucket}/{object}?uploads` | starts a multipart upload |
//! | `PUT /{bucket}/{object}?partNumber=N&uploadId=U` | one part |
//! | `POST /{bucket}/{object}?uploadId=U` | completes it (`CompleteMultipartUpload` body) |
//! | `DELETE /{bucket}/{object}?uploadId=U` | aborts it |
//! | `GET`, `HEAD /{bucket}/{object}` | download or metadata, `Range: bytes=…` honoured |
//! | `DELETE /{bucket}/{object}` | removes the object (404 when missing) |
//! | `GET /{bucket}?list-type=2` | listing: `prefix`, `delimiter`, `continuation-token`, `start-after`, `max-keys` |
//!
//! Authentication: by default the fake accepts any request, which is how Caravan's
//! `anonymous` setting (object_store's `skip_signature`) reaches it. With
//! [`FakeGcs::start_with_service_account`] it generates a throwaway RSA key and hands out a
//! service-account key file for it; every request must then carry the RS256 JWT that
//! object_store signs itself with that key (it never calls a token endpoint), which the fake
//! verifies against the public half: signature, `kid`, issuer, scope and expiry.
//!
//! Faults: the next N requests can be answered 503 or 429 (with `Retry-After`), every
//! request until [`FakeGcs::heal`], and every answer can be delayed. Every request is counted
//! and logged.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use caravan::config::GcsConfig;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The bucket tests use unless they name another.
pub const BUCKET: &str = "caravan-test";

/// Objects per listing page, as GCS's (1000) but small enough that tests cross pages.
const PAGE_SIZE: usize = 3;

/// A fake GCS server; it stops when dropped.
pub struct FakeGcs {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGcs {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What injected faults answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `503 Service Unavailable`.
    Unavailable,
    /// `429 Too Many Requests` with `Retry-After: <secs>`.
    TooManyRequests { retry_after_secs: u64 },
}

#[derive(Debug, Clone)]
struct Object {
    bytes: Bytes,
    content_type: String,
    generation: u64,
    updated: DateTime<Utc>,
}

impl Object {
    fn etag(&self) -> String {
        format!("\"g{}\"", self.generation)
    }
}

#[derive(Debug)]
struct Upload {
    object: String,
    content_type: String,
    parts: BTreeMap<usize, Bytes>,
}

#[derive(Debug, Default)]
struct Faults {
    /// How many of the next requests fail; `usize::MAX` until healed.
    remaining: usize,
    kind: Option<Fault>,
    latency: Duration,
}

/// The public half of the service account the fake trusts.
struct Trusted {
    key_id: String,
    email: String,
    public_key: Vec<u8>,
}

struct Shared {
    bucket: String,
    objects: Mutex<BTreeMap<String, Object>>,
    uploads: Mutex<HashMap<String, Upload>>,
    faults: Mutex<Faults>,
    requests: AtomicUsize,
    injected: AtomicUsize,
    log: Mutex<Vec<String>>,
    generation: AtomicU64,
    trusted: Option<Trusted>,
}

impl FakeGcs {
    /// A fake holding [`BUCKET`] that accepts requests without credentials.
    pub async fn start() -> Self {
        Self::serve(BUCKET, None).await
    }

    /// A fake holding [`BUCKET`] that requires a JWT signed by a fresh service account;
    /// returns the service-account key file (JSON) for it.
    pub async fn start_with_service_account() -> (Self, String) {
        let key = KeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
        let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).expect("PKCS#8");
        let trusted = Trusted {
            key_id: format!("test-key-{}", uuid::Uuid::new_v4().simple()),
            email: "caravan-test@caravan-test.iam.gserviceaccount.com".to_owned(),
            public_key: key.public_key().as_ref().to_vec(),
        };
        let (key_id, email) = (trusted.key_id.clone(), trusted.email.clone());
        let fake = Self::serve(BUCKET, Some(trusted)).await;
        // The layout of a key file from the Google Cloud console. `token_uri` points at the
        // fake so that a client that did exchange the JWT for a token could never reach
        // Google; object_store does not (its requests carry the self-signed JWT).
        let json = serde_json::json!({
            "type": "service_account",
            "project_id": "caravan-test",
            "private_key_id": key_id,
            "private_key": pem("PRIVATE KEY", pkcs8.as_ref()),
            "client_email": email,
            "client_id": "100000000000000000000",
            "auth_uri": format!("{}/o/oauth2/auth", fake.base_url()),
            "token_uri": format!("{}/token", fake.base_url()),
        });
        (fake, json.to_string())
    }

    async fn serve(bucket: &str, trusted: Option<Trusted>) -> Self {
        let shared = Arc::new(Shared {
            bucket: bucket.to_owned(),
            objects: Mutex::default(),
            uploads: Mutex::default(),
            faults: Mutex::default(),
            requests: AtomicUsize::new(0),
            injected: AtomicUsize::new(0),
            log: Mutex::default(),
            generation: AtomicU64::new(1_700_000_000_000_000),
            trusted,
        });
        let router = axum::Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// `http://127.0.0.1:<port>`, what `CARAVAN_GCS_BASE_URL` should be.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Caravan's GCS settings for this fake: anonymous, with retries quick enough for tests
    /// (10 ms doubling to 50 ms, 5 retries within 2 s, 2 s per request).
    pub fn config(&self) -> GcsConfig {
        GcsConfig {
            bucket: Some(self.shared.bucket.clone()),
            base_url: self.base_url(),
            anonymous: true,
            max_retries: 5,
            initial_backoff_ms: 10,
            max_backoff_ms: 50,
            retry_timeout_ms: 2_000,
            request_timeout_ms: 2_000,
            ..GcsConfig::default()
        }
    }

    /// Answers the next `n` requests with `503`.
    pub fn fail_next(&self, n: usize) {
        self.set_faults(n, Fault::Unavailable);
    }

    /// Answers the next `n` requests with `429` and `Retry-After`.
    pub fn throttle_next(&self, n: usize, retry_after_secs: u64) {
        self.set_faults(n, Fault::TooManyRequests { retry_after_secs });
    }

    /// Answers every request with `fault` until [`FakeGcs::heal`].
    pub fn fail_always(&self, fault: Fault) {
        self.set_faults(usize::MAX, fault);
    }

    /// Stops injecting failures and latency.
    pub fn heal(&self) {
        *self.shared.faults.lock().unwrap() = Faults::default();
    }

    /// Delays every answer (faults included) by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults.lock().unwrap().latency = latency;
    }

    fn set_faults(&self, n: usize, kind: Fault) {
        let mut faults = self.shared.faults.lock().unwrap();
        faults.remaining = n;
        faults.kind = Some(kind);
    }

    /// Requests seen so far, injected failures included.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Requests answered with an injected fault so far.
    pub fn injected_failures(&self) -> usize {
        self.shared.injected.load(Ordering::SeqCst)
    }

    /// Every request seen, as `METHOD bucket/object?query` (the object name decoded),
    /// oldest first.
    pub fn request_log(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Names of the objects in the bucket, in order.
    pub fn object_names(&self) -> Vec<String> {
        self.shared
            .objects
            .lock()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    /// The names under `prefix`.
    pub fn names_under(&self, prefix: &str) -> Vec<String> {
        self.object_names()
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .collect()
    }

    /// An object's content.
    pub fn object(&self, name: &str) -> Option<Bytes> {
        let objects = self.shared.objects.lock().unwrap();
        objects.get(name).map(|o| o.bytes.clone())
    }

    /// Multipart uploads started and neither completed nor aborted.
    pub fn open_uploads(&self) -> usize {
        self.shared.uploads.lock().unwrap().len()
    }
}

/// PEM armour around DER bytes.
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let path = uri.path().trim_start_matches('/');
    let (bucket, object) = match path.split_once('/') {
        Some((b, o)) => (percent_decode(b), Some(percent_decode(o))),
        None => (percent_decode(path), None),
    };
    shared.log.lock().unwrap().push(format!(
        "{method} {bucket}/{}{}",
        object.as_deref().unwrap_or_default(),
        uri.query().map(|q| format!("?{q}")).unwrap_or_default()
    ));
    let (latency, fault) = {
        let mut faults = shared.faults.lock().unwrap();
        let fault = match faults.kind {
            Some(kind) if faults.remaining > 0 => {
                if faults.remaining != usize::MAX {
                    faults.remaining -= 1;
                }
                Some(kind)
            }
            _ => None,
        };
        (faults.latency, fault)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(fault) = fault {
        shared.injected.fetch_add(1, Ordering::SeqCst);
        return match fault {
            Fault::Unavailable => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "We encountered an internal error. Please try again.",
            ),
            Fault::TooManyRequests { retry_after_secs } => {
                let mut res = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "SlowDown",
                    "The rate of requests is too high.",
                );
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                res
            }
        };
    }
    if let Some(trusted) = &shared.trusted
        && let Err(why) = verify_jwt(trusted, &headers)
    {
        return error(StatusCode::UNAUTHORIZED, "AuthenticationRequired", &why);
    }

    if bucket != shared.bucket {
        return error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        );
    }
    match (method, object) {
        (Method::GET, None) => list(&shared, &query),
        (Method::PUT, Some(name)) if query.contains_key("uploadId") => {
            put_part(&shared, &name, &query, body)
        }
        (Method::PUT, Some(_)) if headers.contains_key("x-goog-copy-source") => error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "copying is not supported by the fake",
        ),
        (Method::PUT, Some(name)) => put(&shared, name, &headers, body),
        (Method::POST, Some(name)) if query.contains_key("uploads") => {
            start_upload(&shared, name, &headers)
        }
        (Method::POST, Some(name)) if query.contains_key("uploadId") => {
            complete_upload(&shared, &name, &query, &body)
        }
        (Method::DELETE, Some(_)) if query.contains_key("uploadId") => {
            let id = &query["uploadId"];
            match shared.uploads.lock().unwrap().remove(id) {
                Some(_) => StatusCode::NO_CONTENT.into_response(),
                None => no_such_upload(),
            }
        }
        (Method::DELETE, Some(name)) => match shared.objects.lock().unwrap().remove(&name) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => no_such_key(),
        },
        (m @ (Method::GET | Method::HEAD), Some(name)) => get(&shared, &name, &headers, m),
        (m, _) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("{m} is not supported here by the fake"),
        ),
    }
}

fn put(shared: &Shared, name: String, headers: &HeaderMap, body: Bytes) -> Response {
    let mut objects = shared.objects.lock().unwrap();
    if let Some(expected) = headers.get("x-goog-if-generation-match") {
        let current = objects.get(&name).map_or(0, |o| o.generation);
        if expected.to_str().ok() != Some(current.to_string().as_str()) {
            return error(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.",
            );
        }
    }
    let object = Object {
        bytes: body,
        content_type: content_type(headers),
        generation: shared.generation.fetch_add(1, Ordering::SeqCst),
        updated: Utc::now(),
    };
    let res = stored(&object);
    objects.insert(name, object);
    res
}

/// The answer to an upload: the new object's ETag and generation.
fn stored(object: &Object) -> Response {
    let mut res = StatusCode::OK.into_response();
    let h = res.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_str(&object.etag()).unwrap());
    h.insert("x-goog-generation", HeaderValue::from(object.generation));
    res
}

fn start_upload(shared: &Shared, name: String, headers: &HeaderMap) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    shared.uploads.lock().unwrap().insert(
        id.clone(),
        Upload {
            object: name.clone(),
            content_type: content_type(headers),
            parts: BTreeMap::new(),
        },
    );
    xml(format!(
        "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Bucket>{}</Bucket><Key>{}</Key><UploadId>{id}</UploadId>\
         </InitiateMultipartUploadResult>",
        escape(&shared.bucket),
        escape(&name)
    ))
}

fn put_part(shared: &Shared, name: &str, query: &HashMap<String, String>, body: Bytes) -> Response {
    let Some(number) = query
        .get("partNumber")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "partNumber is required",
        );
    };
    let mut uploads = shared.uploads.lock().unwrap();
    let Some(upload) = uploads.get_mut(&query["uploadId"]) else {
        return no_such_upload();
    };
    if upload.object != name {
        return no_such_upload();
    }
    upload.parts.insert(number, body);
    let mut res = StatusCode::OK.into_response();
    res.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"part-{number}\"")).unwrap(),
    );
    res
}

fn complete_upload(
    shared: &Shared,
    name: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    let requested = tag_values(&String::from_utf8_lossy(body), "PartNumber");
    let Some(upload) = shared.uploads.lock().unwrap().remove(&query["uploadId"]) else {
        return no_such_upload();
    };
    if upload.object != name {
        return no_such_upload();
    }
    let mut bytes = Vec::new();
    for number in requested {
        let Some(part) = number.parse().ok().and_then(|n| upload.parts.get(&n)) else {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidPart",
                &format!("part {number} was not uploaded"),
            );
        };
        bytes.extend_from_slice(part);
    }
    let object = Object {
        bytes: Bytes::from(bytes),
        content_type: upload.content_type,
        generation: shared.generation.fetch_add(1, Ordering::SeqCst),
        updated: Utc::now(),
    };
    let etag = object.etag();
    let generation = object.generation;
    shared
        .objects
        .lock()
        .unwrap()
        .insert(name.to_owned(), object);
    let mut res = xml(format!(
        "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
        escape(&shared.bucket),
        escape(name),
        escape(&etag)
    ));
    res.headers_mut()
        .insert("x-goog-generation", HeaderValue::from(generation));
    res
}

fn get(shared: &Shared, name: &str, headers: &HeaderMap, method: Method) -> Response {
    let Some(object) = shared.objects.lock().unwrap().get(name).cloned() else {
        return no_such_key();
    };
    let total = object.bytes.len();
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(spec) => match parse_range(spec, total) {
            Some(r) => Some(r),
            None => {
                return error(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "InvalidRange",
                    "The requested range cannot be satisfied.",
                );
            }
        },
        None => None,
    };
    let (status, body) = match &range {
        Some(r) => (
            StatusCode::PARTIAL_CONTENT,
            object.bytes.slice(r.start..r.end),
        ),
        None => (StatusCode::OK, object.bytes.clone()),
    };
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&object.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::ETAG, HeaderValue::from_str(&object.etag()).unwrap());
    h.insert(
        header::LAST_MODIFIED,
        HeaderValue::from_str(
            &object
                .updated
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        )
        .unwrap(),
    );
    h.insert("x-goog-generation", HeaderValue::from(object.generation));
    h.insert("x-goog-stored-content-length", HeaderValue::from(total));
    if let Some(r) = &range {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {}-{}/{total}", r.start, r.end - 1)).unwrap(),
        );
    }
    if method == Method::HEAD {
        return (status, h).into_response();
    }
    (status, h, body).into_response()
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` as a half-open range within `total`.
fn parse_range(spec: &str, total: usize) -> Option<std::ops::Range<usize>> {
    let (first, last) = spec.strip_prefix("bytes=")?.split_once('-')?;
    let range = match (first.trim(), last.trim()) {
        ("", n) => total.saturating_sub(n.parse().ok()?)..total,
        (a, "") => a.parse().ok()?..total,
        (a, b) => a.parse().ok()?..(b.parse::<usize>().ok()? + 1).min(total),
    };
    (range.start < range.end).then_some(range)
}

fn list(shared: &Shared, query: &HashMap<String, String>) -> Response {
    if query.get("list-type").map(String::as_str) != Some("2") {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "the fake only serves list-type=2",
        );
    }
    let prefix = query.get("prefix").cloned().unwrap_or_default();
    let delimiter = query.get("delimiter").filter(|d| !d.is_empty());
    let after = match query.get("continuation-token") {
        Some(token) => match URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(key) => Some(key),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    "invalid continuation-token",
                );
            }
        },
        None => query.get("start-after").cloned(),
    };
    let max_keys = query
        .get("max-keys")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(PAGE_SIZE)
        .clamp(1, PAGE_SIZE);

    // Entries in key order: objects, and with a delimiter the prefixes they roll up into;
    // a page holds `max_keys` entries of either kind, as GCS counts them.
    let objects = shared.objects.lock().unwrap();
    let mut entries: Vec<(String, Option<Object>)> = Vec::new();
    for (name, object) in objects.range(prefix.clone()..) {
        if !name.starts_with(&prefix) {
            break;
        }
        let rest = &name[prefix.len()..];
        match delimiter.and_then(|d| rest.find(d.as_str()).map(|i| i + d.len())) {
            Some(end) => {
                let common = format!("{prefix}{}", &rest[..end]);
                if entries.last().is_none_or(|(last, _)| *last != common) {
                    entries.push((common, None));
                }
            }
            None => entries.push((name.clone(), Some(object.clone()))),
        }
    }
    drop(objects);
    let start = match &after {
        Some(after) => entries.partition_point(|(key, _)| key <= after),
        None => 0,
    };
    let page = &entries[start..entries.len().min(start + max_keys)];
    let truncated = start + page.len() < entries.len();

    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01\">\
         <Name>{}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{max_keys}</MaxKeys>\
         <IsTruncated>{truncated}</IsTruncated>",
        escape(&shared.bucket),
        escape(&prefix),
        page.len()
    );
    if let Some(d) = delimiter {
        out.push_str(&format!("<Delimiter>{}</Delimiter>", escape(d)));
    }
    for (key, object) in page {
        match object {
            Some(o) => out.push_str(&format!(
                "<Contents><Key>{}</Key><Generation>{}</Generation>\
                 <MetaGeneration>1</MetaGeneration><LastModified>{}</LastModified>\
                 <ETag>{}</ETag><Size>{}</Size></Contents>",
                escape(key),
                o.generation,
                o.updated.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                escape(&o.etag()),
                o.bytes.len()
            )),
            None => out.push_str(&format!(
                "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
                escape(key)
            )),
        }
    }
    if truncated && let Some((last, _)) = page.last() {
        out.push_str(&format!(
            "<NextContinuationToken>{}</NextContinuationToken>",
            URL_SAFE_NO_PAD.encode(last)
        ));
    }
    out.push_str("</ListBucketResult>");
    xml(out)
}

/// Checks the `Authorization: Bearer <JWT>` object_store signs with the service account's
/// key: RS256 over `header.claims`, the key id, the issuer, a storage scope and the expiry.
fn verify_jwt(trusted: &Trusted, headers: &HeaderMap) -> Result<(), String> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty())
        .ok_or("Anonymous caller does not have storage access.")?;
    let mut parts = token.split('.');
    let (Some(head), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("The bearer token is not a JWT.".to_owned());
    };
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| format!("JWT part is not base64url: {e}"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("JWT part is not JSON: {e}"))
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| format!("JWT signature is not base64url: {e}"))?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &trusted.public_key)
        .verify(format!("{head}.{claims}").as_bytes(), &signature)
        .map_err(|_| "Invalid JWT signature.".to_owned())?;
    let head = decode(head)?;
    let claims = decode(claims)?;
    if head["alg"] != "RS256" || head["kid"] != trusted.key_id.as_str() {
        return Err(format!("Unexpected JWT header {head}."));
    }
    if claims["iss"] != trusted.email.as_str() {
        return Err(format!("Unknown issuer {}.", claims["iss"]));
    }
    // Cloud Storage accepts its own scopes and the all-of-Cloud one (object_store's).
    let scope = claims["scope"].as_str().unwrap_or_default();
    let covers = |s: &str| {
        s.starts_with("https://www.googleapis.com/auth/devstorage.")
            || s == "https://www.googleapis.com/auth/cloud-platform"
    };
    if !scope.split(' ').any(covers) {
        return Err(format!("The scope `{scope}` does not cover Cloud Storage."));
    }
    let exp = claims["exp"].as_i64().unwrap_or_default();
    if exp <= Utc::now().timestamp() {
        return Err("The JWT has expired.".to_owned());
    }
    Ok(())
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned()
}

/// The text of every `<tag>…</tag>` in `xml`, in order.
fn tag_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut values = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else { break };
        values.push(rest[..end].trim().to_owned());
        rest = &rest[end + close.len()..];
    }
    values
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn xml(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")],
        body,
    )
        .into_response()
}

/// An error in the XML API's shape.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")],
        format!(
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>\
             <Message>{}</Message></Error>",
            escape(message)
        ),
    )
        .into_response()
}

fn no_such_key() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NoSuchKey",
        "The specified key does not exist.",
    )
}

fn no_such_upload() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NoSuchUpload",
        "The requested upload was not found.",
    )
}
