//! Knowledge documents and chunks on SQLite: the shared implementation
//! (`storage::knowledge::knowledge_repos`). SQLite runs one writer at a time, so the claim
//! needs no row lock, and an id list is matched through `json_each`.

use super::{Db, Sqlite, classify_plain as classify, commit};

crate::storage::knowledge::knowledge_repos!(
    Sqlite,
    "",
    "c.id IN (SELECT value FROM json_each($2))"
);
