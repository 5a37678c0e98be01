//! Command line: `serve` (the default), `migrate`, `seed-demo`, `create-org`, `create-admin`,
//! `export-schema`, `schema-compat`, `import`, `export`, `language`. Configuration comes from the environment (see `config`); flags override it
//! where natural.

use std::{io::BufRead, net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use entity::{organization::OrganizationKind, staff_member::StaffRole};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use kakehashi::{
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
    /// List the changes from one schema to another that break existing clients (removed or
    /// renamed fields that were not deprecated first, incompatible type changes). Exits 1 when
    /// there is any.
    SchemaCompat {
        #[arg(long)]
        old: PathBuf,
        #[arg(long)]
        new: PathBuf,
    },
    /// The language features from the command line: analyse or fact-check a text, or measure
    /// their quality on the labelled sets kept in `api/data` (the figures in BENCHMARKS.md).
    Language {
        #[command(subcommand)]
        action: LanguageCommand,
    },
    /// Import clients or observations from a CSV or JSON Lines file through the API; resumable.
    Import {
        /// The file (`.csv` with a header row, or JSON Lines).
        file: PathBuf,
        /// What the file holds.
        #[arg(long, value_enum)]
        kind: ImportKindArg,
        #[command(flatten)]
        endpoint: EndpointArgs,
        /// Records per request (at most 500, the server's default limit).
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Rename a source column to a field, e.g. `--map 記録ID=externalId` (repeatable).
        #[arg(long = "map", value_parser = parse_rename)]
        renames: Vec<(String, String)>,
        /// Start from the first record even if an earlier run saved its position.
        #[arg(long)]
        restart: bool,
        /// Read the file as CSV or JSON Lines whatever its extension.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// The file's text encoding; `auto` reads UTF-8 (with or without BOM), Shift_JIS (CP932,
        /// what Excel on a Japanese PC saves as "CSV") and EUC-JP.
        #[arg(long, value_enum, default_value = "auto")]
        encoding: EncodingArg,
    },
    /// Write one client's complete history as JSON (disclosure requests, moving systems).
    Export {
        /// The client's global id.
        #[arg(
            long,
            conflicts_with = "client_external_id",
            required_unless_present = "client_external_id"
        )]
        client: Option<String>,
        /// Or your organization's external id for the client.
        #[arg(long)]
        client_external_id: Option<String>,
        #[command(flatten)]
        endpoint: EndpointArgs,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The server and credential that `import` and `export` use.
#[derive(clap::Args)]
struct EndpointArgs {
    /// The server's GraphQL URL.
    #[arg(
        long,
        env = "KAKEHASHI_URL",
        default_value = "http://127.0.0.1:8080/graphql"
    )]
    url: String,
    /// An API key (or access token); prefer the environment variable over the command line.
    #[arg(long, env = "KAKEHASHI_API_KEY", hide_env_values = true)]
    api_key: String,
}

impl EndpointArgs {
    fn endpoint(self) -> crate::transfer::Endpoint {
        crate::transfer::Endpoint {
            url: self.url,
            token: self.api_key,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ImportKindArg {
    Clients,
    Observations,
    /// Support plans, one `CreateSupportPlanInput` per JSON line.
    Plans,
}

#[derive(Clone, Copy, ValueEnum)]
enum EncodingArg {
    Auto,
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    #[value(
        name = "shift_jis",
        alias = "sjis",
        alias = "cp932",
        alias = "shift-jis"
    )]
    ShiftJis,
    #[value(name = "euc-jp", alias = "eucjp")]
    EucJp,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Jsonl,
}

fn parse_rename(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| "use COLUMN=field".to_owned())
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Facility,
    ConsultationOffice,
}

#[derive(Subcommand)]
enum LanguageCommand {
    /// Print the morphological analysis of a text (one token a line).
    Analyze { text: String },
    /// Fact-check a text and print the findings.
    Check {
        text: String,
        /// Check it as a plan goal (`kind: PLAN`), not a record.
        #[arg(long)]
        plan: bool,
    },
    /// Measure the fact check (precision, recall) and the other language quality figures on
    /// the labelled sets; exits 1 when a figure is under its target.
    Eval {
        /// Labelled sets to score instead of the shipped ones (`kind<TAB>label<TAB>hearsay<TAB>text…`).
        #[arg(long = "set")]
        sets: Vec<PathBuf>,
        /// Print every sentence scored wrongly.
        #[arg(long)]
        misses: bool,
    },
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
            let state = kakehashi::build_state(config).await?;
            if demo {
                crate::seed::seed_demo(&state).await?;
            }
            let server = kakehashi::Server::bind(state).await?;
            let addr = server.local_addr()?;
            tracing::info!("listening on http://{addr}/graphql (GraphiQL: open it in a browser)");
            server.run(kakehashi::shutdown_signal()).await
        }
        Command::Language { action } => {
            kakehashi::language::analysis::configure(
                config.language_dictionary.clone(),
                config.language_cache_dir.clone(),
            );
            language_command(action)
        }
        Command::Migrate => {
            let db = kakehashi::db::connect(&config.database_url, 2).await?;
            kakehashi::db::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::SeedDemo => {
            config.run_migrations = true;
            let state = kakehashi::build_state(config).await?;
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
            let hasher = kakehashi::auth::password::PasswordHasher::new(1);
            let member = staff::insert(
                &db,
                &hasher,
                org_id,
                staff::NewStaffMember {
                    email,
                    display_name: name,
                    role: StaffRole::OrgAdmin,
                    initial_password: password,
                    external_id: None,
                },
            )
            .await
            .map_err(describe)?;
            println!("{}", member.id);
            Ok(())
        }
        Command::SchemaCompat { old, new } => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
            };
            let changes = crate::schema_compat::breaking_changes(&read(&old)?, &read(&new)?)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for c in &changes {
                println!("{c}");
            }
            if changes.is_empty() {
                Ok(())
            } else {
                bail!("{} breaking schema change(s)", changes.len())
            }
        }
        Command::Import {
            file,
            kind,
            endpoint,
            batch,
            renames,
            restart,
            format,
            encoding,
        } => {
            use crate::transfer::{Format, ImportKind, ImportOptions, TextEncoding};
            let opts = ImportOptions {
                encoding: match encoding {
                    EncodingArg::Auto => TextEncoding::Auto,
                    EncodingArg::Utf8 => TextEncoding::Utf8,
                    EncodingArg::ShiftJis => TextEncoding::ShiftJis,
                    EncodingArg::EucJp => TextEncoding::EucJp,
                },
                format: match format {
                    Some(FormatArg::Csv) => Format::Csv,
                    Some(FormatArg::Jsonl) => Format::JsonLines,
                    None => Format::of(&file),
                },
                file,
                kind: match kind {
                    ImportKindArg::Clients => ImportKind::Clients,
                    ImportKindArg::Observations => ImportKind::Observations,
                    ImportKindArg::Plans => ImportKind::Plans,
                },
                // The server's default IMPORT_MAX_ITEMS.
                batch: batch.clamp(1, 500),
                renames: renames.into_iter().collect(),
                restart,
                progress: true,
            };
            let summary = crate::transfer::import(&endpoint.endpoint(), &opts).await?;
            println!("{summary}");
            if summary.failed > 0 {
                eprintln!(
                    "refused items are listed in {}.errors.jsonl",
                    opts.file.display()
                );
            }
            Ok(())
        }
        Command::Export {
            client,
            client_external_id,
            endpoint,
            out,
        } => {
            use crate::transfer::ClientSelector;
            let selector = match (client, client_external_id) {
                (Some(id), _) => ClientSelector::Id(id),
                (None, Some(ext)) => ClientSelector::External(ext),
                (None, None) => bail!("give --client or --client-external-id"),
            };
            let doc = crate::transfer::export(&endpoint.endpoint(), selector).await?;
            let text = serde_json::to_string_pretty(&doc)?;
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display())),
                None => {
                    println!("{text}");
                    Ok(())
                }
            }
        }
        Command::ExportSchema { out } => {
            let sdl = kakehashi::graphql::sdl();
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
    let db = kakehashi::db::connect(&config.database_url, 2).await?;
    if config.run_migrations {
        kakehashi::db::migrate(&db).await?;
    }
    Ok(db)
}

/// A service error as a sentence for the terminal.
fn describe(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::Internal(e) => anyhow::anyhow!("{e:#}"),
        other => anyhow::anyhow!("{}: {}", other.code().as_str(), other.public_message()),
    }
}

fn language_command(action: LanguageCommand) -> anyhow::Result<()> {
    use kakehashi::language::{analysis, fact_check, lexicon::Lexicon, quality};
    match action {
        LanguageCommand::Analyze { text } => {
            let analyzer = analysis::get()
                .with_context(|| format!("no analyser: {:?}", analysis::status()))?;
            for t in analyzer.analyze(&text) {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.surface,
                    t.pos.join(","),
                    t.conj_type,
                    t.conj_form,
                    t.base,
                    t.reading.as_deref().unwrap_or("*")
                );
            }
            Ok(())
        }
        LanguageCommand::Check { text, plan } => {
            let mode = if plan {
                fact_check::Mode::Plan
            } else {
                fact_check::Mode::Record
            };
            let lexicon = Lexicon::builtin().map_err(|e| anyhow::anyhow!("{e}"))?;
            let report = fact_check::check(&text, mode, lexicon, None);
            println!("{report:#?}");
            Ok(())
        }
        LanguageCommand::Eval { sets, misses } => {
            let outcome = quality::evaluate(&sets, misses)?;
            print!("{}", outcome.text);
            if !outcome.met {
                bail!("a language quality figure is under its target");
            }
            Ok(())
        }
    }
}
