//! Per-tenant vector indexes (FAISS) over chunk embeddings: exact search for small tenants,
//! an inverted-file index for large ones, snapshotted to object storage and loaded lazily.
//!
//! The database holds every chunk's text and vector; an index here is a cache of those
//! vectors that makes nearest-neighbour search fast. That is why a missing or corrupt
//! snapshot is never fatal: the caller rebuilds from the vectors it holds
//! ([`VectorIndexes::rebuild`]).
//!
//! Similarity is cosine: every vector is scaled to unit length on the way in (and every
//! query before searching), so FAISS's inner product is the cosine and scores lie in
//! `[-1, 1]`, higher meaning closer.
//!
//! # Index kinds and their parameters
//!
//! - **Exact** (`IDMap,Flat`, inner product) while a tenant holds fewer than
//!   [`IndexOptions::approximate_threshold`] vectors (10 000 by default). Every query scans
//!   every vector, so results are exact; measured p50 0.6 ms at 10 000 × 384 but 6.7 ms at
//!   10 000 × 1536 and 17–65 ms at 100 000, which is why the threshold is not higher.
//! - **Approximate** (`IVF<nlist>,Flat`, inner product) from the threshold on. The vectors are
//!   split into `nlist = √n` clusters (k-means, trained on at most `64 × nlist` evenly spaced
//!   vectors of the current set) and a query scans the `nprobe` clusters nearest to it
//!   (16 by default, see [`IndexOptions::nprobe`]): p50 1.0 ms (384) and 3.7–3.9 ms (1536) at
//!   100 000 vectors, recall@10 ≥ 0.996 on topic-shaped synthetic data. IVF-Flat keeps the
//!   full vectors, so the scores of what it finds are exact; it supports removal by id, which
//!   HNSW in FAISS does not. The figures, and their limits (uniform random vectors recall
//!   poorly), are in `docs/benchmarks.md`.
//!
//! An exact index that grows past the threshold is upgraded in place: its vectors are read
//! back, the clusters trained on them, and the approximate index replaces it. An approximate
//! index keeps its clusters until [`VectorIndexes::rebuild`] (which picks the kind from the
//! count again and retrains).

mod registry;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use faiss::index::flat::FlatIndexImpl;
use faiss::index::ivf_flat::IVFFlatIndexImpl;
use faiss::selector::IdSelector;
use faiss::{ConcurrentIndex, FlatIndex, IdMap, Idx, Index, MetricType};
use serde::{Deserialize, Serialize};

pub use registry::VectorIndexes;

use crate::blobs::BlobError;

/// The version of the snapshot format written by this code (manifest and index file).
pub const SNAPSHOT_VERSION: u32 = 1;

/// Everything that can go wrong with a vector index.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// A vector or query whose length is not the index's dimension.
    #[error(
        "vector dimension mismatch: the index holds vectors of dimension {expected}, got {actual}"
    )]
    DimensionMismatch { expected: usize, actual: usize },
    /// `ids` and `vectors` of different lengths.
    #[error("{ids} ids were given with {vectors} vectors; each id needs exactly one vector")]
    LengthMismatch { ids: usize, vectors: usize },
    /// A vector that cannot be compared by cosine (zero length, NaN or infinite components),
    /// or an id FAISS cannot hold (negative).
    #[error("invalid vector for id {id}: {reason}")]
    InvalidVector { id: i64, reason: &'static str },
    /// A dimension of zero.
    #[error("a vector index needs a dimension of at least 1")]
    ZeroDimension,
    /// A snapshot that is unreadable or disagrees with its manifest; rebuild the index.
    #[error("corrupt vector index snapshot: {0}")]
    CorruptSnapshot(String),
    /// Object storage failed.
    #[error("vector index storage: {0}")]
    Storage(#[from] BlobError),
    /// FAISS refused an operation.
    #[error("faiss: {0}")]
    Faiss(#[from] faiss::error::Error),
    /// A temporary file for (de)serialising an index could not be used.
    #[error("vector index temporary file: {0}")]
    Io(#[from] std::io::Error),
    /// A blocking task running FAISS panicked or was cancelled.
    #[error("vector index task failed: {0}")]
    Task(String),
}

/// Which FAISS index backs a [`VectorIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    /// `IDMap,Flat`: every vector compared, exact results.
    Exact,
    /// `IVF<nlist>,Flat`: the `nprobe` nearest clusters compared.
    Approximate,
}

/// How indexes are built. The defaults are the measured ones (`docs/benchmarks.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexOptions {
    /// From this many vectors on, an index is approximate (IVF-Flat); below, exact.
    pub approximate_threshold: usize,
    /// Clusters scanned per query by an approximate index; `None` picks 16 (at most
    /// `nlist`), the measured point where 100 000 × 1536 searches stay under 5 ms.
    pub nprobe: Option<u32>,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            approximate_threshold: 10_000,
            nprobe: None,
        }
    }
}

impl IndexOptions {
    /// The number of clusters for an approximate index over `n` vectors: `√n`, and never so
    /// many that a cluster would get fewer than 39 training vectors (FAISS's own minimum).
    pub fn nlist_for(n: usize) -> u32 {
        let sqrt = (n as f64).sqrt().round() as usize;
        sqrt.min(n / 39).clamp(1, 65_536) as u32
    }

    /// Clusters scanned per query for an index of `nlist` clusters.
    pub fn nprobe_for(&self, nlist: u32) -> u32 {
        self.nprobe.unwrap_or(16).clamp(1, nlist.max(1))
    }
}

/// The manifest stored beside a snapshot (`tenants/<id>/vectors/manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The snapshot format version ([`SNAPSHOT_VERSION`]).
    pub version: u32,
    pub dimension: usize,
    /// Vectors in the index file.
    pub count: usize,
    pub kind: IndexKind,
    /// Clusters of an approximate index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nlist: Option<u32>,
    /// The owner's note on what the vectors are (e.g. the embedding space and the data
    /// generation they were built from), kept with the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One index's size and shape, as reported to callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IndexStatus {
    pub dimension: usize,
    pub count: usize,
    pub kind: IndexKind,
}

enum Inner {
    Exact(IdMap<FlatIndexImpl>),
    Approximate { index: IVFFlatIndexImpl, nlist: u32 },
}

/// One tenant's vectors: ids (the caller's chunk ids, non-negative) to unit-length vectors of
/// a fixed dimension, searched by cosine similarity.
///
/// Methods are synchronous CPU work; async callers go through [`VectorIndexes`], which runs
/// them on the blocking pool. `search` takes `&self` (FAISS allows concurrent searches on a
/// CPU index that is not being modified); changes take `&mut self`.
pub struct VectorIndex {
    dimension: usize,
    options: IndexOptions,
    inner: Inner,
    label: Option<String>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dimension", &self.dimension)
            .field("kind", &self.kind())
            .field("len", &self.len())
            .finish()
    }
}

impl VectorIndex {
    /// An empty (exact) index for vectors of `dimension` components.
    pub fn new(dimension: usize, options: IndexOptions) -> Result<Self, VectorError> {
        if dimension == 0 {
            return Err(VectorError::ZeroDimension);
        }
        Ok(Self {
            dimension,
            options,
            inner: Inner::Exact(new_exact(dimension)?),
            label: None,
        })
    }

    /// An index over `items` (later duplicates of an id win), exact or approximate by count.
    /// Cheaper than `new` + `add` for many vectors: an approximate index is trained once.
    pub fn build(
        dimension: usize,
        options: IndexOptions,
        items: impl IntoIterator<Item = (i64, Vec<f32>)>,
    ) -> Result<Self, VectorError> {
        let mut index = Self::new(dimension, options)?;
        let mut position: HashMap<i64, usize> = HashMap::new();
        let mut ids: Vec<Idx> = Vec::new();
        let mut data: Vec<f32> = Vec::new();
        for (id, vector) in items {
            let unit = index.normalised(id, &vector)?;
            match position.get(&id) {
                Some(&at) => data[at * dimension..(at + 1) * dimension].copy_from_slice(&unit),
                None => {
                    position.insert(id, ids.len());
                    ids.push(to_idx(id)?);
                    data.extend_from_slice(&unit);
                }
            }
        }
        if ids.len() >= options.approximate_threshold {
            index.inner = build_approximate(dimension, &options, &ids, &data)?;
        } else if !ids.is_empty() {
            index.inner_mut_add(&data, &ids)?;
        }
        Ok(index)
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Number of vectors held.
    pub fn len(&self) -> usize {
        let total = match &self.inner {
            Inner::Exact(index) => index.ntotal(),
            Inner::Approximate { index, .. } => index.ntotal(),
        };
        total as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kind(&self) -> IndexKind {
        match self.inner {
            Inner::Exact(_) => IndexKind::Exact,
            Inner::Approximate { .. } => IndexKind::Approximate,
        }
    }

    pub fn status(&self) -> IndexStatus {
        IndexStatus {
            dimension: self.dimension,
            count: self.len(),
            kind: self.kind(),
        }
    }

    /// Adds or replaces the vectors of `ids` (an id already present gets its new vector;
    /// within one call, the last vector of a repeated id wins). Nothing is added unless every
    /// vector is valid. Crossing [`IndexOptions::approximate_threshold`] upgrades an exact
    /// index to an approximate one.
    pub fn add<V: AsRef<[f32]>>(&mut self, ids: &[i64], vectors: &[V]) -> Result<(), VectorError> {
        if ids.len() != vectors.len() {
            return Err(VectorError::LengthMismatch {
                ids: ids.len(),
                vectors: vectors.len(),
            });
        }
        let d = self.dimension;
        let mut position: HashMap<i64, usize> = HashMap::with_capacity(ids.len());
        let mut idxs: Vec<Idx> = Vec::with_capacity(ids.len());
        let mut data: Vec<f32> = Vec::with_capacity(ids.len() * d);
        for (&id, vector) in ids.iter().zip(vectors) {
            let unit = self.normalised(id, vector.as_ref())?;
            match position.get(&id) {
                Some(&at) => data[at * d..(at + 1) * d].copy_from_slice(&unit),
                None => {
                    position.insert(id, idxs.len());
                    idxs.push(to_idx(id)?);
                    data.extend_from_slice(&unit);
                }
            }
        }
        if idxs.is_empty() {
            return Ok(());
        }
        // Replacing is removing then adding: FAISS would otherwise keep both vectors.
        if !self.is_empty() {
            self.remove_idxs(&idxs)?;
        }
        self.inner_mut_add(&data, &idxs)?;
        if self.kind() == IndexKind::Exact && self.len() >= self.options.approximate_threshold {
            self.upgrade()?;
        }
        Ok(())
    }

    /// Removes the vectors of `ids`; returns how many were present.
    pub fn remove(&mut self, ids: &[i64]) -> Result<usize, VectorError> {
        let idxs: Vec<Idx> = ids
            .iter()
            .filter(|&&id| id >= 0)
            .map(|&id| Idx::new(id as u64))
            .collect();
        if idxs.is_empty() || self.is_empty() {
            return Ok(0);
        }
        self.remove_idxs(&idxs)
    }

    /// The `k` stored vectors most similar to `query`, best first, as `(id, cosine)`.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(i64, f32)>, VectorError> {
        let unit = self.normalised(0, query).map_err(|e| match e {
            VectorError::InvalidVector { reason, .. } => {
                VectorError::InvalidVector { id: -1, reason }
            }
            other => other,
        })?;
        let k = k.min(self.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        let result = match &self.inner {
            Inner::Exact(index) => ConcurrentIndex::search(index, &unit, k)?,
            Inner::Approximate { index, .. } => ConcurrentIndex::search(index, &unit, k)?,
        };
        Ok(result
            .labels
            .iter()
            .zip(&result.distances)
            .filter_map(|(label, &score)| {
                let id = i64::try_from(label.get()?).ok()?;
                Some((id, score))
            })
            .collect())
    }

    /// Sets how many clusters an approximate index scans per query (for tuning and
    /// benchmarks; it lasts until the index is rebuilt or reloaded). No effect on an exact
    /// index.
    pub fn set_nprobe(&mut self, nprobe: u32) {
        if let Inner::Approximate { index, nlist } = &mut self.inner {
            index.set_nprobe(nprobe.clamp(1, *nlist));
        }
    }

    /// What a snapshot of this index records beside the index file.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            version: SNAPSHOT_VERSION,
            dimension: self.dimension,
            count: self.len(),
            kind: self.kind(),
            nlist: match self.inner {
                Inner::Exact(_) => None,
                Inner::Approximate { nlist, .. } => Some(nlist),
            },
            label: self.label.clone(),
        }
    }

    /// The owner's note on these vectors (see [`Manifest::label`]).
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    pub fn set_label(&mut self, label: Option<String>) {
        self.label = label;
    }

    /// The index in FAISS's file format (written through a temporary file: the crate
    /// writes indexes only to paths).
    pub fn to_bytes(&self) -> Result<Vec<u8>, VectorError> {
        let file = tempfile::NamedTempFile::new()?;
        let path = temp_path(&file)?;
        match &self.inner {
            Inner::Exact(index) => faiss::write_index(index, &path)?,
            Inner::Approximate { index, .. } => faiss::write_index(index, &path)?,
        }
        Ok(std::fs::read(file.path())?)
    }

    /// Reads an index written by [`to_bytes`](Self::to_bytes) and checks it against its
    /// manifest; any disagreement is [`VectorError::CorruptSnapshot`].
    pub fn from_bytes(
        bytes: &[u8],
        manifest: &Manifest,
        options: IndexOptions,
    ) -> Result<Self, VectorError> {
        let corrupt = VectorError::CorruptSnapshot;
        if manifest.version != SNAPSHOT_VERSION {
            return Err(corrupt(format!(
                "manifest version {} is not the supported version {SNAPSHOT_VERSION}",
                manifest.version
            )));
        }
        if manifest.dimension == 0 {
            return Err(corrupt("manifest dimension is 0".to_owned()));
        }
        let file = tempfile::NamedTempFile::new()?;
        std::fs::write(file.path(), bytes)?;
        let raw = faiss::read_index(temp_path(&file)?)
            .map_err(|e| corrupt(format!("the index file cannot be read: {e}")))?;
        let inner = match manifest.kind {
            IndexKind::Exact => Inner::Exact(
                raw.into_id_map()
                    .and_then(|map| map.try_cast_inner_index::<FlatIndexImpl>())
                    .map_err(|_| corrupt("the index file is not an exact index".to_owned()))?,
            ),
            IndexKind::Approximate => {
                let mut index = raw.into_ivf_flat().map_err(|_| {
                    corrupt("the index file is not an approximate index".to_owned())
                })?;
                let nlist = index.nlist();
                if manifest.nlist.is_some_and(|n| n != nlist) {
                    return Err(corrupt(format!(
                        "the index has {nlist} clusters, the manifest says {:?}",
                        manifest.nlist
                    )));
                }
                index.set_nprobe(options.nprobe_for(nlist));
                Inner::Approximate { index, nlist }
            }
        };
        let index = Self {
            dimension: manifest.dimension,
            options,
            inner,
            label: manifest.label.clone(),
        };
        let (d, metric) = match &index.inner {
            Inner::Exact(i) => (i.d() as usize, i.metric_type()),
            Inner::Approximate { index: i, .. } => (i.d() as usize, i.metric_type()),
        };
        if d != manifest.dimension || metric != MetricType::InnerProduct {
            return Err(corrupt(format!(
                "the index holds dimension {d} ({metric:?}), the manifest says {} (inner product)",
                manifest.dimension
            )));
        }
        if index.len() != manifest.count {
            return Err(corrupt(format!(
                "the index holds {} vectors, the manifest says {}",
                index.len(),
                manifest.count
            )));
        }
        Ok(index)
    }

    /// `vector` scaled to unit length, after checking its dimension and values.
    fn normalised(&self, id: i64, vector: &[f32]) -> Result<Vec<f32>, VectorError> {
        if vector.len() != self.dimension {
            return Err(VectorError::DimensionMismatch {
                expected: self.dimension,
                actual: vector.len(),
            });
        }
        if id < 0 {
            return Err(VectorError::InvalidVector {
                id,
                reason: "ids must be zero or positive",
            });
        }
        if vector.iter().any(|x| !x.is_finite()) {
            return Err(VectorError::InvalidVector {
                id,
                reason: "a component is NaN or infinite",
            });
        }
        let norm = vector
            .iter()
            .map(|x| f64::from(*x).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Err(VectorError::InvalidVector {
                id,
                reason: "a zero vector has no direction to compare",
            });
        }
        Ok(vector
            .iter()
            .map(|x| (f64::from(*x) / norm) as f32)
            .collect())
    }

    fn inner_mut_add(&mut self, data: &[f32], ids: &[Idx]) -> Result<(), VectorError> {
        match &mut self.inner {
            Inner::Exact(index) => index.add_with_ids(data, ids)?,
            Inner::Approximate { index, .. } => index.add_with_ids(data, ids)?,
        }
        Ok(())
    }

    fn remove_idxs(&mut self, idxs: &[Idx]) -> Result<usize, VectorError> {
        let selector = IdSelector::batch(idxs)?;
        Ok(match &mut self.inner {
            Inner::Exact(index) => index.remove_ids(&selector)?,
            Inner::Approximate { index, .. } => index.remove_ids(&selector)?,
        })
    }

    /// Replaces the exact index by an approximate one trained on its vectors. Should the
    /// training fail, the exact index is put back (searches stay correct, only slower) and
    /// the failure is returned.
    fn upgrade(&mut self) -> Result<(), VectorError> {
        let fresh = new_exact(self.dimension)?;
        let Inner::Exact(map) = std::mem::replace(&mut self.inner, Inner::Exact(fresh)) else {
            return Ok(());
        };
        let ids: Vec<Idx> = map.id_map().to_vec();
        let flat = map.into_inner();
        let data = flat.xb();
        match build_approximate(self.dimension, &self.options, &ids, data) {
            Ok(inner) => {
                self.inner = inner;
                tracing::info!(
                    vectors = ids.len(),
                    "vector index upgraded from exact to approximate"
                );
                Ok(())
            }
            Err(e) => {
                self.inner_mut_add(data, &ids)?;
                Err(e)
            }
        }
    }
}

fn new_exact(dimension: usize) -> Result<IdMap<FlatIndexImpl>, VectorError> {
    Ok(IdMap::new(FlatIndex::new_ip(dimension as u32)?)?)
}

/// An IVF-Flat index over `data` (unit vectors, `ids.len()` rows), trained on an evenly
/// spaced sample of at most 64 vectors per cluster.
fn build_approximate(
    dimension: usize,
    options: &IndexOptions,
    ids: &[Idx],
    data: &[f32],
) -> Result<Inner, VectorError> {
    let n = ids.len();
    let nlist = IndexOptions::nlist_for(n);
    let mut index = faiss::index_factory(
        dimension as u32,
        format!("IVF{nlist},Flat"),
        MetricType::InnerProduct,
    )?
    .into_ivf_flat()?;
    let sample_rows = (nlist as usize * 64).min(n);
    if sample_rows == n {
        index.train(data)?;
    } else {
        let mut sample = Vec::with_capacity(sample_rows * dimension);
        for i in 0..sample_rows {
            let row = i * n / sample_rows;
            sample.extend_from_slice(&data[row * dimension..(row + 1) * dimension]);
        }
        index.train(&sample)?;
    }
    index.set_nprobe(options.nprobe_for(nlist));
    index.add_with_ids(data, ids)?;
    Ok(Inner::Approximate { index, nlist })
}

fn to_idx(id: i64) -> Result<Idx, VectorError> {
    u64::try_from(id)
        .map(Idx::new)
        .map_err(|_| VectorError::InvalidVector {
            id,
            reason: "ids must be zero or positive",
        })
}

fn temp_path(file: &tempfile::NamedTempFile) -> Result<String, VectorError> {
    file.path().to_str().map(str::to_owned).ok_or_else(|| {
        VectorError::Io(std::io::Error::other(
            "the temporary directory's path is not UTF-8",
        ))
    })
}
