//! The knowledge area: uploaded documents, their chunks with embeddings, and the per-tenant
//! state (generation, embedding space) that keeps in-memory indexes honest across hosts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StorageError;

/// A knowledge document (the uploaded file's metadata and indexing state).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: String,
    pub tenant_id: String,
    /// `DOC-XXXXXXXX`, unique per tenant.
    pub document_id: String,
    pub filename: String,
    pub title: String,
    /// `txt`, `md`, `pdf` or `docx`.
    pub file_type: String,
    pub file_size: i64,
    pub sha256: String,
    /// Object-store key of the file as uploaded.
    pub storage_path: String,
    pub category: String,
    pub tags: Vec<String>,
    /// `public` or `private`.
    pub visibility: String,
    /// The first 50 000 characters of the text; `None` in lists and before indexing.
    pub content: Option<String>,
    pub chunk_count: i32,
    /// `pending`, `indexed` or `error`.
    pub status: String,
    pub error_message: Option<String>,
    pub is_system: bool,
    pub uploaded_by: Option<String>,
    /// Indexing attempts so far.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub indexed_at: Option<DateTime<Utc>>,
}

/// Filters of the document list (exact matches; `None` = any).
#[derive(Debug, Clone, Default)]
pub struct DocumentQuery {
    pub category: Option<String>,
    pub status: Option<String>,
    pub visibility: Option<String>,
}

/// A chunk about to be stored by [`KnowledgeRepo::finish_indexing`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewChunk {
    pub chunk_index: i32,
    pub heading: Option<String>,
    pub content: String,
    pub word_count: i32,
    pub embedding: Vec<f32>,
}

/// A stored chunk, as index builds need it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChunk {
    /// The vector id in the tenant's index.
    pub id: i64,
    pub content: String,
    /// `None` when the chunk was never embedded.
    pub embedding: Option<Vec<f32>>,
    pub embedding_source: Option<String>,
}

/// A chunk with its document's metadata: what search results show.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkHit {
    pub id: i64,
    /// The document's row id.
    pub document_row_id: String,
    /// `DOC-XXXXXXXX`.
    pub document_id: String,
    pub filename: String,
    pub title: String,
    pub category: String,
    pub visibility: String,
    pub chunk_index: i32,
    pub heading: Option<String>,
    pub content: String,
}

/// A tenant's knowledge state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnowledgeState {
    /// Grows with every change to the tenant's chunks; 0 before the first.
    pub generation: i64,
    /// The embedding space of the tenant's vectors (`EmbedSource::id`); `None` before the
    /// first indexed document.
    pub embedding_source: Option<String>,
}

/// What a change to a tenant's chunks did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkChange {
    /// The tenant's generation after the change.
    pub generation: i64,
    /// Ids of the chunks written, in chunk order.
    pub added: Vec<i64>,
    /// Ids of the chunks removed.
    pub removed: Vec<i64>,
}

/// Counts for `GET /knowledge/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnowledgeStats {
    pub total: i64,
    pub indexed: i64,
    pub pending: i64,
    pub error: i64,
    pub public: i64,
    pub private: i64,
    /// The latest change to any document.
    pub last_updated: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait KnowledgeRepo: Send + Sync {
    async fn insert_document(&self, document: &Document) -> Result<(), StorageError>;

    /// By `document_id` (any case) or row id, with its content.
    async fn get_document(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<Option<Document>, StorageError>;

    /// Newest first, without content.
    async fn list_documents(
        &self,
        tenant_id: &str,
        query: &DocumentQuery,
    ) -> Result<Vec<Document>, StorageError>;

    /// Saves title, category, tags and visibility; returns the stored document.
    async fn update_document(&self, document: &Document) -> Result<Option<Document>, StorageError>;

    /// Deletes the document and its chunks; `None` when there was no such document.
    async fn delete_document(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<ChunkChange>, StorageError>;

    /// Takes the oldest due `pending` document of any tenant whose lease (if any) ran out,
    /// with one more attempt and a lease until `lease_until`.
    async fn claim_pending(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Document>, StorageError>;

    /// Replaces the document's chunks by `chunks` (embedded in `embedding_source`), marks
    /// it `indexed` with `content`, and moves the tenant to the next generation, in one
    /// transaction. `None` when the document is gone (deleted while it was indexed).
    /// A tenant whose vectors live in another space answers `Conflict`
    /// (`knowledge_state_embedding_source`): a rebuild changed it meanwhile.
    async fn finish_indexing(
        &self,
        tenant_id: &str,
        id: &str,
        content: &str,
        chunks: &[NewChunk],
        embedding_source: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<ChunkChange>, StorageError>;

    /// Records a failed attempt: `pending` again at `retry_at`, or `error` for good.
    async fn fail_indexing(
        &self,
        tenant_id: &str,
        id: &str,
        message: &str,
        retry_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Puts the document back to `pending` with a fresh attempt budget.
    async fn request_reindex(
        &self,
        tenant_id: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    async fn knowledge_state(&self, tenant_id: &str) -> Result<KnowledgeState, StorageError>;

    /// Every chunk of the tenant with its embedding, by id.
    async fn load_chunks(&self, tenant_id: &str) -> Result<Vec<StoredChunk>, StorageError>;

    /// The chunks with these ids and their documents (missing ids are skipped).
    async fn chunk_hits(&self, tenant_id: &str, ids: &[i64])
    -> Result<Vec<ChunkHit>, StorageError>;

    /// Stores new embeddings for existing chunks, sets the tenant's embedding space to
    /// `embedding_source` and moves it to the next generation. Returns the generation.
    async fn replace_embeddings(
        &self,
        tenant_id: &str,
        embeddings: &[(i64, Vec<f32>)],
        embedding_source: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, StorageError>;

    async fn knowledge_stats(&self, tenant_id: &str) -> Result<KnowledgeStats, StorageError>;

    /// `(category, documents)`, by name.
    async fn knowledge_categories(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<(String, i64)>, StorageError>;
}

/// The knowledge repository, written once for both backends (see
/// `storage::inbound::inbound_repos`). `$claim_lock` is appended to the claim's inner
/// `SELECT`; `$ids_in` is the condition that matches `c.id` against the JSON array in `$2`.
macro_rules! knowledge_repos {
    ($db:ident, $claim_lock:expr, $ids_in:expr) => {
        mod shared_impl {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use sqlx::AssertSqlSafe;

            use super::{classify, commit};
            use crate::storage::knowledge::shared::{self, ChunkRow, DocumentRow, HitRow};
            use crate::storage::knowledge::{
                ChunkChange, ChunkHit, Document, DocumentQuery, KnowledgeRepo, KnowledgeState,
                KnowledgeStats, NewChunk, StoredChunk,
            };
            use crate::storage::{Scope, StorageError};

            type Tx = sqlx::Transaction<'static, super::Db>;

            /// The tenant's state row (defaults when it has none yet).
            async fn state(tx: &mut Tx, tenant_id: &str) -> Result<KnowledgeState, sqlx::Error> {
                let row: Option<(i64, Option<String>)> = sqlx::query_as(
                    "SELECT generation, embedding_source FROM knowledge_state WHERE tenant_id = $1",
                )
                .bind(tenant_id)
                .fetch_optional(&mut **tx)
                .await?;
                Ok(row
                    .map(|(generation, embedding_source)| KnowledgeState {
                        generation,
                        embedding_source,
                    })
                    .unwrap_or_default())
            }

            /// Deletes a document's chunks; returns their ids (the vectors to remove).
            async fn delete_chunks(
                tx: &mut Tx,
                tenant_id: &str,
                document_id: &str,
            ) -> Result<Vec<i64>, sqlx::Error> {
                sqlx::query_scalar(
                    "DELETE FROM knowledge_chunks WHERE tenant_id = $1 AND document_id = $2 \
                     RETURNING id",
                )
                .bind(tenant_id)
                .bind(document_id)
                .fetch_all(&mut **tx)
                .await
            }

            /// Moves the tenant to its next generation and allocates `count` chunk ids;
            /// returns the first id and the new generation. `source`, when given, becomes
            /// the tenant's embedding space.
            async fn bump(
                tx: &mut Tx,
                tenant_id: &str,
                count: i64,
                source: Option<&str>,
                at: DateTime<Utc>,
            ) -> Result<(i64, i64), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO knowledge_state (tenant_id, updated_at) VALUES ($1, $2) \
                     ON CONFLICT (tenant_id) DO NOTHING",
                )
                .bind(tenant_id)
                .bind(at)
                .execute(&mut **tx)
                .await?;
                sqlx::query_as(
                    "UPDATE knowledge_state SET next_chunk_id = next_chunk_id + $2, \
                     generation = generation + 1, \
                     embedding_source = COALESCE($3, embedding_source), updated_at = $4 \
                     WHERE tenant_id = $1 RETURNING next_chunk_id - $2, generation",
                )
                .bind(tenant_id)
                .bind(count)
                .bind(source)
                .bind(at)
                .fetch_one(&mut **tx)
                .await
            }

            #[async_trait]
            impl KnowledgeRepo for super::$db {
                async fn insert_document(&self, d: &Document) -> Result<(), StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(&d.tenant_id)).await?;
                    sqlx::query(shared::INSERT_DOCUMENT)
                        .bind(&d.id)
                        .bind(&d.tenant_id)
                        .bind(&d.document_id)
                        .bind(&d.filename)
                        .bind(&d.title)
                        .bind(&d.file_type)
                        .bind(d.file_size)
                        .bind(&d.sha256)
                        .bind(&d.storage_path)
                        .bind(&d.category)
                        .bind(shared::tags_text(&d.tags))
                        .bind(&d.visibility)
                        .bind(&d.content)
                        .bind(d.chunk_count)
                        .bind(&d.status)
                        .bind(&d.error_message)
                        .bind(d.is_system)
                        .bind(&d.uploaded_by)
                        .bind(d.attempts)
                        .bind(d.created_at)
                        .bind(d.updated_at)
                        .bind(d.indexed_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    commit(tx).await
                }

                async fn get_document(
                    &self,
                    tenant_id: &str,
                    key: &str,
                ) -> Result<Option<Document>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let row: Option<DocumentRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {}, content FROM knowledge_documents \
                         WHERE tenant_id = $1 AND (document_id = upper($2) OR id = $2)",
                        shared::DOCUMENT_COLUMNS
                    )))
                    .bind(tenant_id)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    row.map(TryInto::try_into).transpose()
                }

                async fn list_documents(
                    &self,
                    tenant_id: &str,
                    query: &DocumentQuery,
                ) -> Result<Vec<Document>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let rows: Vec<DocumentRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {}, NULL AS content FROM knowledge_documents \
                         WHERE tenant_id = $1 AND ($2 IS NULL OR category = $2) \
                         AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR visibility = $4) \
                         ORDER BY created_at DESC, id",
                        shared::DOCUMENT_COLUMNS
                    )))
                    .bind(tenant_id)
                    .bind(&query.category)
                    .bind(&query.status)
                    .bind(&query.visibility)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn update_document(
                    &self,
                    d: &Document,
                ) -> Result<Option<Document>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(&d.tenant_id)).await?;
                    let row: Option<DocumentRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "UPDATE knowledge_documents SET title = $3, category = $4, tags = $5, \
                         visibility = $6, updated_at = $7 WHERE tenant_id = $1 AND id = $2 \
                         RETURNING {}, content",
                        shared::DOCUMENT_COLUMNS
                    )))
                    .bind(&d.tenant_id)
                    .bind(&d.id)
                    .bind(&d.title)
                    .bind(&d.category)
                    .bind(shared::tags_text(&d.tags))
                    .bind(&d.visibility)
                    .bind(d.updated_at)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    row.map(TryInto::try_into).transpose()
                }

                async fn delete_document(
                    &self,
                    tenant_id: &str,
                    id: &str,
                ) -> Result<Option<ChunkChange>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let removed = delete_chunks(&mut tx, tenant_id, id).await.map_err(classify)?;
                    let deleted = sqlx::query(
                        "DELETE FROM knowledge_documents WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected()
                        > 0;
                    if !deleted {
                        return Ok(None);
                    }
                    let generation = if removed.is_empty() {
                        state(&mut tx, tenant_id).await.map_err(classify)?.generation
                    } else {
                        bump(&mut tx, tenant_id, 0, None, Utc::now())
                            .await
                            .map_err(classify)?
                            .1
                    };
                    commit(tx).await?;
                    Ok(Some(ChunkChange {
                        generation,
                        added: Vec::new(),
                        removed,
                    }))
                }

                async fn claim_pending(
                    &self,
                    now: DateTime<Utc>,
                    lease_until: DateTime<Utc>,
                ) -> Result<Option<Document>, StorageError> {
                    // The worker serves every tenant: a platform-wide claim.
                    let mut tx = self.begin_in(Scope::Platform).await?;
                    let row: Option<DocumentRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "UPDATE knowledge_documents SET locked_until = $2, \
                         attempts = attempts + 1 \
                         WHERE id = (SELECT id FROM knowledge_documents \
                             WHERE status = 'pending' AND next_attempt_at <= $1 \
                             AND (locked_until IS NULL OR locked_until < $1) \
                             ORDER BY next_attempt_at, created_at LIMIT 1{}) \
                         RETURNING {}, content",
                        $claim_lock,
                        shared::DOCUMENT_COLUMNS
                    )))
                    .bind(now)
                    .bind(lease_until)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    row.map(TryInto::try_into).transpose()
                }

                async fn finish_indexing(
                    &self,
                    tenant_id: &str,
                    id: &str,
                    content: &str,
                    chunks: &[NewChunk],
                    embedding_source: &str,
                    at: DateTime<Utc>,
                ) -> Result<Option<ChunkChange>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    // The document row first: it serialises against a concurrent delete.
                    let exists = sqlx::query(
                        "UPDATE knowledge_documents SET updated_at = updated_at \
                         WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected()
                        > 0;
                    if !exists {
                        return Ok(None);
                    }
                    let removed = delete_chunks(&mut tx, tenant_id, id).await.map_err(classify)?;
                    let current = state(&mut tx, tenant_id).await.map_err(classify)?;
                    if let Some(space) = &current.embedding_source
                        && space != embedding_source
                    {
                        let others: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM knowledge_chunks WHERE tenant_id = $1",
                        )
                        .bind(tenant_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(classify)?;
                        if others > 0 {
                            return Err(StorageError::Conflict {
                                constraint: "knowledge_state_embedding_source".to_owned(),
                            });
                        }
                    }
                    let count = chunks.len() as i64;
                    let (first, generation) =
                        bump(&mut tx, tenant_id, count, Some(embedding_source), at)
                            .await
                            .map_err(classify)?;
                    let mut added = Vec::with_capacity(chunks.len());
                    for (offset, chunk) in chunks.iter().enumerate() {
                        let chunk_id = first + offset as i64;
                        sqlx::query(shared::INSERT_CHUNK)
                            .bind(tenant_id)
                            .bind(chunk_id)
                            .bind(id)
                            .bind(chunk.chunk_index)
                            .bind(&chunk.heading)
                            .bind(&chunk.content)
                            .bind(chunk.word_count)
                            .bind(shared::vector_bytes(&chunk.embedding))
                            .bind(embedding_source)
                            .bind(at)
                            .execute(&mut *tx)
                            .await
                            .map_err(classify)?;
                        added.push(chunk_id);
                    }
                    sqlx::query(
                        "UPDATE knowledge_documents SET status = 'indexed', content = $3, \
                         chunk_count = $4, error_message = NULL, locked_until = NULL, \
                         indexed_at = $5, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant_id)
                    .bind(id)
                    .bind(content)
                    .bind(chunks.len() as i32)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(Some(ChunkChange {
                        generation,
                        added,
                        removed,
                    }))
                }

                async fn fail_indexing(
                    &self,
                    tenant_id: &str,
                    id: &str,
                    message: &str,
                    retry_at: Option<DateTime<Utc>>,
                    at: DateTime<Utc>,
                ) -> Result<(), StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    sqlx::query(
                        "UPDATE knowledge_documents SET \
                         status = CASE WHEN $4 IS NULL THEN 'error' ELSE 'pending' END, \
                         next_attempt_at = COALESCE($4, next_attempt_at), \
                         error_message = $3, locked_until = NULL, updated_at = $5 \
                         WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant_id)
                    .bind(id)
                    .bind(message)
                    .bind(retry_at)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await
                }

                async fn request_reindex(
                    &self,
                    tenant_id: &str,
                    id: &str,
                    at: DateTime<Utc>,
                ) -> Result<bool, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let updated = sqlx::query(
                        "UPDATE knowledge_documents SET status = 'pending', attempts = 0, \
                         next_attempt_at = $3, error_message = NULL, updated_at = $3 \
                         WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant_id)
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(updated.rows_affected() > 0)
                }

                async fn knowledge_state(
                    &self,
                    tenant_id: &str,
                ) -> Result<KnowledgeState, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let state = state(&mut tx, tenant_id).await.map_err(classify)?;
                    commit(tx).await?;
                    Ok(state)
                }

                async fn load_chunks(
                    &self,
                    tenant_id: &str,
                ) -> Result<Vec<StoredChunk>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let rows: Vec<ChunkRow> = sqlx::query_as(
                        "SELECT id, content, embedding, embedding_source FROM knowledge_chunks \
                         WHERE tenant_id = $1 ORDER BY id",
                    )
                    .bind(tenant_id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn chunk_hits(
                    &self,
                    tenant_id: &str,
                    ids: &[i64],
                ) -> Result<Vec<ChunkHit>, StorageError> {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let rows: Vec<HitRow> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT c.id, d.id AS document_row_id, d.document_id, d.filename, \
                         d.title, d.category, d.visibility, c.chunk_index, c.heading, c.content \
                         FROM knowledge_chunks c JOIN knowledge_documents d \
                           ON d.tenant_id = c.tenant_id AND d.id = c.document_id \
                         WHERE c.tenant_id = $1 AND {}",
                        $ids_in
                    )))
                    .bind(tenant_id)
                    .bind(serde_json::Value::from(ids.to_vec()).to_string())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                }

                async fn replace_embeddings(
                    &self,
                    tenant_id: &str,
                    embeddings: &[(i64, Vec<f32>)],
                    embedding_source: &str,
                    at: DateTime<Utc>,
                ) -> Result<i64, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    for (id, vector) in embeddings {
                        sqlx::query(
                            "UPDATE knowledge_chunks SET embedding = $3, embedding_source = $4 \
                             WHERE tenant_id = $1 AND id = $2",
                        )
                        .bind(tenant_id)
                        .bind(id)
                        .bind(shared::vector_bytes(vector))
                        .bind(embedding_source)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                    }
                    let (_, generation) = bump(&mut tx, tenant_id, 0, Some(embedding_source), at)
                        .await
                        .map_err(classify)?;
                    commit(tx).await?;
                    Ok(generation)
                }

                async fn knowledge_stats(
                    &self,
                    tenant_id: &str,
                ) -> Result<KnowledgeStats, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let row: (i64, i64, i64, i64, i64, i64, Option<DateTime<Utc>>) =
                        sqlx::query_as(shared::STATS)
                            .bind(tenant_id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(classify)?;
                    commit(tx).await?;
                    Ok(KnowledgeStats {
                        total: row.0,
                        indexed: row.1,
                        pending: row.2,
                        error: row.3,
                        public: row.4,
                        private: row.5,
                        last_updated: row.6,
                    })
                }

                async fn knowledge_categories(
                    &self,
                    tenant_id: &str,
                ) -> Result<Vec<(String, i64)>, StorageError> {
                    let mut tx = self.begin_in(Scope::Tenant(tenant_id)).await?;
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT category, COUNT(*) FROM knowledge_documents WHERE tenant_id = $1 \
                         GROUP BY category ORDER BY category",
                    )
                    .bind(tenant_id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    commit(tx).await?;
                    Ok(rows)
                }
            }
        }
    };
}
pub(super) use knowledge_repos;

/// SQL, rows and helpers both backends share.
pub(super) mod shared {
    use chrono::{DateTime, Utc};

    use super::{ChunkHit, Document, StoredChunk};
    use crate::storage::StorageError;

    pub const DOCUMENT_COLUMNS: &str = "id, tenant_id, document_id, filename, title, file_type, \
        file_size, sha256, storage_path, category, tags, visibility, chunk_count, status, \
        error_message, is_system, uploaded_by, attempts, created_at, updated_at, indexed_at";

    pub const INSERT_DOCUMENT: &str = "INSERT INTO knowledge_documents (id, tenant_id, \
        document_id, filename, title, file_type, file_size, sha256, storage_path, category, \
        tags, visibility, content, chunk_count, status, error_message, is_system, uploaded_by, \
        attempts, created_at, updated_at, indexed_at, next_attempt_at) VALUES ($1, $2, $3, $4, \
        $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $20)";

    pub const INSERT_CHUNK: &str = "INSERT INTO knowledge_chunks (tenant_id, id, document_id, \
        chunk_index, heading, content, word_count, embedding, embedding_source, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

    pub const STATS: &str = "SELECT COUNT(*), \
        COALESCE(SUM(CASE WHEN status = 'indexed' THEN 1 ELSE 0 END), 0), \
        COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
        COALESCE(SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), 0), \
        COALESCE(SUM(CASE WHEN visibility = 'public' THEN 1 ELSE 0 END), 0), \
        COALESCE(SUM(CASE WHEN visibility = 'private' THEN 1 ELSE 0 END), 0), \
        MAX(updated_at) FROM knowledge_documents WHERE tenant_id = $1";

    pub fn tags_text(tags: &[String]) -> String {
        serde_json::Value::from(tags.to_vec()).to_string()
    }

    /// Little-endian f32s.
    pub fn vector_bytes(vector: &[f32]) -> Vec<u8> {
        vector.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn vector_from(bytes: &[u8]) -> Result<Vec<f32>, StorageError> {
        if !bytes.len().is_multiple_of(4) {
            return Err(StorageError::Corrupt(format!(
                "knowledge_chunks.embedding: {} bytes is not a whole number of f32s",
                bytes.len()
            )));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct DocumentRow {
        id: String,
        tenant_id: String,
        document_id: String,
        filename: String,
        title: String,
        file_type: String,
        file_size: i64,
        sha256: String,
        storage_path: String,
        category: String,
        tags: String,
        visibility: String,
        chunk_count: i32,
        status: String,
        error_message: Option<String>,
        is_system: bool,
        uploaded_by: Option<String>,
        attempts: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        indexed_at: Option<DateTime<Utc>>,
        content: Option<String>,
    }

    impl TryFrom<DocumentRow> for Document {
        type Error = StorageError;

        fn try_from(r: DocumentRow) -> Result<Self, StorageError> {
            let tags = serde_json::from_str(&r.tags)
                .map_err(|e| StorageError::Corrupt(format!("knowledge_documents.tags: {e}")))?;
            Ok(Self {
                id: r.id,
                tenant_id: r.tenant_id,
                document_id: r.document_id,
                filename: r.filename,
                title: r.title,
                file_type: r.file_type,
                file_size: r.file_size,
                sha256: r.sha256,
                storage_path: r.storage_path,
                category: r.category,
                tags,
                visibility: r.visibility,
                content: r.content,
                chunk_count: r.chunk_count,
                status: r.status,
                error_message: r.error_message,
                is_system: r.is_system,
                uploaded_by: r.uploaded_by,
                attempts: r.attempts,
                created_at: r.created_at,
                updated_at: r.updated_at,
                indexed_at: r.indexed_at,
            })
        }
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct ChunkRow {
        id: i64,
        content: String,
        embedding: Option<Vec<u8>>,
        embedding_source: Option<String>,
    }

    impl TryFrom<ChunkRow> for StoredChunk {
        type Error = StorageError;

        fn try_from(r: ChunkRow) -> Result<Self, StorageError> {
            Ok(Self {
                id: r.id,
                content: r.content,
                embedding: r.embedding.as_deref().map(vector_from).transpose()?,
                embedding_source: r.embedding_source,
            })
        }
    }

    #[derive(Debug, sqlx::FromRow)]
    pub struct HitRow {
        id: i64,
        document_row_id: String,
        document_id: String,
        filename: String,
        title: String,
        category: String,
        visibility: String,
        chunk_index: i32,
        heading: Option<String>,
        content: String,
    }

    impl From<HitRow> for ChunkHit {
        fn from(r: HitRow) -> Self {
            Self {
                id: r.id,
                document_row_id: r.document_row_id,
                document_id: r.document_id,
                filename: r.filename,
                title: r.title,
                category: r.category,
                visibility: r.visibility,
                chunk_index: r.chunk_index,
                heading: r.heading,
                content: r.content,
            }
        }
    }
}
