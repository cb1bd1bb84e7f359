//! Inbound messages, tickets and notifications on SQLite: the shared implementation
//! (`storage::inbound::inbound_repos`); the claim is one statement, and SQLite runs one
//! writer at a time, so two workers cannot both take a message.

use super::{Sqlite, classify_plain as classify, commit};

crate::storage::inbound::inbound_repos!(Sqlite, "");
