//! The knowledge base: documents a tenant uploads, their text split into chunks, and
//! retrieval over those chunks for the helpdesk.
//!
//! An upload is checked at once (type, content, extractable text) and stored; indexing runs
//! in the background ([`indexer`]): extract, chunk, embed, then one transaction that writes
//! the chunks with their vectors and moves the tenant to its next *generation*. The
//! database is the source of truth; the FAISS index (snapshotted to object storage) and the
//! keyword index are derived from it and rebuilt whenever a host finds them older than the
//! tenant's generation ([`retrieval`]).

pub mod chunk;
pub mod extract;
pub mod fusion;
pub mod indexer;
pub mod keyword;
pub mod retrieval;

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use rand::Rng;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use self::extract::{ExtractError, FileType};
use self::retrieval::Retrieval;
use crate::ai::AiService;
use crate::blobs::{BlobError, Blobs};
use crate::config::KnowledgeConfig;
use crate::error::{Error, FieldError, Result};
use crate::storage::KnowledgeRepo;
use crate::storage::knowledge::{Document, DocumentQuery, KnowledgeStats};
use crate::vectors::VectorIndexes;

pub use self::retrieval::{SearchHit, SearchOutcome, SearchRequest};

/// Characters of a document's text kept on its row (the rest lives in its chunks).
pub const CONTENT_PREVIEW_CHARS: usize = 50_000;

/// Document visibilities: `public` documents may be used for what customers see (the
/// inbound agent, quotes); `private` ones only answer staff in the helpdesk.
pub const VISIBILITIES: &[&str] = &["public", "private"];

/// Document statuses.
pub const STATUSES: &[&str] = &["pending", "indexed", "error"];

/// An upload as the HTTP layer received it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Bytes,
    pub category: Option<String>,
    pub visibility: Option<String>,
    pub tags: Option<String>,
    pub title: Option<String>,
    /// `false` stores the document without indexing it (it stays `pending` until reindexed).
    pub auto_index: bool,
    pub uploaded_by: Option<String>,
}

/// Why an uploaded file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Machine-readable (`unsupported_type`, `content_mismatch`, `encrypted_pdf`…).
    pub code: &'static str,
    pub message: String,
}

/// The errors of knowledge operations: the service's [`Error`], or a refused file.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("{}", .0.message)]
    Rejected(Rejected),
    #[error(transparent)]
    Service(#[from] Error),
}

impl From<ExtractError> for KnowledgeError {
    fn from(err: ExtractError) -> Self {
        Self::Rejected(Rejected {
            code: err.code(),
            message: err.to_string(),
        })
    }
}

/// Documents, indexing and search for every tenant.
pub struct KnowledgeService {
    repo: Arc<dyn KnowledgeRepo>,
    blobs: Blobs,
    ai: Arc<AiService>,
    vectors: Arc<VectorIndexes>,
    retrieval: Retrieval,
    config: KnowledgeConfig,
    /// Wakes an idle indexing worker when a document is uploaded.
    wake: Notify,
}

impl std::fmt::Debug for KnowledgeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl KnowledgeService {
    pub fn new(
        repo: Arc<dyn KnowledgeRepo>,
        blobs: Blobs,
        vectors: Arc<VectorIndexes>,
        ai: Arc<AiService>,
        config: KnowledgeConfig,
    ) -> Self {
        Self {
            retrieval: Retrieval::new(repo.clone(), vectors.clone(), ai.clone()),
            vectors,
            repo,
            blobs,
            ai,
            config,
            wake: Notify::new(),
        }
    }

    pub fn config(&self) -> &KnowledgeConfig {
        &self.config
    }

    /// K2: checks the file (type, content, text), stores it and queues it for indexing.
    pub async fn upload(
        &self,
        tenant_id: &str,
        upload: Upload,
    ) -> std::result::Result<Document, KnowledgeError> {
        let filename = clean_filename(&upload.filename);
        let mut errors = Vec::new();
        let visibility = upload
            .visibility
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or("public")
            .to_ascii_lowercase();
        if !VISIBILITIES.contains(&visibility.as_str()) {
            errors.push(FieldError::body(
                "visibility",
                "must be `public` or `private`",
            ));
        }
        let category = clean_label(upload.category.as_deref()).unwrap_or_else(|| "general".into());
        if category.chars().count() > 64 {
            errors.push(FieldError::body("category", "at most 64 characters"));
        }
        let tags = parse_tags(upload.tags.as_deref());
        if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 50) {
            errors.push(FieldError::body(
                "tags",
                "at most 20 tags of up to 50 characters",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors).into());
        }
        // Reading the text now refuses a bad file while the user still has it open; the
        // worker reads it again from storage, so nothing depends on this copy.
        let bytes = upload.bytes.clone();
        let name = filename.clone();
        let extracted = tokio::task::spawn_blocking(move || extract::extract(&name, &bytes))
            .await
            .map_err(|e| Error::Internal {
                operation: "reading the uploaded document",
                cause: anyhow::anyhow!("extraction task failed: {e}"),
            })??;
        let file_type = extracted.file_type;
        let document_id = new_document_id();
        let path = Blobs::tenant_path(
            tenant_id,
            &format!("knowledge/{document_id}.{}", file_type.as_str()),
        )
        .map_err(|e| Error::blobs("storing the document", e))?;
        let storage_path = path.to_string();
        self.blobs
            .put(&path, upload.bytes.clone())
            .await
            .map_err(|e| Error::blobs("storing the document", e))?;
        let now = Utc::now();
        let title = clean_label(upload.title.as_deref()).unwrap_or_else(|| title_of(&filename));
        let document = Document {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: tenant_id.to_owned(),
            document_id,
            filename,
            title,
            file_type: file_type.as_str().to_owned(),
            file_size: upload.bytes.len() as i64,
            sha256: hex::encode(Sha256::digest(&upload.bytes)),
            storage_path,
            category,
            tags,
            visibility,
            content: None,
            chunk_count: 0,
            // A document uploaded with `auto_index=false` waits for a reindex; `error` with
            // the reason keeps the dashboard from polling it as pending forever.
            status: if upload.auto_index {
                "pending"
            } else {
                "error"
            }
            .to_owned(),
            error_message: (!upload.auto_index).then(|| {
                "Not indexed: uploaded with auto_index=false (reindex it to index it)".to_owned()
            }),
            is_system: false,
            uploaded_by: upload.uploaded_by,
            attempts: 0,
            created_at: now,
            updated_at: now,
            indexed_at: None,
        };
        if let Err(e) = self.repo.insert_document(&document).await {
            // The row is what makes the file reachable: without it the object is litter.
            let _ = self.blobs.delete(&path).await;
            return Err(Error::storage("saving the document", e).into());
        }
        if upload.auto_index {
            self.wake.notify_one();
        }
        tracing::info!(
            tenant_id,
            document_id = %document.document_id,
            file_type = file_type.as_str(),
            size = document.file_size,
            "knowledge document uploaded"
        );
        self.get(tenant_id, &document.id).await.map_err(Into::into)
    }

    /// K1: newest first.
    pub async fn list(&self, tenant_id: &str, query: &DocumentQuery) -> Result<Vec<Document>> {
        self.repo
            .list_documents(tenant_id, query)
            .await
            .map_err(|e| Error::storage("listing documents", e))
    }

    /// K3: by `DOC-…` id or row id.
    pub async fn get(&self, tenant_id: &str, key: &str) -> Result<Document> {
        self.repo
            .get_document(tenant_id, key.trim())
            .await
            .map_err(|e| Error::storage("reading the document", e))?
            .ok_or_else(|| Error::NotFound("Document not found".to_owned()))
    }

    /// K5: changes visibility (and optionally title, category, tags). Search results follow
    /// at once: visibility is read from the row at search time.
    pub async fn update(
        &self,
        tenant_id: &str,
        key: &str,
        patch: DocumentPatch,
    ) -> Result<Document> {
        let mut document = self.get(tenant_id, key).await?;
        let mut errors = Vec::new();
        if let Some(v) = patch.visibility {
            let v = v.trim().to_ascii_lowercase();
            if VISIBILITIES.contains(&v.as_str()) {
                document.visibility = v;
            } else {
                errors.push(FieldError::body(
                    "visibility",
                    "must be `public` or `private`",
                ));
            }
        }
        if let Some(title) = patch.title {
            match clean_label(Some(&title)) {
                Some(t) if t.chars().count() <= 200 => document.title = t,
                _ => errors.push(FieldError::body("title", "1 to 200 characters")),
            }
        }
        if let Some(category) = patch.category {
            match clean_label(Some(&category)) {
                Some(c) if c.chars().count() <= 64 => document.category = c,
                _ => errors.push(FieldError::body("category", "1 to 64 characters")),
            }
        }
        if let Some(tags) = patch.tags {
            let tags: Vec<String> = tags.iter().filter_map(|t| clean_label(Some(t))).collect();
            if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 50) {
                errors.push(FieldError::body(
                    "tags",
                    "at most 20 tags of up to 50 characters",
                ));
            }
            document.tags = tags;
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        document.updated_at = Utc::now();
        self.repo
            .update_document(&document)
            .await
            .map_err(|e| Error::storage("updating the document", e))?
            .ok_or_else(|| Error::NotFound("Document not found".to_owned()))
    }

    /// K4: removes the row, its chunks, their index entries and the stored file.
    pub async fn delete(&self, tenant_id: &str, key: &str) -> Result<Document> {
        let document = self.get(tenant_id, key).await?;
        let change = self
            .repo
            .delete_document(tenant_id, &document.id)
            .await
            .map_err(|e| Error::storage("deleting the document", e))?
            .ok_or_else(|| Error::NotFound("Document not found".to_owned()))?;
        self.retrieval.apply(tenant_id, &change, &[], None).await;
        if let Ok(path) = object_store::path::Path::parse(&document.storage_path)
            && let Err(e) = self.blobs.delete(&path).await
        {
            // The row is gone, so nothing refers to the file any more; a leftover object is
            // removed with its tenant at the latest.
            tracing::warn!(tenant_id, document_id = %document.document_id, error = %e,
                "could not delete a knowledge document's file");
        }
        Ok(document)
    }

    /// K6: the stored file, with the content type of its kind.
    pub async fn download(&self, tenant_id: &str, key: &str) -> Result<(Document, Bytes)> {
        let document = self.get(tenant_id, key).await?;
        let path = object_store::path::Path::parse(&document.storage_path)
            .map_err(|_| Error::NotFound("File not found in storage".to_owned()))?;
        match self.blobs.get(&path).await {
            Ok(bytes) => Ok((document, bytes)),
            Err(BlobError::Store(object_store::Error::NotFound { .. })) => {
                Err(Error::NotFound("File not found in storage".to_owned()))
            }
            Err(e) => Err(Error::blobs("reading the document", e)),
        }
    }

    /// K7: indexes the document again (from its stored file).
    pub async fn reindex(&self, tenant_id: &str, key: &str) -> Result<Document> {
        let document = self.get(tenant_id, key).await?;
        self.repo
            .request_reindex(tenant_id, &document.id, Utc::now())
            .await
            .map_err(|e| Error::storage("queueing the document", e))?;
        self.wake.notify_one();
        self.get(tenant_id, &document.id).await
    }

    /// K10.
    pub async fn stats(&self, tenant_id: &str) -> Result<KnowledgeStats> {
        self.repo
            .knowledge_stats(tenant_id)
            .await
            .map_err(|e| Error::storage("counting documents", e))
    }

    /// K12: `(category, documents)`.
    pub async fn categories(&self, tenant_id: &str) -> Result<Vec<(String, i64)>> {
        self.repo
            .knowledge_categories(tenant_id)
            .await
            .map_err(|e| Error::storage("counting categories", e))
    }

    /// K8, K9 and the helpdesk's retrieval.
    pub async fn search(&self, tenant_id: &str, request: &SearchRequest) -> Result<SearchOutcome> {
        self.retrieval.search(tenant_id, request).await
    }

    /// K11: re-embeds every chunk in the current embedding space when the tenant's vectors
    /// live in another one, then rebuilds both indexes. Returns the indexed documents.
    pub async fn rebuild(&self, tenant_id: &str) -> Result<i64> {
        self.retrieval
            .rebuild(tenant_id, self.config.embed_batch)
            .await?;
        Ok(self.stats(tenant_id).await?.indexed)
    }

    /// The tenant's vector index, for status pages: `(vectors, kind, embedding space)`.
    pub async fn index_status(&self, tenant_id: &str) -> Result<serde_json::Value> {
        self.retrieval.status(tenant_id).await
    }

    /// Forgets a deleted tenant's in-memory indexes.
    pub fn forget_tenant(&self, tenant_id: &str) {
        self.retrieval.forget(tenant_id);
    }
}

/// K5's body.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatch {
    pub visibility: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// `DOC-` and 8 upper-case hex digits.
fn new_document_id() -> String {
    format!("DOC-{:08X}", rand::rng().random::<u32>())
}

/// The file's own name without any directory a browser may have sent, and without control
/// characters; `document` when nothing is left.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "document".to_owned()
    } else {
        cleaned.chars().take(255).collect()
    }
}

fn clean_label(value: Option<&str>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Tags from the form's comma-separated text, trimmed, without empties or repeats.
fn parse_tags(value: Option<&str>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in value.unwrap_or_default().split(',') {
        let tag = tag.trim();
        if !tag.is_empty() && !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.to_owned());
        }
    }
    tags
}

/// A title from a file name: the stem, with separators as spaces.
fn title_of(filename: &str) -> String {
    let stem = filename
        .rsplit_once('.')
        .map(|(stem, _)| stem)
        .filter(|s| !s.is_empty())
        .unwrap_or(filename);
    stem.replace(['_', '-'], " ").trim().to_owned()
}

/// What the content type of a stored document's download is.
pub fn content_type_of(file_type: &str) -> &'static str {
    match file_type {
        "pdf" => FileType::Pdf.content_type(),
        "docx" => FileType::Docx.content_type(),
        "md" => FileType::Md.content_type(),
        "txt" => FileType::Txt.content_type(),
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_directories_and_control_characters() {
        assert_eq!(clean_filename("C:\\Users\\a\\policy.pdf"), "policy.pdf");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\u{0}b.txt"), "ab.txt");
        assert_eq!(clean_filename("  "), "document");
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        assert_eq!(
            parse_tags(Some(" visa, Visa ,, health ")),
            vec!["visa".to_owned(), "health".to_owned()]
        );
        assert!(parse_tags(None).is_empty());
    }

    #[test]
    fn titles_come_from_file_names() {
        assert_eq!(
            title_of("cancellation_policy-2027.md"),
            "cancellation policy 2027"
        );
        assert_eq!(title_of(".hidden"), ".hidden");
    }

    #[test]
    fn document_ids_have_the_api_format() {
        let id = new_document_id();
        assert!(id.starts_with("DOC-") && id.len() == 12, "{id}");
        assert!(
            id[4..]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
    }
}
