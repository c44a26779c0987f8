//! Text inputs: usernames, e-mail addresses, passwords, titles, bodies, comments and tags.

fn chars(s: &str) -> usize {
    s.chars().count()
}

macro_rules! text_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_newtype!(
    /// 3–30 characters of `a-z 0-9 _ -` (upper case accepted and kept for display; unique ignoring case).
    Username
);
text_newtype!(
    /// A plausible e-mail address, at most 254 characters.
    Email
);
text_newtype!(
    /// A password of at least 10 characters that is not the username.
    Password
);
text_newtype!(
    /// A question title of 15–150 characters.
    QuestionTitle
);
text_newtype!(
    /// Markdown body of a question or answer, 20–30,000 characters.
    PostBody
);
text_newtype!(
    /// A comment, 15–600 characters.
    CommentBody
);
text_newtype!(
    /// A tag: 1–35 characters of `a-z 0-9 + # . -`.
    TagName
);

impl Username {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let n = chars(s);
        if n < 3 {
            return Err("Username must be at least 3 characters.".into());
        }
        if n > 30 {
            return Err(format!("Username must be at most 30 characters (it has {n})."));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err("Username may contain only letters a-z, digits 0-9, _ and -.".into());
        }
        Ok(Username(s.to_string()))
    }
    pub fn lower(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl Email {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("E-mail address is required.".into());
        }
        if chars(s) > 254 {
            return Err("E-mail address must be at most 254 characters.".into());
        }
        let valid = match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"'(),;:[]\\".contains(c))
            }
            None => false,
        };
        if !valid {
            return Err("That does not look like an e-mail address (name@example.com).".into());
        }
        Ok(Email(s.to_string()))
    }
    pub fn lower(&self) -> String {
        self.0.to_lowercase()
    }
}

impl Password {
    pub fn parse(s: &str, username: &str) -> Result<Self, String> {
        let n = chars(s);
        if n < 10 {
            return Err("Password must be at least 10 characters.".into());
        }
        if n > 1000 {
            return Err("Password must be at most 1000 characters.".into());
        }
        if s.eq_ignore_ascii_case(username.trim()) {
            return Err("Password must not be your username.".into());
        }
        Ok(Password(s.to_string()))
    }
}

impl QuestionTitle {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let n = chars(s);
        if n < 15 {
            return Err(format!("Title must be at least 15 characters (it has {n})."));
        }
        if n > 150 {
            return Err(format!("Title must be at most 150 characters (it has {n})."));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err("Title must not contain control characters.".into());
        }
        Ok(QuestionTitle(s.to_string()))
    }
}

impl PostBody {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim_end();
        let n = chars(s.trim_start());
        if n < 20 {
            return Err(format!("Body must be at least 20 characters (it has {n})."));
        }
        let n = chars(s);
        if n > 30_000 {
            return Err(format!("Body must be at most 30,000 characters (it has {n})."));
        }
        Ok(PostBody(s.replace("\r\n", "\n")))
    }
}

impl CommentBody {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let n = chars(s);
        if n < 15 {
            return Err(format!("Comment must be at least 15 characters (it has {n})."));
        }
        if n > 600 {
            return Err(format!("Comment must be at most 600 characters (it has {n})."));
        }
        Ok(CommentBody(s.replace("\r\n", "\n")))
    }
}

impl TagName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_lowercase();
        let n = chars(&s);
        if n == 0 {
            return Err("Tag must not be empty.".into());
        }
        if n > 35 {
            return Err(format!("Tag {s:?} must be at most 35 characters."));
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+#.-".contains(c)) {
            return Err(format!("Tag {s:?} may contain only a-z, 0-9, +, #, . and -."));
        }
        if !s.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("Tag {s:?} needs at least one letter or digit."));
        }
        Ok(TagName(s))
    }

    /// Parses a space- or comma-separated list of 1–5 distinct tags.
    pub fn parse_list(s: &str) -> Result<Vec<TagName>, String> {
        let mut out: Vec<TagName> = Vec::new();
        for part in s.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
            let tag = TagName::parse(part)?;
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
        match out.len() {
            0 => Err("Add at least one tag.".into()),
            1..=5 => Ok(out),
            n => Err(format!("Use at most 5 tags (you gave {n}).")),
        }
    }
}

/// Percent-encodes a URL path segment (everything but `A-Z a-z 0-9 - . _ ~`).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URL path segment from a title: lower-case words joined by `-`, at most 80 characters.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 80 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        "question".into()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_charset_and_length_rules() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(30)).is_ok());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse("bad name").is_err());
        assert!(Username::parse("<script>").is_err());
        assert!(Username::parse("Jo_e-9").is_ok());
    }

    #[test]
    fn passwords_need_ten_chars_and_differ_from_the_username() {
        assert!(Password::parse("short", "bob").is_err());
        assert!(Password::parse("alicealice", "AliceAlice").is_err());
        assert!(Password::parse("correct horse", "bob").is_ok());
    }

    #[test]
    fn tags_are_limited_to_five_valid_distinct_names() {
        assert_eq!(TagName::parse_list("rust, c++ c#  .net").map(|v| v.len()), Ok(4));
        assert!(TagName::parse_list("a b c d e f").is_err());
        assert!(TagName::parse_list("").is_err());
        assert!(TagName::parse_list("<script>").is_err());
        assert!(TagName::parse(&"a".repeat(36)).is_err());
        assert_eq!(TagName::parse_list("Rust rust").map(|v| v.len()), Ok(1));
        assert!(TagName::parse("..").is_err());
        assert!(TagName::parse("c#").is_ok());
    }

    #[test]
    fn titles_and_bodies_have_bounds() {
        assert!(QuestionTitle::parse("too short").is_err());
        assert!(QuestionTitle::parse("How do I reset my router?").is_ok());
        assert!(QuestionTitle::parse(&"x".repeat(151)).is_err());
        assert!(PostBody::parse("tiny").is_err());
        assert!(PostBody::parse(&"x".repeat(30_001)).is_err());
        assert!(CommentBody::parse(&"x".repeat(601)).is_err());
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("How do I reset my router?"), "how-do-i-reset-my-router");
        assert_eq!(slugify("???"), "question");
    }

    #[test]
    fn emails_need_a_domain() {
        assert!(Email::parse("a@b.co").is_ok());
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a b@c.de").is_err());
    }
}
