//! Shared limits of a run: HTTP clients per connect timeout, request rates per host, and the
//! run-wide cap on requests in flight.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::recipe::Rate;

/// One pooled client per connect timeout (reqwest sets it per client).
pub struct Clients {
    /// By connect timeout and client certificate.
    clients: Mutex<HashMap<(Duration, u64), reqwest::Client>>,
    roots: Vec<reqwest::Certificate>,
}

impl Clients {
    /// `roots`: certificate authorities trusted besides the system's (`--ca-cert`).
    pub fn new(roots: Vec<reqwest::Certificate>) -> Clients {
        Clients {
            clients: Mutex::new(HashMap::new()),
            roots,
        }
    }

    pub fn get(
        &self,
        connect_timeout: Duration,
        identity: Option<&super::tls::Identity>,
    ) -> Result<reqwest::Client, String> {
        let key = (connect_timeout, identity.map_or(0, |i| i.id));
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let identity = identity.map(|i| i.reqwest()).transpose()?;
        let client = build(connect_timeout, &self.roots, identity)
            .map_err(|e| super::http::error_chain(&e))?;
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// The `User-Agent` of every request whisk sends.
pub const USER_AGENT: &str = concat!("whisk/", env!("CARGO_PKG_VERSION"));

/// A client that follows no redirects itself (see `http`).
fn build(
    connect_timeout: Duration,
    roots: &[reqwest::Certificate],
    identity: Option<reqwest::Identity>,
) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    let builder = if roots.is_empty() {
        builder
    } else {
        builder.tls_certs_merge(roots.iter().cloned())
    };
    builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(256)
        .user_agent(USER_AGENT)
        .build()
}

/// The limits every request of a run shares: rates per host, and the run-wide cap on requests
/// in flight (`--max-concurrency`).
pub struct Limits {
    pub rates: RateLimits,
    pub gate: super::gate::Gate,
}

impl Limits {
    /// `shards`: how many runs share each `rate_limit` (`--shard`): each takes its part.
    pub fn new(max_in_flight: usize, shards: u32) -> Limits {
        Limits {
            rates: RateLimits {
                next: Mutex::default(),
                shards: shards.max(1),
            },
            gate: super::gate::Gate::new(max_in_flight),
        }
    }
}

/// Request schedules per host: each request takes the next free slot of its host.
pub struct RateLimits {
    next: Mutex<HashMap<String, Instant>>,
    /// Runs sharing the limits (shards): the spacing is that many times wider.
    shards: u32,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            next: Mutex::default(),
            shards: 1,
        }
    }
}

impl RateLimits {
    /// Waits for the next slot of `host` at `rate`.
    pub async fn wait(&self, host: &str, rate: Rate) {
        let slot = self.reserve(host, rate, Instant::now());
        tokio::time::sleep_until(slot.into()).await;
    }

    /// The time the next request to `host` may go, booked.
    pub fn reserve(&self, host: &str, rate: Rate, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let entry = next.entry(host.to_string()).or_insert(now);
        let slot = (*entry).max(now);
        *entry = slot + rate.interval() * self.shards;
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spaced_per_host() {
        let limits = RateLimits::default();
        let rate = Rate::parse("10/s").unwrap();
        let now = Instant::now();
        let a = limits.reserve("h", rate, now);
        let b = limits.reserve("h", rate, now);
        let c = limits.reserve("h", rate, now);
        let other = limits.reserve("other", rate, now);
        assert_eq!(a, now);
        assert_eq!(b - a, Duration::from_millis(100));
        assert_eq!(c - b, Duration::from_millis(100));
        assert_eq!(other, now);
    }

    #[test]
    fn each_of_four_shards_takes_a_quarter_of_the_rate() {
        let limits = Limits::new(8, 4).rates;
        let rate = Rate::parse("10/s").unwrap();
        let now = Instant::now();
        let a = limits.reserve("h", rate, now);
        let b = limits.reserve("h", rate, now);
        assert_eq!(b - a, Duration::from_millis(400));
    }
}
