//! Command line: `serve` (the default), `migrate`, `seed-demo`, `create-org`, `create-admin`,
//! `export-schema`. Configuration comes from the environment (see `config`); flags override it
//! where natural.

use std::{io::BufRead, net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use entity::{organization::OrganizationKind, staff_member::StaffRole};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    Config,
    config::LogFormat,
    error::ApiError,
    service::{organizations, staff},
};

#[derive(Parser)]
#[command(
    name = "kakehashi",
    version,
    about = "Kakehashi (架け橋): the facility ↔ consultation-office GraphQL API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default command).
    Serve {
        /// Address to listen on (overrides BIND_ADDR).
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Load the demo organizations and accounts first (skipped when already present).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo world (organizations, accounts; idempotent).
    SeedDemo,
    /// Register an organization; prints its id.
    CreateOrg {
        #[arg(long, value_enum)]
        kind: KindArg,
        #[arg(long)]
        name: String,
        #[arg(long)]
        municipality: String,
        /// Service type offered (repeat for several); facilities need at least one.
        #[arg(long = "service-type")]
        service_types: Vec<String>,
        /// 事業所番号 (10 digits).
        #[arg(long)]
        office_number: Option<String>,
    },
    /// Create the first admin of an organization. The password is read from --password-file,
    /// else the KAKEHASHI_ADMIN_PASSWORD variable, else the first line of standard input.
    CreateAdmin {
        /// A file whose first line is the password.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// The organization's id (as printed by create-org) or its office number.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Print the GraphQL schema (SDL), or write it to a file.
    ExportSchema {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Facility,
    ConsultationOffice,
}

/// Runs one command in-process, as `kakehashi <args…>` would (tests and embedding).
pub async fn run_args<I, T>(args: I, config: Config) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    run(cli, config).await
}

/// Parses arguments, runs the command, reports errors readably.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

async fn run(cli: Cli, mut config: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve {
        bind: None,
        demo: false,
    }) {
        Command::Serve { bind, demo } => {
            if let Some(bind) = bind {
                config.bind_addr = bind;
            }
            tracing::info!(?config, "starting");
            let state = crate::build_state(config).await?;
            if demo {
                crate::seed::seed_demo(&state).await?;
            }
            let server = crate::Server::bind(state).await?;
            let addr = server.local_addr()?;
            tracing::info!("listening on http://{addr}/graphql (GraphiQL: open it in a browser)");
            server.run(crate::shutdown_signal()).await
        }
        Command::Migrate => {
            let db = crate::db::connect(&config.database_url, 2).await?;
            crate::db::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::SeedDemo => {
            config.run_migrations = true;
            let state = crate::build_state(config).await?;
            crate::seed::seed_demo(&state).await
        }
        Command::CreateOrg {
            kind,
            name,
            municipality,
            service_types,
            office_number,
        } => {
            let db = connected(&config).await?;
            let kind = match kind {
                KindArg::Facility => OrganizationKind::Facility,
                KindArg::ConsultationOffice => OrganizationKind::ConsultationOffice,
            };
            let org = organizations::create(
                &db,
                organizations::NewOrganization {
                    kind,
                    name,
                    service_types,
                    municipality,
                    office_number,
                },
            )
            .await
            .map_err(describe)?;
            println!("{}", org.id);
            Ok(())
        }
        Command::CreateAdmin {
            org,
            email,
            name,
            password_file,
        } => {
            let db = connected(&config).await?;
            let org_id = match Uuid::parse_str(&org) {
                Ok(id) => id,
                Err(_) => entity::organization::Entity::find()
                    .filter(entity::organization::Column::OfficeNumber.eq(org.as_str()))
                    .one(&db)
                    .await?
                    .map(|o| o.id)
                    .with_context(|| format!("no organization with id or office number {org}"))?,
            };
            if entity::organization::Entity::find_by_id(org_id)
                .one(&db)
                .await?
                .is_none()
            {
                bail!("no organization with id {org_id}");
            }
            let from_file = match password_file {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                ),
                None => None,
            };
            let password =
                match from_file.map_or_else(|| std::env::var("KAKEHASHI_ADMIN_PASSWORD"), Ok) {
                    Ok(p) => p,
                    Err(_) => {
                        let mut line = String::new();
                        std::io::stdin()
                            .lock()
                            .read_line(&mut line)
                            .context("reading the password from standard input")?;
                        line.trim_end_matches(['\r', '\n']).to_owned()
                    }
                };
            let hasher = crate::auth::password::PasswordHasher::new(1);
            let member = staff::insert(
                &db,
                &hasher,
                org_id,
                staff::NewStaffMember {
                    email,
                    display_name: name,
                    role: StaffRole::OrgAdmin,
                    initial_password: password,
                },
            )
            .await
            .map_err(describe)?;
            println!("{}", member.id);
            Ok(())
        }
        Command::ExportSchema { out } => {
            let sdl = crate::graphql::sdl();
            match out {
                Some(path) => std::fs::write(&path, sdl)
                    .with_context(|| format!("writing {}", path.display())),
                None => {
                    print!("{sdl}");
                    Ok(())
                }
            }
        }
    }
}

async fn connected(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = crate::db::connect(&config.database_url, 2).await?;
    if config.run_migrations {
        crate::db::migrate(&db).await?;
    }
    Ok(db)
}

/// A service error as a sentence for the terminal.
fn describe(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::Internal(e) => e,
        other => anyhow::anyhow!("{}: {}", other.code().as_str(), other.public_message()),
    }
}
