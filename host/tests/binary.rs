//! The `caravan` binary as an operator runs it: serving, logging, shutting down on a signal,
//! and administering tenants on the database directly, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use caravan::storage::Backend;
use caravan::testing::{TestDatabase, backends};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_caravan");

/// An HTTP client for talking to the server under test.
fn http_client() -> reqwest::Client {
    caravan::tls::install_crypto_provider();
    reqwest::Client::new()
}

/// A command with a clean environment pointing at `db`.
fn caravan(db: &TestDatabase) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CARAVAN_DATA_DIR", db.dir.path())
        .env("DATABASE_URL", &db.url)
        .env("CARAVAN_LOG", "warn");
    cmd
}

fn run(db: &TestDatabase, args: &[&str]) -> Output {
    caravan(db).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn version_prints_the_crate_version() {
    let out = Command::new(BIN).arg("version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        format!("caravan {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn tenant_commands_work_on_the_database_directly() {
    for backend in backends() {
        let db = TestDatabase::new(backend).await;
        let out = run(&db, &["migrate"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains(backend.as_str()));

        let out = run(
            &db,
            &[
                "tenant",
                "create",
                "--id",
                "sunbird",
                "--name",
                "Sunbird Safaris",
                "--admin-email",
                "ops@sunbird.example",
                "--currency",
                "ZAR",
                "--destination",
                "Zanzibar",
                "--destination",
                "Kruger National Park=Kruger,Kruger Park",
                "--inbound-address",
                "sunbird@inbound.caravan.test",
            ],
        );
        assert!(out.status.success(), "{backend:?}: {}", stderr(&out));
        let created: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(created["config"]["destinations"][1]["aliases"][0], "Kruger");

        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/tenants/sunbird.json");
        let mut json: Value =
            serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
        json["tenant_id"] = "sunbird-copy".into();
        json["inbound_addresses"] = serde_json::json!([]);
        let file = db.dir.path().join("copy.json");
        std::fs::write(&file, json.to_string()).unwrap();
        let out = run(
            &db,
            &["tenant", "create", "--from-json", file.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", stderr(&out));

        let out = run(
            &db,
            &[
                "tenant",
                "create",
                "--id",
                "sunbird",
                "--name",
                "Again",
                "--admin-email",
                "a@b.example",
            ],
        );
        assert!(!out.status.success());
        assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));

        let out = run(
            &db,
            &[
                "tenant",
                "create",
                "--id",
                "No Good",
                "--name",
                "X",
                "--admin-email",
                "bad",
            ],
        );
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains("tenant_id") && err.contains("admin_email"),
            "{err}"
        );

        let out = run(&db, &["tenant", "list"]);
        let table = stdout(&out);
        assert!(
            table.contains("sunbird ") && table.contains("Sunbird Safaris"),
            "{table}"
        );
        assert!(table.contains("2 of 2 tenant(s)"), "{table}");

        let out = run(
            &db,
            &[
                "tenant",
                "suspend",
                "sunbird",
                "--reason",
                "unpaid invoices",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let out = run(&db, &["tenant", "list", "--status", "suspended", "--json"]);
        let listed: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(listed[0]["id"], "sunbird");
        assert_eq!(listed[0]["suspended_reason"], "unpaid invoices");

        let out = run(&db, &["tenant", "resume", "sunbird"]);
        assert!(out.status.success());
        let out = run(&db, &["tenant", "show", "sunbird"]);
        let shown: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(shown["status"], "active");

        let out = run(&db, &["tenant", "delete", "sunbird"]);
        assert!(!out.status.success(), "deletion needs --yes");
        let out = run(&db, &["tenant", "delete", "sunbird", "--yes"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = run(&db, &["tenant", "show", "sunbird"]);
        assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    }
}

/// A running server whose stdout lines are collected.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    fn start(db: &TestDatabase) -> (Self, String) {
        let mut child = caravan(db)
            .arg("serve")
            .env("CARAVAN_LISTEN", "127.0.0.1:0")
            .env("CARAVAN_LOG", "info")
            .env("CARAVAN_ADMIN_TOKEN", "binary-test-token")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Self {
            child,
            lines,
            seen: Vec::new(),
        };
        let line = server.wait_for("caravan is serving");
        let log: Value = serde_json::from_str(&line).unwrap();
        let addr = log["listen"].as_str().unwrap().to_owned();
        (server, addr)
    }

    fn wait_for(&mut self, message: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no log line `{message}`; saw {:#?}", self.seen));
            self.seen.push(line.clone());
            if line.contains(message) {
                return line;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[tokio::test]
async fn serve_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let (mut server, addr) = Server::start(&db);
    let client = http_client();
    let res = client
        .post(format!("http://{addr}/api/v1/admin/tenants"))
        .header("x-admin-token", "binary-test-token")
        .header("x-request-id", "binary-req-7")
        .json(
            &serde_json::json!({"tenant_id": "logged", "company_name": "Logged",
                                  "admin_email": "a@logged.example"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["x-request-id"], "binary-req-7");

    server.wait_for("request finished");
    let request_lines: Vec<Value> = server
        .seen
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("every line is JSON"))
        // Lines of the server itself (start-up, key generation, background compilation)
        // belong to no request.
        .filter(|l| l["target"] != "caravan::server" && l["target"] != "caravan::accounts::tokens")
        .collect();
    assert!(
        request_lines
            .iter()
            .any(|l| l["message"] == "tenant created")
    );
    for line in &request_lines {
        assert_eq!(line["span"]["request_id"], "binary-req-7", "{line}");
    }

    let health = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    server.wait_for("caravan stopped");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the CLI with `input` on standard input.
fn run_with_stdin(db: &TestDatabase, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = caravan(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn user_create_makes_a_user_who_can_sign_in_on_both_backends() {
    for backend in backends() {
        let db = TestDatabase::new(backend).await;
        let out = run(
            &db,
            &[
                "tenant",
                "create",
                "--id",
                "cli-users",
                "--name",
                "CLI Users",
                "--admin-email",
                "boss@cli-users.example",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let create = [
            "user",
            "create",
            "--tenant",
            "cli-users",
            "--email",
            "Ops@CLI-users.example",
            "--role",
            "admin",
            "--name",
            "Ops",
        ];
        let out = run_with_stdin(&db, &create, "short\n");
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("at least 8 characters"),
            "{}",
            stderr(&out)
        );
        let out = run_with_stdin(&db, &create, "a good long password\n");
        assert!(out.status.success(), "{}", stderr(&out));
        let user: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(user["email"], "ops@cli-users.example");
        assert_eq!(user["role"], "admin");
        let out = run_with_stdin(&db, &create, "a good long password\n");
        assert!(!out.status.success());
        assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
        let out = run(&db, &["user", "list", "--tenant", "cli-users"]);
        let users: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(users.as_array().unwrap().len(), 1);

        // The user signs in on a server over the same database; the tenant's admin address
        // was invited when the tenant was created.
        let (_server, addr) = Server::start(&db);
        let login: Value = http_client()
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&serde_json::json!({"email": "ops@cli-users.example",
                                      "password": "a good long password"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(login["success"], true, "{login}");
        let outbox = db.dir.path().join("outbox").join("cli-users");
        assert_eq!(std::fs::read_dir(outbox).unwrap().count(), 1);
    }
}

#[tokio::test]
async fn a_login_logs_no_secret_and_masks_addresses_and_phones() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let (mut server, addr) = Server::start(&db);
    let client = http_client();
    let admin = |path: &str| {
        client
            .post(format!("http://{addr}{path}"))
            .header("x-admin-token", "binary-test-token")
    };
    let res = admin("/api/v1/admin/tenants")
        .json(
            &serde_json::json!({"tenant_id": "privacy", "company_name": "Privacy Tours",
                                  "admin_email": "owner.person@privacy.example"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let password = "Sup3r-secret passphrase!";
    let res = admin("/api/v1/admin/tenants/privacy/users")
        .json(
            &serde_json::json!({"email": "lena.ndlovu@privacy.example", "password": password,
                                  "phone": "+27 82 555 0199", "role": "admin"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let login: Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "lena.ndlovu@privacy.example", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["success"], true, "{login}");
    let failed: Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "lena.ndlovu@privacy.example", "password": "wrong guess 123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed["success"], false);
    server.wait_for("login refused");

    let logs = server.seen.join("\n");
    assert!(logs.contains("login succeeded"), "{logs}");
    assert!(
        logs.contains("l***@privacy.example"),
        "the refused login names the masked address: {logs}"
    );
    for secret in [
        password,
        "wrong guess 123",
        login["access_token"].as_str().unwrap(),
        login["refresh_token"].as_str().unwrap(),
        "lena.ndlovu@",
        "owner.person@",
        "555 0199",
    ] {
        assert!(
            !logs.contains(secret),
            "`{secret}` reached the logs: {logs}"
        );
    }
}

#[test]
fn a_bad_configuration_is_reported_without_starting() {
    let out = Command::new(BIN)
        .arg("serve")
        .env("CARAVAN_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("CARAVAN_LISTEN"), "{}", stderr(&out));
}

#[tokio::test]
async fn plugin_commands_manage_versions_on_a_running_server() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let (_server, addr) = Server::start(&db);
    let server_url = format!("http://{addr}");
    let cli = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("CARAVAN_SERVER", &server_url)
            .env("CARAVAN_ADMIN_TOKEN", "binary-test-token")
            .env("CARAVAN_LOG", "warn")
            .output()
            .unwrap()
    };
    let client = http_client();
    let res = client
        .post(format!("{server_url}/api/v1/admin/tenants"))
        .header("x-admin-token", "binary-test-token")
        .json(&serde_json::json!({"tenant_id": "agency", "company_name": "Agency", "admin_email": "a@agency.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let wasm = db.dir.path().join("pricing.wasm");
    std::fs::write(
        &wasm,
        caravan::plugins::defaults::component(caravan::plugins::Slot::Pricing),
    )
    .unwrap();
    let wasm = wasm.to_str().unwrap();

    let out = cli(&["plugin", "test", "pricing", wasm]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("sample") && report.contains(" ok ") && report.contains("fuel"),
        "{report}"
    );

    let out = cli(&["plugin", "test", "email-parser", wasm]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("caravan:plugins/parser"),
        "{}",
        stderr(&out)
    );

    let out = cli(&[
        "plugin", "upload", "agency", "pricing", wasm, "--label", "mine",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let uploaded: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let id = uploaded["id"].as_str().unwrap();

    let out = cli(&["plugin", "activate", "agency", "pricing", id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(&["plugin", "list", "agency"]);
    let listing = stdout(&out);
    assert!(listing.contains("pricing       active: mine"), "{listing}");
    assert!(
        listing.contains(&format!("* mine             {id}")),
        "{listing}"
    );

    let out = cli(&["plugin", "rollback", "agency", "pricing"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(&["plugin", "list", "agency"]);
    assert!(
        stdout(&out).contains("pricing       active: default"),
        "{}",
        stdout(&out)
    );

    let out = Command::new(BIN)
        .args(["plugin", "list", "agency", "--server", &server_url])
        .env_remove("CARAVAN_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("CARAVAN_ADMIN_TOKEN"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_new_plugin_project_builds_and_passes_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("my-pricing");
    let out = Command::new(BIN)
        .args(["plugin", "new", "pricing", project.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let config = std::fs::read_to_string(project.join(".cargo/config.toml")).unwrap();
    assert!(config.contains("+simd128"), "{config}");
    // Reuse the compiled SDK of the plugin build to keep this test quick.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugin-template");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(|t| Path::new(&t).join("plugin-template"))
        .unwrap_or(target);
    let out = Command::new(BIN)
        .args(["plugin", "build", project.to_str().unwrap()])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let built = stdout(&out);
    let wasm = built.split_whitespace().next().unwrap();
    let out = Command::new(BIN)
        .args(["plugin", "test", "pricing", wasm])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains(" ok "), "{}", stdout(&out));
}
