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

// Every plugin call lifts each string of the plugin's answer into its own allocation and
// frees them soon after, on whichever worker thread ran the call. jemalloc's per-thread
// caches make that traffic about a fifteenth of a pricing call cheaper than glibc's
// allocator, at about the same resident memory with a thousand tenants
// (docs/benchmarks.md). A library sets it so that the server, the tests and the benchmarks
// all run on it.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
