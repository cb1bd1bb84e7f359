//! Quotes, CRM clients and activities on SQLite: the shared implementation
//! (`storage::quotes::quote_repos`).

use super::{Sqlite, classify_plain as classify, commit};

crate::storage::quotes::quote_repos!(Sqlite);
