//! Pages of documents: newest first, a bounded number at a time, each page ending with a
//! cursor for the next. Nothing lists a whole table: the staff pages, `/api/v1` and
//! `courier doc list` all walk these pages (the store's keyset `page`, migration 0015).

use courier_core::DocumentId;
use courier_store::documents::{self as rows, After, DocumentRecord, Scope};
use serde::Serialize;

use super::Courier;
use crate::Result;
use crate::error::{Said, SaidArg, bad_request};

/// Which page a caller asks for: the first, or the one after a cursor a page before gave.
#[derive(Debug, Clone)]
pub struct PageRequest {
    after: Option<After>,
    limit: u32,
}

impl Default for PageRequest {
    /// The newest [`Self::DEFAULT_LIMIT`] documents.
    fn default() -> Self {
        Self::first(Self::DEFAULT_LIMIT)
    }
}

impl PageRequest {
    /// Documents per page when the caller does not say.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The most a caller may ask for at once.
    pub const MAX_LIMIT: u32 = 1000;

    /// The first `limit` documents (at most [`Self::MAX_LIMIT`]).
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit: limit.clamp(1, Self::MAX_LIMIT) }
    }

    /// From the caller's words: `after` is a previous page's `next`, `limit` 1 to 1000.
    pub fn parse(after: Option<&str>, limit: Option<&str>) -> Result<Self> {
        let limit = match limit.map(str::trim) {
            None | Some("") => Self::DEFAULT_LIMIT,
            Some(l) => l.parse::<u32>().ok().filter(|l| (1..=Self::MAX_LIMIT).contains(l)).ok_or_else(|| {
                bad_request(
                    format!("limit must be a number from 1 to {}", Self::MAX_LIMIT),
                    Said::new("staff-refused-page-limit").with("max", SaidArg::Text(Self::MAX_LIMIT.to_string())),
                )
            })?,
        };
        let after = match after.map(str::trim) {
            None | Some("") => None,
            Some(cursor) => Some(parse_cursor(cursor).ok_or_else(|| {
                bad_request(
                    "after is not a page cursor: pass the next value of the previous page",
                    Said::new("staff-refused-page-cursor"),
                )
            })?),
        };
        Ok(Self { after, limit })
    }

    /// The page after `cursor` (a `next` this module gave), `limit` long.
    pub fn after(cursor: &str, limit: u32) -> Result<Self> {
        Self::parse(Some(cursor), Some(&limit.to_string()))
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn is_first(&self) -> bool {
        self.after.is_none()
    }
}

/// One page, and the cursor of the next one (none after the last page).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

/// `uploaded_at.id`: opaque to callers, checked on the way back in (the id must be a document
/// id, the time a number), so a cursor never carries anything into SQL but two typed values.
fn cursor(d: &DocumentRecord) -> String {
    format!("{}.{}", d.uploaded_at, d.id)
}

fn parse_cursor(s: &str) -> Option<After> {
    let (at, id) = s.split_once('.')?;
    let uploaded_at = at.parse::<i64>().ok()?;
    let id: DocumentId = id.parse().ok()?;
    Some(After { uploaded_at, id: id.to_string() })
}

impl Courier {
    /// One page of `scope`'s documents (shredded ones too if asked). One row more than the
    /// page is read to know whether another page follows, so the last page has no `next`.
    pub(super) async fn document_page(
        &self,
        scope: Scope<'_>,
        include_deleted: bool,
        req: &PageRequest,
    ) -> Result<Page<DocumentRecord>> {
        let mut items = rows::page(self.db.pool(), scope, include_deleted, req.after.as_ref(), req.limit + 1).await?;
        let next = if items.len() > req.limit as usize {
            items.truncate(req.limit as usize);
            items.last().map(cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_goes_round_and_nothing_else_passes() {
        let id = DocumentId::random().to_string();
        let after = parse_cursor(&format!("1733400000000.{id}")).unwrap();
        assert_eq!((after.uploaded_at, after.id.as_str()), (1_733_400_000_000, id.as_str()));
        for bad in ["", ".", "12", "x.y", &format!("12.{id}'--"), &format!("abc.{id}"), "12.../etc/passwd"] {
            assert!(parse_cursor(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn limits_outside_one_to_a_thousand_are_refused() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, PageRequest::DEFAULT_LIMIT);
        assert_eq!(PageRequest::parse(None, Some("1000")).unwrap().limit, 1000);
        for bad in ["0", "1001", "-1", "ten", "4294967296"] {
            assert!(PageRequest::parse(None, Some(bad)).is_err(), "{bad}");
        }
        assert!(PageRequest::parse(Some("nope"), None).is_err());
    }
}
