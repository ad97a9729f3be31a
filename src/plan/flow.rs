//! Plans of steps that repeat their request: polling (`until`) and pagination (`paginate`).

use std::time::Duration;

use serde_json_path::JsonPath;

use super::Tpl;

/// How a request step repeats, if it does.
#[derive(Debug)]
pub enum Repeat {
    Until(UntilPlan),
    Pages(PagePlan),
}

#[derive(Debug)]
pub struct UntilPlan {
    pub that: Tpl,
    /// The expression as written, for messages.
    pub that_text: String,
    pub fail_if: Option<(Tpl, String)>,
    pub wait: Wait,
    pub timeout: Duration,
    pub max_polls: Option<u32>,
}

/// The wait between polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    Fixed(Duration),
    /// Doubling from `initial` up to `max`, without jitter: a poll never sleeps zero.
    Backoff {
        initial: Duration,
        max: Duration,
    },
}

impl Wait {
    /// The wait after poll `n` (from 1).
    pub fn after(self, n: u32) -> Duration {
        match self {
            Wait::Fixed(wait) => wait,
            Wait::Backoff { initial, max } => initial
                .saturating_mul(1u32 << n.saturating_sub(1).min(31))
                .min(max),
        }
    }
}

pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(300);
pub const DEFAULT_MAX_PAGES: u32 = 1000;

#[derive(Debug)]
pub struct PagePlan {
    pub kind: PageKind,
    pub max_pages: u32,
    /// Reaching `max_pages` keeps what was read instead of failing the step.
    pub stop_at_max: bool,
}

#[derive(Debug)]
pub enum PageKind {
    /// The `Link` header's target with this relation.
    Link(String),
    /// A URL in the body.
    NextUrl(JsonPath, String),
    Offset {
        param: String,
        limit_param: String,
        limit: Option<u32>,
        items: JsonPath,
        has_more: Option<JsonPath>,
        total: Option<JsonPath>,
    },
    Cursor {
        from: JsonPath,
        param: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_fixed_stays() {
        let ms = Duration::from_millis;
        let wait = Wait::Backoff {
            initial: ms(100),
            max: ms(500),
        };
        let waits: Vec<_> = (1..=5).map(|n| wait.after(n)).collect();
        assert_eq!(waits, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
        assert_eq!(Wait::Fixed(ms(7)).after(40), ms(7));
    }
}
