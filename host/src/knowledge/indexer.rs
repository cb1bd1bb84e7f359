//! The indexing worker: takes pending documents (on any host, under a lease), reads their
//! text from the stored file, chunks and embeds it, and stores the chunks with their vectors.
//!
//! A file that cannot be read fails the document at once (`error` with the reason); an
//! outage (object storage, embeddings, database) puts it back to `pending` with exponential
//! backoff, and after the configured attempts marks it `error`. A worker that dies loses
//! nothing: its lease runs out and another worker takes the document again.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::KnowledgeService;
use super::chunk::{ChunkOptions, chunk};
use super::extract;
use crate::blobs::BlobError;
use crate::retry::{Retry, RetryPolicy};
use crate::storage::StorageError;
use crate::storage::knowledge::{Document, NewChunk};

/// Why one indexing attempt failed.
enum Failure {
    /// The file itself is the problem; another attempt would fail the same way.
    Permanent(String),
    /// Something outside the document failed; a later attempt may succeed.
    Transient(String),
}

impl KnowledgeService {
    /// Starts this host's indexing workers and the periodic snapshot of changed indexes.
    pub fn spawn_workers(self: &Arc<Self>) {
        for n in 0..self.config.workers {
            let service = self.clone();
            tokio::spawn(async move {
                tracing::debug!(worker = n, "knowledge worker started");
                service.work().await;
            });
        }
        let service = self.clone();
        let every = Duration::from_secs(self.config.snapshot_interval_secs.max(1));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                service.retrieval_snapshot().await;
            }
        });
    }

    async fn work(&self) {
        let idle = Duration::from_millis(self.config.poll_interval_ms.max(10));
        loop {
            match self.index_next().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "knowledge worker: cannot claim work"),
            }
            // Uploads wake a worker at once; retries fall due by the clock.
            let _ = tokio::time::timeout(idle, self.wake.notified()).await;
        }
    }

    /// Indexes every document that is due now, one after another; returns how many were
    /// handled. Tests use it to wait for indexing deterministically.
    pub async fn drain(&self) -> Result<usize, StorageError> {
        let mut handled = 0;
        while self.index_next().await? {
            handled += 1;
        }
        Ok(handled)
    }

    /// Writes changed vector indexes to object storage.
    pub async fn retrieval_snapshot(&self) -> usize {
        self.vectors.snapshot_all().await
    }

    /// Claims and indexes one due document; `false` when none is due.
    async fn index_next(&self) -> Result<bool, StorageError> {
        let now = Utc::now();
        let lease = now + chrono::Duration::seconds(self.config.lease_secs as i64);
        let Some(document) = self.repo.claim_pending(now, lease).await? else {
            return Ok(false);
        };
        let tenant_id = document.tenant_id.clone();
        let outcome = self.index(&document).await;
        let now = Utc::now();
        match outcome {
            Ok(chunks) => {
                tracing::info!(
                    tenant_id,
                    document_id = %document.document_id,
                    chunks,
                    attempt = document.attempts,
                    "knowledge document indexed"
                );
            }
            Err(Failure::Permanent(message)) => {
                tracing::info!(tenant_id, document_id = %document.document_id, %message,
                    "knowledge document cannot be indexed");
                self.repo
                    .fail_indexing(&tenant_id, &document.id, &message, None, now)
                    .await?;
            }
            Err(Failure::Transient(message)) => {
                let wait = self.retry_policy().next_wait(
                    document.attempts.max(1) as u32,
                    Retry::Transient { after: None },
                    rand::random::<f64>(),
                );
                let retry_at =
                    wait.map(|w| now + chrono::Duration::from_std(w).unwrap_or_default());
                let message = match retry_at {
                    Some(_) => format!("Indexing will be retried: {message}"),
                    None => format!(
                        "Indexing failed after {} attempts: {message}",
                        document.attempts
                    ),
                };
                tracing::warn!(tenant_id, document_id = %document.document_id, %message,
                    "knowledge indexing attempt failed");
                self.repo
                    .fail_indexing(&tenant_id, &document.id, &message, retry_at, now)
                    .await?;
            }
        }
        Ok(true)
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.config.max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.config.initial_backoff_ms),
            max_backoff: Duration::from_millis(self.config.max_backoff_ms),
            attempt_timeout: Duration::from_secs(self.config.lease_secs),
        }
    }

    /// One attempt: returns the number of chunks stored.
    async fn index(&self, document: &Document) -> Result<usize, Failure> {
        let tenant_id = document.tenant_id.as_str();
        let path = object_store::path::Path::parse(&document.storage_path)
            .map_err(|e| Failure::Permanent(format!("invalid storage path: {e}")))?;
        let bytes = match self.blobs.get(&path).await {
            Ok(bytes) => bytes,
            Err(BlobError::Store(object_store::Error::NotFound { .. })) => {
                return Err(Failure::Permanent("File not found in storage".to_owned()));
            }
            Err(e) => return Err(Failure::Transient(format!("file storage: {e}"))),
        };
        let filename = document.filename.clone();
        let options = ChunkOptions {
            max_words: self.config.chunk_words.max(20),
            overlap_words: self.config.chunk_overlap_words,
        };
        let (text, chunks) = tokio::task::spawn_blocking(move || {
            let extracted = extract::extract(&filename, &bytes)?;
            let chunks = chunk(&extracted.text, &options);
            Ok::<_, extract::ExtractError>((extracted.text, chunks))
        })
        .await
        .map_err(|e| Failure::Transient(format!("extraction task: {e}")))?
        .map_err(|e| Failure::Permanent(e.to_string()))?;
        if chunks.is_empty() {
            return Err(Failure::Permanent(
                "The document contains no text that can be indexed".to_owned(),
            ));
        }
        let state = self
            .repo
            .knowledge_state(tenant_id)
            .await
            .map_err(|e| Failure::Transient(format!("database: {e}")))?;
        // New vectors join the space the tenant's index already lives in; the first
        // document of a tenant picks the current one.
        let space = state
            .embedding_source
            .unwrap_or_else(|| self.ai.preferred_embed_source().id());
        let mut vectors = Vec::with_capacity(chunks.len());
        for group in chunks.chunks(self.config.embed_batch.max(1)) {
            let texts: Vec<&str> = group.iter().map(|c| c.content.as_str()).collect();
            let embedded = self
                .ai
                .embed_in(&space, &texts)
                .await
                .map_err(|e| Failure::Transient(format!("embeddings: {e}")))?;
            vectors.extend(embedded);
        }
        let rows: Vec<NewChunk> = chunks
            .iter()
            .zip(vectors)
            .map(|(c, embedding)| NewChunk {
                chunk_index: c.index as i32,
                heading: c.heading.clone(),
                content: c.content.clone(),
                word_count: c.word_count as i32,
                embedding,
            })
            .collect();
        let preview: String = text.chars().take(super::CONTENT_PREVIEW_CHARS).collect();
        let change = match self
            .repo
            .finish_indexing(tenant_id, &document.id, &preview, &rows, &space, Utc::now())
            .await
        {
            Ok(Some(change)) => change,
            // Deleted while it was being indexed: nothing to keep.
            Ok(None) => return Ok(0),
            Err(StorageError::Conflict { .. }) => {
                return Err(Failure::Transient(
                    "the index changed its embedding space meanwhile".to_owned(),
                ));
            }
            Err(e) => return Err(Failure::Transient(format!("database: {e}"))),
        };
        let added: Vec<(i64, String, Vec<f32>)> = change
            .added
            .iter()
            .zip(rows)
            .map(|(id, row)| (*id, row.content, row.embedding))
            .collect();
        self.retrieval
            .apply(tenant_id, &change, &added, Some(&space))
            .await;
        Ok(added.len())
    }
}
