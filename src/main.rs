use clap::{Parser, Subcommand};
use fullpass::config::{DaemonArgs, DatabaseArgs, ProcessingArgs, StorageArgs};
use fullpass::db;
use fullpass::llm::LlmArgs;
use fullpass::telemetry::LogFormat;
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
    /// Log line format on stderr: text for terminals, json for log collectors.
    /// The filter is FULLPASS_LOG (else RUST_LOG, else info).
    #[arg(
        long,
        global = true,
        env = "FULLPASS_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
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
        #[command(flatten)]
        llm: LlmArgs,
    },
    /// Validate the daemon's settings (flags and environment) and print them, secrets masked.
    Config {
        /// Also send the model server (FULLPASS_EXTRACTOR=llm) one tiny request.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        daemon: DaemonArgs,
        #[command(flatten)]
        storage: StorageArgs,
        #[command(flatten)]
        processing: ProcessingArgs,
        #[command(flatten)]
        llm: LlmArgs,
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
        #[command(flatten)]
        llm: LlmArgs,
    },
    /// Read an export without extracting anything: print what the reader
    /// found (counts, dates, formats) as JSON, and with --conversations each
    /// conversation as it is handed to extraction, one JSON object per line.
    Inspect {
        /// The export: gzip, zip or plain JSON (ChatGPT or Claude format).
        file: PathBuf,
        /// Also print every conversation (one JSON object per line) before the stats.
        #[arg(long)]
        conversations: bool,
        #[command(flatten)]
        processing: ProcessingArgs,
    },
    /// Write a synthetic export (for tests and benchmarks), streaming: any size
    /// in flat memory. Prints, as JSON, what a correct reader must find in it.
    GenExport {
        /// Number of conversations to write.
        #[arg(long, required_unless_present = "bytes", conflicts_with = "bytes")]
        conversations: Option<u64>,
        /// Write at least this much JSON (before compression), e.g. 1GiB.
        #[arg(long, value_parser = fullpass::config::parse_bytes)]
        bytes: Option<u64>,
        /// Where to write the export.
        #[arg(long)]
        out: PathBuf,
        /// Seed: the same seed writes the same export.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// chatgpt or claude.
        #[arg(long, default_value = "chatgpt")]
        format: fullpass::synth::Format,
        /// gzip, zip or json.
        #[arg(long, default_value = "gzip")]
        container: fullpass::synth::Container,
        /// For a ChatGPT zip: split the conversations over this many files.
        #[arg(long, default_value_t = 1)]
        shards: u32,
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
    /// Exit 0 if the daemon's /healthz answers (for container health checks).
    Healthcheck {
        /// The daemon's HTTP address.
        #[arg(long, env = "FULLPASS_HTTP_ADDR", default_value = "127.0.0.1:8080")]
        http_addr: String,
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

/// First SIGTERM/SIGINT: graceful shutdown, which ends within `limit` whatever
/// the database or storage do (a plain thread enforces it, so a wedged runtime
/// cannot keep the process up). Second: exit at once.
fn spawn_signal_handler(shutdown: CancellationToken, limit: std::time::Duration) {
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
        std::thread::spawn(move || {
            std::thread::sleep(limit);
            tracing::error!(
                limit_ms = limit.as_millis() as u64,
                "shutdown did not finish in time; exiting (unfinished rows are rescued when their leases run out)"
            );
            std::process::exit(1);
        });
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::warn!("second signal: exiting now");
        std::process::exit(130);
    });
}

/// Commands whose output is made for pipes (`fullpass process FILE | head`) end
/// quietly when the reader goes away, like other Unix tools, instead of failing
/// on the next write. Not the daemon: its sockets must never raise SIGPIPE.
fn end_quietly_on_closed_pipe() {
    // SAFETY: restoring the default action of a signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Process { .. }
            | Command::Inspect { .. }
            | Command::Status { .. }
            | Command::Config { .. }
    ) {
        end_quietly_on_closed_pipe();
    }
    if let Err(e) = fullpass::telemetry::init_logging(cli.log_format) {
        eprintln!("fullpass: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fullpass: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(dispatch(cli.command));
    // A read stuck on a dead network must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
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
            llm,
        } => {
            let settings =
                fullpass::config::daemon_settings(&database, &daemon, &storage, &processing, &llm)
                    .map_err(|e| e.to_string())?;
            let shutdown = CancellationToken::new();
            spawn_signal_handler(
                shutdown.clone(),
                settings.shutdown_grace + fullpass::daemon::RELEASE_WINDOW,
            );
            // On one of the runtime's worker threads rather than this one: the
            // dispatcher is woken by the jobs it runs there, several times a job.
            tokio::spawn(fullpass::daemon::run(settings, shutdown))
                .await
                .map_err(|e| format!("the daemon stopped unexpectedly: {e}"))?
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            check,
            database,
            daemon,
            storage,
            processing,
            llm,
        } => {
            fullpass::config::daemon_settings(&database, &daemon, &storage, &processing, &llm)
                .map_err(|e| e.to_string())?;
            let lines = [
                database.shown(),
                storage.shown(),
                daemon.shown(),
                processing.shown(),
                llm.shown(),
            ];
            let width = lines
                .iter()
                .flatten()
                .map(|(k, _)| k.len())
                .max()
                .unwrap_or(0);
            for (name, value) in lines.iter().flatten() {
                println!("{name:width$}  {value}");
            }
            if check {
                check_model_server(&processing, &llm).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { database } => {
            let db = database.db_config().map_err(|e| e.to_string())?;
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
            llm,
        } => process_file(&file, json, &processing, &llm).await,
        Command::GenExport {
            conversations,
            bytes,
            out,
            seed,
            format,
            container,
            shards,
        } => {
            let amount = match (conversations, bytes) {
                (Some(n), _) => fullpass::synth::Amount::Conversations(n),
                (None, Some(b)) => fullpass::synth::Amount::Bytes(b),
                (None, None) => {
                    return Err("gen-export: give --conversations or --bytes".to_owned());
                }
            };
            let options = fullpass::synth::Options {
                seed,
                format,
                container,
                amount,
                shards,
            };
            let summary = tokio::task::spawn_blocking(move || {
                fullpass::synth::write_export(&out, &options)
                    .map_err(|e| format!("{}: {e}", out.display()))
            })
            .await
            .map_err(|e| format!("gen-export stopped: {e}"))??;
            println!(
                "{}",
                serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect {
            file,
            conversations,
            processing,
        } => inspect_file(file, conversations, &processing).await,
        Command::Requeue {
            user_id,
            all_failed,
            database,
        } => {
            let db = database.db_config().map_err(|e| e.to_string())?;
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
        Command::Healthcheck { http_addr } => {
            fullpass::http::healthcheck(&http_addr, std::time::Duration::from_secs(3))
                .await
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { database, json } => {
            let db = database.db_config().map_err(|e| e.to_string())?;
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

/// A progress bar over the export's bytes, on stderr, only when stderr is a terminal.
fn progress_bar(size: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg} conversations, {eta} left",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// `fullpass config --check`: one tiny request to the model server, when one is used.
async fn check_model_server(processing: &ProcessingArgs, llm: &LlmArgs) -> Result<(), String> {
    let settings = processing.extract_settings().map_err(|e| e.to_string())?;
    let Some(llm) = fullpass::config::llm_extractor(llm, &settings).map_err(|e| e.to_string())?
    else {
        println!("model server: not used (FULLPASS_EXTRACTOR=builtin)");
        return Ok(());
    };
    let started = std::time::Instant::now();
    llm.check()
        .await
        .map_err(|e| format!("model server check failed: {e}"))?;
    let config = llm.config();
    println!(
        "model server: ok ({}, model {} answered in {} ms)",
        config.provider(),
        config.model,
        started.elapsed().as_millis()
    );
    Ok(())
}

async fn process_file(
    file: &std::path::Path,
    json: bool,
    processing: &ProcessingArgs,
    llm: &LlmArgs,
) -> Result<ExitCode, String> {
    let settings = processing.extract_settings().map_err(|e| e.to_string())?;
    let limits = processing.limits();
    let llm = fullpass::config::llm_extractor(llm, &settings).map_err(|e| e.to_string())?;
    let input = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let name = file.display().to_string();
    let bar = progress_bar(size);
    if let Some(llm) = llm {
        let usage = llm.new_usage();
        let reader = std::io::BufReader::new(input);
        let progress = bar.clone();
        let result = llm
            .extract_export(reader, limits, None, &usage, move |p| {
                if let Some(bar) = &progress {
                    bar.set_position(p.bytes_read);
                    bar.set_message(p.conversations.to_string());
                }
                Ok(())
            })
            .await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        let snapshot = usage.snapshot();
        eprintln!(
            "fullpass: LLM usage: {}",
            serde_json::to_string(&snapshot).map_err(|e| e.to_string())?
        );
        let output = result.map_err(|e| format!("{name}: {e}"))?;
        fullpass::pass::require_something_to_remember(&output.stats, &output.facts)
            .map_err(|e| format!("{name}: {e}"))?;
        print_memory(&output.facts, json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let output = tokio::task::spawn_blocking(move || {
        let result = fullpass::pass::run(input, &limits, &settings, |progress| {
            if let Some(bar) = &bar {
                bar.set_position(progress.bytes_read);
                bar.set_message(progress.conversations.to_string());
            }
            Ok(())
        });
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        result
    })
    .await
    .map_err(|e| format!("processing stopped: {e}"))?
    .map_err(|e| format!("{name}: {e}"))?;
    fullpass::pass::require_something_to_remember(&output.stats, &output.facts)
        .map_err(|e| format!("{name}: {e}"))?;
    print_memory(&output.facts, json)?;
    Ok(ExitCode::SUCCESS)
}

fn print_memory(facts: &[fullpass::extract::Fact], json: bool) -> Result<(), String> {
    if json {
        let value = fullpass::memory::render_json(facts);
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", fullpass::memory::render_markdown(facts));
    }
    Ok(())
}

/// Prints each conversation as a JSON line as it is read.
struct PrintingSink {
    print: bool,
    out: std::io::BufWriter<std::io::Stdout>,
    failed: Option<std::io::Error>,
}

impl fullpass::ingest::Sink for PrintingSink {
    fn conversation(
        &mut self,
        conversation: fullpass::ingest::Conversation,
    ) -> Result<(), fullpass::ingest::Cancelled> {
        use std::io::Write;
        if !self.print {
            return Ok(());
        }
        let written = serde_json::to_writer(&mut self.out, &conversation)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        match written {
            Ok(()) => Ok(()),
            Err(e) => {
                self.failed = Some(e);
                Err(fullpass::ingest::Cancelled)
            }
        }
    }
}

async fn inspect_file(
    file: PathBuf,
    conversations: bool,
    processing: &ProcessingArgs,
) -> Result<ExitCode, String> {
    let limits = processing.limits();
    let input = std::fs::File::open(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file.display().to_string();
    let stats = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut sink = PrintingSink {
            print: conversations,
            out: std::io::BufWriter::new(std::io::stdout()),
            failed: None,
        };
        let result = fullpass::ingest::read_export(input, &limits, &mut sink);
        if let Some(e) = sink.failed.take() {
            return Err(format!("writing to stdout: {e}"));
        }
        sink.out
            .flush()
            .map_err(|e| format!("writing to stdout: {e}"))?;
        result.map_err(|e| format!("{name}: {e}"))
    })
    .await
    .map_err(|e| format!("inspect stopped: {e}"))??;
    println!(
        "{}",
        serde_json::to_string_pretty(&stats).map_err(|e| e.to_string())?
    );
    Ok(ExitCode::SUCCESS)
}
