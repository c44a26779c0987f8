//! The HTML side: forms that keep what was typed, redirects, error pages and inert XSS.

use crate::both;
use crate::both_with;
use crate::helpers::*;

const BODY: &str = "My router blinks red after the update and I cannot connect.";

async fn ask_form(app: &TestApp, p: &Person, title: &str, body: &str, tags: &str) -> reqwest::Response {
    app.post_form(&p.browser, "/questions/ask", "/questions/ask", &[("title", title), ("body", body), ("tags", tags)])
        .await
}

both!(asking_through_the_form_redirects_to_the_canonical_page, |app: TestApp| async move {
    let p = app.person("form_asker").await;
    let res = ask_form(&app, &p, "Router blinks red after the update", BODY, "router firmware").await;
    assert_eq!(res.status(), 303);
    let path = location(&res);
    assert!(path.ends_with("/router-blinks-red-after-the-update"), "{path}");
    let html = app.get_html(&p.browser, &path).await;
    assert!(html.contains("<h1>Router blinks red after the update</h1>"));
    assert!(html.contains("href=\"/tags/firmware\""));
});

both!(a_failed_ask_comes_back_with_everything_typed_and_the_messages, |app: TestApp| async move {
    let p = app.person("typo_asker").await;
    let res = ask_form(&app, &p, "short", "tiny", "a b c d e f").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Title must be at least 15 characters"));
    assert!(html.contains("Body must be at least 20 characters"));
    assert!(html.contains("Use at most 5 tags"));
    assert!(html.contains("value=\"short\""));
    assert!(html.contains(">tiny</textarea>"));
    assert!(html.contains("value=\"a b c d e f\""));
});

both!(a_wrong_or_missing_slug_is_a_301_to_the_canonical_url, |app: TestApp| async move {
    let p = app.person("slugger").await;
    let q = app.question(&p).await;
    let id = q["id"].as_i64().unwrap();
    let canonical = format!("/questions/{id}/how-do-i-reset-my-router-to-factory-settings");
    for wrong in [format!("/questions/{id}/wrong-slug"), format!("/questions/{id}")] {
        let res = app.get(&browser(), &wrong).await;
        assert_eq!(res.status(), 301, "{wrong}");
        assert_eq!(location(&res), canonical);
    }
});

both!(unknown_pages_and_questions_get_the_sites_404_page, |app: TestApp| async move {
    for path in
        ["/questions/99999/nothing", "/no/such/page", "/users/99999/nobody", "/tags/nosuchtag", "/questions/abc/def"]
    {
        let res = app.get(&browser(), path).await;
        assert_eq!(res.status(), 404, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains("class=\"error-page\"") && html.contains("Not Found"), "{path}");
    }
});

both!(answering_commenting_voting_and_accepting_work_without_javascript, |app: TestApp| async move {
    let asker = app.person("html_asker").await;
    let helper = app.person("html_helper").await;
    let q = app.question(&asker).await;
    let (qid, path) =
        (q["id"].as_i64().unwrap(), format!("/questions/{}/how-do-i-reset-my-router-to-factory-settings", q["id"]));
    let res = app
        .post_form(
            &helper.browser,
            &path,
            &format!("/questions/{qid}/answers"),
            &[("body", "Hold the reset button for ten seconds.")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    let aid: i64 = loc.rsplit("#answer-").next().unwrap().parse().unwrap();
    let res = app
        .post_form(
            &asker.browser,
            &path,
            &format!("/posts/{aid}/comments"),
            &[("body", "That worked, thank you so much!")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app.post_form(&asker.browser, &path, &format!("/posts/{aid}/vote"), &[("value", "1")]).await;
    assert_eq!(res.status(), 303);
    let res = app.post_form(&asker.browser, &path, &format!("/answers/{aid}/accept"), &[("accept", "1")]).await;
    assert_eq!(res.status(), 303);
    let html = app.get_html(&browser(), &path).await;
    assert!(html.contains("Hold the reset button for ten seconds."));
    assert!(html.contains("That worked, thank you so much!"));
    assert!(html.contains("class=\"post answer accepted\""));
    assert!(html.contains("<span class=\"score\" aria-label=\"score\">1</span>"));
});

both!(voting_by_script_gets_json_back, |app: TestApp| async move {
    let asker = app.person("js_asker").await;
    let voter = app.person("js_voter").await;
    let q = app.question(&asker).await;
    let path = format!("/questions/{}/how-do-i-reset-my-router-to-factory-settings", q["id"]);
    let token = csrf_from(&app.get_html(&voter.browser, &path).await);
    let res = voter
        .browser
        .post(app.url(&format!("/posts/{}/vote", q["id"])))
        .header("accept", "application/json")
        .form(&[("csrf_token", token.as_str()), ("value", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let out: serde_json::Value = res.json().await.unwrap();
    assert_eq!(out["score"], 1);
});

both!(a_failed_answer_keeps_the_text_beside_the_message, |app: TestApp| async move {
    let asker = app.person("fa_asker").await;
    let helper = app.person("fa_helper").await;
    let q = app.question(&asker).await;
    let path = format!("/questions/{}/how-do-i-reset-my-router-to-factory-settings", q["id"]);
    let res = app
        .post_form(&helper.browser, &path, &format!("/questions/{}/answers", q["id"]), &[("body", "too short")])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(">too short</textarea>"));
    assert!(html.contains("Body must be at least 20 characters"));
});

both!(a_logged_out_answer_is_kept_not_lost, |app: TestApp| async move {
    let asker = app.person("lo_asker").await;
    let q = app.question(&asker).await;
    let anon = browser();
    // The token comes from any page this browser saw; the answer form was open before a log-out.
    let res = app
        .post_form(
            &anon,
            "/login",
            &format!("/questions/{}/answers", q["id"]),
            &[("body", "An answer written while logged out.")],
        )
        .await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(html.contains("You are not logged in, so this was not posted."));
    assert!(html.contains("An answer written while logged out."), "the text is kept");
});

both!(voting_on_your_own_post_in_the_browser_is_a_403_page, |app: TestApp| async move {
    let p = app.person("own_voter").await;
    let q = app.question(&p).await;
    let path = format!("/questions/{}/how-do-i-reset-my-router-to-factory-settings", q["id"]);
    let res = app.post_form(&p.browser, &path, &format!("/posts/{}/vote", q["id"]), &[("value", "1")]).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("You cannot vote on your own post."));
});

both_with!(
    editing_someone_elses_post_in_the_browser_suggests_the_edit_for_review,
    |s: &mut nave::settings::Settings| {
        use nave::reputation::privileges::{Privilege, Privileges};
        s.policy.privileges = Privileges::all_at(0).with(Privilege::EditFreely, 1000);
    },
    |app: TestApp| async move {
        let author = app.person("page_author").await;
        let other = app.person("page_other").await;
        let q = app.question(&author).await;
        let res = app.get(&other.browser, &format!("/posts/{}/edit", q["id"])).await;
        assert_eq!(res.status(), 200, "anyone logged in may suggest an edit");
        let res = app
            .post_form(
                &other.browser,
                "/",
                &format!("/posts/{}/edit", q["id"]),
                &[("title", "Hijacked title that is long"), ("body", BODY), ("tags", "router")],
            )
            .await;
        assert_eq!(res.status(), 202);
        assert!(res.text().await.unwrap().contains("your edit is waiting for review"));
        let now: serde_json::Value = app.api_get_question(q["id"].as_i64().unwrap()).await.json().await.unwrap();
        assert_eq!(now["title"], q["title"], "nothing changes before review");
    }
);

both!(accepting_on_someone_elses_question_is_forbidden_in_the_browser, |app: TestApp| async move {
    let asker = app.person("af_asker").await;
    let helper = app.person("af_helper").await;
    let q = app.question(&asker).await;
    let a = app.answer(&helper, q["id"].as_i64().unwrap()).await;
    let res = app.post_form(&helper.browser, "/", &format!("/answers/{}/accept", a["id"]), &[("accept", "1")]).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Only the person who asked"));
});

both!(editing_through_the_form_shows_in_the_revision_history, |app: TestApp| async move {
    let p = app.person("rev_author").await;
    let q = app.question(&p).await;
    let id = q["id"].as_i64().unwrap();
    let res = app
        .post_form(
            &p.browser,
            &format!("/posts/{id}/edit"),
            &format!("/posts/{id}/edit"),
            &[
                ("title", "How do I reset my router, model X9?"),
                ("body", BODY),
                ("tags", "router"),
                ("summary", "named the model"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get_html(&browser(), &format!("/posts/{id}/revisions")).await;
    assert!(html.contains("Revision 2") && html.contains("named the model") && html.contains("Revision 1"));
});

both!(script_in_markdown_titles_and_tags_is_rendered_inert, |app: TestApp| async move {
    let p = app.person("xss_tester").await;
    let body = "Look: <script>alert(1)</script> <img src=x onerror=alert(2)> <svg onload=alert(3)><circle/></svg> [a](javascript:alert(4)) [b](data:text/html;base64,PHNjcmlwdD4=) <a href=\"jAvAsCrIpT:alert(5)\">c</a> <iframe src=\"https://evil.example\"></iframe>";
    let res = ask_form(&app, &p, "<script>alert('title')</script> in my title", body, "safe").await;
    assert_eq!(res.status(), 303);
    let html = app.get_html(&browser(), &location(&res)).await;
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script>alert"), "no live script");
    assert!(!lower.contains("onerror") && !lower.contains("onload"), "no handlers");
    assert!(!lower.contains("javascript:alert") && !lower.contains("data:text/html"), "no script URLs");
    assert!(!lower.contains("<svg") && !lower.contains("<iframe"), "no svg or iframe");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;title&#39;)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;"),
        "title escaped"
    );
    let res = ask_form(&app, &p, "A question with a hostile tag in it", BODY, "<script>").await;
    assert_eq!(res.status(), 422);
    assert!(!res.text().await.unwrap().contains("<script>\""), "tag echoed escaped");
    let res = app.signup_form(&browser(), "<img src=x onerror=alert(1)>", "x@example.com", PASSWORD).await;
    assert_eq!(res.status(), 422);
    assert!(!res.text().await.unwrap().contains("<img src=x"), "username escaped");
});

both!(a_form_body_over_the_limit_is_413, |app: TestApp| async move {
    let p = app.person("big_form").await;
    let huge = "w".repeat(300 * 1024);
    let res = ask_form(&app, &p, "A title long enough for this", &huge, "big").await;
    assert_eq!(res.status(), 413);
    assert!(res.text().await.unwrap().contains("error-page"));
});

both!(home_tabs_tags_and_profiles_list_questions, |app: TestApp| async move {
    let p = app.person("lister_html").await;
    app.question(&p).await;
    let anon = browser();
    for path in [
        "/",
        "/?tab=newest",
        "/?tab=unanswered",
        "/?tab=votes",
        "/?page=2",
        "/tags",
        "/tags/router",
        &format!("/users/{}/lister_html", p.id),
    ] {
        let res = app.get(&anon, path).await;
        assert_eq!(res.status(), 200, "{path}");
    }
    assert!(app.get_html(&anon, "/tags/router").await.contains("How do I reset my router to factory settings?"));
    assert!(app.get_html(&anon, "/tags").await.contains("href=\"/tags/setup\""));
    let res = app.get(&anon, &format!("/users/{}/wrong", p.id)).await;
    assert_eq!(res.status(), 301);
});

both!(static_assets_have_versioned_urls_and_long_cache_lifetimes, |app: TestApp| async move {
    let html = app.get_html(&browser(), "/").await;
    let start = html.find("/static/").unwrap();
    let end = html[start..].find('"').unwrap() + start;
    let res = app.get(&browser(), &html[start..end]).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age=31536000"));
});

both!(anonymous_visitors_see_changes_at_once_despite_the_page_cache, |app: TestApp| async move {
    let asker = app.person("cache_asker").await;
    let helper = app.person("cache_helper").await;
    let q = app.question(&asker).await;
    let qid = q["id"].as_i64().unwrap();
    let path = format!("/questions/{qid}/how-do-i-reset-my-router-to-factory-settings");
    let anon = browser();
    assert!(app.get_html(&anon, &path).await.contains("0 Answers"));
    let a = app.answer(&helper, qid).await;
    assert!(app.get_html(&anon, &path).await.contains("1 Answer<"), "a new answer shows");
    app.api_vote(&asker, "answers", a["id"].as_i64().unwrap(), 1).await;
    assert!(
        app.get_html(&anon, &path).await.contains("<span class=\"score\" aria-label=\"score\">1</span>"),
        "a vote shows"
    );
    app.api(
        reqwest::Method::PATCH,
        &format!("/answers/{}", a["id"]),
        Some(&helper.token),
        Some(serde_json::json!({"body": "An edited answer that is long enough."})),
    )
    .await;
    assert!(app.get_html(&anon, &path).await.contains("An edited answer that is long enough."), "an edit shows");
});

both!(a_refused_form_shows_back_what_was_written, |app: TestApp| async move {
    let p = app.person("kept_text").await;
    app.get(&p.browser, "/questions/ask").await;
    let fields = [
        ("csrf_token", "stale"),
        ("title", "My long and careful question title"),
        ("body", "Paragraphs of careful detail."),
        ("tags", "kept"),
    ];
    let res = p.browser.post(app.url("/questions/ask")).form(&fields).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let html = res.text().await.unwrap();
    assert!(html.contains("What you wrote, so nothing is lost"));
    assert!(html.contains(">Paragraphs of careful detail.</textarea>"));
    assert!(html.contains(">My long and careful question title</textarea>"));
});

both!(tags_with_url_characters_link_to_their_own_page, |app: TestApp| async move {
    let p = app.person("sharp_tagger").await;
    app.api_ask(&p, "Which C# client library should I use?", "Looking for a maintained C# library here.", &["c#"])
        .await;
    let html = app.get_html(&browser(), "/tags").await;
    assert!(html.contains("href=\"/tags/c%23\""), "encoded link");
    let page = app.get_html(&browser(), "/tags/c%23").await;
    assert!(page.contains("Which C# client library should I use?"));
});

both!(a_wrong_method_is_405, |app: TestApp| async move {
    let c = reqwest::Client::new();
    assert_eq!(c.delete(app.url("/questions/ask")).send().await.unwrap().status(), 405);
    let res = c.delete(app.url("/api/v1/questions")).send().await.unwrap();
    assert_problem(res, 405, "method_not_allowed").await;
});

both!(a_forgotten_session_cookie_is_cleared_and_log_in_still_works, |app: TestApp| async move {
    let p = app.person("stale_cookie").await;
    let other = browser();
    app.login_form(&other, "stale_cookie", PASSWORD).await;
    // Log out everywhere from the first browser: the second keeps a cookie the server forgot.
    app.post_form(&p.browser, &format!("/users/{}/stale_cookie", p.id), "/logout/everywhere", &[]).await;
    let res = app.get(&other, "/").await;
    let cleared = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("nave_session=;") || c.starts_with("nave_session=\"\""));
    assert!(cleared, "stale cookie removed");
    assert_eq!(app.login_form(&other, "stale_cookie", PASSWORD).await.status(), 303);
});

both!(an_internal_error_gets_the_sites_500_page_without_details, |app: TestApp| async move {
    // Break the database under the running app: the tags page can no longer be read.
    let url = nave::db::DbUrl::parse(&app.database_url).unwrap();
    let mut conn = nave::db::establish(&url).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut conn, "ALTER TABLE tags RENAME TO tags_gone").unwrap();
    let res = app.get(&browser(), "/tags").await;
    assert_eq!(res.status(), 500);
    let html = res.text().await.unwrap();
    assert!(html.contains("class=\"error-page\"") && html.contains("Something went wrong on our side"));
    assert!(!html.contains("tags_gone") && !html.contains("no such table"), "no database details leak");
    let api = app.api(reqwest::Method::GET, "/questions?tag=x", None, None).await;
    assert_problem(api, 500, "internal_error").await;
});
