-- The knowledge base: uploaded documents, their chunks with embeddings, and one state row per
-- tenant. Names match migrations/postgres.

-- `status` is pending → indexed | error. The indexing worker claims pending rows with a lease
-- (`locked_until`) so a document is indexed by one worker at a time and resumed if it dies.
CREATE TABLE knowledge_documents (
    id              TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    document_id     TEXT NOT NULL,
    filename        TEXT NOT NULL,
    title           TEXT NOT NULL,
    file_type       TEXT NOT NULL,
    file_size       INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    storage_path    TEXT NOT NULL,
    category        TEXT NOT NULL,
    tags            TEXT NOT NULL DEFAULT '[]',
    visibility      TEXT NOT NULL,
    -- The first 50 000 characters of the extracted text.
    content         TEXT,
    chunk_count     INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    error_message   TEXT,
    is_system       INTEGER NOT NULL DEFAULT 0,
    uploaded_by     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    indexed_at      TEXT,
    CONSTRAINT knowledge_documents_pkey PRIMARY KEY (id),
    CONSTRAINT knowledge_documents_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT knowledge_documents_status_check CHECK (status IN ('pending', 'indexed', 'error')),
    CONSTRAINT knowledge_documents_visibility_check CHECK (visibility IN ('public', 'private'))
);

CREATE UNIQUE INDEX knowledge_documents_document_id_key ON knowledge_documents (tenant_id, document_id);
CREATE INDEX knowledge_documents_status_idx ON knowledge_documents (tenant_id, status);
CREATE INDEX knowledge_documents_visibility_idx ON knowledge_documents (tenant_id, visibility);
CREATE INDEX knowledge_documents_created_idx ON knowledge_documents (tenant_id, created_at DESC);
-- The worker's claim looks across tenants for due pending rows.
CREATE INDEX knowledge_documents_due_idx ON knowledge_documents (status, next_attempt_at);

-- One row per chunk. `id` is the vector id in the tenant's FAISS index, allocated from
-- `knowledge_state.next_chunk_id`. `embedding` holds little-endian f32s made by
-- `embedding_source` (NULL until embedded).
CREATE TABLE knowledge_chunks (
    tenant_id        TEXT NOT NULL,
    id               INTEGER NOT NULL,
    document_id      TEXT NOT NULL,
    chunk_index      INTEGER NOT NULL,
    heading          TEXT,
    content          TEXT NOT NULL,
    word_count       INTEGER NOT NULL,
    embedding        BLOB,
    embedding_source TEXT,
    created_at       TEXT NOT NULL,
    CONSTRAINT knowledge_chunks_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT knowledge_chunks_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT knowledge_chunks_document_fkey FOREIGN KEY (document_id)
        REFERENCES knowledge_documents (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX knowledge_chunks_position_key ON knowledge_chunks (tenant_id, document_id, chunk_index);

-- `generation` grows with every change to a tenant's chunks: a host whose in-memory indexes
-- were built at an older generation rebuilds them. `embedding_source` is the space the
-- tenant's vectors live in (set by the first indexed document, changed by a rebuild).
CREATE TABLE knowledge_state (
    tenant_id        TEXT NOT NULL,
    generation       INTEGER NOT NULL DEFAULT 0,
    next_chunk_id    INTEGER NOT NULL DEFAULT 1,
    embedding_source TEXT,
    updated_at       TEXT NOT NULL,
    CONSTRAINT knowledge_state_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT knowledge_state_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE
);
