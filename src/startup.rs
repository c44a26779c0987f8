//! Building the application from settings: database, migrations, templates, the HTTP server.
//! Tests build it on port 0 and read the real address back.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::db::{self, DbUrl};
use crate::error::Error;
use crate::settings::Settings;
use crate::web::error::{render_error_page, ApiError};
use crate::web::{self as webmod, AppState};

pub struct Application {
    server: Server,
    runner: Option<crate::jobs::Runner>,
    port: u16,
    base_url: String,
    state: web::Data<AppState>,
}

/// Reads the CSRF signing key from settings, or from `<data dir>/session.key`, creating it
/// (mode 0600) on first start.
pub fn session_key(settings: &Settings) -> anyhow::Result<[u8; 32]> {
    if let Some(k) = settings.session_key {
        return Ok(k);
    }
    let path = settings.data_dir.join("session.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let bytes = hex::decode(text.trim()).with_context(|| format!("{} is not 64 hex characters", path.display()))?;
        return bytes.try_into().map_err(|_| anyhow::anyhow!("{} is not 64 hex characters", path.display()));
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(hex::encode(key).as_bytes())?;
    Ok(key)
}

/// Schedules the recurring tasks and starts this process's job workers.
pub async fn start_jobs(pool: &db::DbPool, settings: &Settings, base_url: &str) -> anyhow::Result<crate::jobs::Runner> {
    let (p, idle) = (pool.clone(), settings.session_idle_minutes);
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = p.get()?;
        crate::jobs::tasks::schedule_recurring(&mut conn, idle)?;
        use crate::reputation::bounties::ExpireBounties;
        let first = crate::jobs::tasks::recurring(<ExpireBounties as crate::jobs::Job>::NAME, Duration::ZERO);
        crate::jobs::enqueue(&mut conn, &ExpireBounties {}, first)?;
        use crate::reputation::badges::AwardBadges;
        let first = crate::jobs::tasks::recurring(<AwardBadges as crate::jobs::Job>::NAME, Duration::ZERO);
        crate::jobs::enqueue(&mut conn, &AwardBadges {}, first)?;
        Ok(crate::notifications::fanout::schedule_digest(&mut conn)?)
    })
    .await??;
    let registry = job_registry(settings, base_url)?;
    let options = crate::jobs::RunnerOptions {
        concurrency: settings.job_workers,
        lease: Duration::from_secs(settings.job_lease_seconds),
        poll: Duration::from_millis(settings.job_poll_ms),
        ..Default::default()
    };
    Ok(crate::jobs::Runner::start(pool.clone(), registry, options))
}

/// Every job the application runs, with what they need: the mailer, and the templates, public
/// address and key that notifications are written with.
pub fn job_registry(settings: &Settings, base_url: &str) -> anyhow::Result<crate::jobs::Registry> {
    let mailer = crate::mail::Mailer::new(settings.smtp_url.as_deref(), &settings.mail_from, &settings.data_dir)?;
    let notifier = crate::notifications::fanout::Notifier {
        tera: webmod::templates::build()?,
        base_url: base_url.trim_end_matches('/').to_string(),
        site_name: settings.site_name.clone(),
        key: session_key(settings)?,
    };
    let policy = settings.policy.clone();
    let registry = crate::jobs::tasks::registry(std::sync::Arc::new(mailer)).register(
        move |_: crate::reputation::bounties::ExpireBounties, ctx: crate::jobs::JobContext| {
            let policy = policy.clone();
            async move { crate::reputation::bounties::run_expiry(&ctx, policy).await }
        },
    );
    let registry =
        registry.register(|_: crate::reputation::badges::AwardBadges, ctx: crate::jobs::JobContext| async move {
            crate::reputation::badges::run_awards(&ctx).await
        });
    Ok(crate::notifications::fanout::register(registry, std::sync::Arc::new(notifier)))
}

/// The site's public address for links made outside a request (a `nave worker` process):
/// `NAVE_BASE_URL`, else the bound address.
pub fn public_url(settings: &Settings) -> String {
    settings.base_url.clone().unwrap_or_else(|| format!("http://{}", settings.bind))
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let url = DbUrl::parse(&settings.database_url).map_err(|e| anyhow::anyhow!("NAVE_DATABASE_URL: {e}"))?;
        let url2 = url.clone();
        let applied = tokio::task::spawn_blocking(move || db::run_migrations(&url2)).await??;
        for m in applied {
            tracing::info!(migration = %m, "applied migration");
        }
        let pool = db::build_pool(&url, settings.db_pool_size)?;
        let key = session_key(&settings)?;
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {} (NAVE_BIND)", settings.bind))?;
        let addr = listener.local_addr()?;
        let base_url = settings.base_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        let state = web::Data::new(AppState {
            pool,
            secure_cookies: base_url.starts_with("https://"),
            base_url: base_url.clone(),
            key,
            tera: webmod::templates::build()?,
            assets: Default::default(),
            limits: webmod::Limits::new(&settings),
            views: Default::default(),
            pages: Default::default(),
            requests: Default::default(),
            settings: settings.clone(),
        });
        let runner =
            if settings.jobs_in_serve { Some(start_jobs(&state.pool, &settings, &base_url).await?) } else { None };
        let data = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(webmod::auth::BODY_LIMIT))
                .app_data(web::PathConfig::default().error_handler(|_, _| ApiError(Error::NotFound("page")).into()))
                .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError(Error::BadRequest(format!("Bad query string: {e}."))).into()))
                .wrap(ErrorHandlers::new().default_handler(render_error_page))
                .wrap(Compress::default())
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
                        .add(("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")),
                )
                .wrap_fn(|req, srv| {
                    let started = std::time::Instant::now();
                    let state = req.app_data::<web::Data<AppState>>().cloned();
                    let fut = actix_web::dev::Service::call(srv, req);
                    async move {
                        let res = fut.await?;
                        if let Some(state) = state {
                            state.requests.record(res.status().as_u16(), started.elapsed());
                        }
                        Ok(res)
                    }
                })
                .wrap(tracing_actix_web::TracingLogger::default())
                .configure(webmod::routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(10);
        if settings.http_workers > 0 {
            server = server.workers(settings.http_workers);
        }
        let server = server.run();
        Ok(Application { server, runner, port: addr.port(), base_url, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server (tests stop theirs when they end).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Serves until the server stops, writing buffered view counts every few seconds and at the end.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let state = self.state.clone();
        let flusher = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                webmod::flush_views(&state).await;
            }
        });
        let result = self.server.await;
        flusher.abort();
        if let Some(runner) = self.runner {
            runner.shutdown().await;
        }
        webmod::flush_views(&self.state).await;
        result.map_err(Into::into)
    }
}
