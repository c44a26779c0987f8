//! Questions, answers, comments, votes, accepts and edits through the JSON API.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::both_with;
use crate::helpers::*;

both!(asking_returns_the_question_with_id_url_and_tags, |app: TestApp| async move {
    let p = app.person("asker").await;
    let q = app.question(&p).await;
    let id = q["id"].as_i64().unwrap();
    assert_eq!(q["url"], app.url(&format!("/questions/{id}/how-do-i-reset-my-router-to-factory-settings")));
    assert_eq!(q["tags"], json!(["router", "setup"]));
    assert_eq!(q["author"]["username"], "asker");
    assert!(q["author"]["url"].as_str().unwrap().starts_with(&app.address));
    let again: Value = app.api_get_question(id).await.json().await.unwrap();
    assert_eq!(again["title"], q["title"]);
});

both!(every_question_limit_is_checked_with_a_field_message, |app: TestApp| async move {
    let p = app.person("limits").await;
    let good_title = "A perfectly fine question title";
    let good_body = "A body that has more than twenty characters.";
    let long_body = "x".repeat(30_001);
    let long_tag = "t".repeat(36);
    let long_title = "y".repeat(151);
    let cases: Vec<(&str, &str, Vec<&str>, &str, &str)> = vec![
        ("too short", good_body, vec!["a"], "title", "at least 15"),
        (&long_title, good_body, vec!["a"], "title", "at most 150"),
        (good_title, "short body", vec!["a"], "body", "at least 20"),
        (good_title, &long_body, vec!["a"], "body", "at most 30,000"),
        (good_title, good_body, vec![], "tags", "at least one tag"),
        (good_title, good_body, vec!["a", "b", "c", "d", "e", "f"], "tags", "at most 5"),
        (good_title, good_body, vec!["bad tag!"], "tags", "may contain only"),
        (good_title, good_body, vec![&long_tag], "tags", "at most 35"),
    ];
    for (title, body, tags, field, message) in cases {
        let res = app.api_ask(&p, title, body, &tags).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains(message), "{problem}");
    }
    let list: Value = app.api(Method::GET, "/questions", None, None).await.json().await.unwrap();
    assert_eq!(list["total"], 0, "nothing was written");
});

both!(tags_are_created_on_first_use_and_counted, |app: TestApp| async move {
    let p = app.person("tagger").await;
    app.api_ask(&p, "First question about the C++ client", "Body text that is long enough here.", &["c++", "Client"])
        .await;
    app.api_ask(&p, "Second question about the client app", "Body text that is long enough here.", &["client"]).await;
    let list: Value = app.api(Method::GET, "/questions?tag=client", None, None).await.json().await.unwrap();
    assert_eq!(list["total"], 2);
    let list: Value = app.api(Method::GET, "/questions?tag=c%2B%2B", None, None).await.json().await.unwrap();
    assert_eq!(list["total"], 1);
});

both!(answers_and_comments_appear_in_the_thread, |app: TestApp| async move {
    let asker = app.person("q_owner").await;
    let helper = app.person("helper").await;
    let q = app.question(&asker).await;
    let qid = q["id"].as_i64().unwrap();
    let a = app.answer(&helper, qid).await;
    assert!(a["url"].as_str().unwrap().ends_with(&format!("#answer-{}", a["id"])));
    let aid = a["id"].as_i64().unwrap();
    let c = app
        .api(
            Method::POST,
            &format!("/answers/{aid}/comments"),
            Some(&asker.token),
            Some(json!({"body": "Thanks, that worked for me!"})),
        )
        .await;
    assert_eq!(c.status(), 201);
    let c2 = app
        .api(
            Method::POST,
            &format!("/questions/{qid}/comments"),
            Some(&helper.token),
            Some(json!({"body": "Which model do you have?"})),
        )
        .await;
    assert_eq!(c2.status(), 201);
    let t: Value = app.api_get_question(qid).await.json().await.unwrap();
    assert_eq!(t["answer_count"], 1);
    assert_eq!(t["answers"][0]["comments"][0]["body_markdown"], "Thanks, that worked for me!");
    assert_eq!(t["comments"][0]["author"]["username"], "helper");
});

both!(comments_have_length_limits, |app: TestApp| async move {
    let p = app.person("commenter").await;
    let q = app.question(&p).await;
    let qid = q["id"].as_i64().unwrap();
    let long = "c".repeat(601);
    for (body, msg) in [("too short", "at least 15"), (long.as_str(), "at most 600")] {
        let res = app
            .api(Method::POST, &format!("/questions/{qid}/comments"), Some(&p.token), Some(json!({"body": body})))
            .await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains(msg));
    }
});

both!(votes_change_and_retract_and_keep_the_score, |app: TestApp| async move {
    let asker = app.person("voted_on").await;
    let v1 = app.person("voter_one").await;
    let v2 = app.person("voter_two").await;
    let qid = app.question(&asker).await["id"].as_i64().unwrap();
    let r: Value = app.api_vote(&v1, "questions", qid, 1).await.json().await.unwrap();
    assert_eq!((r["score"].as_i64(), r["value"].as_i64()), (Some(1), Some(1)));
    let r: Value = app.api_vote(&v2, "questions", qid, 1).await.json().await.unwrap();
    assert_eq!(r["score"], 2);
    let r: Value = app.api_vote(&v1, "questions", qid, -1).await.json().await.unwrap();
    assert_eq!(r["score"], 0);
    let r: Value = app.api_vote(&v1, "questions", qid, 1).await.json().await.unwrap();
    let r2: Value = app.api_vote(&v1, "questions", qid, 1).await.json().await.unwrap();
    assert_eq!(r["score"], r2["score"], "repeating a vote changes nothing");
    let r: Value = app.api_vote(&v1, "questions", qid, 0).await.json().await.unwrap();
    assert_eq!((r["score"].as_i64(), r["value"].as_i64()), (Some(1), Some(0)));
    let t: Value = app.api_get_question(qid).await.json().await.unwrap();
    assert_eq!(t["score"], 1);
});

both!(voting_on_your_own_post_is_forbidden, |app: TestApp| async move {
    let p = app.person("selfvoter").await;
    let qid = app.question(&p).await["id"].as_i64().unwrap();
    let problem = assert_problem(app.api_vote(&p, "questions", qid, 1).await, 403, "own_post").await;
    assert!(problem["detail"].as_str().unwrap().contains("your own post"));
});

both!(a_vote_must_be_one_minus_one_or_zero, |app: TestApp| async move {
    let a = app.person("v_asker").await;
    let b = app.person("v_voter").await;
    let qid = app.question(&a).await["id"].as_i64().unwrap();
    assert_problem(app.api_vote(&b, "questions", qid, 5).await, 422, "validation_failed").await;
});

both!(only_the_asker_accepts_and_can_change_the_accepted_answer, |app: TestApp| async move {
    let asker = app.person("acc_asker").await;
    let h1 = app.person("acc_h1").await;
    let h2 = app.person("acc_h2").await;
    let qid = app.question(&asker).await["id"].as_i64().unwrap();
    let a1 = app.answer(&h1, qid).await["id"].as_i64().unwrap();
    let a2 = app.answer(&h2, qid).await["id"].as_i64().unwrap();
    let res = app.api(Method::POST, &format!("/answers/{a1}/accept"), Some(&h2.token), None).await;
    assert_problem(res, 403, "not_asker").await;
    let r: Value =
        app.api(Method::POST, &format!("/answers/{a1}/accept"), Some(&asker.token), None).await.json().await.unwrap();
    assert_eq!(r["accepted_answer_id"], a1);
    let r: Value =
        app.api(Method::POST, &format!("/answers/{a2}/accept"), Some(&asker.token), None).await.json().await.unwrap();
    assert_eq!(r["accepted_answer_id"], a2);
    let t: Value = app.api_get_question(qid).await.json().await.unwrap();
    assert_eq!(t["answers"][0]["id"], a2, "accepted answer first");
    assert_eq!(t["answers"][0]["is_accepted"], true);
    let r: Value =
        app.api(Method::DELETE, &format!("/answers/{a2}/accept"), Some(&asker.token), None).await.json().await.unwrap();
    assert_eq!(r["accepted_answer_id"], Value::Null);
});

both_with!(
    editing_keeps_a_revision_history_and_others_edits_wait_for_review,
    |s: &mut nave::settings::Settings| {
        use nave::reputation::privileges::{Privilege, Privileges};
        s.policy.privileges = Privileges::all_at(0).with(Privilege::EditFreely, 1000);
    },
    |app: TestApp| async move {
        let author = app.person("editor").await;
        let other = app.person("intruder").await;
        let qid = app.question(&author).await["id"].as_i64().unwrap();
        let res = app
            .api(
                Method::PATCH,
                &format!("/questions/{qid}"),
                Some(&other.token),
                Some(json!({"body": "Vandalised body, long enough to pass."})),
            )
            .await;
        assert_eq!(res.status(), 202, "below the threshold an edit becomes a suggestion");
        assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "suggested");
        let res = app
        .api(Method::PATCH, &format!("/questions/{qid}"), Some(&author.token), Some(json!({"title": "How do I factory-reset my router, model X2?", "tags": ["router", "x2"], "summary": "added the model"})))
        .await;
        assert_eq!(res.status(), 200);
        let q: Value = res.json().await.unwrap();
        assert_eq!(q["tags"], json!(["router", "x2"]));
        assert!(q["url"].as_str().unwrap().ends_with("/how-do-i-factory-reset-my-router-model-x2"));
        let revs: Value =
            app.api(Method::GET, &format!("/posts/{qid}/revisions"), None, None).await.json().await.unwrap();
        assert_eq!(revs.as_array().unwrap().len(), 2);
        assert_eq!(revs[0]["summary"], "added the model");
        assert_eq!(revs[1]["title"], "How do I reset my router to factory settings?");
        let aid = app.answer(&other, qid).await["id"].as_i64().unwrap();
        let res = app
            .api(
                Method::PATCH,
                &format!("/answers/{aid}"),
                Some(&author.token),
                Some(json!({"body": "Not my answer to change at all."})),
            )
            .await;
        assert_eq!(res.status(), 202);
        let revs: Value =
            app.api(Method::GET, &format!("/posts/{aid}/revisions"), None, None).await.json().await.unwrap();
        assert_eq!(revs.as_array().unwrap().len(), 1, "not applied until reviewed");
    }
);

both!(listing_sorts_filters_and_pages, |app: TestApp| async move {
    let p = app.person("lister").await;
    let h = app.person("lister_helper").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let r: Value = app
            .api_ask(
                &p,
                &format!("Listing question number {i} here"),
                "Body text long enough for the rules.",
                &["listing"],
            )
            .await
            .json()
            .await
            .unwrap();
        ids.push(r["id"].as_i64().unwrap());
    }
    app.answer(&h, ids[0]).await;
    let page: Value =
        app.api(Method::GET, "/questions?sort=newest&page=1&page_size=2", None, None).await.json().await.unwrap();
    assert_eq!(page["total"], 5);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["id"], ids[4]);
    let page3: Value =
        app.api(Method::GET, "/questions?sort=newest&page=3&page_size=2", None, None).await.json().await.unwrap();
    assert_eq!(page3["items"][0]["id"], ids[0]);
    let unanswered: Value = app.api(Method::GET, "/questions?sort=unanswered", None, None).await.json().await.unwrap();
    assert_eq!(unanswered["total"], 4);
    let active: Value = app.api(Method::GET, "/questions?sort=active", None, None).await.json().await.unwrap();
    assert_eq!(active["items"][0]["id"], ids[0], "answered question is most active");
    assert_problem(app.api(Method::GET, "/questions?sort=sideways", None, None).await, 400, "malformed_request").await;
    assert_problem(app.api(Method::GET, "/questions?page_size=1000", None, None).await, 400, "malformed_request").await;
    assert_problem(app.api(Method::GET, "/questions?tag=nosuchtag", None, None).await, 404, "not_found").await;
});

both!(malformed_json_is_a_400_naming_the_field, |app: TestApp| async move {
    let p = app.person("malformed").await;
    let client = reqwest::Client::new();
    let res = client
        .post(app.url("/api/v1/questions"))
        .bearer_auth(&p.token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed_request").await;
    let res = client
        .post(app.url("/api/v1/questions"))
        .bearer_auth(&p.token)
        .json(&json!({"title": 5, "body": "x", "tags": []}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 400, "malformed_request").await;
    assert_eq!(problem["errors"][0]["field"], "title", "{problem}");
    let res = client
        .post(app.url("/api/v1/questions"))
        .bearer_auth(&p.token)
        .json(&json!({"title": "A fine title for this one", "body": "A body long enough to be fine."}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 400, "malformed_request").await;
    assert!(problem["detail"].as_str().unwrap().contains("tags"), "{problem}");
});

both!(unknown_ids_are_404_problems, |app: TestApp| async move {
    let p = app.person("seeker").await;
    assert_problem(app.api_get_question(424242).await, 404, "not_found").await;
    assert_problem(app.api_answer(&p, 424242, "An answer to nothing at all, sadly.").await, 404, "not_found").await;
    assert_problem(app.api_vote(&p, "answers", 424242, 1).await, 404, "not_found").await;
    assert_problem(app.api(Method::GET, "/users/424242", None, None).await, 404, "not_found").await;
    assert_problem(app.api(Method::GET, "/no/such/endpoint", None, None).await, 404, "not_found").await;
    // A question id is not an answer id.
    let qid = app.question(&p).await["id"].as_i64().unwrap();
    assert_problem(
        app.api(Method::POST, &format!("/answers/{qid}/accept"), Some(&p.token), None).await,
        404,
        "not_found",
    )
    .await;
});

both!(mutations_without_a_token_are_401, |app: TestApp| async move {
    let res = app.api(Method::POST, "/questions", None, Some(json!({"title": "t", "body": "b", "tags": []}))).await;
    assert!(res.headers().contains_key("www-authenticate"));
    assert_problem(res, 401, "unauthenticated").await;
    assert_problem(
        app.api(Method::POST, "/questions", Some("nave_forged"), Some(json!({}))).await,
        401,
        "unauthenticated",
    )
    .await;
});

both!(a_body_over_the_limit_is_413, |app: TestApp| async move {
    let p = app.person("bigbody").await;
    let huge = "z".repeat(300 * 1024);
    let res = app.api_ask(&p, "A title that is long enough", &huge, &["big"]).await;
    assert_problem(res, 413, "payload_too_large").await;
});

both!(users_are_read_by_id_or_name_with_reputation, |app: TestApp| async move {
    let p = app.person("readable").await;
    let by_name: Value = app.api(Method::GET, "/users/readable", None, None).await.json().await.unwrap();
    let by_id: Value = app.api(Method::GET, &format!("/users/{}", p.id), None, None).await.json().await.unwrap();
    assert_eq!(by_name, by_id);
    assert_eq!(by_name["reputation"], 1);
    assert_eq!(by_name["url"], app.url(&format!("/users/{}/readable", p.id)));
    assert!(by_name.get("email").is_none(), "e-mail is private");
});

both!(the_openapi_document_lists_every_endpoint, |app: TestApp| async move {
    let doc: Value = app.api(Method::GET, "/openapi.json", None, None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/questions",
        "/api/v1/questions/{id}",
        "/api/v1/questions/{id}/answers",
        "/api/v1/answers/{id}/accept",
        "/api/v1/answers/{id}/vote",
        "/api/v1/questions/{id}/comments",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(doc["components"]["schemas"].get("Problem").is_some());
});

both!(an_out_of_range_page_is_a_400_not_a_crash, |app: TestApp| async move {
    let res = app.api(Method::GET, "/questions?page=9223372036854775807", None, None).await;
    assert_problem(res, 400, "malformed_request").await;
});
