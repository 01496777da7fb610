//! Lists: a page of items and the cursor of the next page. Cursors are the last id of the
//! page (lists are in id order), so a page is stable while items are added elsewhere.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::Problem;

/// Most items in one page, and the default.
pub const MAX_LIMIT: u32 = 500;
pub const DEFAULT_LIMIT: u32 = 100;

/// `?limit=&after=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl PageQuery {
    /// The checked limit.
    pub fn limit(&self) -> Result<u32, Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(Problem::bad_request(format!("limit {n}: 1 to {MAX_LIMIT}"))),
        }
    }

    /// The cursor, `""` for the first page.
    pub fn after(&self) -> &str {
        self.after.as_deref().unwrap_or("")
    }
}

/// A page of `T`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page from up to `limit + 1` items fetched: the extra one only says there is more.
    pub fn from_fetched(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> String) -> Page<T> {
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = if more { items.last().map(id) } else { None };
        Page { items, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extra_item_makes_a_cursor() {
        let p = Page::from_fetched(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next.as_deref(), Some("2"));
        let last = Page::from_fetched(vec![1, 2], 2, |n| n.to_string());
        assert_eq!(last.next, None);
    }

    #[test]
    fn limits_are_checked() {
        let q = |n| PageQuery {
            limit: Some(n),
            after: None,
        };
        assert!(q(0).limit().is_err());
        assert!(q(501).limit().is_err());
        assert_eq!(q(5).limit().unwrap(), 5);
        assert_eq!(PageQuery::default().limit().unwrap(), DEFAULT_LIMIT);
    }
}
