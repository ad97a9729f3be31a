//! The sandbox's seed data and knobs: what a data file (YAML or JSON) may hold.
//!
//! Every field has a default, so an empty file (or no file) gives the documented demo data;
//! `example.yaml` beside this file shows every key.

mod defaults;
mod fault;
mod fault_spec;
mod ibm;
mod load;
mod oracle;
mod schedule;
mod tibco;
mod validate;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use fault::Fault;
pub use ibm::{IbmClient, IbmData, IbmUser};
pub use oracle::{OracleConnection, OracleData};
pub use schedule::{FaultKind, FaultSchedule};
pub use tibco::{TibcoApp, TibcoData, TibcoOrganization};

/// Everything the sandbox serves: seeded accounts, objects, lifetimes and injected faults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxData {
    /// Access-token lifetime in seconds (fractions allowed: `0.5`) for every platform that
    /// does not set its own.
    pub access_token_lifetime: Option<f64>,
    pub tibco: TibcoData,
    pub ibm: IbmData,
    pub oracle: OracleData,
    /// Injected faults, checked in order against every request on the main listener.
    pub faults: Vec<Fault>,
    /// Faults drawn at random from a seed, for requests the listed faults leave alone.
    pub fault_schedule: Option<FaultSchedule>,
    /// Milliseconds every request on the main listener waits before it is handled (network
    /// and server latency, so that a run lasts long enough for tokens to run out).
    pub latency_ms: Option<u64>,
}

impl SandboxData {
    /// What the key that seals refresh tokens is derived from: the clients' secrets, so that
    /// a sandbox started again with the same data honours the tokens an earlier one issued.
    pub(crate) fn token_key(&self) -> String {
        let mut key = self.tibco.client_secret.clone();
        for client in &self.ibm.clients {
            key.push('\0');
            key.push_str(&client.client_secret);
        }
        key
    }

    /// Sets the access-token lifetime (seconds) of every platform at once.
    pub fn set_access_token_lifetime(&mut self, seconds: f64) {
        self.access_token_lifetime = Some(seconds);
        self.tibco.access_token_lifetime = None;
        self.ibm.access_token_lifetime = None;
        self.oracle.access_token_lifetime = None;
    }

    pub(crate) fn tibco_access_lifetime(&self) -> Duration {
        lifetime(
            self.tibco.access_token_lifetime,
            self.access_token_lifetime,
            8 * 3600,
        )
    }

    pub(crate) fn ibm_access_lifetime(&self) -> Duration {
        lifetime(
            self.ibm.access_token_lifetime,
            self.access_token_lifetime,
            2 * 3600,
        )
    }

    pub(crate) fn oracle_access_lifetime(&self) -> Duration {
        lifetime(
            self.oracle.access_token_lifetime,
            self.access_token_lifetime,
            3600,
        )
    }
}

fn lifetime(own: Option<f64>, shared: Option<f64>, default: u64) -> Duration {
    own.or(shared)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_lifetime_wins_over_the_shared_one() {
        let mut data = SandboxData {
            access_token_lifetime: Some(5.0),
            ..SandboxData::default()
        };
        data.ibm.access_token_lifetime = Some(9.0);
        assert_eq!(data.tibco_access_lifetime(), Duration::from_secs(5));
        assert_eq!(data.ibm_access_lifetime(), Duration::from_secs(9));
        data.set_access_token_lifetime(2.0);
        assert_eq!(data.ibm_access_lifetime(), Duration::from_secs(2));
    }

    #[test]
    fn vendor_defaults_apply_without_knobs() {
        let data = SandboxData::default();
        assert_eq!(data.tibco_access_lifetime(), Duration::from_secs(28_800));
        assert_eq!(data.ibm_access_lifetime(), Duration::from_secs(7_200));
        assert_eq!(data.oracle_access_lifetime(), Duration::from_secs(3_600));
    }
}
