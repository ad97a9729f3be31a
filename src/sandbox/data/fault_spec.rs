//! Parses the command-line form of a fault: `path=/x,status=429,retry_after=1,count=2`.

use std::str::FromStr;

use super::Fault;

impl FromStr for Fault {
    type Err = String;

    /// Comma-separated `key=value` pairs with the data file's field names; `path` is required.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut fault = Fault::status("", 0, 1);
        fault.status = None;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!("expected `key=value` in fault, found `{part}`"));
            };
            let value = value.trim();
            match key.trim() {
                "path" => fault.path = value.to_owned(),
                "method" => fault.method = Some(value.to_owned()),
                "count" => fault.count = number(key, value)?,
                "status" => fault.status = Some(number(key, value)?),
                "retry_after" => fault.retry_after = Some(number(key, value)?),
                "retry_after_date" => fault.retry_after_date = flag(value)?,
                "delay_ms" => fault.delay_ms = Some(number(key, value)?),
                "reset" => fault.reset = flag(value)?,
                "hang" => fault.hang = flag(value)?,
                "revoke" => fault.revoke = flag(value)?,
                "body" => fault.body = Some(value.to_owned()),
                other => {
                    return Err(format!(
                        "unknown fault key `{other}`, expected one of path, method, count, \
                         status, retry_after, retry_after_date, delay_ms, reset, hang, revoke, body"
                    ));
                }
            }
        }
        if fault.path.is_empty() {
            return Err("a fault needs `path=...`".to_owned());
        }
        Ok(fault)
    }
}

fn number<T: FromStr>(key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("fault `{key}` must be a whole number, found `{value}`"))
}

fn flag(value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected `true` or `false`, found `{value}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let fault: Fault = "path=/tci/*, method=GET, status=429, retry_after=2, count=3"
            .parse()
            .expect("a valid fault");
        assert_eq!(fault.path, "/tci/*");
        assert_eq!(fault.method.as_deref(), Some("GET"));
        assert_eq!(fault.status, Some(429));
        assert_eq!(fault.retry_after, Some(2));
        assert_eq!(fault.count, 3);
        let slow: Fault = "path=/x,delay_ms=1500".parse().expect("a valid fault");
        assert_eq!(
            (slow.status, slow.delay_ms, slow.count),
            (None, Some(1500), 1)
        );
        let reset: Fault = "path=/x,reset=true,count=2".parse().expect("a valid fault");
        assert!(reset.reset && !reset.hang && reset.count == 2);
        let storm: Fault = "path=/x,revoke=true".parse().expect("a valid fault");
        assert!(storm.revoke);
        let hang: Fault = "path=/x,hang=true".parse().expect("a valid fault");
        assert!(hang.hang);
    }

    #[test]
    fn rejects_bad_specs() {
        assert!("status=429".parse::<Fault>().is_err());
        assert!("path=/x,speed=3".parse::<Fault>().is_err());
        assert!("path=/x,count=many".parse::<Fault>().is_err());
        assert!("path=/x,status".parse::<Fault>().is_err());
    }
}
