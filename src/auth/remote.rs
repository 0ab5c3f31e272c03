//! An identity provider's keys fetched over HTTPS: from its JWKS address, or found through OpenID Connect discovery
//! (`.../.well-known/openid-configuration`, whose `jwks_uri` names it). Kept for as long as the response's
//! `Cache-Control: max-age` says (between a minute and a day; an hour when it says nothing) and fetched again then in
//! the background. A token whose key id is not among them makes one fetch at once, but no more than one per
//! `ORDERWATCH_JWT_JWKS_MIN_REFRESH_SECS`, however many such tokens arrive: a stream of made-up key ids cannot turn the
//! server into a client hammering the provider. A fetch that fails keeps the keys there were.

use super::jwt::{unverified_issuer, JwtKeys};
use super::keyfile::{jwks_keys, VerifyKey};
use std::sync::Arc;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

/// Kept at least this long, whatever the provider says.
const SHORTEST_KEEP: Duration = Duration::from_secs(60);
/// Kept at most this long before fetching again.
const LONGEST_KEEP: Duration = Duration::from_secs(24 * 3600);
/// Kept this long when the provider says nothing.
const DEFAULT_KEEP: Duration = Duration::from_secs(3600);
/// The largest JWKS or discovery document read.
const MAX_DOCUMENT: usize = 512 * 1024;

pub(super) struct RemoteJwks {
    /// What was configured: a JWKS address or a discovery document's.
    source: String,
    /// The issuer whose keys these are: a discovery document must name it.
    issuer: String,
    client: reqwest::Client,
    keys: RwLock<Vec<VerifyKey>>,
    /// When the keys should be fetched again, by their cache lifetime.
    stale_at: Mutex<Instant>,
    /// Held while fetching, so concurrent asks share one fetch; with when the last fetch for an unknown key was.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    min_refresh: Duration,
    /// Fetches started, and fetches finished (one that finished while a caller waited answers that caller too).
    fetches: std::sync::atomic::AtomicU64,
    finished: std::sync::atomic::AtomicU64,
    /// Times the keys were replaced, counted after each replacement: a token verified under other keys is verified
    /// afresh (`verified.rs`).
    generation: std::sync::atomic::AtomicU64,
}

impl RemoteJwks {
    pub fn new(issuer: &str, source: &str, min_refresh: Duration) -> Result<RemoteJwks, String> {
        let url = url::Url::parse(source).map_err(|_| format!("{source}: not a URL"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(format!(
                "{source}: a JWKS or discovery address must be https://"
            ));
        }
        let client = reqwest::Client::builder()
            // No redirects: one could lead from https:// to plain http://.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("orderwatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the JWKS client could not be built: {e}"))?;
        Ok(RemoteJwks {
            source: source.to_string(),
            issuer: issuer.to_string(),
            client,
            keys: RwLock::default(),
            stale_at: Mutex::new(Instant::now()),
            fetching: tokio::sync::Mutex::new(None),
            min_refresh,
            fetches: Default::default(),
            finished: Default::default(),
            generation: Default::default(),
        })
    }

    /// Whether the address is plain `http://` (refused in production).
    pub fn insecure(&self) -> bool {
        self.source.starts_with("http://")
    }

    /// The keys held now.
    pub fn keys(&self) -> Vec<VerifyKey> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many times the keys were replaced. Read before the keys: a count read after a replacement began may be
    /// the old one, which only makes the cache verify the token again.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Fetches made so far (for `/metrics` and tests).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How long until the keys should be fetched again.
    pub fn fresh_for(&self) -> Duration {
        self.stale_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .saturating_duration_since(Instant::now())
    }

    /// Fetches the keys again: `for_unknown_key` when a token named a key id not held, which is allowed once per
    /// `min_refresh`; otherwise because they are stale. Callers meanwhile wait for the one fetch under way.
    pub async fn refresh(&self, for_unknown_key: bool) {
        use std::sync::atomic::Ordering::SeqCst;
        let seen = self.finished.load(SeqCst);
        let mut last = self.fetching.lock().await;
        if self.finished.load(SeqCst) != seen {
            // A fetch finished while this caller waited: its keys are the newest there are.
            return;
        }
        if for_unknown_key {
            if last.is_some_and(|t| t.elapsed() < self.min_refresh) {
                return;
            }
            *last = Some(Instant::now());
        } else if self.fresh_for() > Duration::ZERO {
            return;
        }
        self.fetches.fetch_add(1, SeqCst);
        let fetched = self.fetch().await;
        self.finished.fetch_add(1, SeqCst);
        match fetched {
            Ok((keys, keep)) => {
                tracing::info!(
                    jwks.keys = keys.len(),
                    jwks.keep_secs = keep.as_secs(),
                    "identity provider keys fetched"
                );
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
                self.generation
                    .fetch_add(1, std::sync::atomic::Ordering::Release);
                *self.stale_at.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now() + keep;
            }
            Err(e) => {
                // Keep the keys held; try again in a minute.
                tracing::warn!(error = %e, "identity provider keys could not be fetched; keeping the previous keys");
                *self.stale_at.lock().unwrap_or_else(|e| e.into_inner()) =
                    Instant::now() + SHORTEST_KEEP;
            }
        }
    }

    async fn fetch(&self) -> Result<(Vec<VerifyKey>, Duration), String> {
        let jwks_url = if self.source.contains("/.well-known/openid-configuration") {
            let (doc, _) = self.get(&self.source).await?;
            #[derive(serde::Deserialize)]
            struct Discovery {
                issuer: String,
                jwks_uri: String,
            }
            let found = serde_json::from_slice::<Discovery>(&doc).map_err(|_| {
                format!(
                    "{}: no issuer and jwks_uri in the discovery document",
                    self.source
                )
            })?;
            if found.issuer != self.issuer {
                return Err(format!(
                    "{}: the discovery document is of another issuer",
                    self.source
                ));
            }
            // Never from https:// down to plain http://.
            if !self.insecure() && !found.jwks_uri.starts_with("https://") {
                return Err(format!(
                    "{}: jwks_uri is not an https:// address",
                    self.source
                ));
            }
            found.jwks_uri
        } else {
            self.source.clone()
        };
        let (body, keep) = self.get(&jwks_url).await?;
        let text = String::from_utf8(body).map_err(|_| format!("{jwks_url}: not text"))?;
        Ok((jwks_keys(&text, &jwks_url)?, keep))
    }

    /// A document and how long to keep what it says.
    async fn get(&self, url: &str) -> Result<(Vec<u8>, Duration), String> {
        let mut response = self.client.get(url).send().await.map_err(|e| {
            format!(
                "{url}: {}",
                if e.is_timeout() {
                    "timed out"
                } else {
                    "could not be fetched"
                }
            )
        })?;
        if !response.status().is_success() {
            return Err(format!("{url}: HTTP {}", response.status().as_u16()));
        }
        let keep = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(max_age)
            .unwrap_or(DEFAULT_KEEP);
        let mut body = vec![];
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| format!("{url}: cut short"))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT {
                return Err(format!("{url}: larger than {MAX_DOCUMENT} bytes"));
            }
        }
        Ok((body, keep))
    }
}

impl JwtKeys {
    /// Also trust tokens from `issuer` signed with the keys published at `url` (a JWKS address, or an OpenID
    /// Connect discovery document's), fetched by [`JwtKeys::keep_fresh`] and again for an unknown key id at most
    /// once per `min_refresh`.
    pub fn trust_url(
        mut self,
        issuer: &str,
        url: &str,
        min_refresh: std::time::Duration,
    ) -> Result<JwtKeys, String> {
        let remote = RemoteJwks::new(issuer, url, min_refresh)?;
        self.issuers.entry(issuer.to_string()).or_default().remote = Some(Arc::new(remote));
        Ok(self)
    }

    /// Whether any issuer's keys are fetched over plain `http://` (refused in production).
    pub fn fetches_insecurely(&self) -> bool {
        self.issuers
            .values()
            .any(|i| i.remote.as_ref().is_some_and(|r| r.insecure()))
    }

    /// Fetches of identity providers' keys made so far.
    pub fn key_fetches(&self) -> u64 {
        self.issuers
            .values()
            .filter_map(|i| i.remote.as_ref())
            .map(|r| r.fetches())
            .sum()
    }

    /// Keeps the keys fetched over HTTP fresh until `stop`: fetched now, then again when their cache lifetime ends.
    pub fn keep_fresh(&self, stop: tokio::sync::watch::Receiver<bool>) {
        for remote in self.issuers.values().filter_map(|i| i.remote.clone()) {
            let mut stop = stop.clone();
            tokio::spawn(async move {
                while !*stop.borrow() {
                    remote.refresh(false).await;
                    let wait = remote.fresh_for().max(std::time::Duration::from_secs(1));
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        changed = stop.changed() => if changed.is_err() { break },
                    }
                }
            });
        }
    }

    /// After a token was refused with [`UNKNOWN_KEY`]: fetches its issuer's keys again if they come from an address
    /// and the last such fetch is older than the bound; then the token may be checked again.
    pub async fn refresh_for(&self, token: &str) {
        let remote = unverified_issuer(token)
            .and_then(|iss| self.issuers.get(&iss))
            .and_then(|i| i.remote.clone());
        if let Some(remote) = remote {
            remote.refresh(true).await;
        }
    }
}

/// How long a `Cache-Control` value says to keep a response, within [`SHORTEST_KEEP`] and [`LONGEST_KEEP`];
/// `no-cache` or `no-store` keep it the shortest time.
fn max_age(cache_control: &str) -> Duration {
    let mut keep = DEFAULT_KEEP;
    for part in cache_control.split(',').map(str::trim) {
        let lower = part.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return SHORTEST_KEEP;
        }
        if let Some(secs) = lower
            .strip_prefix("max-age=")
            .and_then(|s| s.trim_matches('"').parse::<u64>().ok())
        {
            keep = Duration::from_secs(secs);
        }
    }
    keep.clamp(SHORTEST_KEEP, LONGEST_KEEP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_sets_how_long_keys_are_kept_within_bounds() {
        assert_eq!(max_age("public, max-age=7200"), Duration::from_secs(7200));
        assert_eq!(max_age("max-age=5"), SHORTEST_KEEP);
        assert_eq!(max_age("max-age=9999999"), LONGEST_KEEP);
        assert_eq!(max_age("no-store"), SHORTEST_KEEP);
        assert_eq!(max_age("private"), DEFAULT_KEEP);
        assert_eq!(max_age("max-age=abc"), DEFAULT_KEEP);
    }
}
