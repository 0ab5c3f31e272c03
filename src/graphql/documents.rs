//! Parsed GraphQL documents kept for reuse. Clients send the same few operations over and over, and parsing one is
//! the largest single cost of a lookup in the server, far more than copying a parsed document
//! (`docs/decisions/0006-parsed-graphql-documents-kept.md`).
//!
//! Only the parse is reused: every request still has its own limits checked (aliases, depth, directives),
//! is validated against the schema and runs with its own caller. A document is keyed by its exact text, so a
//! cached parse is the parse of that text.
//!
//! The cache is bounded in entries and in the length of the text it keeps, so it cannot grow with what clients
//! send: a client sending ever-new documents only pushes others out, and then each request is parsed as before.
//! It keeps two generations: entries found in the older one move to the newer one, and when the newer one is full
//! the older one is dropped. That keeps the documents in use without an ordering of its own.

use async_graphql::parser::types::ExecutableDocument;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Most documents kept in one generation (so at most twice this in all).
const GENERATION: usize = 128;
/// Longest document text kept, in bytes. Longer ones are parsed every time.
const MAX_TEXT: usize = 4096;

#[derive(Default)]
struct Generations {
    newer: HashMap<String, Arc<ExecutableDocument>>,
    older: HashMap<String, Arc<ExecutableDocument>>,
}

/// The documents kept, with counts of requests that found theirs and of those that were parsed.
#[derive(Default)]
pub struct DocumentCache {
    kept: Mutex<Generations>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl DocumentCache {
    /// Gives the request its parsed document: a copy of the kept parse of the same text, or a fresh parse, kept
    /// when its text is short enough. A document that does not parse is not kept; the request then fails in
    /// execution with the parser's error, as it would without the cache. Returns the kept parse, which a
    /// long-lived operation may hold instead of a copy of its own.
    pub fn prepare(&self, request: &mut async_graphql::Request) -> Option<Arc<ExecutableDocument>> {
        if request.query.len() > MAX_TEXT {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if let Some(doc) = self.find(&request.query) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            request.set_parsed_query((*doc).clone());
            return Some(doc);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let doc = Arc::new(request.parsed_query().ok()?.clone());
        self.keep(request.query.clone(), doc.clone());
        Some(doc)
    }

    fn find(&self, text: &str) -> Option<Arc<ExecutableDocument>> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(doc) = kept.newer.get(text) {
            return Some(doc.clone());
        }
        let (text, doc) = kept.older.remove_entry(text)?;
        kept.add(text, doc.clone());
        Some(doc)
    }

    fn keep(&self, text: String, doc: Arc<ExecutableDocument>) {
        self.kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(text, doc);
    }

    /// Requests whose document was found parsed, and requests that were parsed.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Documents kept now (for the tests of the bound).
    #[cfg(test)]
    fn len(&self) -> usize {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.newer.len() + kept.older.len()
    }
}

impl Generations {
    fn add(&mut self, text: String, doc: Arc<ExecutableDocument>) {
        if self.newer.len() >= GENERATION {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(text, doc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> async_graphql::Request {
        async_graphql::Request::new(text)
    }

    #[test]
    fn the_same_text_is_parsed_once_and_gets_the_same_document() {
        let cache = DocumentCache::default();
        let text = "query($r: String!) { order(reference: $r) { reference status } }";
        let mut first = request(text);
        cache.prepare(&mut first);
        let mut second = request(text);
        cache.prepare(&mut second);
        assert_eq!(cache.counts(), (1, 1));
        let fresh = async_graphql::parser::parse_query(text).unwrap();
        assert_eq!(
            format!("{:?}", second.parsed_query().unwrap()),
            format!("{fresh:?}")
        );
    }

    #[test]
    fn a_document_that_does_not_parse_is_not_kept() {
        let cache = DocumentCache::default();
        for _ in 0..2 {
            let mut bad = request("{ order(reference: ");
            cache.prepare(&mut bad);
            assert!(bad.parsed_query().is_err());
        }
        assert_eq!(cache.counts(), (0, 2));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_long_text_is_parsed_every_time() {
        let cache = DocumentCache::default();
        let text = format!("{{ {} }}", "__typename ".repeat(MAX_TEXT / 10));
        assert!(text.len() > MAX_TEXT);
        cache.prepare(&mut request(&text));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn ever_new_documents_keep_the_cache_bounded_and_the_one_in_use_stays() {
        let cache = DocumentCache::default();
        let used = "{ __typename }";
        for i in 0..10 * GENERATION {
            cache.prepare(&mut request(&format!("{{ a{i}: __typename }}")));
            cache.prepare(&mut request(used));
            assert!(cache.len() <= 2 * GENERATION);
        }
        // The document in use was parsed once, then always found.
        assert_eq!(cache.counts().0, 10 * GENERATION as u64 - 1);
    }
}
