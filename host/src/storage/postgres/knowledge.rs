//! Knowledge documents and chunks on PostgreSQL: the shared implementation
//! (`storage::knowledge::knowledge_repos`), claiming with `FOR UPDATE SKIP LOCKED` so that
//! workers on several hosts never wait for each other.

use super::{Db, Postgres, classify, commit};

crate::storage::knowledge::knowledge_repos!(
    Postgres,
    " FOR UPDATE SKIP LOCKED",
    "c.id IN (SELECT jsonb_array_elements_text($2::jsonb)::bigint)"
);
