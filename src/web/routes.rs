//! Every URL of the site, in one place.

use actix_web::web;

use super::pages::{accounts, home, questions, seo};
use super::{api, assets};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(seo::healthz))
        .route("/readyz", web::get().to(seo::readyz))
        .route("/static/{hash}/{name}", web::get().to(assets::serve))
        .route("/robots.txt", web::get().to(seo::robots))
        .route("/sitemap.xml", web::get().to(seo::sitemap))
        .route("/feeds/questions.atom", web::get().to(seo::feed_all))
        .route("/feeds/tags/{file}", web::get().to(seo::feed_tag))
        // Pages
        .route("/", web::get().to(home::home))
        .route("/questions", web::get().to(home::home))
        .route("/questions/ask", web::get().to(questions::ask_form))
        .route("/questions/ask", web::post().to(questions::ask))
        .route("/questions/{id}", web::get().to(questions::show_without_slug))
        .route("/questions/{id}/answers", web::post().to(questions::answer))
        .route("/questions/{id}/{slug}", web::get().to(questions::show))
        .route("/posts/{id}/edit", web::get().to(questions::edit_form))
        .route("/posts/{id}/edit", web::post().to(questions::edit))
        .route("/posts/{id}/revisions", web::get().to(questions::revisions))
        .route("/posts/{id}/comments", web::post().to(questions::comment))
        .route("/posts/{id}/vote", web::post().to(questions::vote))
        .route("/answers/{id}/accept", web::post().to(questions::accept))
        .route("/tags", web::get().to(home::tag_list))
        .route("/tags/{name}", web::get().to(home::tag_page))
        .route("/login", web::get().to(accounts::login_form))
        .route("/login", web::post().to(accounts::login))
        .route("/signup", web::get().to(accounts::signup_form))
        .route("/signup", web::post().to(accounts::signup))
        .route("/logout", web::post().to(accounts::logout))
        .route("/logout/everywhere", web::post().to(accounts::logout_everywhere))
        .route("/users/{id}", web::get().to(accounts::profile_without_name))
        .route("/users/{id}/{name}", web::get().to(accounts::profile))
        // JSON API
        .service(
            web::scope("/api/v1")
                .route("/openapi.json", web::get().to(api::openapi_json))
                .route("/users", web::post().to(api::users::create_user))
                .route("/users/{user}", web::get().to(api::users::get_user))
                .route("/tokens", web::post().to(api::users::create_token))
                .route("/questions", web::get().to(api::questions::list_questions))
                .route("/questions", web::post().to(api::questions::create_question))
                .route("/questions/{id}", web::get().to(api::questions::get_question))
                .route("/questions/{id}", web::patch().to(api::questions::edit_question))
                .route("/questions/{id}/answers", web::post().to(api::questions::create_answer))
                .route("/questions/{id}/comments", web::post().to(api::questions::comment_question))
                .route("/questions/{id}/vote", web::put().to(api::questions::vote_question))
                .route("/answers/{id}", web::patch().to(api::questions::edit_answer))
                .route("/answers/{id}/accept", web::post().to(api::questions::accept_answer))
                .route("/answers/{id}/accept", web::delete().to(api::questions::unaccept_answer))
                .route("/answers/{id}/comments", web::post().to(api::questions::comment_answer))
                .route("/answers/{id}/vote", web::put().to(api::questions::vote_answer))
                .route("/posts/{id}/revisions", web::get().to(api::questions::revisions)),
        );
}
