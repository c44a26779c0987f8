//! Moderation on both backends: flags (auto-hide, one per person, outcomes decided exactly once),
//! hiding with tombstones, close/reopen with votes and duplicates, locks, pins, suspensions and
//! the public log.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_with;
use crate::helpers::*;
use nave::reputation::privileges::{Privilege, Privileges};

/// Everyone may flag and vote to close; moderator tools need 2000 reputation (or the role).
fn community(s: &mut nave::settings::Settings) {
    s.policy.privileges = Privileges::all_at(0).with(Privilege::Superuser, 2000);
}

fn set_role(app: &TestApp, who: &Person, role: &str) {
    use nave::db::schema::users;
    diesel::update(users::table.find(who.id))
        .set(users::role.eq(role))
        .execute(&mut app.pool().get().unwrap())
        .unwrap();
}

async fn flag(app: &TestApp, who: &Person, post: i64, body: Value) -> reqwest::Response {
    app.api(Method::POST, &format!("/posts/{post}/flags"), Some(&who.token), Some(body)).await
}

async fn post(app: &TestApp, who: &Person, path: &str, body: Value) -> reqwest::Response {
    app.api(Method::POST, path, Some(&who.token), Some(body)).await
}

async fn thread(app: &TestApp, who: Option<&Person>, id: i64) -> Value {
    let res = app.api(Method::GET, &format!("/questions/{id}"), who.map(|p| p.token.as_str()), None).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

both_with!(three_spam_flags_from_different_people_hide_the_post_pending_review, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let spammer = app.person("spammer").await;
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let res = app.api_answer(&spammer, qid, "Buy cheap watches at example dot com, best prices!").await;
    let aid = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut last = Value::Null;
    for name in ["flagger1", "flagger2", "flagger3"] {
        let p = app.person(name).await;
        let res = flag(&app, &p, aid, json!({"reason": if name == "flagger2" { "rude" } else { "spam" }})).await;
        assert_eq!(res.status(), 201);
        last = res.json().await.unwrap();
    }
    assert_eq!(last["post_hidden"], true, "the third serious flag hides it");

    let url = thread(&app, None, qid).await["url"].as_str().unwrap().replace(&app.address, "");
    let page = app.get_html(&browser(), &url).await;
    assert!(page.contains("Hidden by moderators: flagged as spam or abuse by the community, pending review"), "{page}");
    assert!(!page.contains("cheap watches"), "the public does not see the text");
    // The author still sees it, with the reason.
    let mine = thread(&app, Some(&spammer), qid).await;
    let a = mine["answers"].as_array().unwrap().iter().find(|a| a["id"] == aid).unwrap().clone();
    assert!(a["body_markdown"].as_str().unwrap().contains("cheap watches"), "{a}");
    let log: Value = app.api(Method::GET, "/moderation/log?action=hide", None, None).await.json().await.unwrap();
    assert_eq!(log["items"][0]["actor"], "community");
    assert_eq!(log["items"][0]["target_id"], aid);
});

both_with!(flagging_twice_is_a_conflict_and_bad_flags_name_the_field, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    assert_eq!(flag(&app, &bob, qid, json!({"reason": "needs_staff"})).await.status(), 201);
    let p = assert_problem(flag(&app, &bob, qid, json!({"reason": "spam"})).await, 409, "already_flagged").await;
    assert_eq!(p["detail"], "You have already flagged this post.");

    let carol = app.person("carol").await;
    let cases = [
        (json!({"reason": "other"}), "details", "Say what is wrong"),
        (json!({"reason": "weather"}), "reason", "Choose a reason"),
        (json!({"reason": "duplicate"}), "duplicate_of", "Name the question"),
        (json!({"reason": "duplicate", "duplicate_of": qid}), "duplicate_of", "cannot be a duplicate of itself"),
        (json!({"reason": "duplicate", "duplicate_of": 999_999}), "duplicate_of", "There is no question 999999"),
    ];
    for (body, field, message) in cases {
        let p = assert_problem(flag(&app, &carol, qid, body.clone()).await, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], field, "{body}");
        assert!(p["errors"][0]["message"].as_str().unwrap().contains(message), "{p}");
    }
    // A hidden target is refused too.
    let mod_ = app.person("moddy").await;
    set_role(&app, &mod_, "superuser");
    let other = app
        .api_ask(
            &alice,
            "Why does my router reboot every night at three?",
            "It restarts itself at 3 am and drops every call.",
            &["router"],
        )
        .await;
    let oid = other.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .api(Method::POST, &format!("/posts/{oid}/hide"), Some(&mod_.token), Some(json!({"reason": "off-topic spam"})))
        .await;
    assert_eq!(res.status(), 204);
    let p = assert_problem(
        flag(&app, &carol, qid, json!({"reason": "duplicate", "duplicate_of": oid})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("hidden by moderators"));
});

both_with!(two_reviewers_deciding_the_same_flag_at_once_one_wins, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let r1 = app.person("reviewer1").await;
    let r2 = app.person("reviewer2").await;
    set_role(&app, &r1, "superuser");
    set_role(&app, &r2, "staff");
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    for round in 0..8 {
        let flagger = app.person(&format!("flagger{round}")).await;
        let f: Value = flag(&app, &flagger, qid, json!({"reason": "needs_staff"})).await.json().await.unwrap();
        let id = f["flag_id"].as_i64().unwrap();
        let path = format!("/flags/{id}/decision");
        let (a, b) = tokio::join!(
            app.api(Method::POST, &path, Some(&r1.token), Some(json!({"helpful": true}))),
            app.api(Method::POST, &path, Some(&r2.token), Some(json!({"helpful": false}))),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: exactly one decision wins");
        let loser = if a.status() == 409 { a } else { b };
        let p = assert_problem(loser, 409, "already_handled").await;
        assert!(p["detail"].as_str().unwrap().starts_with("This flag was already handled by reviewer"), "{p}");
    }
    let decided: Value = app.api(Method::GET, "/moderation/log", None, None).await.json().await.unwrap();
    assert_eq!(decided["total"], 8, "one log entry per flag");
    // Ordinary people cannot decide flags.
    let p = assert_problem(
        app.api(Method::POST, "/flags/1/decision", Some(&alice.token), Some(json!({"helpful": true}))).await,
        403,
        "privilege_required",
    )
    .await;
    assert_eq!(p["detail"], "Moderator tools (superuser) needs 2000 reputation; you have 1.");
});

both_with!(hiding_needs_a_reason_and_leaves_a_tombstone_that_can_be_lifted, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let moddy = app.person("moddy").await;
    set_role(&app, &moddy, "superuser");
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let hide_path = format!("/posts/{qid}/hide");
    assert_problem(
        post(&app, &alice, &hide_path, json!({"reason": "I do not like it"})).await,
        403,
        "privilege_required",
    )
    .await;
    let p =
        assert_problem(post(&app, &moddy, &hide_path, json!({"reason": "  "})).await, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "reason");
    assert_eq!(post(&app, &moddy, &hide_path, json!({"reason": "personal data in the post"})).await.status(), 204);
    assert_problem(post(&app, &moddy, &hide_path, json!({"reason": "again"})).await, 409, "already_hidden").await;

    let public = thread(&app, None, qid).await;
    assert_eq!(public["body_markdown"], "", "the public sees only the tombstone");
    let page = app.get_html(&browser(), &public["url"].as_str().unwrap().replace(&app.address, "")).await;
    assert!(page.contains("Hidden by moderators: personal data in the post"));
    assert!(page.contains(r#"<meta name="robots" content="noindex">"#));
    let listed: Value = app.api(Method::GET, "/questions", None, None).await.json().await.unwrap();
    assert_eq!(listed["total"], 0, "hidden questions leave the lists");
    for who in [&alice, &moddy] {
        let seen = thread(&app, Some(who), qid).await;
        assert!(seen["body_markdown"].as_str().unwrap().len() > 10, "author and moderators see it");
    }
    assert_eq!(app.api(Method::DELETE, &format!("/posts/{qid}/hide"), Some(&moddy.token), None).await.status(), 204);
    assert!(thread(&app, None, qid).await["body_markdown"].as_str().unwrap().len() > 10);
    let log: Value = app.api(Method::GET, "/moderation/log", None, None).await.json().await.unwrap();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["unhide", "hide"]);
    assert_eq!(log["items"][1]["reason"], "personal data in the post");
    assert_eq!(log["items"][1]["actor"], "moddy");
});

both_with!(three_votes_close_a_question_and_a_superuser_closes_at_once, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let target = app.question(&alice).await;
    let tid = target["id"].as_i64().unwrap();
    let dup = app
        .api_ask(
            &alice,
            "Factory reset of my router does not work, what now?",
            "Holding the reset button does nothing on my router.",
            &["router"],
        )
        .await;
    let did = dup.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let close_path = format!("/questions/{did}/close");
    let voters = [app.person("voter1").await, app.person("voter2").await, app.person("voter3").await];
    let p = assert_problem(
        post(&app, &voters[0], &close_path, json!({"reason": "duplicate", "duplicate_of": did})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("itself"));
    let p = assert_problem(
        post(&app, &voters[0], &close_path, json!({"reason": "because"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "reason");
    for (i, v) in voters.iter().enumerate() {
        let out: Value =
            post(&app, v, &close_path, json!({"reason": "duplicate", "duplicate_of": tid})).await.json().await.unwrap();
        assert_eq!(out["decided"], i == 2, "{out}");
    }
    assert_problem(post(&app, &voters[0], &close_path, json!({"reason": "off_topic"})).await, 409, "already_closed")
        .await;
    let page =
        app.get_html(&browser(), &format!("/questions/{did}/factory-reset-of-my-router-does-not-work-what-now")).await;
    assert!(page.contains("This question already has an answer here"), "duplicate banner");
    let target_page = app.get_html(&browser(), &target["url"].as_str().unwrap().replace(&app.address, "")).await;
    assert!(
        target_page.contains("Linked questions") && target_page.contains("Factory reset of my router does not work")
    );
    assert_problem(
        app.api_answer(&voters[0], did, "Use the button on the back for ten seconds.").await,
        403,
        "question_closed",
    )
    .await;

    // Reopening an open question is a conflict; a superuser reopens at once.
    assert_problem(
        app.api(Method::POST, &format!("/questions/{tid}/reopen"), Some(&alice.token), None).await,
        409,
        "not_closed",
    )
    .await;
    let moddy = app.person("moddy").await;
    set_role(&app, &moddy, "superuser");
    let out: Value = app
        .api(Method::POST, &format!("/questions/{did}/reopen"), Some(&moddy.token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(out["decided"], true);
    let out: Value = post(&app, &moddy, &close_path, json!({"reason": "needs_details"})).await.json().await.unwrap();
    assert_eq!(out["decided"], true, "one superuser vote closes");
});

both_with!(a_locked_thread_takes_no_answers_comments_votes_or_edits, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let moddy = app.person("moddy").await;
    set_role(&app, &moddy, "superuser");
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let res = app
        .api(
            Method::POST,
            &format!("/questions/{qid}/lock"),
            Some(&moddy.token),
            Some(json!({"reason": "heated argument"})),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(
        app.api_answer(&bob, qid, "Hold it for a full ten seconds, until the light blinks.").await,
        403,
        "thread_locked",
    )
    .await;
    let res = app
        .api(
            Method::POST,
            &format!("/questions/{qid}/comments"),
            Some(&bob.token),
            Some(json!({"body": "A comment that is long enough."})),
        )
        .await;
    let p = assert_problem(res, 403, "thread_locked").await;
    assert!(p["detail"].as_str().unwrap().contains("heated argument"));
    assert_problem(app.api_vote(&bob, "questions", qid, 1).await, 403, "thread_locked").await;
    let res = app
        .api(
            Method::PATCH,
            &format!("/questions/{qid}"),
            Some(&alice.token),
            Some(json!({"body": "A new body that is long enough to pass."})),
        )
        .await;
    assert_problem(res, 403, "thread_locked").await;
    assert_problem(
        app.api(Method::POST, &format!("/questions/{qid}/lock"), Some(&moddy.token), Some(json!({"reason": "x"})))
            .await,
        409,
        "already_locked",
    )
    .await;
    assert_eq!(
        app.api(Method::DELETE, &format!("/questions/{qid}/lock"), Some(&moddy.token), None).await.status(),
        204
    );
    assert_eq!(app.api_vote(&bob, "questions", qid, 1).await.status(), 200);
});

both_with!(a_suspended_person_reads_but_cannot_write_until_it_lifts, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let troll = app.person("troll").await;
    let moddy = app.person("moddy").await;
    set_role(&app, &moddy, "superuser");
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let suspend_path = format!("/users/{}/suspension", troll.id);
    assert_problem(post(&app, &moddy, &suspend_path, json!({"days": 7, "reason": ""})).await, 422, "validation_failed")
        .await;
    assert_problem(
        post(&app, &moddy, &suspend_path, json!({"days": 0, "reason": "abuse"})).await,
        422,
        "validation_failed",
    )
    .await;
    let res = post(&app, &moddy, &suspend_path, json!({"days": 7, "reason": "insulting other members"})).await;
    assert_eq!(res.status(), 201);
    let until = res.json::<Value>().await.unwrap()["until"].as_str().unwrap().to_string();

    assert_eq!(thread(&app, Some(&troll), qid).await["id"], qid, "reading still works");
    let page = app.get_html(&troll.browser, "/").await;
    assert!(page.contains("Your account is suspended until") && page.contains("insulting other members"), "sees why");
    let p = assert_problem(
        app.api_answer(&troll, qid, "Hold it for a full ten seconds, until the light blinks.").await,
        403,
        "suspended",
    )
    .await;
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("insulting other members") && detail.contains(&until[..10]), "{detail}");
    assert_problem(app.api_vote(&troll, "questions", qid, 1).await, 403, "suspended").await;
    // A suspension lifts itself when its time is up.
    {
        use nave::db::schema::users;
        let past = nave::accounts::now() - chrono::TimeDelta::minutes(1);
        diesel::update(users::table.find(troll.id))
            .set(users::suspended_until.eq(Some(past)))
            .execute(&mut app.pool().get().unwrap())
            .unwrap();
    }
    assert_eq!(app.api_vote(&troll, "questions", qid, 1).await.status(), 200);
    let log: Value = app.api(Method::GET, "/moderation/log?action=suspend", None, None).await.json().await.unwrap();
    assert_eq!(log["items"][0]["reason"], "7 days: insulting other members");
});

both_with!(a_pinned_thread_heads_the_home_page_and_the_log_page_lists_actions, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let moddy = app.person("moddy").await;
    set_role(&app, &moddy, "staff");
    let first = app.question(&alice).await["id"].as_i64().unwrap();
    app.api_ask(
        &alice,
        "Why does my router reboot every night at three?",
        "It restarts itself at 3 am and drops every call.",
        &["router"],
    )
    .await;
    let res = app.api(Method::PUT, &format!("/questions/{first}/pin"), Some(&moddy.token), None).await;
    assert_eq!(res.status(), 204);
    let home = app.get_html(&browser(), "/").await;
    let pinned = home.find("How do I reset my router to factory settings?").unwrap();
    let other = home.find("Why does my router reboot every night at three?").unwrap();
    assert!(pinned < other, "the pinned thread comes first though older");
    let log = app.get_html(&browser(), "/moderation/log?action=pin").await;
    assert!(log.contains("moddy") && log.contains(&format!("post {first}")), "{log}");
    let none = app.get_html(&browser(), "/moderation/log?action=hide").await;
    assert!(none.contains("Nothing here yet."));
});

both_with!(spam_is_deleted_for_good_by_a_moderator_and_nothing_else_is, community, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let spammer = app.person("spammer").await;
    let moddy = app.person("moddy").await;
    set_role(&app, &moddy, "superuser");
    let q = app.question(&alice).await;
    let qid = q["id"].as_i64().unwrap();
    let res = app.api_answer(&spammer, qid, "Buy cheap watches at example dot com, best prices!").await;
    let aid = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let p = assert_problem(
        app.api(Method::DELETE, &format!("/posts/{aid}"), Some(&alice.token), None).await,
        403,
        "privilege_required",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().starts_with("Moderator tools"));
    assert_eq!(app.api(Method::DELETE, &format!("/posts/{aid}"), Some(&moddy.token), None).await.status(), 204);
    let t = thread(&app, None, qid).await;
    assert_eq!((t["answer_count"].as_i64(), t["answers"].as_array().unwrap().len()), (Some(0), 0));
    // A whole spam question goes with its answers; a duplicate pointing at it is unlinked.
    let spam_q = app
        .api_ask(
            &spammer,
            "Cheap watches for sale, visit our shop now",
            "Best prices on watches, visit the shop today.",
            &["router"],
        )
        .await;
    let sid = spam_q.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.answer(&alice, sid).await;
    assert_eq!(app.api(Method::DELETE, &format!("/posts/{sid}"), Some(&moddy.token), None).await.status(), 204);
    assert_eq!(app.api_get_question(sid).await.status(), 404);
    let log: Value = app.api(Method::GET, "/moderation/log?action=delete_spam", None, None).await.json().await.unwrap();
    assert_eq!(log["total"], 2);
});

both_with!(
    an_admin_erases_a_persons_data_and_their_posts_stay_under_deleted_user,
    community,
    |app: TestApp| async move {
        let alice = app.person("alice").await;
        let bob = app.person("bob").await;
        let admin = app.person("admin").await;
        set_role(&app, &admin, "admin");
        let qid = app.question(&alice).await["id"].as_i64().unwrap();
        app.answer(&bob, qid).await;
        let path = format!("/users/{}/erase", bob.id);
        assert_problem(app.api(Method::POST, &path, Some(&alice.token), None).await, 403, "admins_only").await;
        assert_eq!(app.api(Method::POST, &path, Some(&admin.token), None).await.status(), 204);
        let t = thread(&app, None, qid).await;
        assert_eq!(t["answers"][0]["author"]["username"], format!("deleted-user-{}", bob.id), "the answer stays");
        assert_problem(app.api_vote(&bob, "questions", qid, 1).await, 401, "unauthenticated").await;
        let res = app.login_form(&browser(), "bob", PASSWORD).await;
        assert_ne!(res.status(), 303, "cannot log in any more");
    }
);
