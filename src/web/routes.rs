//! Every URL of the site, in one place. One resource per path, so a wrong method is a 405.

use actix_web::web::{self, delete, get, patch, post, put, resource};

use super::pages::{accounts, admin, home, questions, seo};
use super::{api, assets};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(get().to(seo::healthz)))
        .service(resource("/readyz").route(get().to(seo::readyz)))
        .service(resource("/metrics").route(get().to(super::metrics::metrics)))
        .service(resource("/static/{hash}/{name}").route(get().to(assets::serve)))
        .service(resource("/robots.txt").route(get().to(seo::robots)))
        .service(resource("/sitemap.xml").route(get().to(seo::sitemap)))
        .service(resource("/feeds/questions.atom").route(get().to(seo::feed_all)))
        .service(resource("/feeds/tags/{file}").route(get().to(seo::feed_tag)))
        // Pages
        .service(resource("/").route(get().to(home::home)))
        .service(resource("/questions").route(get().to(home::home)))
        .service(resource("/questions/ask").route(get().to(questions::ask_form)).route(post().to(questions::ask)))
        .service(resource("/questions/{id}").route(get().to(questions::show_without_slug)))
        .service(resource("/questions/{id}/answers").route(post().to(questions::answer)))
        .service(resource("/questions/{id}/{slug}").route(get().to(questions::show)))
        .service(resource("/posts/{id}/edit").route(get().to(questions::edit_form)).route(post().to(questions::edit)))
        .service(resource("/posts/{id}/revisions").route(get().to(questions::revisions)))
        .service(resource("/posts/{id}/comments").route(post().to(questions::comment)))
        .service(resource("/posts/{id}/vote").route(post().to(questions::vote)))
        .service(resource("/answers/{id}/accept").route(post().to(questions::accept)))
        .service(resource("/tags").route(get().to(home::tag_list)))
        .service(resource("/tags/{name}").route(get().to(home::tag_page)))
        .service(resource("/login").route(get().to(accounts::login_form)).route(post().to(accounts::login)))
        .service(resource("/signup").route(get().to(accounts::signup_form)).route(post().to(accounts::signup)))
        .service(resource("/verify-email/{token}").route(get().to(accounts::verify_email)))
        .service(resource("/password/forgot").route(get().to(accounts::forgot_form)).route(post().to(accounts::forgot)))
        .service(
            resource("/password/reset/{token}").route(get().to(accounts::reset_form)).route(post().to(accounts::reset)),
        )
        .service(resource("/logout").route(post().to(accounts::logout)))
        .service(resource("/logout/everywhere").route(post().to(accounts::logout_everywhere)))
        .service(resource("/admin/jobs").route(get().to(admin::jobs)))
        .service(resource("/admin/jobs/{id}/retry").route(post().to(admin::retry)))
        .service(resource("/admin/jobs/{id}/discard").route(post().to(admin::discard)))
        .service(resource("/users/{id}").route(get().to(accounts::profile_without_name)))
        .service(resource("/users/{id}/{name}").route(get().to(accounts::profile)))
        // JSON API
        .service(
            web::scope("/api/v1")
                .service(resource("/openapi.json").route(get().to(api::openapi_json)))
                .service(resource("/users").route(post().to(api::users::create_user)))
                .service(resource("/users/{user}").route(get().to(api::users::get_user)))
                .service(resource("/tokens").route(post().to(api::users::create_token)))
                .service(
                    resource("/questions")
                        .route(get().to(api::questions::list_questions))
                        .route(post().to(api::questions::create_question)),
                )
                .service(
                    resource("/questions/{id}")
                        .route(get().to(api::questions::get_question))
                        .route(patch().to(api::questions::edit_question)),
                )
                .service(resource("/questions/{id}/answers").route(post().to(api::questions::create_answer)))
                .service(resource("/questions/{id}/comments").route(post().to(api::questions::comment_question)))
                .service(resource("/questions/{id}/vote").route(put().to(api::questions::vote_question)))
                .service(resource("/answers/{id}").route(patch().to(api::questions::edit_answer)))
                .service(
                    resource("/answers/{id}/accept")
                        .route(post().to(api::questions::accept_answer))
                        .route(delete().to(api::questions::unaccept_answer)),
                )
                .service(resource("/answers/{id}/comments").route(post().to(api::questions::comment_answer)))
                .service(resource("/answers/{id}/vote").route(put().to(api::questions::vote_answer)))
                .service(resource("/posts/{id}/revisions").route(get().to(api::questions::revisions))),
        );
}
