//! `caravan plugin …`: scaffold, build and test plugins locally, and manage a tenant's
//! versions on a running server through the platform-admin API.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::{Value, json};

use crate::plugins::registry::{self, RunReport};
use crate::plugins::{CallSpec, Limits, PluginRuntime, Slot, fixtures};

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Create a plugin project for a slot from a template that builds with the SDK.
    New {
        /// email-parser, quote-rules, pricing or pdf-template.
        slot: String,
        /// Directory to create; its name becomes the crate name.
        dir: PathBuf,
        /// Path of the caravan-sdk crate (defaults to the one this binary was built from).
        #[arg(long)]
        sdk_path: Option<PathBuf>,
    },
    /// Build a plugin project for wasm32-wasip2 and print the component's path and size.
    Build {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run a component in the local sandbox on the slot's sample inputs (or `--input`) and
    /// report output, fuel, memory, time and size against the limits.
    Test {
        slot: String,
        /// The component (`.wasm`).
        file: PathBuf,
        /// JSON input in the dry-run shape (e.g. `{"request": {...}}` for pricing).
        #[arg(long)]
        input: Option<PathBuf>,
        /// JSON object of configuration keys the plugin reads (as set with `PUT …/config`).
        #[arg(long = "plugin-config")]
        config: Option<PathBuf>,
        #[arg(long)]
        fuel: Option<u64>,
        #[arg(long)]
        deadline_ms: Option<u64>,
        #[arg(long)]
        memory_bytes: Option<u64>,
    },
    /// Upload a component as a new version of a tenant's slot.
    Upload {
        tenant: String,
        slot: String,
        file: PathBuf,
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        server: Server,
    },
    /// Make a version (or `default`) serve a tenant's slot.
    Activate {
        tenant: String,
        slot: String,
        version: String,
        #[command(flatten)]
        server: Server,
    },
    /// Return a tenant's slot to the version active before the last change.
    Rollback {
        tenant: String,
        slot: String,
        #[command(flatten)]
        server: Server,
    },
    /// List a tenant's versions, active versions and call statistics.
    List {
        tenant: String,
        #[command(flatten)]
        server: Server,
    },
}

/// Where the server is and how to authenticate.
#[derive(Debug, clap::Args)]
pub struct Server {
    /// Base URL of a running Caravan server.
    #[arg(long, default_value = "http://127.0.0.1:8000", env = "CARAVAN_SERVER")]
    pub server: String,
    /// The platform admin token.
    #[arg(long, env = "CARAVAN_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
}

fn slot(value: &str) -> anyhow::Result<Slot> {
    Slot::parse(value).with_context(|| {
        format!("unknown slot `{value}`: use email-parser, quote-rules, pricing or pdf-template")
    })
}

pub async fn run(command: PluginCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        PluginCommand::New {
            slot: s,
            dir,
            sdk_path,
        } => new(slot(&s)?, &dir, sdk_path, out),
        PluginCommand::Build { dir } => build(&dir, out),
        PluginCommand::Test {
            slot: s,
            file,
            input,
            config,
            fuel,
            deadline_ms,
            memory_bytes,
        } => {
            let mut limits = Limits::default();
            limits.fuel = fuel.unwrap_or(limits.fuel);
            limits.deadline_ms = deadline_ms.unwrap_or(limits.deadline_ms);
            limits.memory_bytes = memory_bytes.unwrap_or(limits.memory_bytes);
            test(
                slot(&s)?,
                &file,
                input.as_deref(),
                config.as_deref(),
                limits,
                out,
            )
            .await
        }
        PluginCommand::Upload {
            tenant,
            slot: s,
            file,
            label,
            server,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let mut path = format!("/api/v1/admin/tenants/{tenant}/plugins/{}", slot(&s)?);
            if let Some(label) = label {
                path.push_str(&format!("?label={label}"));
            }
            let body = request(&server, reqwest::Method::POST, &path, Body::Wasm(bytes)).await?;
            print(out, &body["data"])
        }
        PluginCommand::Activate {
            tenant,
            slot: s,
            version,
            server,
        } => {
            let path = format!(
                "/api/v1/admin/tenants/{tenant}/plugins/{}/activate",
                slot(&s)?
            );
            let body = request(
                &server,
                reqwest::Method::POST,
                &path,
                Body::Json(json!({"version_id": version})),
            )
            .await?;
            print(out, &body["data"])
        }
        PluginCommand::Rollback {
            tenant,
            slot: s,
            server,
        } => {
            let path = format!(
                "/api/v1/admin/tenants/{tenant}/plugins/{}/rollback",
                slot(&s)?
            );
            let body =
                request(&server, reqwest::Method::POST, &path, Body::Json(json!({}))).await?;
            print(out, &body["data"])
        }
        PluginCommand::List { tenant, server } => {
            let path = format!("/api/v1/admin/tenants/{tenant}/plugins");
            let body = request(&server, reqwest::Method::GET, &path, Body::None).await?;
            list(out, &body["data"])
        }
    }
}

fn print(out: &mut dyn Write, value: &Value) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn template(slot: Slot) -> &'static str {
    match slot {
        Slot::EmailParser => include_str!("templates/email-parser.rs.txt"),
        Slot::QuoteRules => include_str!("templates/quote-rules.rs.txt"),
        Slot::Pricing => include_str!("templates/pricing.rs.txt"),
        Slot::PdfTemplate => include_str!("templates/pdf-template.rs.txt"),
    }
}

fn new(
    slot: Slot,
    dir: &Path,
    sdk_path: Option<PathBuf>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if dir.exists()
        && dir
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} already exists and is not empty", dir.display());
    }
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("the directory needs a name")?
        .to_owned();
    let sdk = match sdk_path {
        Some(p) => p,
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk"),
    };
    let sdk = sdk.canonicalize().unwrap_or(sdk);
    std::fs::create_dir_all(dir.join("src"))?;
    let manifest = include_str!("templates/Cargo.toml.txt")
        .replace("{name}", &name)
        .replace("{sdk}", &sdk.display().to_string());
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::write(dir.join("src/lib.rs"), template(slot))?;
    std::fs::create_dir_all(dir.join(".cargo"))?;
    std::fs::write(
        dir.join(".cargo/config.toml"),
        // The workspace's own WebAssembly build settings, so that projects follow them.
        include_str!("../../../.cargo/config.toml"),
    )?;
    writeln!(
        out,
        "created {} ({slot} plugin); next: caravan plugin build {0}",
        dir.display()
    )?;
    Ok(())
}

fn build(dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("{} is not a plugin project", dir.display()))?;
    let name = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("name = "))
        .map(|n| n.trim_matches('"').replace('-', "_"))
        .context("no package name in Cargo.toml")?;
    // Run in the project: cargo reads `.cargo/config.toml` (the project's build flags) from
    // the directory it runs in, and finds the manifest there.
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(dir)
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .status()
            .context("running cargo (is the Rust toolchain installed?)")?;
    if !status.success() {
        bail!("cargo build failed");
    }
    // A relative target directory is relative to where cargo ran: the project.
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| dir.join("target"), |t| dir.join(t));
    let wasm = target
        .join("wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    let size = std::fs::metadata(&wasm)
        .with_context(|| format!("expected {}", wasm.display()))?
        .len();
    writeln!(out, "{} ({size} bytes)", wasm.display())?;
    Ok(())
}

fn read_json(path: Option<&Path>) -> anyhow::Result<Option<Value>> {
    path.map(|p| {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))
    })
    .transpose()
}

async fn test(
    slot: Slot,
    file: &Path,
    input: Option<&Path>,
    config: Option<&Path>,
    limits: Limits,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let runtime = std::sync::Arc::new(PluginRuntime::new()?);
    let compiled = runtime
        .compile(slot, &bytes)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let mut spec = CallSpec::new("local", "local");
    spec.limits = limits;
    if let Some(Value::Object(map)) = read_json(config)? {
        spec.config =
            std::sync::Arc::new(map.into_iter().map(|(k, v)| (k, v.to_string())).collect());
    }
    let input = read_json(input)?;
    let tenant = fixtures::tenant();
    let mut reports: Vec<RunReport> = Vec::new();
    if input.is_some() {
        reports.push(
            registry::run_json(&runtime, &compiled, &spec, &tenant, "input", input.as_ref())
                .await?,
        );
    } else {
        reports.extend(registry::conformance(&runtime, &compiled, &spec, &tenant).await?);
    }
    writeln!(
        out,
        "component {} ({} bytes, caravan:plugins@{}) for the {slot} slot",
        file.display(),
        bytes.len(),
        compiled.wit_version
    )?;
    let mut failed = false;
    for r in &reports {
        match (&r.error, &r.stats) {
            (None, Some(s)) => writeln!(
                out,
                "  {:<8} ok    fuel {:>10} / {:<10} memory {:>9} / {:<9} time {:>6} µs / {} ms",
                r.name,
                s.fuel_used,
                limits.fuel,
                s.peak_memory_bytes,
                limits.memory_bytes,
                s.wall_us,
                limits.deadline_ms
            )?,
            (Some(e), stats) => {
                failed = true;
                let cost = stats
                    .map(|s| format!(" (after fuel {}, time {} µs)", s.fuel_used, s.wall_us))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "  {:<8} FAIL  {}: {}{cost}",
                    r.name,
                    e.kind.as_str(),
                    e.message
                )?;
            }
            (None, None) => {}
        }
        if let Some(output) = &r.output {
            writeln!(out, "  output: {}", serde_json::to_string(output)?)?;
        }
    }
    if failed {
        bail!("the component failed in the sandbox");
    }
    Ok(())
}

fn list(out: &mut dyn Write, data: &Value) -> anyhow::Result<()> {
    let empty = Vec::new();
    for slot in data["slots"].as_array().unwrap_or(&empty) {
        writeln!(
            out,
            "{:<13} active: {}",
            slot["slot"].as_str().unwrap_or_default(),
            slot["active"]["label"].as_str().unwrap_or("default")
        )?;
        for v in slot["versions"].as_array().unwrap_or(&empty) {
            writeln!(
                out,
                "  {} {:<16} {} {:>8} bytes {}",
                if v["active"] == true { "*" } else { " " },
                v["label"].as_str().unwrap_or_default(),
                v["id"].as_str().unwrap_or_default(),
                v["size"],
                v["created_at"].as_str().unwrap_or_default()
            )?;
        }
        for s in slot["stats"].as_array().unwrap_or(&empty) {
            writeln!(
                out,
                "    calls {:>6} {:<16} version {}",
                s["calls"],
                s["outcome"].as_str().unwrap_or_default(),
                s["version_key"].as_str().unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

enum Body {
    None,
    Json(Value),
    Wasm(Vec<u8>),
}

async fn request(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Body,
) -> anyhow::Result<Value> {
    let token = server
        .admin_token
        .as_deref()
        .context("set CARAVAN_ADMIN_TOKEN (or --admin-token) to the server's admin token")?;
    let url = format!("{}{path}", server.server.trim_end_matches('/'));
    crate::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let mut req = client.request(method, &url).header("x-admin-token", token);
    req = match body {
        Body::None => req,
        Body::Json(v) => req.json(&v),
        Body::Wasm(bytes) => req.header("content-type", "application/wasm").body(bytes),
    };
    let res = req
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let detail = match &body["detail"] {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i["msg"].as_str())
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        bail!("{status}: {detail}");
    }
    Ok(body)
}
