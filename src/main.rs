use clap::{Args, Parser, Subcommand};
use fullpass::config::{DaemonArgs, ProcessingArgs, StorageArgs};
use fullpass::db::{self, DbConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// fullpass: reads a user's whole chat export and writes their MEMORY section,
/// woken by PostgreSQL.
///
/// The app sets user_profiles.full_pass_status = 'pending' (with storage_path set);
/// a trigger NOTIFYs; `fullpass run` claims the row, streams the export from storage,
/// extracts durable facts about the user and writes memory_md back.
#[derive(Parser)]
#[command(name = "fullpass", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DatabaseArgs {
    /// PostgreSQL connection URL (postgres://user:pass@host:5432/db?sslmode=...).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

// Parsed once at start; the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the daemon: migrate, listen, claim and process full passes until SIGTERM.
    Run {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        daemon: DaemonArgs,
        #[command(flatten)]
        storage: StorageArgs,
        #[command(flatten)]
        processing: ProcessingArgs,
    },
    /// Apply the embedded migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Process one export file offline and print MEMORY.md (no database needed).
    Process {
        /// The export: gzip, zip or plain JSON (ChatGPT or Claude format).
        file: PathBuf,
        /// Print the facts as JSON instead of MEMORY.md.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        processing: ProcessingArgs,
    },
    /// Make a user's full pass pending again (a fresh request: attempts reset).
    Requeue {
        /// The user's id; or --all-failed.
        #[arg(required_unless_present = "all_failed")]
        user_id: Option<uuid::Uuid>,
        /// Requeue every failed row.
        #[arg(long, conflicts_with = "user_id")]
        all_failed: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Run the whole path once on a built-in sample export and print the MEMORY it wrote.
    /// Uses DATABASE_URL's server if set, else the local server on 127.0.0.1:5432,
    /// else a throwaway cluster started from the installed PostgreSQL binaries.
    Demo {
        /// PostgreSQL server to use (a database named fullpass_demo is created on it).
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Show counts by status and the age of the oldest claimable request.
    Status {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// First SIGTERM/SIGINT: graceful shutdown. Second: exit at once.
fn spawn_signal_handler(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                return;
            }
        };
        let mut int = match signal(SignalKind::interrupt()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGINT");
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("signal received: shutting down (a second signal exits at once)");
        shutdown.cancel();
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::warn!("second signal: exiting now");
        std::process::exit(130);
    });
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FULLPASS_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("FULLPASS_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fullpass: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fullpass: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Run {
            database,
            daemon,
            storage,
            processing,
        } => {
            let settings = fullpass::config::daemon_settings(
                &database.database_url,
                &daemon,
                &storage,
                &processing,
            )
            .map_err(|e| e.to_string())?;
            let shutdown = CancellationToken::new();
            spawn_signal_handler(shutdown.clone());
            fullpass::daemon::run(settings, shutdown)
                .await
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { database } => {
            let db = DbConfig::from_url(&database.database_url).map_err(|e| e.to_string())?;
            let applied = db::migrate(&db).await.map_err(|e| e.to_string())?;
            if applied.is_empty() {
                println!("database is up to date");
            }
            for name in applied {
                println!("applied {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Process {
            file,
            json,
            processing,
        } => process_file(&file, json, &processing).await,
        Command::Requeue {
            user_id,
            all_failed,
            database,
        } => {
            let db = DbConfig::from_url(&database.database_url).map_err(|e| e.to_string())?;
            let client = db.connect().await.map_err(|e| e.to_string())?;
            if all_failed {
                let n = db::queue::requeue_failed(&client)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("requeued {n} failed rows");
                return Ok(ExitCode::SUCCESS);
            }
            let Some(user_id) = user_id else {
                return Err("requeue: give a USER_ID or --all-failed".to_owned());
            };
            if db::queue::requeue_user(&client, user_id)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("requeued {user_id}");
                Ok(ExitCode::SUCCESS)
            } else {
                Err(format!(
                    "requeue: no row for {user_id}, or it is processing right now"
                ))
            }
        }
        Command::Demo { database_url } => {
            let (url, _cluster) = fullpass::demo::find_server(database_url)
                .await
                .map_err(|e| e.to_string())?;
            let memory = fullpass::demo::run(&url).await.map_err(|e| e.to_string())?;
            print!("{memory}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { database, json } => {
            let db = DbConfig::from_url(&database.database_url).map_err(|e| e.to_string())?;
            let client = db.connect().await.map_err(|e| e.to_string())?;
            let s = db::queue::status(&client)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&s).map_err(|e| e.to_string())?
                );
            } else {
                println!("pending     {} ({} claimable now)", s.pending, s.claimable);
                println!("processing  {}", s.processing);
                println!("complete    {}", s.complete);
                println!("failed      {}", s.failed);
                match s.oldest_claimable_secs {
                    Some(secs) => println!("oldest claimable request: {secs:.1}s ago"),
                    None => println!("no claimable request waiting"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn process_file(
    file: &std::path::Path,
    json: bool,
    processing: &ProcessingArgs,
) -> Result<ExitCode, String> {
    let settings = processing.extract_settings().map_err(|e| e.to_string())?;
    let limits = processing.limits();
    let input = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file.display().to_string();
    let output = tokio::task::spawn_blocking(move || {
        fullpass::pass::run(std::io::BufReader::new(input), &limits, &settings, |_| {
            Ok(())
        })
    })
    .await
    .map_err(|e| format!("processing stopped: {e}"))?
    .map_err(|e| format!("{name}: {e}"))?;
    if json {
        let value = fullpass::memory::render_json(&output.facts);
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", fullpass::memory::render_markdown(&output.facts));
    }
    Ok(ExitCode::SUCCESS)
}
