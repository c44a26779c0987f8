//! The review queue on both backends: suggested edits decided by two reviewers (or the author, or
//! a superuser alone), each item decided exactly once, first posts, and the privilege it needs.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_with;
use crate::helpers::*;
use nave::reputation::privileges::{Privilege, Privileges};

/// Everyone may review; editing freely needs 1000 and moderator tools 2000.
fn reviewers(s: &mut nave::settings::Settings) {
    s.policy.privileges = Privileges::all_at(0).with(Privilege::EditFreely, 1000).with(Privilege::Superuser, 2000);
}

fn set_role(app: &TestApp, who: &Person, role: &str) {
    use nave::db::schema::users;
    diesel::update(users::table.find(who.id))
        .set(users::role.eq(role))
        .execute(&mut app.pool().get().unwrap())
        .unwrap();
}

async fn suggest(app: &TestApp, who: &Person, qid: i64, body: &str) -> reqwest::Response {
    app.api(
        Method::PATCH,
        &format!("/questions/{qid}"),
        Some(&who.token),
        Some(json!({"body": body, "summary": "clearer"})),
    )
    .await
}

async fn review(app: &TestApp, who: &Person, id: i64, approve: bool) -> reqwest::Response {
    app.api(Method::POST, &format!("/suggested-edits/{id}/review"), Some(&who.token), Some(json!({"approve": approve})))
        .await
}

async fn rep(app: &TestApp, who: &Person) -> i64 {
    let u: Value = app.api(Method::GET, &format!("/users/{}", who.id), None, None).await.json().await.unwrap();
    u["reputation"].as_i64().unwrap()
}

const BETTER: &str = "I tried holding the reset button for five seconds, but the lights do not change.";

both_with!(a_suggested_edit_needs_two_approvals_and_then_applies_as_a_revision, reviewers, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let (r1, r2) = (app.person("reviewer1").await, app.person("reviewer2").await);
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let res = suggest(&app, &bob, qid, BETTER).await;
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.unwrap()["suggested_edit_id"].as_i64().unwrap();
    assert_problem(suggest(&app, &r1, qid, BETTER).await, 409, "edit_pending").await;
    assert_problem(review(&app, &bob, id, true).await, 403, "own_suggestion").await;

    let first: Value = review(&app, &r1, id, true).await.json().await.unwrap();
    assert_eq!((first["status"].as_str(), first["approvals"].as_i64()), (Some("pending"), Some(1)));
    assert_problem(review(&app, &r1, id, true).await, 409, "already_reviewed").await;
    let q: Value = app.api_get_question(qid).await.json().await.unwrap();
    assert_ne!(q["body_markdown"], BETTER, "not applied before it is decided");

    let second: Value = review(&app, &r2, id, true).await.json().await.unwrap();
    assert_eq!(second["status"], "approved");
    let q: Value = app.api_get_question(qid).await.json().await.unwrap();
    assert_eq!(q["body_markdown"], BETTER);
    let revs: Value = app.api(Method::GET, &format!("/posts/{qid}/revisions"), None, None).await.json().await.unwrap();
    assert_eq!(revs[0]["author"]["username"], "bob", "the suggester is the revision's author");
    assert_eq!(rep(&app, &bob).await, 3, "+2 for an approved edit");
    assert_problem(review(&app, &app.person("late").await, id, false).await, 409, "already_handled").await;
});

both_with!(the_author_alone_decides_a_suggested_edit, reviewers, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let bob = app.person("bob").await;
    let qid = app.question(&alice).await["id"].as_i64().unwrap();
    let id =
        suggest(&app, &bob, qid, BETTER).await.json::<Value>().await.unwrap()["suggested_edit_id"].as_i64().unwrap();
    let out: Value = review(&app, &alice, id, false).await.json().await.unwrap();
    assert_eq!(out["status"], "rejected");
    let q: Value = app.api_get_question(qid).await.json().await.unwrap();
    assert_ne!(q["body_markdown"], BETTER);
    assert_eq!(rep(&app, &bob).await, 1);
    // Once decided, a new suggestion may be made.
    assert_eq!(suggest(&app, &bob, qid, BETTER).await.status(), 202);
});

both_with!(two_reviewers_deciding_the_same_suggested_edit_at_once_one_wins, reviewers, |app: TestApp| async move {
    let alice = app.person("alice").await;
    let (m1, m2) = (app.person("moderator1").await, app.person("moderator2").await);
    set_role(&app, &m1, "superuser");
    set_role(&app, &m2, "staff");
    for round in 0..6 {
        let bob = app.person(&format!("suggester{round}")).await;
        let qid = app.question(&alice).await["id"].as_i64().unwrap();
        let id = suggest(&app, &bob, qid, BETTER).await.json::<Value>().await.unwrap()["suggested_edit_id"]
            .as_i64()
            .unwrap();
        let (a, b) = tokio::join!(review(&app, &m1, id, true), review(&app, &m2, id, false));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: one decision wins");
        let loser = if a.status() == 409 { a } else { b };
        let p = assert_problem(loser, 409, "already_handled").await;
        assert!(p["detail"].as_str().unwrap().starts_with("This suggested edit was already handled"), "{p}");
    }
});

both_with!(
    the_queue_lists_first_posts_and_needs_its_privilege,
    |s: &mut nave::settings::Settings| s.policy.privileges = Privileges::default(),
    |app: TestApp| async move {
        let staff = app.person("staffer").await;
        set_role(&app, &staff, "staff");
        let newbie = app.person("newbie").await;
        let q = app.question(&staff).await;
        let a = app.answer(&newbie, q["id"].as_i64().unwrap()).await;
        let p =
            assert_problem(app.api(Method::GET, "/review", Some(&newbie.token), None).await, 403, "privilege_required")
                .await;
        assert_eq!(p["detail"], "The review queue needs 500 reputation; you have 1.");
        let queue: Value = app.api(Method::GET, "/review", Some(&staff.token), None).await.json().await.unwrap();
        let firsts: Vec<i64> =
            queue["first_posts"].as_array().unwrap().iter().map(|f| f["post_id"].as_i64().unwrap()).collect();
        assert!(firsts.contains(&a["id"].as_i64().unwrap()), "{queue}");
        let path = format!("/first-posts/{}/review", a["id"]);
        assert_eq!(app.api(Method::POST, &path, Some(&staff.token), None).await.status(), 204);
        assert_problem(app.api(Method::POST, &path, Some(&staff.token), None).await, 409, "already_handled").await;
        let page = app.get_html(&staff.browser, "/review").await;
        assert!(page.contains("Review queue") && !page.contains(&format!("id=\"first-{}\"", a["id"])));
    }
);
