//! The knowledge base: documents a tenant uploads, their text split into chunks, and
//! retrieval over those chunks for the helpdesk.

pub mod chunk;
pub mod extract;
pub mod fusion;
pub mod keyword;
