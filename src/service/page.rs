//! Relay-style pagination: validated page sizes and opaque cursors.

use crate::codes;
use crate::error::{AppError, AppResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

/// A validated page request: how many, after which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageRequest {
    /// Validates `first` (1 to 100, default 20) and decodes `after`, a cursor of kind `kind` from an earlier page.
    pub fn new(first: Option<i32>, after: Option<&str>, kind: &str) -> AppResult<PageRequest> {
        let limit = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&i64::from(n)) => i64::from(n),
            Some(_) => {
                return Err(AppError::validation(
                    codes::INVALID_PAGE_SIZE,
                    "first",
                    format!("first must be between 1 and {MAX_PAGE_SIZE}"),
                ))
            }
        };
        let after = after.map(|c| decode_cursor(kind, c)).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

/// A page of items and whether more follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items (the extra one only says that more follow).
    pub fn from_fetched(mut items: Vec<T>, limit: i64) -> Page<T> {
        let has_next_page = items.len() as i64 > limit;
        items.truncate(limit as usize);
        Page {
            items,
            has_next_page,
        }
    }
}

pub fn encode_cursor(kind: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{key}"))
}

pub fn decode_cursor(kind: &str, cursor: &str) -> AppResult<String> {
    let invalid = || {
        AppError::validation(
            codes::INVALID_CURSOR,
            "after",
            "after is not a cursor returned by this list",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    match text.split_once(':') {
        Some((k, key)) if k == kind && !key.is_empty() && key.len() <= 128 => Ok(key.to_string()),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let c = encode_cursor("order", "0190-abc");
        assert_eq!(decode_cursor("order", &c).unwrap(), "0190-abc");
        assert_eq!(
            decode_cursor("agency", &c).unwrap_err().code(),
            codes::INVALID_CURSOR
        );
        assert_eq!(
            decode_cursor("order", "not base64!").unwrap_err().code(),
            codes::INVALID_CURSOR
        );
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(PageRequest::new(None, None, "order").unwrap().limit, 20);
        assert_eq!(
            PageRequest::new(Some(100), None, "order").unwrap().limit,
            100
        );
        assert_eq!(
            PageRequest::new(Some(0), None, "order").unwrap_err().code(),
            codes::INVALID_PAGE_SIZE
        );
        assert_eq!(
            PageRequest::new(Some(101), None, "order")
                .unwrap_err()
                .code(),
            codes::INVALID_PAGE_SIZE
        );
    }

    #[test]
    fn a_page_knows_whether_more_follow() {
        let p = Page::from_fetched(vec![1, 2, 3], 2);
        assert_eq!(p.items, vec![1, 2]);
        assert!(p.has_next_page);
        assert!(!Page::from_fetched(vec![1, 2], 2).has_next_page);
    }
}
