//! Markdown to sanitised HTML, rendered once on write and stored beside the source.

use pulldown_cmark::{html, Options, Parser};
use std::sync::LazyLock;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("nofollow ugc noopener"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .add_tags(["del", "details", "summary"]);
    b
});

/// Renders Markdown and removes anything that could run script (tags, attributes, URL schemes).
pub fn render(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let parser = Parser::new_ext(source, options);
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, parser);
    SANITIZER.clean(&out).to_string()
}

/// Plain text from Markdown source, for summaries, meta descriptions and feeds.
pub fn plain_excerpt(source: &str, max_chars: usize) -> String {
    let mut text = String::new();
    for event in Parser::new(source) {
        match event {
            pulldown_cmark::Event::Text(t) | pulldown_cmark::Event::Code(t) => text.push_str(&t),
            pulldown_cmark::Event::SoftBreak | pulldown_cmark::Event::HardBreak | pulldown_cmark::Event::End(_) => {
                text.push(' ')
            }
            _ => {}
        }
    }
    let collapsed: Vec<&str> = text.split_whitespace().collect();
    let joined = collapsed.join(" ");
    if joined.chars().count() <= max_chars {
        joined
    } else {
        let cut: String = joined.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn script_and_handlers_are_removed() {
        let html = render("hi <script>alert(1)</script> <img src=x onerror=alert(1)> <svg onload=alert(1)></svg>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("<svg"), "{html}");
        assert!(!html.contains("onload"), "{html}");
    }

    #[test]
    fn dangerous_url_schemes_are_removed() {
        let html = render(
            "[x](javascript:alert(1)) [y](data:text/html;base64,PHNjcmlwdD4=) <a href=\"JaVaScRiPt:alert(1)\">z</a>",
        );
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
    }

    #[test]
    fn links_get_nofollow_ugc_noopener() {
        let html = render("[site](https://example.com)");
        assert!(html.contains("rel=\"nofollow ugc noopener\""), "{html}");
    }

    #[test]
    fn fenced_code_is_kept() {
        let html = render("```rust\nfn main() { println!(\"<hi>\"); }\n```");
        assert!(html.contains("<pre><code"), "{html}");
        assert!(html.contains("&lt;hi&gt;"), "{html}");
    }
}
