//! Home page tabs, the tag list and tag pages.

use actix_web::{web, HttpResponse};

use super::{Pager, Paging, PER_PAGE};
use crate::error::Error;
use crate::qa::listing::{self, Sort};
use crate::qa::tags;
use crate::web::auth::Viewer;
use crate::web::error::PageError;
use crate::web::{templates, AppState};

async fn question_list(
    state: &AppState,
    viewer: &Viewer,
    q: &Paging,
    tag: Option<tags::Tag>,
) -> Result<HttpResponse, PageError> {
    let sort =
        q.tab.as_deref().and_then(Sort::parse).unwrap_or(if tag.is_some() { Sort::Newest } else { Sort::Active });
    let page = q.page();
    let tag_id = tag.as_ref().map(|t| t.id);
    let result = state.db(move |c| listing::questions(c, sort, tag_id, page, PER_PAGE)).await?;
    let mut ctx = tera::Context::new();
    ctx.insert("questions", &result.items);
    ctx.insert("pager", &Pager::new(page, result.total, PER_PAGE));
    ctx.insert("tab", sort.as_str());
    ctx.insert("tabs", &["active", "newest", "unanswered", "votes"]);
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
    templates::ok(state, viewer, "home.html", ctx)
}

pub async fn home(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<Paging>,
) -> Result<HttpResponse, PageError> {
    question_list(&state, &viewer, &q, None).await
}

pub async fn tag_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    name: web::Path<String>,
    q: web::Query<Paging>,
) -> Result<HttpResponse, PageError> {
    let name = name.into_inner().to_lowercase();
    let tag = state.db(move |c| tags::find(c, &name)).await?.ok_or(Error::NotFound("tag"))?;
    question_list(&state, &viewer, &q, Some(tag)).await
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
