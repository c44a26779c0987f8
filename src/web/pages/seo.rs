//! For the open web and for operators: sitemap, robots.txt, Atom feeds, health checks.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;

use crate::error::Error;
use crate::qa::{listing, question_path, tags};
use crate::web::error::PageError;
use crate::web::{templates, AppState};

#[derive(Serialize)]
struct UrlEntry {
    loc: String,
    lastmod: String,
}

pub async fn sitemap(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let entries = state.db(listing::sitemap).await?;
    let mut urls: Vec<UrlEntry> = vec![UrlEntry { loc: state.url("/"), lastmod: String::new() }];
    urls.extend(entries.into_iter().map(|e| UrlEntry {
        loc: state.url(&e.path),
        lastmod: e.last_modified.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }));
    let mut ctx = tera::Context::new();
    ctx.insert("urls", &urls);
    templates::xml(&state, "sitemap.xml", ctx, "application/xml; charset=utf-8")
}

pub async fn robots(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(format!(
        "User-agent: *\nDisallow: /login\nDisallow: /signup\nDisallow: /api/\nSitemap: {}\n",
        state.url("/sitemap.xml")
    ))
}

#[derive(Serialize)]
struct FeedEntry {
    id: String,
    title: String,
    url: String,
    author: String,
    published: String,
    updated: String,
    summary: String,
    tags: Vec<String>,
}

async fn feed(state: &AppState, tag: Option<String>) -> Result<HttpResponse, PageError> {
    let (self_path, html_path, title) = match &tag {
        Some(t) => {
            let seg = crate::domain::path_segment(t);
            (format!("/feeds/tags/{seg}.atom"), format!("/tags/{seg}"), format!("Newest questions tagged {t}"))
        }
        None => {
            ("/feeds/questions.atom".to_string(), "/questions?tab=newest".to_string(), "Newest questions".to_string())
        }
    };
    let (rows, tag_map) = state
        .db(move |c| {
            let tag_id = match &tag {
                Some(name) => Some(tags::find(c, name)?.ok_or(Error::NotFound("tag"))?.id),
                None => None,
            };
            let rows = listing::newest_for_feed(c, tag_id, 30)?;
            let ids: Vec<i64> = rows.iter().map(|(p, _)| p.id).collect();
            Ok((rows, tags::names_for(c, &ids)?))
        })
        .await?;
    let iso = |t: chrono::NaiveDateTime| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let updated = rows.first().map(|(p, _)| iso(p.created_at)).unwrap_or_else(|| iso(crate::accounts::now()));
    let entries: Vec<FeedEntry> = rows
        .into_iter()
        .map(|(p, u)| {
            let url = state.url(&question_path(p.id, &p.slug));
            FeedEntry {
                id: url.clone(),
                title: p.title.clone().unwrap_or_default(),
                url,
                author: u.username,
                published: iso(p.created_at),
                updated: iso(p.updated_at),
                summary: crate::markdown::plain_excerpt(&p.body_md, 400),
                tags: tag_map.get(&p.id).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("entries", &entries);
    ctx.insert("updated", &updated);
    ctx.insert("feed_title", &title);
    ctx.insert("self_url", &state.url(&self_path));
    ctx.insert("html_url", &state.url(&html_path));
    templates::xml(state, "feed.xml", ctx, "application/atom+xml; charset=utf-8")
}

pub async fn feed_all(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    feed(&state, None).await
}

pub async fn feed_tag(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let file = path.into_inner();
    let name = file.strip_suffix(".atom").ok_or(Error::NotFound("feed"))?.to_lowercase();
    feed(&state, Some(name)).await
}

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db(|c| c.batch_execute("SELECT 1").map_err(Error::from)).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().content_type("text/plain").body("database unreachable")
        }
    }
}
