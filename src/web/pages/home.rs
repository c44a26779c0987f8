//! Home page tabs, the tag list and tag pages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{Pager, Paging, PER_PAGE};
use crate::error::Error;
use crate::qa::listing::{self, Sort};
use crate::qa::tags;
use crate::web::auth::Viewer;
use crate::web::error::PageError;
use crate::web::{templates, AppState};

/// Lists for anonymous visitors come from the short-lived list cache.
async fn cached_list(
    state: &AppState,
    viewer: &Viewer,
    req: &HttpRequest,
    q: &Paging,
    tag: Option<tags::Tag>,
) -> Result<HttpResponse, PageError> {
    if let Some(user) = viewer.user() {
        let (uid, tag_id) = (user.id, tag.as_ref().map(|t| t.id));
        let mut ctx = list_context(state, q, tag).await?;
        if let Some(tag_id) = tag_id {
            let following = state.db(move |c| crate::notifications::follows_tag(c, uid, tag_id)).await?;
            ctx.insert("following_tag", &following);
        }
        return templates::ok(state, viewer, "home.html", ctx);
    }
    let key = req.uri().to_string();
    if let Some(html) = state.pages.list(&key) {
        return Ok(templates::html_response(state, viewer, StatusCode::OK, html));
    }
    let ctx = list_context(state, q, tag).await?;
    let html = web::Bytes::from(templates::render(state, viewer, "home.html", ctx)?);
    state.pages.put_list(key, html.clone());
    Ok(templates::html_response(state, viewer, StatusCode::OK, html))
}

async fn list_context(state: &AppState, q: &Paging, tag: Option<tags::Tag>) -> Result<tera::Context, PageError> {
    let sort =
        q.tab.as_deref().and_then(Sort::parse).unwrap_or(if tag.is_some() { Sort::Newest } else { Sort::Active });
    let page = q.page();
    let tag_id = tag.as_ref().map(|t| t.id);
    let result = state.db(move |c| listing::questions(c, sort, tag_id, page, PER_PAGE)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("questions", &result.items);
    ctx.insert("pager", &Pager::new(page, result.total, PER_PAGE));
    ctx.insert("tab", sort.as_str());
    ctx.insert("tabs", &["active", "newest", "unanswered", "votes", "bountied"]);
    match &tag {
        Some(t) => {
            ctx.insert("tag", t);
            ctx.insert("list_path", &format!("/tags/{}", crate::domain::path_segment(&t.name)));
            ctx.insert("title", &format!("Questions tagged {}", t.name));
            ctx.insert("feed_url", &format!("/feeds/tags/{}.atom", crate::domain::path_segment(&t.name)));
        }
        None => {
            ctx.insert("list_path", "/questions");
            ctx.insert("title", "All questions");
            ctx.insert("feed_url", "/feeds/questions.atom");
        }
    }
    Ok(ctx)
}

pub async fn home(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    q: web::Query<Paging>,
) -> Result<HttpResponse, PageError> {
    cached_list(&state, &viewer, &req, &q, None).await
}

pub async fn tag_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    name: web::Path<String>,
    q: web::Query<Paging>,
) -> Result<HttpResponse, PageError> {
    let name = name.into_inner().to_lowercase();
    let tag = state.db(move |c| tags::find(c, &name)).await?.ok_or(Error::NotFound("tag"))?;
    cached_list(&state, &viewer, &req, &q, Some(tag)).await
}

pub async fn tag_list(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<Paging>,
) -> Result<HttpResponse, PageError> {
    let by_name = q.sort.as_deref() == Some("name");
    let page = q.page();
    let (items, total) = state.db(move |c| tags::list(c, by_name, page, 60)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("tags", &items);
    ctx.insert("pager", &Pager::new(page, total, 60));
    ctx.insert("sort", if by_name { "name" } else { "popular" });
    templates::ok(&state, &viewer, "tags.html", ctx)
}
