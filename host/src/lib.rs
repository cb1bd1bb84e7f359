//! Caravan: a multi-tenant platform for travel agencies that turns enquiry emails into priced,
//! branded quotes, with per-tenant WebAssembly plugins.
//!
//! The binary (`caravan`) is a thin wrapper over [`cli`]; tests drive [`app`] directly.

pub mod accounts;
pub mod ai;
pub mod blobs;
pub mod breaker;
pub mod cli;
pub mod config;
pub mod crm;
pub mod error;
pub mod fx;
pub mod helpdesk;
pub mod http;
pub mod inbound;
pub mod knowledge;
pub mod mail;
pub mod metrics;
pub mod mime;
pub mod money;
pub mod notifications;
pub mod pdf;
pub mod plugins;
pub mod quotes;
pub mod ratelimit;
pub mod rates;
pub mod redis;
pub mod retry;
pub mod server;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod tenants;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tickets;
pub mod tls;
pub mod vectors;

pub use http::app;
pub use state::AppState;
