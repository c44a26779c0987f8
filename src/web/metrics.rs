//! `/metrics` in the Prometheus text format: requests by status class with their total time,
//! and background jobs by state.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{web, HttpResponse};

use super::AppState;

/// Request counters, updated by the middleware in `startup.rs`.
#[derive(Default)]
pub struct RequestMetrics {
    by_class: [AtomicU64; 5],
    micros_total: AtomicU64,
}

impl RequestMetrics {
    pub fn record(&self, status: u16, elapsed: std::time::Duration) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.micros_total.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut out = String::new();
    let m = &state.requests;
    let _ = writeln!(out, "# HELP nave_http_requests_total HTTP requests served, by status class.");
    let _ = writeln!(out, "# TYPE nave_http_requests_total counter");
    for (i, c) in m.by_class.iter().enumerate() {
        let _ = writeln!(out, "nave_http_requests_total{{class=\"{}xx\"}} {}", i + 1, c.load(Ordering::Relaxed));
    }
    let _ = writeln!(out, "# HELP nave_http_request_seconds_total Time spent serving HTTP requests.");
    let _ = writeln!(out, "# TYPE nave_http_request_seconds_total counter");
    let _ = writeln!(out, "nave_http_request_seconds_total {:.6}", m.micros_total.load(Ordering::Relaxed) as f64 / 1e6);
    let _ = writeln!(out, "# HELP nave_jobs Background jobs in the queue, by state.");
    let _ = writeln!(out, "# TYPE nave_jobs gauge");
    match state.db(|c| Ok(crate::jobs::queue::counts(c)?)).await {
        Ok(counts) => {
            for s in ["pending", "running", "dead"] {
                let n = counts.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
                let _ = writeln!(out, "nave_jobs{{state=\"{s}\"}} {n}");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count jobs for /metrics"),
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(out)
}
