//! `nave seed-demo`: realistic demo content for trying the forum and for benchmarks.
//! The same `--seed` gives the same users, questions, answers, comments, votes and tags.

use std::fmt;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::accounts::{passwords, users, User};
use crate::db::DbConnection;
use crate::domain::{CommentBody, Email, PostBody, QuestionTitle, Role, TagName, Username};
use crate::error::Error;
use crate::qa::posts::{self, NewQuestion};
use crate::qa::votes;

/// The password every demo account has.
pub const DEMO_PASSWORD: &str = "demo-password-1";

#[derive(Debug, Clone, clap::Args)]
pub struct SeedOptions {
    /// Random seed: the same seed gives the same content.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of users.
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Number of questions.
    #[arg(long, default_value_t = 300)]
    pub questions: usize,
    /// Most answers per question (each gets 0..=this many).
    #[arg(long, default_value_t = 4)]
    pub max_answers: usize,
    /// Answers on the first question (the benchmark question).
    #[arg(long, default_value_t = 30)]
    pub benchmark_answers: usize,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub struct SeedReport {
    pub users: usize,
    pub questions: usize,
    pub answers: usize,
    pub comments: usize,
    pub votes: usize,
    pub benchmark_question: Option<String>,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seeded {} users, {} questions, {} answers, {} comments, {} votes; every demo user's password is {DEMO_PASSWORD}",
            self.users, self.questions, self.answers, self.comments, self.votes
        )?;
        if let Some(p) = &self.benchmark_question {
            write!(f, "\nbenchmark question: {p}")?;
        }
        Ok(())
    }
}

const PRODUCTS: &[&str] = &[
    "router",
    "mesh extender",
    "mobile app",
    "smart plug",
    "thermostat",
    "doorbell camera",
    "web dashboard",
    "billing portal",
    "desktop client",
    "voice assistant",
];
const PROBLEMS: &[&str] = &[
    "keeps disconnecting every few minutes",
    "will not pair after the latest firmware update",
    "shows the wrong time zone",
    "charges me twice for the same month",
    "drains the battery overnight",
    "cannot find my account after I changed e-mail",
    "is stuck on the loading screen",
    "loses its settings after a power cut",
    "reports an error code E42 on start-up",
    "is very slow over the guest network",
];
const TAGS: &[&str] = &[
    "wifi",
    "firmware",
    "billing",
    "account",
    "android",
    "ios",
    "setup",
    "troubleshooting",
    "performance",
    "security",
    "notifications",
    "integrations",
    "c++",
    "c#",
    ".net",
];
/// Title shapes: `{p}` is the product, `{x}` the problem.
const TITLES: &[&str] = &[
    "My {p} {x}: what can I do?",
    "How do I fix it when my {p} {x}?",
    "What can I do if my {p} {x}?",
    "Is it normal that my {p} {x}?",
    "Anyone else whose {p} {x}?",
];
const FIXES: &[&str] = &[
    "Hold the reset button for ten seconds until the light blinks amber, then set it up again from the app.",
    "Go to **Settings → Advanced** and turn off *band steering*; that fixed it for me and two neighbours.",
    "Update to the newest firmware first. Version 4.2 had exactly this bug and 4.3 fixed it.",
    "Check that the clock on your phone is set automatically; the pairing token is time-based.",
    "Staff here: this is a known issue, we have a fix rolling out this week. Until then, restart the device.",
    "I had the same. Remove the device from your account, wait a minute, and add it back.",
];

/// Seeds the database; returns what it wrote.
pub fn run(conn: &mut DbConnection, o: &SeedOptions) -> anyhow::Result<SeedReport> {
    // Demo people act freely (they start at 1 reputation); reputation itself follows the defaults.
    let policy = crate::reputation::Policy {
        rules: Default::default(),
        privileges: crate::reputation::privileges::Privileges::all_at(0),
    };
    let mut rng = StdRng::seed_from_u64(o.seed);
    let hash = passwords::hash(DEMO_PASSWORD)?;
    let bar = if o.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new((o.users + o.questions) as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let e = |e: Error| anyhow::anyhow!("{e}");
    let mut people: Vec<User> = Vec::with_capacity(o.users.max(2));
    bar.set_message("users");
    crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
        for i in 0..o.users.max(2) {
            let name = Username::parse(&format!("demo_{}_{i}", o.seed)).map_err(anyhow::Error::msg)?;
            let email = Email::parse(&format!("demo{}.{i}@example.com", o.seed)).map_err(anyhow::Error::msg)?;
            let role = if i == 0 { Role::Staff } else { Role::User };
            people.push(users::create(conn, &name, &email, &hash, role).map_err(e)?);
            bar.inc(1);
        }
        Ok(())
    })?;
    let mut report =
        SeedReport { users: people.len(), questions: 0, answers: 0, comments: 0, votes: 0, benchmark_question: None };
    bar.set_message("questions");
    for chunk_start in (0..o.questions).step_by(200) {
        crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            for qi in chunk_start..(chunk_start + 200).min(o.questions) {
                let product = PRODUCTS.choose(&mut rng).copied().unwrap_or("router");
                let problem = PROBLEMS.choose(&mut rng).copied().unwrap_or("is broken");
                let shape = TITLES.choose(&mut rng).copied().unwrap_or(TITLES[0]);
                let title = QuestionTitle::parse(&shape.replace("{p}", product).replace("{x}", problem))
                    .map_err(anyhow::Error::msg)?;
                let body = PostBody::parse(&format!(
                    "My {product} {problem}.\n\nWhat I tried so far:\n\n1. Restarting it\n2. Reinstalling the app\n\n```\nerror: code E{}\n```\n\nAny idea what else I can do?",
                    rng.gen_range(10..99)
                ))
                .map_err(anyhow::Error::msg)?;
                let mut tag_pool: Vec<&str> = TAGS.to_vec();
                tag_pool.shuffle(&mut rng);
                let n_tags = rng.gen_range(1..=4);
                let tags: Vec<TagName> = tag_pool[..n_tags].iter().filter_map(|t| TagName::parse(t).ok()).collect();
                let asker = &people[rng.gen_range(0..people.len())];
                let q = posts::ask(conn, &policy, asker, &NewQuestion { title, body, tags }).map_err(e)?;
                report.questions += 1;
                if qi == 0 {
                    report.benchmark_question = Some(crate::qa::question_path(q.id, &q.slug));
                }
                let n_answers = if qi == 0 { o.benchmark_answers } else { rng.gen_range(0..=o.max_answers) };
                let mut answers = Vec::with_capacity(n_answers);
                for _ in 0..n_answers {
                    let who = &people[rng.gen_range(0..people.len())];
                    let fix = FIXES.choose(&mut rng).copied().unwrap_or(FIXES[0]);
                    let body = PostBody::parse(&format!(
                        "{fix}\n\nIf that does not help, tell us which {product} model you have."
                    ))
                    .map_err(anyhow::Error::msg)?;
                    answers.push(posts::answer(conn, who, q.id, &body).map_err(e)?);
                    report.answers += 1;
                }
                if rng.gen_bool(0.3) {
                    let who = &people[rng.gen_range(0..people.len())];
                    let c = CommentBody::parse("Which firmware version are you on? It matters here.")
                        .map_err(anyhow::Error::msg)?;
                    posts::comment(conn, &policy, who, q.id, &c).map_err(e)?;
                    report.comments += 1;
                }
                for target in std::iter::once(q.id).chain(answers.iter().map(|a| a.id)) {
                    for _ in 0..rng.gen_range(0..4) {
                        let voter = &people[rng.gen_range(0..people.len())];
                        let value = if rng.gen_bool(0.85) { 1 } else { -1 };
                        if votes::cast(conn, &policy, voter, target, value).is_ok() {
                            report.votes += 1;
                        }
                    }
                }
                if let Some(a) = answers.first() {
                    if rng.gen_bool(0.5) {
                        posts::accept(conn, &policy, asker, a.id, true).map_err(e)?;
                    }
                }
                bar.inc(1);
            }
            Ok(())
        })?;
    }
    // Demo content is not news: nobody is notified about it.
    {
        use crate::db::schema::jobs;
        use crate::jobs::Job;
        use diesel::prelude::*;
        diesel::delete(jobs::table.filter(jobs::name.eq(crate::notifications::fanout::Event::NAME))).execute(conn)?;
    }
    bar.finish_and_clear();
    Ok(report)
}
