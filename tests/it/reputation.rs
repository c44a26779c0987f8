//! Reputation: the ledger's rules on both backends, privileges with their messages, the rebuild
//! command, and a property test that replays thousands of random actions.

use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::{both, both_db, both_with};
use nave::reputation::privileges::Privileges;

async fn rep(app: &TestApp, who: &Person) -> i64 {
    let u: Value = app.api(Method::GET, &format!("/users/{}", who.id), None, None).await.json().await.unwrap();
    u["reputation"].as_i64().unwrap()
}

async fn events(app: &TestApp, who: &Person) -> Vec<(String, i64)> {
    let h: Value =
        app.api(Method::GET, &format!("/users/{}/reputation", who.id), None, None).await.json().await.unwrap();
    h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["reason"].as_str().unwrap().to_string(), e["delta"].as_i64().unwrap()))
        .collect()
}

both!(votes_give_reputation_and_changing_a_vote_takes_back_exactly_what_it_gave, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let carol = app.person("carol").await;
    let dave = app.person("dave").await;
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let aid = app.answer(&bob, qid).await["id"].as_i64().unwrap();

    assert_eq!(app.api_vote(&carol, "answers", aid, 1).await.status(), 200);
    assert_eq!(app.api_vote(&dave, "answers", aid, 1).await.status(), 200);
    assert_eq!(app.api_vote(&carol, "questions", qid, 1).await.status(), 200);
    assert_eq!(rep(&app, &bob).await, 21);
    assert_eq!(rep(&app, &alice).await, 11);

    // Carol turns her upvote into a downvote: -10 taken back, -2 for the answer, -1 for her.
    assert_eq!(app.api_vote(&carol, "answers", aid, -1).await.status(), 200);
    assert_eq!(rep(&app, &bob).await, 9);
    assert_eq!(rep(&app, &carol).await, 1, "nobody drops below 1");
    // Retracting gives back what the downvote took.
    assert_eq!(app.api_vote(&carol, "answers", aid, 0).await.status(), 200);
    assert_eq!(rep(&app, &bob).await, 11);
    let bob_events = events(&app, &bob).await;
    assert_eq!(
        bob_events,
        vec![
            ("post_downvoted".to_string(), 2),
            ("post_downvoted".to_string(), -2),
            ("answer_upvoted".to_string(), -10),
            ("answer_upvoted".to_string(), 10),
            ("answer_upvoted".to_string(), 10),
        ]
    );
});

both!(accepting_gives_fifteen_and_two_and_moving_the_accept_moves_them, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let carol = app.person("carol").await;
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let a1 = app.answer(&bob, qid).await["id"].as_i64().unwrap();
    let a2 = app.answer(&carol, qid).await["id"].as_i64().unwrap();
    let own = app.answer(&alice, qid).await["id"].as_i64().unwrap();

    app.api(Method::POST, &format!("/answers/{a1}/accept"), Some(&alice.token), None).await;
    assert_eq!((rep(&app, &bob).await, rep(&app, &alice).await), (16, 3));
    app.api(Method::POST, &format!("/answers/{a2}/accept"), Some(&alice.token), None).await;
    assert_eq!((rep(&app, &bob).await, rep(&app, &carol).await, rep(&app, &alice).await), (1, 16, 3));
    // Accepting your own answer earns nothing, and takes back what accepting Carol's gave.
    app.api(Method::POST, &format!("/answers/{own}/accept"), Some(&alice.token), None).await;
    assert_eq!((rep(&app, &carol).await, rep(&app, &alice).await), (1, 1));
    app.api(Method::POST, &format!("/answers/{a1}/accept"), Some(&alice.token), None).await;
    app.api(Method::DELETE, &format!("/answers/{a1}/accept"), Some(&alice.token), None).await;
    assert_eq!((rep(&app, &bob).await, rep(&app, &alice).await), (1, 1), "withdrawn");
});

both_with!(
    gains_from_votes_stop_at_the_daily_cap_but_accepts_do_not,
    |s: &mut nave::settings::Settings| s.policy.rules.answer_upvoted = 150,
    |app: TestApp| async move {
        let alice = app.person("alice").await;
        let bob = app.person("bob").await;
        let carol = app.person("carol").await;
        let qid = app.question(&alice).await["id"].as_i64().unwrap();
        let aid = app.answer(&bob, qid).await["id"].as_i64().unwrap();
        app.api_vote(&alice, "answers", aid, 1).await;
        app.api_vote(&carol, "answers", aid, 1).await;
        assert_eq!(rep(&app, &bob).await, 201, "150 + 50 (the rest of the day's 200)");
        app.api(Method::POST, &format!("/answers/{aid}/accept"), Some(&alice.token), None).await;
        assert_eq!(rep(&app, &bob).await, 216);
        // Taking back the capped vote takes back the 50 it gave, not 150.
        app.api_vote(&carol, "answers", aid, 0).await;
        assert_eq!(rep(&app, &bob).await, 166);
    }
);

fn default_privileges(s: &mut nave::settings::Settings) {
    s.policy.privileges = Privileges::default();
}

both_with!(
    acting_without_a_privilege_is_refused_naming_it_and_what_it_needs,
    default_privileges,
    |app: TestApp| async move {
        let staff_q = {
            // Tags exist once someone with the privilege (staff) has used them.
            let mut conn = app.pool().get().unwrap();
            use nave::db::schema::users;
            let staff = app.person("staffer").await;
            diesel::update(users::table.find(staff.id)).set(users::role.eq("staff")).execute(&mut conn).unwrap();
            app.question(&staff).await
        };
        let newbie = app.person("newbie").await;
        let qid = staff_q["id"].as_i64().unwrap();

        let p = assert_problem(app.api_vote(&newbie, "questions", qid, 1).await, 403, "privilege_required").await;
        assert_eq!(p["detail"], "Voting up needs 15 reputation; you have 1.");
        let p = assert_problem(app.api_vote(&newbie, "questions", qid, -1).await, 403, "privilege_required").await;
        assert_eq!(p["detail"], "Voting down needs 125 reputation; you have 1.");
        let res = app
            .api(
                Method::POST,
                &format!("/questions/{qid}/comments"),
                Some(&newbie.token),
                Some(json!({"body": "Is this still a problem for you?"})),
            )
            .await;
        let p = assert_problem(res, 403, "privilege_required").await;
        assert_eq!(p["detail"], "Commenting everywhere needs 50 reputation; you have 1.");
        let res = app
            .api_ask(
                &newbie,
                "How do I pair my brand new headset?",
                "It does not show up in the Bluetooth list at all.",
                &["headset"],
            )
            .await;
        let p = assert_problem(res, 403, "privilege_required").await;
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("The tag \"headset\" does not exist yet, and creating new tags needs 300 reputation"),
            "{p}"
        );

        // What needs no privilege: existing tags, answering, commenting on your own posts.
        let mine = app
            .api_ask(
                &newbie,
                "How do I reset my router to factory settings?",
                "I tried holding the button but nothing happens.",
                &["router"],
            )
            .await;
        assert_eq!(mine.status(), 201);
        let mid = mine.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let res = app
            .api(
                Method::POST,
                &format!("/questions/{mid}/comments"),
                Some(&newbie.token),
                Some(json!({"body": "Model X2, bought last year."})),
            )
            .await;
        assert_eq!(res.status(), 201);
        assert_eq!(
            app.api_answer(&newbie, qid, "Hold it for a full ten seconds, until the light blinks.").await.status(),
            201
        );

        // The profile lists what is held and what comes next.
        let page = app.get_html(&newbie.browser, &format!("/users/{}/newbie", newbie.id)).await;
        assert!(page.contains("Next: <strong>Voting up</strong> at 15 reputation (14 to go)"), "{page}");
    }
);

both_with!(superusers_given_by_an_admin_hold_every_privilege, default_privileges, |app: TestApp| async move {
    let admin = app.person("admin").await;
    let sam = app.person("sam").await;
    let alice = app.person("alice").await;
    {
        use nave::db::schema::users;
        diesel::update(users::table.find(admin.id))
            .set(users::role.eq("admin"))
            .execute(&mut app.pool().get().unwrap())
            .unwrap();
    }
    let profile = format!("/users/{}/sam", sam.id);
    // Only an admin may grant it.
    let res =
        app.post_form(&alice.browser, &profile, &format!("/users/{}/role", sam.id), &[("role", "superuser")]).await;
    assert_eq!(res.status(), 403);
    let res =
        app.post_form(&admin.browser, &profile, &format!("/users/{}/role", sam.id), &[("role", "superuser")]).await;
    assert_eq!(res.status(), 303);
    let qid = app.question(&admin).await["id"].as_i64().unwrap();
    assert_eq!(app.api_vote(&sam, "questions", qid, -1).await.status(), 200, "a superuser votes down at 1 reputation");
    let res = app.post_form(&admin.browser, &profile, &format!("/users/{}/role", sam.id), &[("role", "user")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.api_vote(&sam, "questions", qid, 1).await.status(), 403, "revoked");
});

both!(rebuild_finds_nothing_to_change_and_repairs_a_wrong_total, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let aid = app.answer(&bob, qid).await["id"].as_i64().unwrap();
    app.api_vote(&alice, "answers", aid, 1).await;
    app.api(Method::POST, &format!("/answers/{aid}/accept"), Some(&alice.token), None).await;

    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nave"))
            .args(["reputation", "rebuild"])
            .env("NAVE_DATABASE_URL", &app.database_url)
            .env("NAVE_DATA_DIR", app.settings.data_dir.as_os_str())
            .env("NAVE_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let report = run();
    assert!(report.contains("replayed 3 reputation events for 2 users: 0 events and 0 totals differed"), "{report}");
    {
        use nave::db::schema::users;
        diesel::update(users::table.find(bob.id))
            .set(users::reputation.eq(999_i64))
            .execute(&mut app.pool().get().unwrap())
            .unwrap();
    }
    assert!(run().contains("0 events and 1 totals differed and were corrected"));
    assert_eq!(rep(&app, &bob).await, 26);
});

// ---- The property test ----

// Random votes, retractions, changed votes, accepts, withdrawn accepts and edits by a small
// crowd on a few threads, applied through the same domain calls the handlers use; afterwards
// the incrementally kept totals must equal a replay of the ledger.
both_db!(random_actions_keep_every_total_equal_to_a_rebuild, |pool: nave::db::DbPool| async move {
    let seed: u64 = std::env::var("NAVE_PROPTEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("property test seed: {seed} (set NAVE_PROPTEST_SEED to replay)");
    let actions: usize = std::env::var("NAVE_PROPTEST_ACTIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    tokio::task::spawn_blocking(move || property_run(&pool, seed, actions)).await.unwrap();
});

/// A question, the index of its asker, and its answers with the index of each author.
type Thread = (i64, usize, Vec<(i64, usize)>);

fn property_run(pool: &nave::db::DbPool, seed: u64, actions: usize) {
    use nave::domain::{Email, PostBody, QuestionTitle, Role, TagName, Username};
    use nave::qa::posts::{self, NewQuestion, PostEdit};
    use nave::reputation::{self, Policy, Rules};
    let mut rng = StdRng::seed_from_u64(seed);
    let mut conn = pool.get().unwrap();
    // A small cap makes the cap and the floor come into play often.
    let policy = Policy { rules: Rules { daily_cap: 60, ..Rules::default() }, privileges: Privileges::all_at(0) };
    let people: Vec<nave::accounts::User> = (0..8)
        .map(|i| {
            let name = Username::parse(&format!("person{i}")).unwrap();
            let email = Email::parse(&format!("p{i}@example.com")).unwrap();
            nave::accounts::users::create(&mut conn, &name, &email, "x", Role::User).unwrap()
        })
        .collect();
    let mut threads: Vec<Thread> = Vec::new();
    for t in 0..6 {
        let asker = t % people.len();
        let q = posts::ask(
            &mut conn,
            &policy,
            &people[asker],
            &NewQuestion {
                title: QuestionTitle::parse(&format!("Question number {t} about the router")).unwrap(),
                body: PostBody::parse("A body that is long enough to be a question.").unwrap(),
                tags: vec![TagName::parse("router").unwrap()],
            },
        )
        .unwrap();
        let mut answers = Vec::new();
        for k in 0..4 {
            let who = (asker + 1 + k + t) % people.len();
            let body = PostBody::parse("An answer that is long enough to count.").unwrap();
            answers.push((posts::answer(&mut conn, &people[who], q.id, &body).unwrap().id, who));
        }
        threads.push((q.id, asker, answers));
    }
    let mut counts = [0usize; 3];
    for _ in 0..actions {
        let (qid, asker, answers) = &threads[rng.gen_range(0..threads.len())];
        match rng.gen_range(0..100) {
            0..=74 => {
                // A vote (or a change or retraction) on the question or one of its answers.
                let post = if rng.gen_bool(0.3) { *qid } else { answers[rng.gen_range(0..answers.len())].0 };
                let voter = &people[rng.gen_range(0..people.len())];
                let value = [1, 1, -1, 0][rng.gen_range(0..4)];
                if nave::qa::votes::cast(&mut conn, &policy, voter, post, value).is_ok() {
                    counts[0] += 1;
                }
            }
            75..=89 => {
                let (aid, _) = answers[rng.gen_range(0..answers.len())];
                let accept = rng.gen_bool(0.7);
                posts::accept(&mut conn, &policy, &people[*asker], aid, accept).unwrap();
                counts[1] += 1;
            }
            _ => {
                let (aid, author) = answers[rng.gen_range(0..answers.len())];
                let body = PostBody::parse(&format!("An edited answer, revision {}.", rng.gen::<u32>())).unwrap();
                let e = PostEdit { title: None, body, tags: None, summary: String::new() };
                posts::edit(&mut conn, &policy, &people[author], aid, &e).unwrap();
                counts[2] += 1;
            }
        }
    }
    use nave::db::schema::{reputation_events as re, users};
    let n_events: i64 = re::table.count().get_result(&mut conn).unwrap();
    let incremental: Vec<(i64, i64)> =
        users::table.select((users::id, users::reputation)).order(users::id).load(&mut conn).unwrap();
    let report = reputation::rebuild(&mut conn, &policy.rules).unwrap();
    eprintln!("actions: {counts:?} (votes, accepts, edits); {n_events} ledger rows; {report:?}");
    assert!(n_events > 1000, "the run produced a real ledger");
    assert_eq!(report.events_corrected, 0, "every recorded delta matches the replay (seed {seed})");
    assert_eq!(report.totals_corrected, 0, "every cached total matches the replay (seed {seed})");
    let rebuilt: Vec<(i64, i64)> =
        users::table.select((users::id, users::reputation)).order(users::id).load(&mut conn).unwrap();
    assert_eq!(incremental, rebuilt);
    for (id, total) in &rebuilt {
        assert!(*total >= 1, "user {id} below 1");
        let deltas: Vec<i64> = re::table.filter(re::user_id.eq(id)).select(re::delta).load(&mut conn).unwrap();
        let sum: i64 = deltas.iter().sum();
        assert_eq!(*total, 1 + sum, "user {id}: total is 1 + the ledger");
    }
}

// ---- Bounties ----

fn age_question(app: &TestApp, qid: i64, days: i64) {
    use nave::db::schema::posts;
    let then = nave::accounts::now() - chrono::TimeDelta::days(days);
    diesel::update(posts::table.filter(posts::id.eq(qid).or(posts::question_id.eq(qid))))
        .set(posts::created_at.eq(then))
        .execute(&mut app.pool().get().unwrap())
        .unwrap();
}

fn give_reputation(app: &TestApp, who: &Person, n: i64) {
    use nave::db::schema::users;
    diesel::update(users::table.find(who.id))
        .set(users::reputation.eq(n))
        .execute(&mut app.pool().get().unwrap())
        .unwrap();
}

async fn offer(app: &TestApp, who: &Person, qid: i64, amount: i64) -> reqwest::Response {
    app.api(Method::POST, &format!("/questions/{qid}/bounty"), Some(&who.token), Some(json!({"amount": amount}))).await
}

both_with!(
    a_bounty_is_offered_within_its_rules_and_awarded_by_its_offerer,
    default_privileges,
    |app: TestApp| async move {
        let staff = app.person("staffer").await;
        {
            use nave::db::schema::users;
            diesel::update(users::table.find(staff.id))
                .set(users::role.eq("staff"))
                .execute(&mut app.pool().get().unwrap())
                .unwrap();
        }
        let alice = app.person("alice").await;
        let bob = app.person("bob").await;
        let q = app.question(&staff).await; // staff creates the tags
        let qid = q["id"].as_i64().unwrap();
        let aid = app.answer(&bob, qid).await["id"].as_i64().unwrap();

        let p = assert_problem(offer(&app, &alice, qid, 100).await, 403, "privilege_required").await;
        assert_eq!(p["detail"], "Offering a bounty needs 75 reputation; you have 1.");
        give_reputation(&app, &alice, 120);
        let p = assert_problem(offer(&app, &alice, qid, 100).await, 422, "validation_failed").await;
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("2 days old"), "{p}");
        age_question(&app, qid, 3);
        for (amount, message) in [(60, "in steps of 50"), (550, "50 to 500"), (150, "You have 120 reputation")] {
            let p = assert_problem(offer(&app, &alice, qid, amount).await, 422, "validation_failed").await;
            assert!(p["errors"][0]["message"].as_str().unwrap().contains(message), "{amount}: {p}");
        }
        assert_eq!(offer(&app, &alice, qid, 100).await.status(), 201);
        assert_eq!(rep(&app, &alice).await, 20, "the amount leaves at once");
        give_reputation(&app, &staff, 200);
        assert_problem(offer(&app, &staff, qid, 50).await, 409, "bounty_open").await;
        let listed: Value = app.api(Method::GET, "/questions?sort=bountied", None, None).await.json().await.unwrap();
        assert_eq!(listed["items"][0]["id"], qid);
        assert_eq!(app.api_get_question(qid).await.json::<Value>().await.unwrap()["bounty"]["amount"], 100);

        let award_path = format!("/questions/{qid}/bounty/award");
        assert_problem(
            app.api(Method::POST, &award_path, Some(&staff.token), Some(json!({"answer_id": aid}))).await,
            403,
            "not_offerer",
        )
        .await;
        let b: Value = app
            .api(Method::POST, &award_path, Some(&alice.token), Some(json!({"answer_id": aid})))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!((b["status"].as_str(), b["awarded_amount"].as_i64()), (Some("awarded"), Some(100)));
        assert_eq!(rep(&app, &bob).await, 101);
        assert_problem(
            app.api(Method::POST, &award_path, Some(&alice.token), Some(json!({"answer_id": aid}))).await,
            409,
            "no_bounty",
        )
        .await;
    }
);

both_with!(
    an_unawarded_bounty_gives_half_to_the_top_answer_with_score_two,
    |s: &mut nave::settings::Settings| s.policy.privileges = Privileges::all_at(0),
    |app: TestApp| async move {
        let alice = app.person("alice").await;
        let bob = app.person("bob").await;
        let (v1, v2) = (app.person("voter1").await, app.person("voter2").await);
        let qid = app.question(&alice).await["id"].as_i64().unwrap();
        age_question(&app, qid, 3);
        give_reputation(&app, &alice, 300);
        assert_eq!(offer(&app, &alice, qid, 200).await.status(), 201);
        let aid = app.answer(&bob, qid).await["id"].as_i64().unwrap();
        app.api_vote(&v1, "answers", aid, 1).await;
        app.api_vote(&v2, "answers", aid, 1).await;
        let before = rep(&app, &bob).await;
        let policy = app.settings.policy.clone();
        let mut conn = app.pool().get().unwrap();
        assert_eq!(nave::reputation::bounties::expire_due(&mut conn, &policy).unwrap(), 0, "not yet due");
        {
            use nave::db::schema::bounties;
            // Ends now: the answer was posted during it.
            diesel::update(bounties::table)
                .set(bounties::ends_at.eq(nave::accounts::now()))
                .execute(&mut conn)
                .unwrap();
        }
        assert_eq!(nave::reputation::bounties::expire_due(&mut conn, &policy).unwrap(), 1);
        assert_eq!(rep(&app, &bob).await, before + 100, "half of 200");
        let q: Value = app.api_get_question(qid).await.json().await.unwrap();
        assert!(q["bounty"].is_null(), "closed");
    }
);

// ---- Badges ----

both!(badges_are_awarded_by_the_background_task_once_each_and_shown, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let carol = app.person("carol").await;
    let q = app.question(&alice).await;
    let qid = q["id"].as_i64().unwrap();
    let aid = app.answer(&bob, qid).await["id"].as_i64().unwrap();
    app.api_vote(&carol, "answers", aid, 1).await;
    app.api_vote(&carol, "questions", qid, 1).await;
    app.api(Method::POST, &format!("/answers/{aid}/accept"), Some(&alice.token), None).await;
    app.api(
        Method::POST,
        &format!("/questions/{qid}/comments"),
        Some(&bob.token),
        Some(json!({"body": "Which model is this about?"})),
    )
    .await;
    let award = || async {
        let mut conn = app.pool().get().unwrap();
        nave::jobs::enqueue(&mut conn, &nave::reputation::badges::AwardBadges {}, Default::default()).unwrap();
        drop(conn);
        app.run_jobs().await;
    };
    award().await;
    award().await; // a second run awards nothing twice
    let names = |v: Value| {
        let mut n: Vec<String> =
            v.as_array().unwrap().iter().map(|b| b["badge"]["key"].as_str().unwrap().to_string()).collect();
        n.sort();
        n
    };
    assert_eq!(names(badges_of(&app, &alice).await), vec!["scholar", "student"]);
    assert_eq!(names(badges_of(&app, &bob).await), vec!["commentator", "helper", "teacher"]);
    assert_eq!(names(badges_of(&app, &carol).await), vec!["supporter"]);
    let u: Value = app.api(Method::GET, &format!("/users/{}", bob.id), None, None).await.json().await.unwrap();
    let page = app.get_html(&browser(), &format!("/users/{}/bob", bob.id)).await;
    assert!(page.contains("Helper") && page.contains("Teacher"), "profile lists badges");
    let thread = app.get_html(&browser(), &q["url"].as_str().unwrap().replace(&app.address, "")).await;
    assert!(thread.contains(r#"<span class="b-bronze" title="3 bronze badges">●3</span>"#), "next to bob's name");
    assert_eq!(u["id"], bob.id);
});

async fn badges_of(app: &TestApp, who: &Person) -> Value {
    app.api(Method::GET, &format!("/users/{}/badges", who.id), None, None).await.json().await.unwrap()
}

both_with!(
    vote_splits_show_only_with_their_privilege,
    |s: &mut nave::settings::Settings| s.policy.privileges =
        Privileges::all_at(0).with(nave::reputation::privileges::Privilege::SeeVoteSplits, 1000),
    |app: TestApp| async move {
        let alice = app.person("alice").await;
        let (up, down, seer) = (app.person("upper").await, app.person("downer").await, app.person("seer").await);
        let qid = app.question(&alice).await["id"].as_i64().unwrap();
        app.api_vote(&up, "questions", qid, 1).await;
        app.api_vote(&down, "questions", qid, -1).await;
        let get = |token: String| {
            let url = app.url(&format!("/api/v1/questions/{qid}"));
            async move {
                reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap()
            }
        };
        assert!(get(alice.token.clone()).await["vote_split"].is_null(), "below 1000: score only");
        give_reputation(&app, &seer, 1000);
        assert_eq!(get(seer.token.clone()).await["vote_split"], json!([1, 1]));
    }
);

both_with!(flagging_and_voting_to_close_need_their_privileges, default_privileges, |app: TestApp| async move {
    let staff = app.person("staffer").await;
    {
        use nave::db::schema::users;
        diesel::update(users::table.find(staff.id))
            .set(users::role.eq("staff"))
            .execute(&mut app.pool().get().unwrap())
            .unwrap();
    }
    let newbie = app.person("newbie").await;
    let qid = app.question(&staff).await["id"].as_i64().unwrap();
    let res = app
        .api(Method::POST, &format!("/posts/{qid}/flags"), Some(&newbie.token), Some(json!({"reason": "spam"})))
        .await;
    let p = assert_problem(res, 403, "privilege_required").await;
    assert_eq!(p["detail"], "Flagging posts needs 15 reputation; you have 1.");
    let res = app
        .api(
            Method::POST,
            &format!("/questions/{qid}/close"),
            Some(&newbie.token),
            Some(json!({"reason": "off_topic"})),
        )
        .await;
    let p = assert_problem(res, 403, "privilege_required").await;
    assert_eq!(p["detail"], "Voting to close and reopen needs 1000 reputation; you have 1.");
    let res = app.api(Method::PUT, &format!("/questions/{qid}/pin"), Some(&newbie.token), None).await;
    assert_problem(res, 403, "privilege_required").await;
});

both_with!(
    the_hourly_job_closes_bounties_that_are_due,
    |s: &mut nave::settings::Settings| s.policy.privileges = Privileges::all_at(0),
    |app: TestApp| async move {
        let alice = app.person("alice").await;
        let qid = app.question(&alice).await["id"].as_i64().unwrap();
        age_question(&app, qid, 3);
        give_reputation(&app, &alice, 300);
        assert_eq!(offer(&app, &alice, qid, 100).await.status(), 201);
        let mut conn = app.pool().get().unwrap();
        {
            use nave::db::schema::bounties;
            diesel::update(bounties::table)
                .set(bounties::ends_at.eq(nave::accounts::now()))
                .execute(&mut conn)
                .unwrap();
        }
        nave::jobs::enqueue(&mut conn, &nave::reputation::bounties::ExpireBounties {}, Default::default()).unwrap();
        drop(conn);
        app.run_jobs().await;
        let q: Value = app.api_get_question(qid).await.json().await.unwrap();
        assert!(q["bounty"].is_null(), "expired by the job");
        let next: i64 = {
            use nave::db::schema::jobs;
            jobs::table
                .filter(jobs::name.eq("bounties.expire"))
                .count()
                .get_result(&mut app.pool().get().unwrap())
                .unwrap()
        };
        assert_eq!(next, 1, "the next hour's run is scheduled");
    }
);
