//! For the open web: JSON-LD, canonical and OpenGraph tags, sitemap, Atom feeds; health checks.

use serde_json::Value;

use crate::both;
use crate::helpers::*;

fn json_ld(html: &str) -> Value {
    let start = html.find("application/ld+json\">").expect("json-ld") + "application/ld+json\">".len();
    let end = html[start..].find("</script>").expect("end") + start;
    serde_json::from_str(&html[start..end]).expect("valid json-ld")
}

both!(question_pages_carry_qapage_json_ld_with_answer_urls, |app: TestApp| async move {
    let asker = app.person("ld_asker").await;
    let h = app.person("ld_helper").await;
    let q = app.question(&asker).await;
    let qid = q["id"].as_i64().unwrap();
    let a1 = app.answer(&h, qid).await;
    let a2 = app.answer(&h, qid).await;
    app.api(reqwest::Method::POST, &format!("/answers/{}/accept", a1["id"]), Some(&asker.token), None).await;
    let html =
        app.get_html(&browser(), &format!("/questions/{qid}/how-do-i-reset-my-router-to-factory-settings")).await;
    let ld = json_ld(&html);
    assert_eq!(ld["@type"], "QAPage");
    assert_eq!(ld["mainEntity"]["@type"], "Question");
    assert_eq!(ld["mainEntity"]["answerCount"], 2);
    assert_eq!(ld["mainEntity"]["acceptedAnswer"]["url"], a1["url"]);
    assert_eq!(ld["mainEntity"]["suggestedAnswer"][0]["url"], a2["url"]);
    assert!(html.contains(&format!("<link rel=\"canonical\" href=\"{}\">", q["url"].as_str().unwrap())));
    assert!(html.contains("<meta property=\"og:title\" content=\"How do I reset my router to factory settings?\">"));
});

both!(json_ld_cannot_be_broken_out_of, |app: TestApp| async move {
    let p = app.person("ld_breaker").await;
    let res = app
        .api_ask(
            &p,
            "Title with </script><script>alert(1)</script>",
            "Body with </script> inside it, long enough.",
            &["x"],
        )
        .await;
    let q: Value = res.json().await.unwrap();
    let html = app.get_html(&browser(), &q["url"].as_str().unwrap().replace(&app.address, "")).await;
    let ld = json_ld(&html);
    assert_eq!(ld["mainEntity"]["name"], "Title with </script><script>alert(1)</script>");
});

both!(the_sitemap_lists_question_urls, |app: TestApp| async move {
    let p = app.person("mapper").await;
    let q = app.question(&p).await;
    let res = app.get(&browser(), "/sitemap.xml").await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
    let xml = res.text().await.unwrap();
    assert!(xml.contains(&format!("<loc>{}</loc>", q["url"].as_str().unwrap())));
    assert!(app.get_html(&browser(), "/robots.txt").await.contains("Sitemap: "));
});

both!(atom_feeds_list_newest_questions_site_wide_and_per_tag, |app: TestApp| async move {
    let p = app.person("feeder").await;
    let q = app.question(&p).await;
    let res = app.get(&browser(), "/feeds/questions.atom").await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/atom+xml"));
    let xml = res.text().await.unwrap();
    assert!(xml.contains("<title>How do I reset my router to factory settings?</title>"));
    assert!(xml.contains(q["url"].as_str().unwrap()));
    assert!(app.get_html(&browser(), "/feeds/tags/router.atom").await.contains("<entry>"));
    assert!(!app.get_html(&browser(), "/feeds/tags/setup.atom").await.is_empty());
    assert_eq!(app.get(&browser(), "/feeds/tags/nosuch.atom").await.status(), 404);
});

both!(health_and_readiness_answer, |app: TestApp| async move {
    assert_eq!(app.get(&browser(), "/healthz").await.status(), 200);
    assert_eq!(app.get_html(&browser(), "/readyz").await, "ready");
});

both!(metrics_count_requests_and_jobs_in_prometheus_format, |app: TestApp| async move {
    app.get(&browser(), "/healthz").await;
    app.get(&browser(), "/no/such/page").await;
    {
        let url = nave::db::DbUrl::parse(&app.database_url).unwrap();
        let mut conn = nave::db::establish(&url).unwrap();
        nave::jobs::tasks::schedule_recurring(&mut conn, 60).unwrap();
    }
    let res = app.get(&browser(), "/metrics").await;
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    let value = |line: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0)
    };
    assert!(value("nave_http_requests_total{class=\"2xx\"}") >= 1.0, "{text}");
    assert!(value("nave_http_requests_total{class=\"4xx\"}") >= 1.0, "{text}");
    assert_eq!(value("nave_jobs{state=\"pending\"}"), 1.0, "{text}");
    assert_eq!(value("nave_jobs{state=\"dead\"}"), 0.0, "{text}");
});
