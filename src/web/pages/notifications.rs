//! The notification list (the bell), notification settings, following questions and tags, and
//! one-click unsubscribe links.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{Pager, Paging};
use crate::error::Error;
use crate::notifications::{self as notes, Channel, Kind};
use crate::web::auth::{CsrfForm, NoFields, Viewer};
use crate::web::error::PageError;
use crate::web::{templates, AppState};

const PER_PAGE: i64 = 30;

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    pub page: Option<String>,
    /// `unread` to show only unread ones.
    pub show: Option<String>,
}

/// `/notifications`: newest first, unread marked, with "mark all read".
pub async fn list(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let uid = viewer.require()?.id;
    let page = Paging { page: q.page.clone(), ..Default::default() }.page();
    let unread_only = q.show.as_deref() == Some("unread");
    let (items, total) = state.db(move |c| notes::list(c, uid, unread_only, page, PER_PAGE)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("items", &items);
    ctx.insert("pager", &Pager::new(page, total, PER_PAGE));
    ctx.insert("show", if unread_only { "unread" } else { "all" });
    templates::ok(&state, &viewer, "notifications.html", ctx)
}

/// `/notifications/{id}`: marks it read and goes where it leads.
pub async fn open(state: web::Data<AppState>, viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let (uid, id) = (viewer.require()?.id, path.into_inner());
    let n = state.db(move |c| notes::mark_read(c, uid, id)).await?;
    Ok(templates::see_other(&n.url))
}

pub async fn mark_read(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (uid, id) = (viewer.require()?.id, path.into_inner());
    state.db(move |c| notes::mark_read(c, uid, id)).await?;
    Ok(templates::see_other("/notifications"))
}

pub async fn mark_all_read(
    state: web::Data<AppState>,
    viewer: Viewer,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let uid = viewer.require()?.id;
    state.db(move |c| notes::mark_all_read(c, uid)).await?;
    Ok(templates::see_other("/notifications"))
}

/// One row of the settings form.
#[derive(serde::Serialize)]
struct SettingRow {
    kind: &'static str,
    label: &'static str,
    chosen: &'static str,
    options: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    errors: BTreeMap<String, String>,
    saved: bool,
) -> Result<HttpResponse, PageError> {
    let uid = viewer.require()?.id;
    let (current, tags) = state.db(move |c| Ok((notes::settings_for(c, uid)?, notes::followed_tags(c, uid)?))).await?;
    let rows: Vec<SettingRow> = current
        .into_iter()
        .map(|(kind, channel)| SettingRow {
            kind: kind.as_str(),
            label: kind.label(),
            chosen: channel.as_str(),
            options: kind.channels().iter().map(|c| (c.as_str(), c.label())).collect(),
            error: errors.get(kind.as_str()).cloned(),
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("rows", &rows);
    ctx.insert("tags", &tags);
    ctx.insert("saved", &saved);
    ctx.insert("errors", &errors);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    templates::page(state, viewer, "notification_settings.html", ctx, status)
}

#[derive(Debug, Deserialize, Default)]
pub struct SavedQuery {
    pub saved: Option<String>,
}

/// `/settings/notifications`: a channel per kind, and the followed tags.
pub async fn settings_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<SavedQuery>,
) -> Result<HttpResponse, PageError> {
    settings_page(&state, &viewer, BTreeMap::new(), q.saved.is_some()).await
}

pub async fn save_settings(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(mut form): CsrfForm<BTreeMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let uid = viewer.require()?.id;
    form.remove("csrf_token");
    match notes::parse_settings(&form) {
        Ok(chosen) => {
            state.db(move |c| notes::save_settings(c, uid, &chosen)).await?;
            Ok(templates::see_other("/settings/notifications?saved=1"))
        }
        Err(errors) => settings_page(&state, &viewer, errors.by_field(), false).await,
    }
}

pub async fn follow_question(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    set_question_follow(&state, &viewer, path.into_inner(), true).await
}

pub async fn unfollow_question(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    set_question_follow(&state, &viewer, path.into_inner(), false).await
}

async fn set_question_follow(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    follow: bool,
) -> Result<HttpResponse, PageError> {
    let uid = viewer.require()?.id;
    let q = state
        .db(move |c| {
            if follow {
                notes::follow_question(c, uid, id)?;
            } else {
                notes::unfollow_question(c, uid, id)?;
            }
            crate::qa::posts::find_question(c, id)
        })
        .await?;
    Ok(templates::see_other(&crate::qa::question_path(q.id, &q.slug)))
}

pub async fn follow_tag(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    set_tag_follow(&state, &viewer, path.into_inner(), true).await
}

pub async fn unfollow_tag(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    set_tag_follow(&state, &viewer, path.into_inner(), false).await
}

async fn set_tag_follow(
    state: &AppState,
    viewer: &Viewer,
    name: String,
    follow: bool,
) -> Result<HttpResponse, PageError> {
    let uid = viewer.require()?.id;
    let name = name.to_lowercase();
    let n2 = name.clone();
    state.db(move |c| if follow { notes::follow_tag(c, uid, &n2) } else { notes::unfollow_tag(c, uid, &n2) }).await?;
    Ok(templates::see_other(&format!("/tags/{}", crate::domain::path_segment(&name))))
}

/// The person and kind a link is for, or the one answer every bad link gets.
fn check_token(state: &AppState, token: &str) -> Result<(i64, Kind), Error> {
    notes::verify_unsubscribe(&state.key, token)
        .ok_or_else(|| Error::BadRequest("This unsubscribe link is not valid. Open the link from the e-mail as it is, or change your notification settings after logging in.".into()))
}

/// `GET /unsubscribe/{token}`: asks to confirm (a link scanner's GET changes nothing).
pub async fn unsubscribe_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = path.into_inner();
    let (uid, kind) = check_token(&state, &token)?;
    let current = state.db(move |c| notes::channel(c, uid, kind)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("token", &token);
    ctx.insert("kind_label", kind.label());
    ctx.insert("done", &false);
    ctx.insert("already", &(current != Channel::Email));
    templates::ok(&state, &viewer, "unsubscribe.html", ctx)
}

/// `POST /unsubscribe/{token}`: RFC 8058 one-click (mail clients post
/// `List-Unsubscribe=One-Click` without cookies) and the confirmation button. The signed token is
/// the authority here, so no CSRF token is asked for: a forged request would need the token.
pub async fn unsubscribe(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = path.into_inner();
    let (uid, kind) = check_token(&state, &token)?;
    let now = state.db(move |c| notes::unsubscribe(c, uid, kind)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("token", &token);
    ctx.insert("kind_label", kind.label());
    ctx.insert("done", &true);
    ctx.insert("now", now.label());
    templates::ok(&state, &viewer, "unsubscribe.html", ctx)
}
