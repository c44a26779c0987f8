//! Notifications end to end: events become in-site notifications and mail (through the real job
//! queue and the folder transport), per-person settings, following, the bell, one-click
//! unsubscribe, the weekly digest, and the API.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::*;

/// Mail to `to`, leaving out the address confirmation every sign-up gets.
fn mails_to(app: &TestApp, to: &str) -> Vec<String> {
    app.mails()
        .into_iter()
        .filter(|m| m.contains(&format!("To: {to}")) && !m.contains("Subject: Confirm your address"))
        .collect()
}

async fn notifications(app: &TestApp, who: &Person) -> Value {
    let res = app.api(Method::GET, "/notifications", Some(&who.token), None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The header value of `name` in a raw message.
fn header(mail: &str, name: &str) -> Option<String> {
    mail.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(|v| v.trim().to_string()))
}

fn unsubscribe_path(mail: &str) -> String {
    let v = header(mail, "List-Unsubscribe").expect("List-Unsubscribe header");
    let url = v.trim_start_matches('<').trim_end_matches('>');
    url.find("/unsubscribe/").map(|i| url[i..].to_string()).expect("unsubscribe path")
}

both!(a_new_answer_notifies_the_asker_in_site_and_by_mail, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    app.confirm_email(&alice);
    app.confirm_email(&bob);
    let q = app.question(&alice).await;
    let a = app.answer(&bob, q["id"].as_i64().unwrap()).await;
    app.run_jobs().await;

    let list = notifications(&app, &alice).await;
    assert_eq!(list["unread_count"], 1, "{list}");
    let n = &list["items"][0];
    assert_eq!(n["kind"], "answer");
    assert_eq!(n["headline"], "bob answered your question");
    assert_eq!(n["title"], q["title"]);
    assert!(n["url"].as_str().unwrap().ends_with(&format!("#answer-{}", a["id"])), "{n}");
    assert_eq!(n["actor"]["username"], "bob");

    let mails = mails_to(&app, "alice@example.com");
    assert_eq!(mails.len(), 1, "one mail to the asker");
    let m = &mails[0];
    assert!(header(m, "Subject").unwrap().starts_with("bob answered your question"), "{m}");
    assert!(m.contains("text/plain") && m.contains("text/html"), "both parts: {m}");
    assert!(m.contains("Hold it for a full ten seconds"), "the answer's text: {m}");
    assert!(unsubscribe_path(m).starts_with("/unsubscribe/"));
    assert_eq!(header(m, "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert!(mails_to(&app, "bob@example.com").is_empty(), "nobody hears about their own answer");
    assert_eq!(notifications(&app, &bob).await["total"], 0);
});

both!(an_unconfirmed_address_gets_in_site_notifications_but_no_mail, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let q = app.question(&alice).await;
    app.answer(&bob, q["id"].as_i64().unwrap()).await;
    app.run_jobs().await;
    assert_eq!(notifications(&app, &alice).await["unread_count"], 1);
    assert!(mails_to(&app, "alice@example.com").is_empty());
    // The one message an unconfirmed address does get:
    assert!(app.mails().iter().any(|m| m.contains("To: alice@example.com") && m.contains("Confirm your address")));
});

both!(comments_mentions_and_accepts_reach_the_right_people, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let carol = app.person("carol").await;
    for p in [&alice, &bob, &carol] {
        app.confirm_email(p);
    }
    let q = app.question(&alice).await;
    let qid = q["id"].as_i64().unwrap();
    let a = app.answer(&bob, qid).await;
    let aid = a["id"].as_i64().unwrap();
    let res = app
        .api(
            Method::POST,
            &format!("/questions/{qid}/comments"),
            Some(&bob.token),
            Some(json!({"body": "Which model is it? @carol knows these well."})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app.api(Method::POST, &format!("/answers/{aid}/accept"), Some(&alice.token), None).await;
    assert_eq!(res.status(), 200);
    app.run_jobs().await;

    // Fan-outs run concurrently, so their order is not fixed: compare sorted.
    let kinds = |v: &Value| {
        let mut k: Vec<String> =
            v["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_string()).collect();
        k.sort();
        k
    };
    let alice_n = notifications(&app, &alice).await;
    assert_eq!(kinds(&alice_n), vec!["answer", "comment"], "{alice_n}");
    let comment = alice_n["items"].as_array().unwrap().iter().find(|n| n["kind"] == "comment").unwrap();
    assert_eq!(comment["headline"], "bob commented on your question");
    let carol_n = notifications(&app, &carol).await;
    assert_eq!(kinds(&carol_n), vec!["mention"]);
    assert_eq!(carol_n["items"][0]["headline"], "bob mentioned you");
    assert!(carol_n["items"][0]["url"].as_str().unwrap().contains("#comment-"));
    let bob_n = notifications(&app, &bob).await;
    assert_eq!(kinds(&bob_n), vec!["accepted"]);
    assert_eq!(bob_n["items"][0]["headline"], "alice accepted your answer");

    // Comments are in-site only by default; mentions and accepts are mailed.
    assert_eq!(mails_to(&app, "alice@example.com").len(), 1, "the answer only");
    assert_eq!(mails_to(&app, "carol@example.com").len(), 1);
    assert_eq!(mails_to(&app, "bob@example.com").len(), 1);
});

both!(running_a_fan_out_again_notifies_nobody_twice, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    app.confirm_email(&alice);
    let q = app.question(&alice).await;
    let a = app.answer(&bob, q["id"].as_i64().unwrap()).await;
    app.run_jobs().await;
    // As if the worker died after delivering but before recording the job as done.
    let event = nave::notifications::fanout::Event::Answered { answer_id: a["id"].as_i64().unwrap() };
    nave::jobs::enqueue(&mut app.pool().get().unwrap(), &event, Default::default()).unwrap();
    app.run_jobs().await;
    assert_eq!(notifications(&app, &alice).await["total"], 1);
    assert_eq!(mails_to(&app, "alice@example.com").len(), 1);
});

both!(settings_choose_mail_in_site_only_or_nothing_per_kind, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    app.confirm_email(&alice);
    let res = app.api(Method::PUT, "/notification-settings", Some(&alice.token), Some(json!({"answer": "site"}))).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["channels"]["answer"], "site");
    assert_eq!(body["channels"]["mention"], "email", "others keep their defaults");
    let q = app.question(&alice).await;
    let qid = q["id"].as_i64().unwrap();
    app.answer(&bob, qid).await;
    app.run_jobs().await;
    assert_eq!(notifications(&app, &alice).await["total"], 1);
    assert!(mails_to(&app, "alice@example.com").is_empty(), "in-site only");

    app.api(Method::PUT, "/notification-settings", Some(&alice.token), Some(json!({"answer": "off"}))).await;
    app.api_answer(&bob, qid, "Or unplug it for thirty seconds and plug it back in.").await;
    app.run_jobs().await;
    assert_eq!(notifications(&app, &alice).await["total"], 1, "off: nothing new");
});

both!(bad_settings_are_refused_naming_the_field, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let res = app
        .api(
            Method::PUT,
            "/notification-settings",
            Some(&alice.token),
            Some(json!({"digest": "site", "answer": "pigeon"})),
        )
        .await;
    let p = assert_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["answer", "digest"]);
    // The page shows the message beside the choice.
    let res = app
        .post_form(&alice.browser, "/settings/notifications", "/settings/notifications", &[("answer", "pigeon")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Choose one of: email, site, off."));
    let res = app
        .post_form(&alice.browser, "/settings/notifications", "/settings/notifications", &[("comment", "email")])
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&alice.browser, "/settings/notifications").await;
    assert!(page.contains(r#"name="comment" value="email" checked"#), "saved choice shown");
});

both!(one_click_unsubscribe_stops_that_kind_of_mail_only, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    app.confirm_email(&alice);
    let q = app.question(&alice).await;
    let qid = q["id"].as_i64().unwrap();
    app.answer(&bob, qid).await;
    app.run_jobs().await;
    let path = unsubscribe_path(&mails_to(&app, "alice@example.com")[0]);

    // Opening the link (or a mail scanner fetching it) changes nothing by itself.
    let page = app.get_html(&browser(), &path).await;
    assert!(page.contains("Stop e-mail for"), "{page}");
    let settings: Value =
        app.api(Method::GET, "/notification-settings", Some(&alice.token), None).await.json().await.unwrap();
    assert_eq!(settings["channels"]["answer"], "email");

    // RFC 8058: the mail client posts without cookies.
    let res = reqwest::Client::new()
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let settings: Value =
        app.api(Method::GET, "/notification-settings", Some(&alice.token), None).await.json().await.unwrap();
    assert_eq!(settings["channels"]["answer"], "site", "still in-site");
    assert_eq!(settings["channels"]["mention"], "email", "other kinds untouched");

    app.api_answer(&bob, qid, "Or unplug it for thirty seconds and plug it back in.").await;
    app.run_jobs().await;
    assert_eq!(mails_to(&app, "alice@example.com").len(), 1, "no second mail");
    assert_eq!(notifications(&app, &alice).await["total"], 2);
});

both!(a_tampered_unsubscribe_link_is_rejected, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    app.confirm_email(&alice);
    let q = app.question(&alice).await;
    app.answer(&bob, q["id"].as_i64().unwrap()).await;
    app.run_jobs().await;
    let path = unsubscribe_path(&mails_to(&app, "alice@example.com")[0]);
    // Someone else's id, another kind, a changed signature, garbage.
    let tampered = [
        path.replacen(&format!("/unsubscribe/{}-", alice.id), &format!("/unsubscribe/{}-", bob.id), 1),
        path.replace("-answer-", "-mention-"),
        format!("{}{}", &path[..path.len() - 1], if path.ends_with('0') { '1' } else { '0' }),
        "/unsubscribe/not-a-token".to_string(),
    ];
    for t in &tampered {
        assert_ne!(t, &path);
        let res = reqwest::Client::new().post(app.url(t)).body("List-Unsubscribe=One-Click").send().await.unwrap();
        assert_eq!(res.status(), 400, "{t}");
        assert!(res.text().await.unwrap().contains("This unsubscribe link is not valid."));
    }
    let settings: Value =
        app.api(Method::GET, "/notification-settings", Some(&alice.token), None).await.json().await.unwrap();
    assert_eq!(settings["channels"]["answer"], "email", "nothing changed");
});

both!(the_bell_counts_unread_and_opening_marks_read, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let q = app.question(&alice).await;
    let qid = q["id"].as_i64().unwrap();
    let a = app.answer(&bob, qid).await;
    app.api_answer(&bob, qid, "Or unplug it for thirty seconds and plug it back in.").await;
    app.run_jobs().await;

    let home = app.get_html(&alice.browser, "/").await;
    assert!(home.contains(r#"<span class="badge" id="unread-count" aria-label="2 unread">2</span>"#), "bell shows 2");
    let page = app.get_html(&alice.browser, "/notifications").await;
    assert!(page.contains("bob answered your question"));
    let list = notifications(&app, &alice).await;
    let first = format!("#answer-{}", a["id"]);
    let item = list["items"].as_array().unwrap().iter().find(|n| n["url"].as_str().unwrap().ends_with(&first));
    let id = item.expect("a notification for the first answer")["id"].as_i64().unwrap();

    // Somebody else cannot open or mark it.
    assert_eq!(app.get(&bob.browser, &format!("/notifications/{id}")).await.status(), 404);
    let res = app.api(Method::POST, &format!("/notifications/{id}/read"), Some(&bob.token), None).await;
    assert_problem(res, 404, "not_found").await;

    let res = app.get(&alice.browser, &format!("/notifications/{id}")).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).ends_with(&format!("#answer-{}", a["id"])), "{}", location(&res));
    assert_eq!(notifications(&app, &alice).await["unread_count"], 1);

    let res = app.post_form(&alice.browser, "/notifications", "/notifications/read-all", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(notifications(&app, &alice).await["unread_count"], 0);
    let home = app.get_html(&alice.browser, "/").await;
    assert!(!home.contains("id=\"unread-count\""), "no badge when all read");
});

both!(followers_hear_about_new_answers_until_they_unfollow, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let dave = app.person("dave").await;
    let q = app.question(&alice).await;
    let qid = q["id"].as_i64().unwrap();
    let res = app
        .post_form(
            &dave.browser,
            q["url"].as_str().unwrap().trim_start_matches(&app.address),
            &format!("/questions/{qid}/follow"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&dave.browser, &location(&res)).await;
    assert!(page.contains(&format!(r#"action="/questions/{qid}/unfollow""#)), "the page offers to unfollow");
    app.answer(&bob, qid).await;
    app.run_jobs().await;
    let n = notifications(&app, &dave).await;
    assert_eq!(n["items"][0]["headline"], "bob answered a question you follow");

    let res = app.api(Method::DELETE, &format!("/questions/{qid}/follow"), Some(&dave.token), None).await;
    assert_eq!(res.status(), 204);
    app.api_answer(&bob, qid, "Or unplug it for thirty seconds and plug it back in.").await;
    app.run_jobs().await;
    assert_eq!(notifications(&app, &dave).await["total"], 1);
    assert_eq!(notifications(&app, &alice).await["total"], 2, "the asker follows from the start");
    let res = app.api(Method::PUT, "/questions/999999/follow", Some(&dave.token), None).await;
    assert_problem(res, 404, "not_found").await;
});

both!(the_weekly_digest_lists_unanswered_questions_in_followed_tags_once_a_week, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let eve = app.person("eve").await;
    let frank = app.person("frank").await;
    app.confirm_email(&eve);
    app.confirm_email(&frank);
    let q = app.question(&alice).await; // tagged router and setup
    let res = app.api(Method::PUT, "/tags/router/follow", Some(&eve.token), None).await;
    assert_eq!(res.status(), 204);
    app.api(Method::PUT, "/notification-settings", Some(&eve.token), Some(json!({"digest": "email"}))).await;
    // Frank wants the digest but follows no tag: nothing to send him.
    app.api(Method::PUT, "/notification-settings", Some(&frank.token), Some(json!({"digest": "email"}))).await;
    let res = app.api(Method::PUT, "/tags/no-such-tag/follow", Some(&eve.token), None).await;
    assert_problem(res, 404, "not_found").await;

    for _ in 0..2 {
        let digest = nave::notifications::fanout::WeeklyDigest {};
        // A new occurrence each time (the queue keeps one pending per recurring task).
        let mut conn = app.pool().get().unwrap();
        {
            use diesel::prelude::*;
            use nave::db::schema::jobs as j;
            diesel::delete(j::table.filter(j::name.eq("notifications.digest"))).execute(&mut conn).unwrap();
        }
        nave::jobs::enqueue(&mut conn, &digest, Default::default()).unwrap();
        app.run_jobs().await;
    }
    let mails = mails_to(&app, "eve@example.com");
    assert_eq!(mails.len(), 1, "one digest per week");
    assert!(header(&mails[0], "Subject").unwrap().contains("1 unanswered question in tags you follow"));
    assert!(mails[0].contains(q["title"].as_str().unwrap()));
    assert!(unsubscribe_path(&mails[0]).contains("-digest-"));
    assert!(mails_to(&app, "frank@example.com").is_empty());
    let settings: Value =
        app.api(Method::GET, "/notification-settings", Some(&eve.token), None).await.json().await.unwrap();
    assert_eq!(settings["followed_tags"], json!(["router"]));
});

both!(notification_endpoints_need_a_token, |app: TestApp| async move {
    for (m, p) in [
        (Method::GET, "/notifications"),
        (Method::POST, "/notifications/read-all"),
        (Method::GET, "/notification-settings"),
        (Method::PUT, "/tags/router/follow"),
    ] {
        let res = app.api(m, p, None, None).await;
        assert_problem(res, 401, "unauthenticated").await;
    }
    let res = app.get(&browser(), "/notifications").await;
    assert!(res.status() == 401 || res.status() == 303, "{}", res.status());
});
