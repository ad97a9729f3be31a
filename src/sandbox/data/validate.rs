//! Checks that seed data is consistent before any listener is bound.

use std::collections::HashSet;

use super::SandboxData;
use crate::sandbox::SandboxError;
use crate::sandbox::redirect_uri;

impl SandboxData {
    /// Every contradiction a data file can hold, reported with the field that holds it.
    pub fn validate(&self) -> Result<(), SandboxError> {
        self.validate_lifetimes()?;
        self.validate_tibco()?;
        self.validate_ibm()?;
        self.validate_oracle()?;
        self.validate_faults()
    }

    fn validate_lifetimes(&self) -> Result<(), SandboxError> {
        let access = [
            ("access_token_lifetime", self.access_token_lifetime),
            (
                "tibco.access_token_lifetime",
                self.tibco.access_token_lifetime,
            ),
            ("ibm.access_token_lifetime", self.ibm.access_token_lifetime),
            (
                "oracle.access_token_lifetime",
                self.oracle.access_token_lifetime,
            ),
        ];
        for (field, seconds) in access {
            if let Some(seconds) = seconds
                && !(MIN_ACCESS_LIFETIME..=MAX_LIFETIME).contains(&seconds)
            {
                let message = format!(
                    "an access-token lifetime is from {MIN_ACCESS_LIFETIME} to {MAX_LIFETIME} seconds, found {seconds}"
                );
                return invalid(field, &message);
            }
        }
        let others = [
            (
                "tibco.refresh_token_lifetime",
                self.tibco.refresh_token_lifetime,
            ),
            (
                "ibm.refresh_token_lifetime",
                self.ibm.refresh_token_lifetime,
            ),
            ("ibm.code_lifetime", self.ibm.code_lifetime),
        ];
        for (field, seconds) in others {
            if seconds == 0 {
                return invalid(field, "a lifetime must be at least 1 second");
            }
        }
        Ok(())
    }

    fn validate_tibco(&self) -> Result<(), SandboxError> {
        let tibco = &self.tibco;
        let mut seen = HashSet::new();
        for (i, org) in tibco.organizations.iter().enumerate() {
            let field = format!("tibco.organizations[{i}].locator");
            if org.locator.is_empty() || org.locator == "0" {
                return invalid(&field, "`0` and the empty string are not locators");
            }
            if !seen.insert(org.locator.as_str()) {
                return invalid(&field, &format!("locator `{}` is used twice", org.locator));
            }
        }
        for (i, org) in tibco.organizations.iter().enumerate() {
            let Some(parent) = &org.parent else { continue };
            let field = format!("tibco.organizations[{i}].parent");
            match tibco.organization(parent) {
                None => return invalid(&field, &format!("no organization has locator `{parent}`")),
                Some(p) if p.parent.is_some() => {
                    return invalid(
                        &field,
                        &format!("`{parent}` is itself a child organization"),
                    );
                }
                Some(_) => {}
            }
        }
        if tibco.organization(&tibco.token_org).is_none() {
            let message = format!("no organization has locator `{}`", tibco.token_org);
            return invalid("tibco.token_org", &message);
        }
        Ok(())
    }

    fn validate_ibm(&self) -> Result<(), SandboxError> {
        let mut seen = HashSet::new();
        for (i, client) in self.ibm.clients.iter().enumerate() {
            if !seen.insert(client.client_id.as_str()) {
                let message = format!("client id `{}` is used twice", client.client_id);
                return invalid(&format!("ibm.clients[{i}].client_id"), &message);
            }
            if client.client_secret.len() > 256 {
                let message = "a client secret has at most 256 characters";
                return invalid(&format!("ibm.clients[{i}].client_secret"), message);
            }
            if let Err(message) = redirect_uri::check_registered(&client.redirect_uri) {
                return invalid(&format!("ibm.clients[{i}].redirect_uri"), &message);
            }
        }
        Ok(())
    }

    fn validate_oracle(&self) -> Result<(), SandboxError> {
        if self.oracle.scope.trim().is_empty() {
            return invalid("oracle.scope", "the scope must not be empty");
        }
        if ![301, 302, 303, 307, 308].contains(&self.oracle.redirect_status) {
            let message = format!(
                "expected one of 301, 302, 303, 307, 308, found {}",
                self.oracle.redirect_status
            );
            return invalid("oracle.redirect_status", &message);
        }
        Ok(())
    }

    fn validate_faults(&self) -> Result<(), SandboxError> {
        for (i, fault) in self.faults.iter().enumerate() {
            if !fault.path.starts_with('/') {
                return invalid(&format!("faults[{i}].path"), "a path starts with `/`");
            }
            let actions = [
                fault.status.is_some(),
                fault.reset,
                fault.hang,
                fault.revoke,
            ];
            if actions.iter().filter(|a| **a).count() > 1 {
                let message = "a fault does one of `status`, `reset`, `hang` and `revoke`";
                return invalid(&format!("faults[{i}]"), message);
            }
            if fault.status.is_none() && (fault.reset || fault.hang || fault.revoke) {
                if fault.retry_after.is_some() {
                    let message = "`retry_after` needs a `status` to go with";
                    return invalid(&format!("faults[{i}].retry_after"), message);
                }
                continue;
            }
            match fault.status {
                Some(status) if !(100..=599).contains(&status) => {
                    let message = format!("expected a status from 100 to 599, found {status}");
                    return invalid(&format!("faults[{i}].status"), &message);
                }
                None if fault.delay_ms.is_none() => {
                    let message =
                        "a fault needs a `status`, `reset`, `hang`, `revoke` or a `delay_ms`";
                    return invalid(&format!("faults[{i}]"), message);
                }
                None if fault.retry_after.is_some() => {
                    let message = "`retry_after` needs a `status` to go with";
                    return invalid(&format!("faults[{i}].retry_after"), message);
                }
                _ => {}
            }
        }
        if let Some(schedule) = &self.fault_schedule {
            if !(0.0..=1.0).contains(&schedule.rate) {
                let message = format!(
                    "the rate is a probability from 0 to 1, found {}",
                    schedule.rate
                );
                return invalid("fault_schedule.rate", &message);
            }
            if let Some(i) = schedule.paths.iter().position(|p| !p.starts_with('/')) {
                return invalid(
                    &format!("fault_schedule.paths[{i}]"),
                    "a path starts with `/`",
                );
            }
            if schedule.kinds.is_empty() {
                return invalid("fault_schedule.kinds", "name at least one kind of fault");
            }
        }
        Ok(())
    }
}

/// The shortest access-token lifetime, in seconds: short enough to expire many times in a
/// test run, long enough to be used at all.
const MIN_ACCESS_LIFETIME: f64 = 0.05;
/// A year, in seconds.
const MAX_LIFETIME: f64 = 365.0 * 24.0 * 3600.0;

fn invalid(field: &str, message: &str) -> Result<(), SandboxError> {
    Err(SandboxError::InvalidData {
        field: field.to_owned(),
        message: message.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Fault;

    fn field_of(data: &SandboxData) -> String {
        match data.validate() {
            Err(SandboxError::InvalidData { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        assert!(SandboxData::default().validate().is_ok());
    }

    #[test]
    fn contradictions_name_their_field() {
        let mut data = SandboxData::default();
        data.tibco.token_org = "999".to_owned();
        assert_eq!(field_of(&data), "tibco.token_org");

        let mut data = SandboxData::default();
        data.tibco.organizations[1].parent = Some("101".to_owned());
        assert_eq!(field_of(&data), "tibco.organizations[1].parent");

        let mut data = SandboxData::default();
        data.ibm.clients[0].redirect_uri = "http://example.com/cb".to_owned();
        assert_eq!(field_of(&data), "ibm.clients[0].redirect_uri");

        let mut data = SandboxData::default();
        data.faults.push(Fault::status("/x", 0, 1));
        data.faults[0].status = None;
        assert_eq!(field_of(&data), "faults[0]");

        let mut data = SandboxData::default();
        data.set_access_token_lifetime(0.0);
        assert_eq!(field_of(&data), "access_token_lifetime");
    }
}
