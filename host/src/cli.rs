//! The `caravan` command line: the server, migrations, and tenant administration that works
//! on the database directly (no running server needed).

mod plugin;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::accounts::NewUser;
use crate::accounts::model::Role;
use crate::config::{Config, ProcessEnv};
use crate::error::Error;
use crate::state::{AppState, connect_options};
use crate::storage::Storage;
use crate::tenants::model::{Destination, Tenant, TenantListQuery, TenantStatus};
use crate::tenants::{CreateTenant, DestinationInput};

#[derive(Debug, Parser)]
#[command(
    name = "caravan",
    version,
    about = "Caravan: enquiry-to-quote platform for travel agencies"
)]
pub struct Cli {
    /// TOML configuration file (environment variables override it).
    #[arg(long, global = true, env = "CARAVAN_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants directly in the database.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage a tenant's users directly in the database.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Build, test and manage plugins.
    Plugin {
        #[command(subcommand)]
        command: plugin::PluginCommand,
    },
    /// Print the version.
    Version,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Provision a tenant.
    Create(CreateArgs),
    /// List tenants.
    List {
        /// Only `active` or `suspended` tenants.
        #[arg(long)]
        status: Option<String>,
        /// Case-insensitive substring of id, name or admin email.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print one tenant as JSON.
    Show { id: String },
    /// Change a tenant's fields.
    Update {
        id: String,
        /// The same JSON object as `PATCH /api/v1/admin/tenants/{id}`, or `@file.json`.
        #[arg(long)]
        patch: String,
    },
    /// Suspend a tenant: its users and inbound mail are refused until it is resumed.
    Suspend {
        id: String,
        /// Why (5–500 characters); kept with the tenant.
        #[arg(long)]
        reason: String,
    },
    /// Lift a suspension.
    Resume { id: String },
    /// Delete a tenant with all its data and files.
    Delete {
        id: String,
        /// Confirms the deletion, which cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who can sign in at once. The password is prompted for on a terminal,
    /// or read from the first line of standard input otherwise.
    Create {
        /// The tenant the user belongs to.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// `admin` or `consultant`.
        #[arg(long, default_value = "consultant")]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Email the user a link to choose a password instead of setting one here.
        #[arg(long)]
        no_password: bool,
    },
    /// List a tenant's users (active and deactivated).
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A JSON file with the same fields as `POST /api/v1/admin/tenants`.
    #[arg(long, conflicts_with_all = ["id", "name", "admin_email"])]
    pub from_json: Option<PathBuf>,
    /// Tenant slug (3–50 of a-z, 0-9, `_`, `-`).
    #[arg(long, required_unless_present = "from_json")]
    pub id: Option<String>,
    /// Company name.
    #[arg(long, required_unless_present = "from_json")]
    pub name: Option<String>,
    /// Address that receives the first user's invitation.
    #[arg(long, required_unless_present = "from_json")]
    pub admin_email: Option<String>,
    #[arg(long)]
    pub support_email: Option<String>,
    /// ISO 4217 home currency (default ZAR).
    #[arg(long)]
    pub currency: Option<String>,
    /// IANA time zone (default Africa/Johannesburg).
    #[arg(long)]
    pub timezone: Option<String>,
    /// lite, standard, pro, premium or enterprise (default lite).
    #[arg(long)]
    pub plan: Option<String>,
    /// `Name` or `Name=alias,alias`; repeat for each destination.
    #[arg(long = "destination")]
    pub destinations: Vec<String>,
    /// An address whose mail belongs to this tenant; repeatable.
    #[arg(long = "inbound-address")]
    pub inbound_addresses: Vec<String>,
    /// Brand colour `#RRGGBB`.
    #[arg(long)]
    pub primary_color: Option<String>,
}

impl CreateArgs {
    fn into_input(self) -> anyhow::Result<CreateTenant> {
        if let Some(path) = self.from_json {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid tenant description", path.display()));
        }
        let destinations = self
            .destinations
            .iter()
            .map(|spec| {
                let (name, aliases) = spec.split_once('=').unwrap_or((spec, ""));
                DestinationInput::Full(Destination {
                    name: name.to_owned(),
                    code: String::new(),
                    aliases: aliases
                        .split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    enabled: true,
                })
            })
            .collect();
        Ok(CreateTenant {
            tenant_id: self.id.unwrap_or_default(),
            company_name: self.name.unwrap_or_default(),
            admin_email: self.admin_email.unwrap_or_default(),
            support_email: self.support_email,
            timezone: self.timezone,
            currency: self.currency,
            plan: self.plan,
            logo_url: None,
            primary_color: self.primary_color,
            secondary_color: None,
            destinations,
            inbound_addresses: self.inbound_addresses,
            limits: None,
            quoting: None,
            helpdesk: None,
            fx_rates: None,
            email: None,
            gcp_project_id: None,
            gcp_dataset: None,
        })
    }
}

/// Parses the process arguments, runs the command, and reports errors on stderr.
#[allow(clippy::print_stderr)] // Reporting on stderr is this function's job.
pub async fn main() -> ExitCode {
    crate::tls::install_crypto_provider();
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), &ProcessEnv) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The server logs to stdout for log collectors; other commands keep stdout for results.
    if matches!(cli.command, Command::Serve) {
        crate::telemetry::init(&config.log, config.log_format, std::io::stdout);
    } else {
        crate::telemetry::init(&config.log, config.log_format, std::io::stderr);
    }
    let mut stdout = std::io::stdout();
    match run(cli.command, config, &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// A readable account of a failure, listing every broken rule of a validation error.
fn describe(err: &anyhow::Error) -> String {
    if let Some(Error::Validation(fields)) = err.downcast_ref::<Error>() {
        let mut text = String::from("error: invalid input");
        for f in fields {
            text.push_str(&format!(
                "\n  - {}: {}",
                f.loc.last().map_or("", String::as_str),
                f.msg
            ));
        }
        return text;
    }
    format!("error: {err:#}")
}

/// Runs one command, writing its results to `out`.
pub async fn run(command: Command, config: Config, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Version => {
            writeln!(out, "caravan {}", env!("CARGO_PKG_VERSION"))?;
        }
        Command::Migrate => {
            let storage = Storage::connect(&connect_options(&config)).await?;
            storage.migrate().await?;
            writeln!(out, "migrations applied ({})", storage.backend.as_str())?;
        }
        Command::Serve => {
            let state = AppState::build(config).await?;
            crate::server::serve(state).await?;
        }
        Command::Plugin { command } => plugin::run(command, out).await?,
        Command::Tenant { command } => {
            let state = AppState::build(config).await?;
            tenant(command, &state, out).await?;
        }
        Command::User { command } => {
            let state = AppState::build(config).await?;
            user(command, &state, out).await?;
        }
    }
    Ok(())
}

async fn tenant(
    command: TenantCommand,
    state: &AppState,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let tenants = &state.tenants;
    match command {
        TenantCommand::Create(args) => {
            let tenant = tenants.create(args.into_input()?).await?;
            let invitation = state
                .accounts
                .invite(&tenant, None, &tenant.admin_email, "", "admin")
                .await?;
            print_json(out, &tenant)?;
            tracing::info!(
                invitation_id = invitation.id,
                outbox = %state.accounts.mailer().dir().display(),
                "invited the tenant's admin address as its first user"
            );
        }
        TenantCommand::List {
            status,
            search,
            limit,
            json,
        } => {
            let status =
                match status.as_deref() {
                    None => None,
                    Some(s) => Some(TenantStatus::parse(s).with_context(|| {
                        format!("--status must be active or suspended, not `{s}`")
                    })?),
                };
            let page = tenants
                .list(&TenantListQuery {
                    status,
                    search,
                    limit: limit.clamp(1, 10_000),
                    ..TenantListQuery::default()
                })
                .await?;
            if json {
                print_json(out, &page.tenants)?;
            } else {
                print_table(out, &page.tenants, page.total)?;
            }
        }
        TenantCommand::Show { id } => {
            let tenant = tenants.get(&id).await?;
            print_json(out, &*tenant)?;
        }
        TenantCommand::Update { id, patch } => {
            let text = match patch.strip_prefix('@') {
                Some(path) => {
                    std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?
                }
                None => patch,
            };
            let patch =
                serde_json::from_str(&text).context("--patch is not a valid tenant update")?;
            let tenant = tenants.update(&id, patch).await?;
            print_json(out, &tenant)?;
        }
        TenantCommand::Suspend { id, reason } => {
            tenants.suspend(&id, &reason).await?;
            writeln!(out, "tenant {id} suspended")?;
        }
        TenantCommand::Resume { id } => {
            tenants.activate(&id).await?;
            writeln!(out, "tenant {id} active")?;
        }
        TenantCommand::Delete { id, yes } => {
            if !yes {
                anyhow::bail!(
                    "deleting tenant {id} removes all of its data and files; add --yes to confirm"
                );
            }
            let objects = tenants.delete(&id).await?;
            writeln!(out, "tenant {id} deleted ({objects} stored files removed)")?;
        }
    }
    Ok(())
}

async fn user(command: UserCommand, state: &AppState, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            tenant,
            email,
            role,
            name,
            no_password,
        } => {
            let tenant = state.tenants.get(&tenant).await?;
            let role = Role::parse(&role)
                .with_context(|| format!("--role must be admin or consultant, not `{role}`"))?;
            let password = if no_password {
                None
            } else {
                Some(read_password()?)
            };
            let user = state
                .accounts
                .create_user(
                    &tenant,
                    NewUser {
                        email,
                        name,
                        role,
                        phone: None,
                        password,
                    },
                )
                .await?;
            print_json(out, &crate::http::users::user_body(&user))?;
        }
        UserCommand::List { tenant } => {
            let tenant = state.tenants.get(&tenant).await?;
            let users = state.accounts.list_all_users(&tenant.id).await?;
            let rows: Vec<_> = users.iter().map(crate::http::users::user_body).collect();
            print_json(out, &rows)?;
        }
    }
    Ok(())
}

/// A new password: prompted twice without echo on a terminal, else the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        anyhow::ensure!(first == again, "the passwords do not match");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(
            !password.is_empty(),
            "no password on standard input (or use --no-password)"
        );
        Ok(password)
    }
}

fn print_json(out: &mut dyn Write, value: &impl serde::Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn print_table(out: &mut dyn Write, tenants: &[Tenant], total: i64) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<24} {:<10} {:<10} {:<4} NAME",
        "ID", "STATUS", "PLAN", "CUR"
    )?;
    for t in tenants {
        writeln!(
            out,
            "{:<24} {:<10} {:<10} {:<4} {}",
            t.id,
            t.status.as_str(),
            t.plan,
            t.config.currency,
            t.name
        )?;
    }
    writeln!(out, "{} of {total} tenant(s)", tenants.len())?;
    Ok(())
}
