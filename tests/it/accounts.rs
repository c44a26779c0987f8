//! Sign-up, log-in, sessions, CSRF and rate limits.

use crate::helpers::*;
use crate::{both, both_with};

both!(signing_up_logs_in_and_shows_the_username, |app: TestApp| async move {
    let b = browser();
    let res = app.signup_form(&b, "alice_1", "alice@example.com", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("nave_session="))
        .unwrap_or("")
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let home = app.get_html(&b, "/").await;
    assert!(home.contains(">alice_1</a>"), "header shows the user");
});

both!(each_bad_sign_up_field_gets_its_message_and_keeps_the_input, |app: TestApp| async move {
    let b = browser();
    let cases: &[(&str, &str, &str, &str)] = &[
        ("ab", "a@example.com", PASSWORD, "at least 3 characters"),
        (&"x".repeat(31), "a@example.com", PASSWORD, "at most 30 characters"),
        ("bad name!", "a@example.com", PASSWORD, "may contain only"),
        ("goodname", "not-an-email", PASSWORD, "does not look like an e-mail"),
        ("goodname", "a@example.com", "short", "at least 10 characters"),
        ("goodname10", "a@example.com", "goodname10", "must not be your username"),
    ];
    for (u, e, p, message) in cases {
        let res = app.signup_form(&b, u, e, p).await;
        assert_eq!(res.status(), 422, "{u} {e}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "expected {message:?}");
        assert!(html.contains(&format!("value=\"{e}\"")), "e-mail kept");
        assert!(!html.contains(&format!("value=\"{p}\"")) || p == u, "password never echoed");
    }
});

both!(usernames_are_unique_ignoring_case_and_emails_unique, |app: TestApp| async move {
    assert_eq!(app.api_signup("Carol").await.status(), 201);
    let res = app
        .api(
            reqwest::Method::POST,
            "/users",
            None,
            Some(serde_json::json!({"username": "carol", "email": "other@example.com", "password": PASSWORD})),
        )
        .await;
    let p = assert_problem(res, 422, "validation_failed").await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("taken"), "{p}");
    let res = app
        .api(
            reqwest::Method::POST,
            "/users",
            None,
            Some(serde_json::json!({"username": "dave", "email": "CAROL@example.com", "password": PASSWORD})),
        )
        .await;
    let p = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "email");
});

both!(log_in_works_by_username_or_email, |app: TestApp| async move {
    app.api_signup("erin").await;
    for login in ["erin", "ERIN", "erin@example.com"] {
        let b = browser();
        let res = app.login_form(&b, login, PASSWORD).await;
        assert_eq!(res.status(), 303, "{login}");
        assert!(app.get_html(&b, "/").await.contains(">erin</a>"));
    }
});

both!(wrong_password_and_unknown_user_get_the_same_message, |app: TestApp| async move {
    app.api_signup("frank").await;
    let b = browser();
    let wrong = app.login_form(&b, "frank", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let wrong = wrong.text().await.unwrap();
    let unknown = app.login_form(&b, "nobody_here", "not the password").await.text().await.unwrap();
    let msg = "Wrong username, e-mail or password.";
    assert!(wrong.contains(msg) && unknown.contains(msg));
    assert!(wrong.contains("value=\"frank\""), "login kept");
    let a = assert_problem(app.api_token("frank", "nope nope nope").await, 401, "bad_credentials").await;
    let b2 = assert_problem(app.api_token("ghost", "nope nope nope").await, 401, "bad_credentials").await;
    assert_eq!(a["detail"], b2["detail"]);
});

both!(the_session_id_changes_at_log_in, |app: TestApp| async move {
    app.api_signup("gina").await;
    let b = browser();
    let first = app.login_form(&b, "gina", PASSWORD).await;
    let second = app.login_form(&b, "gina", PASSWORD).await;
    let sid = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("nave_session="))
            .map(String::from)
    };
    let (a, c) = (sid(&first).expect("cookie"), sid(&second).expect("cookie"));
    assert_ne!(a, c);
});

both!(logging_out_ends_the_session, |app: TestApp| async move {
    let p = app.person("henry").await;
    let res = app.post_form(&p.browser, "/", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert!(!app.get_html(&p.browser, "/").await.contains(">henry</a>"));
    let res = app.get(&p.browser, "/questions/ask").await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login?next="), "{}", location(&res));
});

both!(logging_out_everywhere_ends_every_session_and_token, |app: TestApp| async move {
    let p = app.person("iris").await;
    let other = browser();
    app.login_form(&other, "iris", PASSWORD).await;
    let profile = format!("/users/{}/iris", p.id);
    let res = app.post_form(&p.browser, &profile, "/logout/everywhere", &[]).await;
    assert_eq!(res.status(), 303);
    assert!(!app.get_html(&other, "/").await.contains(">iris</a>"));
    let q = app
        .api_ask(&p, "Is my token still valid after logout?", "This body is long enough to pass the rules.", &["auth"])
        .await;
    assert_eq!(q.status(), 401);
});

both!(a_form_without_or_with_a_wrong_csrf_token_is_refused, |app: TestApp| async move {
    let b = browser();
    app.get(&b, "/signup").await;
    let fields = [("username", "mallory"), ("email", "m@example.com"), ("password", PASSWORD)];
    let res = b.post(app.url("/signup")).form(&fields).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let html = res.text().await.unwrap();
    assert!(html.contains("did not come from this site"), "clear message");
    let mut with_bad: Vec<(&str, &str)> = fields.to_vec();
    with_bad.push(("csrf_token", "0000"));
    assert_eq!(b.post(app.url("/signup")).form(&with_bad).send().await.unwrap().status(), 403);
    // A token from another browser does not work either.
    let other = browser();
    let token = csrf_from(&app.get_html(&other, "/signup").await);
    let mut stolen: Vec<(&str, &str)> = fields.to_vec();
    stolen.push(("csrf_token", &token));
    assert_eq!(b.post(app.url("/signup")).form(&stolen).send().await.unwrap().status(), 403);
    assert_eq!(app.api(reqwest::Method::GET, "/users/mallory", None, None).await.status(), 404, "nothing was created");
});

both_with!(
    log_in_attempts_are_limited_per_address,
    |s: &mut nave::settings::Settings| s.rate_login_per_minute = 3,
    |app: TestApp| async move {
        let b = browser();
        for _ in 0..3 {
            assert_eq!(app.login_form(&b, "nobody", "whatever whatever").await.status(), 401);
        }
        let res = app.login_form(&b, "nobody", "whatever whatever").await;
        assert_eq!(res.status(), 429);
        assert!(res.text().await.unwrap().contains("Too many attempts"));
    }
);

both_with!(
    sign_ups_are_limited_per_address,
    |s: &mut nave::settings::Settings| s.rate_signup_per_hour = 2,
    |app: TestApp| async move {
        assert_eq!(app.api_signup("one_1").await.status(), 201);
        assert_eq!(app.api_signup("two_2").await.status(), 201);
        let res = app.api_signup("three_3").await;
        assert!(res.headers().contains_key("retry-after"));
        assert_problem(res, 429, "rate_limited").await;
    }
);

both_with!(
    posting_is_limited_per_user,
    |s: &mut nave::settings::Settings| s.rate_posts_per_minute = 2,
    |app: TestApp| async move {
        let p = app.person("poster").await;
        let q = app.question(&p).await;
        let id = q["id"].as_i64().unwrap();
        assert_eq!(app.api_answer(&p, id, "A first answer that is long enough.").await.status(), 201);
        assert_problem(app.api_answer(&p, id, "A second answer that is long enough.").await, 429, "rate_limited").await;
    }
);

/// The mail jobs waiting in the app's queue.
fn queued_mail(app: &TestApp) -> Vec<nave::mail::Email> {
    use diesel::prelude::*;
    use nave::db::schema::jobs;
    let mut conn = nave::db::establish(&nave::db::DbUrl::parse(&app.database_url).unwrap()).unwrap();
    let payloads: Vec<String> =
        jobs::table.filter(jobs::name.eq("mail.send")).select(jobs::payload).load(&mut conn).unwrap();
    payloads.iter().map(|p| serde_json::from_str(p).unwrap()).collect()
}

both!(signing_up_queues_a_confirmation_mail_whose_link_works_once, |app: TestApp| async move {
    app.api_signup("verifier").await;
    let mails = queued_mail(&app);
    assert_eq!(mails.len(), 1, "queued with the sign-up");
    let mail = &mails[0];
    assert_eq!(mail.to, "verifier@example.com");
    assert!(mail.subject.contains("Confirm your address"));
    let link = mail.text.lines().find(|l| l.contains("/verify-email/")).unwrap().trim().to_string();
    assert!(mail.html.contains(&link), "both parts carry the link");
    let path = link.strip_prefix(&app.address).unwrap().to_string();
    let res = app.get(&browser(), &path).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Address confirmed"));
    let again = app.get(&browser(), &path).await;
    assert_eq!(again.status(), 400, "single use");
    let forged = app.get(&browser(), "/verify-email/forged-token-value").await;
    assert_eq!(forged.status(), 400);
    let (a, b) = (again.text().await.unwrap(), forged.text().await.unwrap());
    assert!(a.contains("not valid") && b.contains("not valid"), "one clear message for every bad link");
});

both!(a_failed_sign_up_queues_no_mail, |app: TestApp| async move {
    app.api_signup("once_only").await;
    let dup = app
        .api(
            reqwest::Method::POST,
            "/users",
            None,
            Some(serde_json::json!({"username": "ONCE_ONLY", "email": "x@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(dup.status(), 422);
    assert_eq!(queued_mail(&app).len(), 1);
});

/// Follows the confirmation link of `name`'s sign-up mail.
async fn confirm(app: &TestApp, name: &str) {
    let mail = queued_mail(app).into_iter().find(|m| m.to == format!("{name}@example.com")).unwrap();
    let link = mail.text.lines().find(|l| l.contains("/verify-email/")).unwrap().trim().to_string();
    assert_eq!(app.get(&browser(), link.strip_prefix(&app.address).unwrap()).await.status(), 200);
}

fn reset_link(app: &TestApp, to: &str) -> Option<String> {
    queued_mail(app)
        .into_iter()
        .filter(|m| m.to == to && m.subject.contains("Reset your password"))
        .flat_map(|m| m.text.lines().map(String::from).collect::<Vec<_>>())
        .find(|l| l.contains("/password/reset/"))
        .map(|l| l.trim().strip_prefix(&app.address).unwrap_or_default().to_string())
}

both!(a_password_reset_link_sets_a_new_password_once_and_ends_every_session, |app: TestApp| async move {
    let p = app.person("forgetful").await;
    confirm(&app, "forgetful").await;
    let anon = browser();
    let res = app.post_form(&anon, "/password/forgot", "/password/forgot", &[("email", "forgetful@example.com")]).await;
    assert_eq!(res.status(), 200);
    let said = res.text().await.unwrap();
    let path = reset_link(&app, "forgetful@example.com").expect("reset mail queued");
    assert_eq!(app.get(&anon, &path).await.status(), 200);
    let short = app.post_form(&anon, &path, &path, &[("password", "short")]).await;
    assert_eq!(short.status(), 422, "the password rules apply");
    let res = app.post_form(&anon, &path, &path, &[("password", "a brand new password")]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Password changed"));
    assert!(!app.get_html(&p.browser, "/").await.contains(">forgetful</a>"), "old sessions ended");
    assert_eq!(app.api_token("forgetful", PASSWORD).await.status(), 401, "old password refused");
    assert_eq!(app.api_token("forgetful", "a brand new password").await.status(), 201);
    assert_eq!(app.get(&anon, &path).await.status(), 400, "single use");
    // The same words whether or not an account uses the address, and no mail for a stranger.
    let res = app.post_form(&anon, "/password/forgot", "/password/forgot", &[("email", "nobody@example.com")]).await;
    let other = res.text().await.unwrap();
    let strip = |s: &str| s.replace("forgetful@example.com", "X").replace("nobody@example.com", "X");
    let core = |s: &str| {
        strip(s)
            .split("role=\"status\">")
            .nth(1)
            .unwrap_or_default()
            .split("</p>")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(core(&said), core(&other));
    assert!(reset_link(&app, "nobody@example.com").is_none());
});

both!(expired_forged_and_unconfirmed_reset_requests_get_nothing, |app: TestApp| async move {
    use diesel::prelude::*;
    app.person("unconfirmed").await;
    let anon = browser();
    app.post_form(&anon, "/password/forgot", "/password/forgot", &[("email", "unconfirmed@example.com")]).await;
    assert!(
        reset_link(&app, "unconfirmed@example.com").is_none(),
        "unconfirmed addresses get only the confirmation mail"
    );
    confirm(&app, "unconfirmed").await;
    app.post_form(&anon, "/password/forgot", "/password/forgot", &[("email", "unconfirmed@example.com")]).await;
    let path = reset_link(&app, "unconfirmed@example.com").unwrap();
    let mut conn = nave::db::establish(&nave::db::DbUrl::parse(&app.database_url).unwrap()).unwrap();
    let past = nave::accounts::now() - chrono::TimeDelta::minutes(61);
    diesel::update(nave::db::schema::email_tokens::table)
        .set(nave::db::schema::email_tokens::expires_at.eq(past))
        .execute(&mut conn)
        .unwrap();
    let res = app.get(&anon, &path).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("not valid"));
    assert_eq!(app.post_form(&anon, "/login", &path, &[("password", "a brand new password")]).await.status(), 400);
    assert_eq!(app.get(&anon, "/password/reset/forged").await.status(), 400);
});
