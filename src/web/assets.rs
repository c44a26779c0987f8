//! Static assets compiled into the binary and served under versioned URLs
//! (`/static/{hash}/{name}`) with a one-year, immutable cache lifetime.

use std::collections::HashMap;

use actix_web::{http::header, web, HttpResponse};
use sha2::Digest;

const FILES: &[(&str, &str, &[u8])] = &[
    ("style.css", "text/css; charset=utf-8", include_bytes!("../../static/style.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../static/app.js")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../static/favicon.svg")),
];

pub struct Asset {
    pub hash: String,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

pub struct Assets {
    files: HashMap<&'static str, Asset>,
}

impl Default for Assets {
    fn default() -> Self {
        let files = FILES
            .iter()
            .map(|(name, ct, bytes)| {
                let hash = hex::encode(&sha2::Sha256::digest(bytes)[..6]);
                (*name, Asset { hash, content_type: ct, bytes })
            })
            .collect();
        Assets { files }
    }
}

impl Assets {
    /// Versioned URL paths of every asset, by name, for templates.
    pub fn urls(&self) -> HashMap<String, String> {
        self.files.iter().map(|(n, a)| (n.replace('.', "_"), format!("/static/{}/{}", a.hash, n))).collect()
    }
}

pub async fn serve(state: web::Data<super::AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (hash, name) = path.into_inner();
    let Some(asset) = state.assets.files.get(name.as_str()) else {
        return HttpResponse::NotFound().finish();
    };
    // An old hash (during a rolling deploy) still gets the file, but not for a year.
    let cache = if asset.hash == hash { "public, max-age=31536000, immutable" } else { "public, max-age=60" };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(asset.bytes)
}
