//! The `nave` command: serves by default; also migrations, accounts and demo data.

use std::io::{BufRead, IsTerminal};

use clap::{Parser, Subcommand};
use nave::db::{self, DbUrl};
use nave::domain::{Email, Password, Role, Username};
use nave::settings::Settings;
use nave::startup::Application;

#[derive(Parser)]
#[command(name = "nave", version, about = "Nave: a community Q&A forum. With no command, serves.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the forum (the default).
    Serve,
    /// Run background jobs only (no HTTP), until interrupted.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate {
        /// Revert every migration first (destroys all data).
        #[arg(long)]
        reset: bool,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fill the database with realistic demo content (deterministic for a given --seed).
    SeedDemo(nave::seed::SeedOptions),
    /// Reputation upkeep.
    Reputation {
        #[command(subcommand)]
        command: ReputationCommand,
    },
}

#[derive(Subcommand)]
enum ReputationCommand {
    /// Replay the whole reputation ledger and write every total (reports what differed).
    Rebuild,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from a prompt, or from standard input.
    Create {
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "user")]
        role: String,
    },
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    nave::telemetry::init(&settings);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Worker => worker(settings),
        Command::Migrate { reset } => {
            let url = DbUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
            if reset {
                db::revert_all_migrations(&url)?;
                println!("reverted every migration");
            }
            let applied = db::run_migrations(&url)?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::User { command: UserCommand::Create { name, email, role } } => {
            create_user(&settings, &name, &email, &role)
        }
        Command::Reputation { command: ReputationCommand::Rebuild } => {
            let url = DbUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
            db::run_migrations(&url)?;
            let pool = db::build_pool(&url, 1)?;
            let r = nave::reputation::rebuild(&mut *pool.get()?, &settings.policy.rules)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "replayed {} reputation events for {} users: {} events and {} totals differed and were corrected",
                r.events, r.users, r.events_corrected, r.totals_corrected
            );
            Ok(())
        }
        Command::SeedDemo(opts) => {
            let url = DbUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
            db::run_migrations(&url)?;
            let pool = db::build_pool(&url, 2)?;
            let mut conn = pool.get()?;
            let report = nave::seed::run(&mut conn, &opts)?;
            println!("{report}");
            Ok(())
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let system = actix_web::rt::System::with_tokio_rt(|| rt);
    system.block_on(async move {
        let app = Application::build(settings).await?;
        println!("Nave is serving on {}", app.base_url());
        app.run_until_stopped().await
    })
}

fn worker(settings: Settings) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let url = DbUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
        let u = url.clone();
        tokio::task::spawn_blocking(move || db::run_migrations(&u)).await??;
        let pool = db::build_pool(&url, settings.job_workers as u32 + 1)?;
        if settings.base_url.is_none() {
            tracing::warn!("NAVE_BASE_URL is not set: links in mail will use {}", nave::startup::public_url(&settings));
        }
        let runner = nave::startup::start_jobs(&pool, &settings, &nave::startup::public_url(&settings)).await?;
        // Listening starts before the line that says the worker runs: a SIGTERM sent as soon as
        // it is read must stop the worker cleanly, not kill it.
        let stop = shutdown_signal()?;
        println!("Nave worker {} running {} job(s) at once", runner.worker_id, settings.job_workers);
        stop.await;
        tracing::info!("stopping: finishing running jobs");
        runner.shutdown().await;
        Ok(())
    })
}

/// Listens for Ctrl-C and SIGTERM from now on; the future ends at the first of them.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut interrupt, mut terminate) = (signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?);
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(p == again, "the passwords differ");
        Ok(p)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn create_user(settings: &Settings, name: &str, email: &str, role: &str) -> anyhow::Result<()> {
    let username = Username::parse(name).map_err(anyhow::Error::msg)?;
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let role = Role::parse(role).map_err(anyhow::Error::msg)?;
    let password = Password::parse(&read_password()?, name).map_err(anyhow::Error::msg)?;
    let url = DbUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
    db::run_migrations(&url)?;
    let mut conn = db::establish(&url)?;
    let hash = nave::accounts::passwords::hash(password.as_str())?;
    let user =
        nave::accounts::users::create(&mut conn, &username, &email, &hash, role).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("created {} {} (id {})", user.role, user.username, user.id);
    Ok(())
}
