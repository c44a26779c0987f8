//! Outgoing mail: one transport chosen by settings — SMTP (`smtp://` with STARTTLS, `smtps://`,
//! user and password in the URL) or, by default, a folder of `.eml` files so nothing is lost in the
//! embedded mode. Every message has a text and an HTML part and is sent by a job, so a down SMTP
//! server delays mail but loses none.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::jobs::Job;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

pub struct Mailer {
    pub from: Mailbox,
    transport: Transport,
}

impl Mailer {
    /// From settings: SMTP when `smtp_url` is set, else `<data dir>/mail`.
    pub fn new(smtp_url: Option<&str>, from: &str, data_dir: &std::path::Path) -> anyhow::Result<Mailer> {
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("NAVE_MAIL_FROM is not a mailbox: {e}"))?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("NAVE_SMTP_URL is not usable: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            ),
            None => Transport::Folder(data_dir.join("mail")),
        };
        Ok(Mailer { from, transport })
    }

    /// Sends one message (to one recipient) with a text and an HTML part. In the folder it gets a
    /// new file every time; jobs use [`Mailer::send_for_job`] so that a second run writes none.
    pub async fn send(&self, mail: &Email) -> anyhow::Result<()> {
        let name =
            format!("{}-{}.eml", chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"), crate::accounts::random_token());
        self.deliver(mail, name).await
    }

    /// Sends the message of job `job_id` (enqueued at `created_at`). The folder transport names the
    /// file after the job and writes nothing when an earlier run of it already did, so a job rerun
    /// after its worker died leaves one file. SMTP is at least once: a worker that dies after the
    /// server took the message and before the job is deleted sends it again on the rerun.
    pub async fn send_for_job(&self, mail: &Email, job_id: i64, created_at: NaiveDateTime) -> anyhow::Result<()> {
        // The enqueue time as well as the id: ids start again in a new database (a deleted SQLite
        // file, `nave migrate --reset`) while the mail folder stays, and an old file must not
        // swallow a new message.
        let name = format!("job-{job_id:012}-{}.eml", created_at.format("%Y%m%dT%H%M%S%.6fZ"));
        self.deliver(mail, name).await
    }

    /// Builds the message and hands it to the transport; `name` is its file name in the folder.
    async fn deliver(&self, mail: &Email, name: String) -> anyhow::Result<()> {
        let to: Mailbox = mail.to.parse().map_err(|e| anyhow::anyhow!("bad recipient {:?}: {e}", mail.to))?;
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(&mail.subject);
        if let Some(url) = &mail.unsubscribe {
            builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
        }
        let message = builder.multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html.clone())),
        )?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Folder(dir) => {
                let (dir, bytes, file) = (dir.clone(), message.formatted(), name.clone());
                let written = tokio::task::spawn_blocking(move || write_once(&dir, &file, &bytes)).await??;
                if !written {
                    tracing::debug!(file = %name, "message already written by an earlier run; not written again");
                }
            }
        }
        Ok(())
    }
}

/// Writes `dir/name` unless it exists; false when it did. A reader never sees half a file: the
/// bytes go to a hidden temporary file first, which is then published under `name`.
fn write_once(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<bool> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    if path.try_exists()? {
        return Ok(false);
    }
    // A token of its own, so two runs of one job at once (its lease ran out while it was still
    // running) never write into the same temporary file.
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::accounts::random_token()));
    std::fs::write(&tmp, bytes)?;
    // A hard link publishes the whole file and, unlike a rename, refuses to replace one, so of two
    // runs at once exactly one writes the message.
    match std::fs::hard_link(&tmp, &path) {
        Ok(()) => {
            // A temporary file left behind is hidden and harmless; the message is out.
            let _ = std::fs::remove_file(&tmp);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&tmp);
            Ok(false)
        }
        // A file system without hard links: a rename still never shows half a file.
        Err(_) => std::fs::rename(&tmp, &path).map(|()| true),
    }
}

/// A message to one recipient, rendered when it was enqueued.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL of a notification (sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post`); none for messages a person asked for (confirmation, reset).
    #[serde(default)]
    pub unsubscribe: Option<String>,
}

impl Job for Email {
    const NAME: &'static str = "mail.send";
}

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the link works with one POST.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}
