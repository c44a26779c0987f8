//! One end-to-end run in headless Chromium: sign up, ask, answer as a second user, vote, accept.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::*;

struct Driver {
    child: tokio::process::Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

async fn start_driver() -> Option<Driver> {
    let path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(path) = path else {
        assert!(!required(), "chromedriver is required under CI (apt-get install chromium chromium-driver)");
        eprintln!("\n!!!!! SKIPPED: browser test, because chromedriver is not installed !!!!!\n");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = tokio::process::Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some(Driver { child, port });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start listening");
}

async fn browser_session(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,900",
                     format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("webdriver session")
}

async fn fill(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.ok();
    el.send_keys(text).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
}

/// Polls an element's text until it equals `expected` (or 5 s pass), riding out page loads in
/// between; returns the last text seen.
async fn text_becomes(c: &Client, css: &str, expected: &str) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            if let Ok(text) = el.text().await {
                last = text;
                if last == expected {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

async fn sign_up(c: &Client, app: &TestApp, name: &str) {
    c.goto(&app.url("/signup")).await.expect("signup page");
    fill(c, "#username", name).await;
    fill(c, "#email", &format!("{name}@example.com")).await;
    fill(c, "#password", PASSWORD).await;
    click(c, "form[action='/signup'] button[type=submit]").await;
    c.wait().for_element(Locator::Css(".account a")).await.expect("logged in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_ask_answer_vote_and_accept_in_a_real_browser() {
    let Some(driver) = start_driver().await else { return };
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let dir = tempfile::tempdir().unwrap();

    // The asker signs up and asks.
    let asker = browser_session(&driver, &dir.path().join("a")).await;
    sign_up(&asker, &app, "browser_asker").await;
    click(&asker, "a[href='/questions/ask'].button").await;
    fill(&asker, "#title", "How do I pair the doorbell with my phone?").await;
    fill(&asker, "#body", "The app says *device not found* every time I try.").await;
    fill(&asker, "#tags", "doorbell pairing").await;
    click(&asker, "form[action='/questions/ask'] button[type=submit]").await;
    // The old page's h1 may still be there for a moment: poll until the new page shows.
    let h1 = text_becomes(&asker, "h1", "How do I pair the doorbell with my phone?").await;
    assert_eq!(h1, "How do I pair the doorbell with my phone?");
    let question_url = asker.current_url().await.unwrap().to_string();

    // A second person answers and votes the question up (script-driven, no reload).
    let helper = browser_session(&driver, &dir.path().join("b")).await;
    sign_up(&helper, &app, "browser_helper").await;
    helper.goto(&question_url).await.unwrap();
    fill(&helper, "#answer-body", "Turn Bluetooth on, then hold the doorbell button for five seconds.").await;
    click(&helper, ".your-answer button[type=submit]").await;
    helper.wait().for_element(Locator::Css(".answer .body")).await.expect("answer shown");
    click(&helper, "#question .vote.up").await;
    let score = text_becomes(&helper, "#question .score", "1").await;
    assert_eq!(score, "1", "vote counted");

    // The asker sees the answer, accepts it.
    asker.goto(&question_url).await.unwrap();
    let answer_text = asker.find(Locator::Css(".answer .body")).await.unwrap().text().await.unwrap();
    assert!(answer_text.contains("hold the doorbell button for five seconds"));
    click(&asker, ".accept-button").await;
    let mark = asker.wait().for_element(Locator::Css(".answer.accepted .accepted-mark")).await.expect("accepted");
    assert!(mark.text().await.unwrap().contains("Accepted"));
    let shown_score = asker.find(Locator::Css("#question .score")).await.unwrap().text().await.unwrap();
    assert_eq!(shown_score, "1");

    // At 360 px wide the page still has no horizontal scroll.
    asker.set_window_size(360, 800).await.ok();
    let overflow =
        asker.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1;", vec![]).await.unwrap();
    assert_eq!(overflow, json!(true), "no horizontal scrolling at 360 px");

    asker.close().await.ok();
    helper.close().await.ok();
}
