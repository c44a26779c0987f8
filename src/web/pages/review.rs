//! `/review`: the review queue page — suggested edits, first posts, close/reopen votes, and (for
//! superusers and staff) flags.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::moderation;
use crate::review;
use crate::web::auth::{CsrfForm, NoFields, Viewer};
use crate::web::error::PageError;
use crate::web::{templates, AppState};
use diesel::prelude::*;

pub async fn queue(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.clone();
    let policy = state.settings.policy.clone();
    let q = state.db(move |c| review::queue(c, &policy, &user)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("queue", &q);
    templates::ok(&state, &viewer, "review.html", ctx)
}

#[derive(Debug, Deserialize)]
pub struct Decision {
    /// "1" approve / helpful, "0" reject / decline.
    pub yes: String,
}

pub async fn review_edit(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Decision>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.clone();
    let (policy, id) = (state.settings.policy.clone(), path.into_inner());
    let approve = form.yes == "1";
    let post_id = state
        .db(move |c| {
            review::review_edit(c, &policy, &user, id, approve)?;
            Ok(crate::db::schema::suggested_edits::table
                .find(id)
                .select(crate::db::schema::suggested_edits::post_id)
                .first::<i64>(c)?)
        })
        .await?;
    state.pages.changed(post_id);
    Ok(templates::see_other("/review"))
}

pub async fn review_first_post(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.clone();
    let (policy, id) = (state.settings.policy.clone(), path.into_inner());
    state.db(move |c| review::review_first_post(c, &policy, &user, id)).await?;
    Ok(templates::see_other("/review"))
}

pub async fn decide_flag(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<Decision>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.clone();
    let (policy, id) = (state.settings.policy.clone(), path.into_inner());
    let helpful = form.yes == "1";
    state.db(move |c| moderation::decide_flag(c, &policy, &user, id, helpful)).await?;
    Ok(templates::see_other("/review"))
}
