//! Inbound messages, tickets and notifications on PostgreSQL: the shared implementation
//! (`storage::inbound::inbound_repos`), claiming with `FOR UPDATE SKIP LOCKED` so that
//! workers on several hosts never take the same message.

use super::{Postgres, classify, commit};

crate::storage::inbound::inbound_repos!(Postgres, " FOR UPDATE SKIP LOCKED");
