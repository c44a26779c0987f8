//! One integration-test binary (the crate links once). Behaviour tests run on SQLite and PostgreSQL.
// Panicking is how a test fails: unwrap and expect are the right tools here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod jobs;
mod mail;
mod notifications;
mod worker_processes;

mod accounts;
mod browser;
mod cli;
mod migrations;
mod moderation;
mod pages;
mod qa;
mod reputation;
mod review;
mod seo;
