//! Reads a data file: JSON when it ends in `.json`, YAML otherwise; then validates it.

use std::path::Path;

use super::SandboxData;
use crate::sandbox::SandboxError;

impl SandboxData {
    /// Reads, parses and validates a data file. Missing fields keep their defaults.
    pub fn load(path: &Path) -> Result<Self, SandboxError> {
        let text = std::fs::read_to_string(path).map_err(|source| SandboxError::ReadData {
            path: path.to_owned(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        let data = Self::parse(&text, is_json).map_err(|message| SandboxError::ParseData {
            path: path.to_owned(),
            message,
        })?;
        data.validate()?;
        Ok(data)
    }

    /// Parses data from text (YAML, or JSON when `json` is set) without validating it.
    pub fn parse(text: &str, json: bool) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        if json {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            serde_saphyr::from_str(text).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_overrides_only_what_it_names() {
        let data = SandboxData::parse("access_token_lifetime: 2\ntibco:\n  client_id: x\n", false)
            .expect("valid yaml");
        assert_eq!(data.access_token_lifetime, Some(2.0));
        assert_eq!(data.tibco.client_id, "x");
        assert_eq!(data.tibco.client_secret, "whisk-demo-secret");
        assert_eq!(data.ibm, crate::sandbox::IbmData::default());
    }

    #[test]
    fn the_documented_example_is_valid() {
        let data = SandboxData::parse(include_str!("example.yaml"), false).expect("valid yaml");
        assert!(data.validate().is_ok(), "{:?}", data.validate());
        assert_eq!(data.faults.len(), 7);
        assert!(data.faults[4].reset && data.faults[5].hang && data.faults[6].revoke);
        assert_eq!(data.fault_schedule.map(|s| s.kinds.len()), Some(5));
        assert_eq!(data.tibco.organizations.len(), 4);
        assert!(!data.ibm.clients[1].subscribed);
    }

    #[test]
    fn json_and_unknown_keys() {
        let data = SandboxData::parse(r#"{"oracle": {"scope": "s"}}"#, true).expect("valid json");
        assert_eq!(data.oracle.scope, "s");
        let err = SandboxData::parse("tibco:\n  client: x\n", false).expect_err("unknown key");
        assert!(err.contains("client"), "{err}");
        assert_eq!(SandboxData::parse(" \n", false), Ok(SandboxData::default()));
    }
}
