//! Quotes, CRM clients and activities on PostgreSQL: the shared implementation
//! (`storage::quotes::quote_repos`).

use super::{Postgres, classify, commit};

crate::storage::quotes::quote_repos!(Postgres);
