//! Admin pages: the background job queue, with retry and discard.

use actix_web::{web, HttpResponse};

use crate::error::Error;
use crate::jobs::queue;
use crate::web::auth::{CsrfForm, NoFields, Viewer};
use crate::web::error::PageError;
use crate::web::{templates, AppState};

/// Admins only; everyone else is told which role the page needs.
fn require_admin(viewer: &Viewer) -> Result<(), Error> {
    let user = viewer.require()?;
    if user.role() == crate::domain::Role::Admin {
        Ok(())
    } else {
        Err(Error::forbidden("admin_only", "Only administrators can see the job queue."))
    }
}

#[derive(serde::Serialize)]
struct Section {
    state: &'static str,
    jobs: Vec<queue::JobRow>,
}

pub async fn jobs(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    require_admin(&viewer)?;
    let (counts, sections) = state
        .db(|c| {
            let counts = queue::counts(c)?;
            let sections = ["dead", "pending", "running"]
                .into_iter()
                .map(|s| Ok(Section { state: s, jobs: queue::list(c, s, 100)? }))
                .collect::<Result<Vec<_>, Error>>()?;
            Ok((counts, sections))
        })
        .await?;
    let mut ctx = tera::Context::new();
    ctx.insert("counts", &counts);
    ctx.insert("sections", &sections);
    templates::ok(&state, &viewer, "admin_jobs.html", ctx)
}

/// Runs one admin action on a job that is not running, then returns to the queue page.
async fn act(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    action: fn(&mut crate::db::DbConnection, i64) -> diesel::QueryResult<bool>,
) -> Result<HttpResponse, PageError> {
    require_admin(viewer)?;
    if !state.db(move |c| Ok(action(c, id)?)).await? {
        return Err(Error::conflict("job_busy", "That job is running now or no longer exists.").into());
    }
    Ok(templates::see_other("/admin/jobs"))
}

pub async fn retry(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<i64>,
    _: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    act(&state, &viewer, id.into_inner(), queue::retry_now).await
}

pub async fn discard(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<i64>,
    _: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    act(&state, &viewer, id.into_inner(), queue::discard).await
}
