//! Helpers for test suites: throw-away databases on every backend, the services they need,
//! and a TCP proxy that can cut a connection to simulate an outage.
//!
//! PostgreSQL runs when `TEST_DATABASE_URL` is set; under `CI` a missing variable is a
//! failure, never a silent skip. The same holds for Redis and `TEST_REDIS_URL`/`REDIS_URL`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::config::{Config, Secret};
use crate::state::AppState;
use crate::storage::{Backend, ConnectOptions, Storage};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The PostgreSQL server for tests, if configured.
pub fn postgres_url() -> Option<String> {
    let url = env("TEST_DATABASE_URL");
    if url.is_none() && in_ci() {
        panic!("CI is set but TEST_DATABASE_URL is not: PostgreSQL tests must run in CI");
    }
    url
}

/// The Redis server for tests, if configured (`TEST_REDIS_URL`, else `REDIS_URL`).
pub fn redis_url() -> Option<String> {
    let url = env("TEST_REDIS_URL").or_else(|| env("REDIS_URL"));
    if url.is_none() && in_ci() {
        panic!("CI is set but neither TEST_REDIS_URL nor REDIS_URL is: Redis tests must run in CI");
    }
    url
}

/// The backends to run a storage test against: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if postgres_url().is_some() {
        backends.push(Backend::Postgres);
    } else {
        eprintln!("note: TEST_DATABASE_URL unset; PostgreSQL variant skipped");
    }
    backends
}

/// A database that exists for one test: a SQLite file in a temporary directory, or a fresh
/// PostgreSQL database created on the test server and dropped afterwards (even on panic).
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    /// Holds the data directory (SQLite file, objects) for the test's lifetime.
    pub dir: tempfile::TempDir,
    pg_admin: Option<(String, String)>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("caravan.db").display());
                Self {
                    backend,
                    url,
                    dir,
                    pg_admin: None,
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_url().expect("TEST_DATABASE_URL for a PostgreSQL test");
                let name = format!("caravan_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                // The server refuses superusers (row-level security would not apply), so the
                // database belongs to an ordinary role, as in production.
                sqlx::query(AssertSqlSafe(format!(
                    "DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; \
                     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                )))
                .execute(&mut admin)
                .await
                .expect("create the application role");
                sqlx::query(AssertSqlSafe(format!(
                    "CREATE DATABASE {name} OWNER {APP_ROLE}"
                )))
                .execute(&mut admin)
                .await
                .expect("create test database");
                let _ = admin.close().await;
                let url = with_user(&replace_database(&admin_url, &name), APP_ROLE);
                Self {
                    backend,
                    url,
                    dir,
                    pg_admin: Some((admin_url, name)),
                }
            }
        }
    }

    /// A migrated storage on this database.
    pub async fn storage(&self) -> Storage {
        let storage = Storage::connect(&ConnectOptions::new(&self.url))
            .await
            .expect("connect to test database");
        storage.migrate().await.expect("migrations");
        storage
    }

    /// A configuration pointing at this database and data directory.
    pub fn config(&self) -> Config {
        Config {
            data_dir: self.dir.path().to_path_buf(),
            database_url: Some(Secret::new(&self.url)),
            ..Config::default()
        }
    }

    /// Full services on this database with `config` adjustments applied.
    pub async fn state_with(&self, adjust: impl FnOnce(&mut Config)) -> AppState {
        let mut config = self.config();
        adjust(&mut config);
        AppState::build(config).await.expect("application state")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg_admin.take() else {
            return;
        };
        // Drop may run inside a runtime; a separate thread with its own runtime avoids
        // blocking it and works during a panic too.
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for cleanup");
            rt.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// The role test databases belong to and the server connects as: no superuser, no BYPASSRLS.
pub const APP_ROLE: &str = "caravan_app";

/// The superuser URL of the test database (for tests that inspect it from outside).
impl TestDatabase {
    pub fn admin_url(&self) -> Option<String> {
        self.pg_admin
            .as_ref()
            .map(|(admin, name)| replace_database(admin, name))
    }
}

/// `postgres://old@h/db` with the user replaced (and any password dropped: trust auth).
pub fn with_user(url: &str, user: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

/// `postgres://u@h:p/old?x` with the database name replaced.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let mut out = match path_start {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => format!("{base}/{name}"),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A TCP forwarder in front of a real server. `cut()` drops every connection and refuses new
/// ones, as a crashed or partitioned server would; `restore()` lets traffic through again.
#[derive(Debug)]
pub struct TcpProxy {
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let down = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let proxy = Self {
            addr,
            down: down.clone(),
            generation: generation.clone(),
        };
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if down.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut cut = generation.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        proxy
    }

    /// Closes every open connection and refuses new ones.
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// The host and port of a `scheme://[user@]host:port/...` URL, resolved.
pub async fn socket_addr_of(url: &str, default_port: u16) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host_port = rest.split(['/', '?']).next().unwrap_or(rest);
    let target = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    };
    tokio::net::lookup_host(&target)
        .await
        .expect("resolve host")
        .next()
        .expect("an address")
}

/// `url` with its host and port replaced by `addr` (to route a client through a proxy).
pub fn with_addr(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (userinfo, rest) = rest
        .rsplit_once('@')
        .map_or((None, rest), |(u, r)| (Some(u), r));
    let tail_start = rest.find(['/', '?']).unwrap_or(rest.len());
    let tail = &rest[tail_start..];
    match userinfo {
        Some(u) => format!("{scheme}://{u}@{addr}{tail}"),
        None => format!("{scheme}://{addr}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_swapped_in_urls() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h:1", "x"), "postgres://h:1/x");
    }

    #[test]
    fn addresses_are_swapped_in_urls() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(
            with_addr("postgres://postgres@127.0.0.1:5432/db", addr),
            "postgres://postgres@127.0.0.1:9/db"
        );
        assert_eq!(
            with_addr("redis://127.0.0.1:6379", addr),
            "redis://127.0.0.1:9"
        );
    }
}
