//! Moderation from the question page (one form endpoint per post) and the public log.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{Pager, Paging};
use crate::error::Error;
use crate::moderation::{self as m, NewFlag};
use crate::web::auth::{CsrfForm, Viewer};
use crate::web::error::PageError;
use crate::web::{templates, AppState};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ModerateForm {
    /// flag, hide, unhide, lock, unlock, close or reopen.
    pub action: String,
    pub reason: String,
    pub details: String,
    pub duplicate_of: String,
}

fn question_number(s: &str) -> Result<Option<i64>, Error> {
    let s = s.trim().trim_start_matches('#');
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>()
        .map(Some)
        .map_err(|_| Error::field("duplicate_of", "Give the duplicate's question number, e.g. 42."))
}

/// `POST /posts/{id}/moderate`: flag, hide/unhide, lock/unlock, vote to close/reopen; back to the thread.
pub async fn moderate(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ModerateForm>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.clone();
    let id = path.into_inner();
    let policy = state.settings.policy.clone();
    let dup = question_number(&form.duplicate_of)?;
    let thread = state
        .db(move |c| {
            let (p, u) = (&policy, &user);
            match form.action.as_str() {
                "flag" => {
                    let f = NewFlag { reason: form.reason, details: form.details, duplicate_of: dup };
                    m::flag(c, p, u, id, &f).map(|_| ())?
                }
                "hide" => m::hide(c, p, u, id, &form.reason)?,
                "unhide" => m::unhide(c, p, u, id, &form.reason)?,
                "lock" => m::set_lock(c, p, u, id, Some(&form.reason))?,
                "unlock" => m::set_lock(c, p, u, id, None)?,
                "close" => m::vote_close(c, p, u, id, &form.reason, dup).map(|_| ())?,
                "reopen" => m::vote_reopen(c, p, u, id).map(|_| ())?,
                other => return Err(Error::BadRequest(format!("There is no moderation action called {other:?}."))),
            }
            let post = crate::qa::posts::find(c, id)?;
            crate::qa::posts::find_question(c, post.thread_id())
        })
        .await?;
    state.pages.changed(thread.id);
    Ok(templates::see_other(&crate::qa::question_path(thread.id, &thread.slug)))
}

#[derive(Debug, Deserialize, Default)]
pub struct LogQuery {
    pub page: Option<String>,
    pub action: Option<String>,
}

const ACTIONS: [&str; 12] = [
    "hide",
    "unhide",
    "lock",
    "unlock",
    "pin",
    "unpin",
    "close",
    "reopen",
    "suspend",
    "unsuspend",
    "flag_helpful",
    "flag_declined",
];

/// `/moderation/log`: every moderator action, newest first, filterable by action.
pub async fn log(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, PageError> {
    let page = Paging { page: q.page.clone(), ..Default::default() }.page();
    let action = q.action.clone().filter(|a| ACTIONS.contains(&a.as_str()));
    let a2 = action.clone();
    let (items, total) = state.db(move |c| m::log_page(c, a2.as_deref(), page, 50)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("items", &items);
    ctx.insert("pager", &Pager::new(page, total, 50));
    ctx.insert("actions", &ACTIONS);
    ctx.insert("action", &action.unwrap_or_default());
    templates::ok(&state, &viewer, "moderation_log.html", ctx)
}
