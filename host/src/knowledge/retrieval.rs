//! Retrieval over a tenant's chunks: the FAISS index (vectors) and the BM25 index (words),
//! kept in step with the database and fused into one ranking.
//!
//! The database is the source of truth. Every change to a tenant's chunks moves its
//! *generation* forward in the same transaction; each host remembers the generation its
//! in-memory indexes reflect and, when a search finds the database ahead (another host
//! indexed a document, or this host just started), rebuilds them from the stored chunks and
//! vectors. The vector index's label (`<space>@<generation>`, kept in its snapshot) lets a
//! host that starts reuse the snapshot instead of rebuilding. Changes made on this host are
//! applied incrementally when they follow the generation it holds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use super::fusion::{FusionWeights, fuse};
use super::keyword::KeywordIndex;
use crate::ai::AiService;
use crate::error::{Error, Result};
use crate::storage::KnowledgeRepo;
use crate::storage::knowledge::{ChunkChange, ChunkHit, StoredChunk};
use crate::vectors::VectorIndexes;

/// What to look for.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    /// Results wanted (1–20).
    pub top_k: usize,
    pub category: Option<String>,
    pub visibility: Option<String>,
    /// Results below this fused score (0–1) are left out.
    pub min_score: f32,
}

/// One result: a chunk, its document, and its scores.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub chunk: ChunkHit,
    /// The fused score, 0–1.
    pub score: f32,
    /// Cosine similarity of the chunk's vector to the query's, when the vector side ran.
    pub vector: Option<f32>,
    /// BM25 score, when the chunk matched words of the query.
    pub keyword: Option<f32>,
}

/// The results of a search and how they were found.
#[derive(Debug, Clone, Default)]
pub struct SearchOutcome {
    pub hits: Vec<SearchHit>,
    /// Why the vector side did not run (embeddings unavailable); keyword results only.
    pub degraded: Option<String>,
    pub elapsed: Duration,
}

/// The in-memory indexes of one tenant.
struct TenantIndex {
    /// Serialises rebuilds and changes, so that they apply in generation order.
    sync: tokio::sync::Mutex<()>,
    keyword: RwLock<KeywordIndex>,
    /// The generation both indexes reflect; -1 before the first build.
    generation: AtomicI64,
    /// The embedding space of the vectors in the index.
    space: Mutex<Option<String>>,
}

/// Every tenant's retrieval state on this host.
pub struct Retrieval {
    repo: Arc<dyn KnowledgeRepo>,
    vectors: Arc<VectorIndexes>,
    ai: Arc<AiService>,
    tenants: Mutex<HashMap<String, Arc<TenantIndex>>>,
}

impl std::fmt::Debug for Retrieval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenants = self
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("Retrieval")
            .field("tenants", &tenants)
            .finish_non_exhaustive()
    }
}

/// The label of a vector index built from `space` at `generation`.
fn label(space: &str, generation: i64) -> String {
    format!("{space}@{generation}")
}

impl Retrieval {
    pub fn new(
        repo: Arc<dyn KnowledgeRepo>,
        vectors: Arc<VectorIndexes>,
        ai: Arc<AiService>,
    ) -> Self {
        Self {
            repo,
            vectors,
            ai,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    fn tenant(&self, tenant_id: &str) -> Arc<TenantIndex> {
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant_id.to_owned())
            .or_insert_with(|| {
                Arc::new(TenantIndex {
                    sync: tokio::sync::Mutex::new(()),
                    keyword: RwLock::new(KeywordIndex::new()),
                    generation: AtomicI64::new(-1),
                    space: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Forgets a tenant's in-memory indexes (the tenant was deleted).
    pub fn forget(&self, tenant_id: &str) {
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant_id);
    }

    /// The `top_k` best chunks for the request. A tenant without documents has no results.
    pub async fn search(&self, tenant_id: &str, request: &SearchRequest) -> Result<SearchOutcome> {
        let started = Instant::now();
        let state = self
            .repo
            .knowledge_state(tenant_id)
            .await
            .map_err(|e| Error::storage("searching the knowledge base", e))?;
        if state.generation == 0 {
            return Ok(SearchOutcome {
                elapsed: started.elapsed(),
                ..SearchOutcome::default()
            });
        }
        let index = self.fresh(tenant_id, state.generation).await?;
        let filtered = request.category.is_some() || request.visibility.is_some();
        let candidates = if filtered {
            (request.top_k * 10).max(100)
        } else {
            (request.top_k * 4).max(40)
        };
        let keyword = index
            .keyword
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .search(&request.query, candidates);
        let space = index
            .space
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut degraded = None;
        let mut vector = Vec::new();
        if let Some(space) = space {
            match self.ai.embed_in(&space, &[request.query.as_str()]).await {
                Ok(mut embedded) => {
                    let query = embedded.pop().unwrap_or_default();
                    vector = self
                        .vectors
                        .search(tenant_id, query, candidates)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(tenant_id, error = %e, "vector search failed");
                            degraded = Some(format!("vector search failed: {e}"));
                            Vec::new()
                        });
                }
                Err(e) => {
                    degraded = Some(e.to_string());
                }
            }
        }
        let fused = fuse(&vector, &keyword, FusionWeights::default(), candidates);
        let ids: Vec<i64> = fused.iter().map(|s| s.id).collect();
        let mut chunks: HashMap<i64, ChunkHit> = self
            .repo
            .chunk_hits(tenant_id, &ids)
            .await
            .map_err(|e| Error::storage("searching the knowledge base", e))?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let hits = fused
            .into_iter()
            .filter(|s| s.score >= request.min_score)
            .filter_map(|s| {
                let chunk = chunks.remove(&s.id)?;
                let wanted = request
                    .category
                    .as_ref()
                    .is_none_or(|c| *c == chunk.category)
                    && request
                        .visibility
                        .as_ref()
                        .is_none_or(|v| *v == chunk.visibility);
                wanted.then_some(SearchHit {
                    chunk,
                    score: s.score,
                    vector: s.vector,
                    keyword: s.keyword,
                })
            })
            .take(request.top_k)
            .collect();
        Ok(SearchOutcome {
            hits,
            degraded,
            elapsed: started.elapsed(),
        })
    }

    /// The tenant's indexes, rebuilt first if they are older than `generation`.
    async fn fresh(&self, tenant_id: &str, generation: i64) -> Result<Arc<TenantIndex>> {
        let index = self.tenant(tenant_id);
        if index.generation.load(Ordering::Acquire) >= generation {
            return Ok(index);
        }
        let _sync = index.sync.lock().await;
        if index.generation.load(Ordering::Acquire) >= generation {
            return Ok(index.clone());
        }
        // Read the state again under the lock: it is what the build will reflect.
        let state = self
            .repo
            .knowledge_state(tenant_id)
            .await
            .map_err(|e| Error::storage("loading the knowledge index", e))?;
        let chunks = self
            .repo
            .load_chunks(tenant_id)
            .await
            .map_err(|e| Error::storage("loading the knowledge index", e))?;
        self.install(
            tenant_id,
            &index,
            state.generation,
            state.embedding_source,
            chunks,
            false,
        )
        .await;
        Ok(index.clone())
    }

    /// Replaces the tenant's indexes by ones over `chunks` at `generation`. The vector index
    /// is rebuilt unless its label already says it holds exactly these vectors (a snapshot
    /// from another host or an earlier run), or `force` asks for it.
    async fn install(
        &self,
        tenant_id: &str,
        index: &TenantIndex,
        generation: i64,
        space: Option<String>,
        chunks: Vec<StoredChunk>,
        force: bool,
    ) {
        let keyword = KeywordIndex::build(chunks.iter().map(|c| (c.id, c.content.clone())));
        let mut vectors_ok = true;
        if let Some(space) = &space {
            let wanted = label(space, generation);
            let current = match self.vectors.label(tenant_id).await {
                Ok(current) => current,
                Err(e) => {
                    // A snapshot that cannot be read is replaced by the rebuild below.
                    tracing::warn!(tenant_id, error = %e, "vector index snapshot unusable");
                    None
                }
            };
            if force || current.as_deref() != Some(wanted.as_str()) {
                let items: Vec<(i64, Vec<f32>)> = chunks
                    .into_iter()
                    .filter(|c| c.embedding_source.as_deref() == Some(space.as_str()))
                    .filter_map(|c| Some((c.id, c.embedding?)))
                    .collect();
                let result = match items.first() {
                    Some((_, first)) => {
                        let dimension = first.len();
                        self.vectors
                            .rebuild(tenant_id, dimension, Some(wanted), items)
                            .await
                            .map(|_| ())
                    }
                    // No vectors: whatever the index holds refers to deleted chunks, which
                    // searches skip; the label records that it is current.
                    None => {
                        self.vectors
                            .update(tenant_id, Vec::new(), Vec::new(), Some(wanted))
                            .await
                    }
                };
                if let Err(e) = result {
                    tracing::warn!(tenant_id, error = %e, "vector index rebuild failed");
                    vectors_ok = false;
                }
            }
        }
        *index
            .keyword
            .write()
            .unwrap_or_else(PoisonError::into_inner) = keyword;
        *index.space.lock().unwrap_or_else(PoisonError::into_inner) = space;
        // A failed vector build leaves the generation behind, so the next search tries again
        // (keyword results still work meanwhile).
        let reached = if vectors_ok { generation } else { -1 };
        index.generation.store(reached, Ordering::Release);
        tracing::debug!(
            tenant_id,
            generation,
            vectors_ok,
            "knowledge indexes installed"
        );
    }

    /// Applies a change made on this host: incrementally when the indexes are at the
    /// generation just before it, otherwise not at all (the next search rebuilds them).
    /// `added` are the new chunks' `(id, text, vector)` in the space `space`.
    pub async fn apply(
        &self,
        tenant_id: &str,
        change: &ChunkChange,
        added: &[(i64, String, Vec<f32>)],
        space: Option<&str>,
    ) {
        let index = self.tenant(tenant_id);
        let _sync = index.sync.lock().await;
        if index.generation.load(Ordering::Acquire) != change.generation - 1 {
            return;
        }
        let current_space = index
            .space
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let space = space.map(str::to_owned).or(current_space.clone());
        if current_space.is_some() && space != current_space {
            // A change of space is a rebuild, never an increment.
            index.generation.store(-1, Ordering::Release);
            return;
        }
        {
            let mut keyword = index
                .keyword
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            for id in &change.removed {
                keyword.remove(*id);
            }
            for (id, text, _) in added {
                keyword.insert(*id, text);
            }
        }
        let result = match &space {
            Some(space) => {
                let vectors = added.iter().map(|(id, _, v)| (*id, v.clone())).collect();
                self.vectors
                    .update(
                        tenant_id,
                        change.removed.clone(),
                        vectors,
                        Some(label(space, change.generation)),
                    )
                    .await
            }
            None => Ok(()),
        };
        match result {
            Ok(()) => {
                *index.space.lock().unwrap_or_else(PoisonError::into_inner) = space;
                index.generation.store(change.generation, Ordering::Release);
            }
            Err(e) => {
                tracing::warn!(tenant_id, error = %e, "vector index update failed; rebuilding on next search");
                index.generation.store(-1, Ordering::Release);
            }
        }
    }

    /// K11: moves every chunk into the current embedding space (re-embedding the ones that
    /// live elsewhere) and rebuilds both indexes from the database.
    pub async fn rebuild(&self, tenant_id: &str, batch: usize) -> Result<()> {
        let index = self.tenant(tenant_id);
        let _sync = index.sync.lock().await;
        let space = self.ai.preferred_embed_source().id();
        let mut chunks = self
            .repo
            .load_chunks(tenant_id)
            .await
            .map_err(|e| Error::storage("rebuilding the knowledge index", e))?;
        let stale: Vec<usize> = chunks
            .iter()
            .enumerate()
            .filter(|(_, c)| c.embedding.is_none() || c.embedding_source.as_deref() != Some(&space))
            .map(|(i, _)| i)
            .collect();
        let mut replaced = Vec::with_capacity(stale.len());
        for group in stale.chunks(batch.max(1)) {
            let texts: Vec<&str> = group.iter().map(|&i| chunks[i].content.as_str()).collect();
            let vectors = self.ai.embed_in(&space, &texts).await.map_err(|e| {
                Error::Unavailable(format!(
                    "Embeddings are unavailable, so the index cannot be rebuilt now ({e}). \
                     Please try again later."
                ))
            })?;
            for (&i, vector) in group.iter().zip(vectors) {
                replaced.push((chunks[i].id, vector.clone()));
                chunks[i].embedding = Some(vector);
                chunks[i].embedding_source = Some(space.clone());
            }
        }
        let state = self
            .repo
            .knowledge_state(tenant_id)
            .await
            .map_err(|e| Error::storage("rebuilding the knowledge index", e))?;
        let generation = if replaced.is_empty() && state.embedding_source.as_deref() == Some(&space)
        {
            state.generation
        } else {
            self.repo
                .replace_embeddings(tenant_id, &replaced, &space, Utc::now())
                .await
                .map_err(|e| Error::storage("rebuilding the knowledge index", e))?
        };
        self.install(tenant_id, &index, generation, Some(space), chunks, true)
            .await;
        if index.generation.load(Ordering::Acquire) != generation {
            return Err(Error::Unavailable(
                "The vector index could not be rebuilt. Please try again later.".to_owned(),
            ));
        }
        Ok(())
    }

    /// The tenant's index as status pages show it.
    pub async fn status(&self, tenant_id: &str) -> Result<Value> {
        let state = self
            .repo
            .knowledge_state(tenant_id)
            .await
            .map_err(|e| Error::storage("reading the knowledge index", e))?;
        let vectors = match self.vectors.status(tenant_id).await {
            Ok(Some(status)) => json!({
                "vectors": status.count,
                "dimension": status.dimension,
                "kind": status.kind,
            }),
            Ok(None) => json!({ "vectors": 0 }),
            Err(e) => json!({ "error": e.to_string() }),
        };
        let index = self.tenant(tenant_id);
        let loaded = index.generation.load(Ordering::Acquire);
        Ok(json!({
            "generation": state.generation,
            "embedding_space": state.embedding_source,
            "current": loaded == state.generation,
            "index": vectors,
        }))
    }
}
