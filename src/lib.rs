//! Nave: a self-hosted hub-and-spoke community Q&A forum.

pub mod accounts;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod mail;
pub mod markdown;
pub mod moderation;
pub mod notifications;
pub mod qa;
pub mod reputation;
pub mod review;
pub mod seed;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod web;
