//! Fault injection, off by default: `instagram:latency=50ms,error_rate=0.1;tiktok:storm=0.3`.

use std::collections::HashMap;
use std::time::Duration;

use crate::server::state::SERVERS;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    pub latency: Duration,
    /// Share of requests answered with a 5xx.
    pub error_rate: f64,
    /// Share of requests answered with the platform's rate-limit error.
    pub storm: f64,
    /// Share answered with a body that is not JSON.
    pub malformed: f64,
    /// Share answered with the real body cut in half.
    pub truncated: f64,
    /// Share answered with the platform's expired-token error.
    pub expired_tokens: f64,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    ServerError,
    Storm,
    Malformed,
    Truncated,
    ExpiredToken,
}

impl Faults {
    pub fn any(&self) -> bool {
        *self != Faults::default()
    }

    /// Picks the fault for a request from a uniform draw in [0, 1).
    pub fn pick(&self, draw: f64) -> Option<Fault> {
        let mut edge = 0.0;
        for (rate, fault) in [
            (self.error_rate, Fault::ServerError),
            (self.storm, Fault::Storm),
            (self.malformed, Fault::Malformed),
            (self.truncated, Fault::Truncated),
            (self.expired_tokens, Fault::ExpiredToken),
        ] {
            edge += rate;
            if draw < edge {
                return Some(fault);
            }
        }
        None
    }
}

/// Parses `server:key=value,…;server:…` (server `all` sets every server).
pub fn parse(spec: &str) -> Result<HashMap<&'static str, Faults>, String> {
    let mut out: HashMap<&'static str, Faults> = SERVERS.iter().map(|s| (*s, Faults::default())).collect();
    for section in spec.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (server, settings) = section.split_once(':').ok_or_else(|| format!("`{section}` should be server:key=value,…"))?;
        let targets: Vec<&'static str> = if server == "all" {
            SERVERS.to_vec()
        } else {
            vec![*SERVERS.iter().find(|s| **s == server).ok_or_else(|| format!("unknown server `{server}` (one of {}, or all)", SERVERS.join(", ")))?]
        };
        for setting in settings.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = setting.split_once('=').ok_or_else(|| format!("`{setting}` is not key=value"))?;
            for target in &targets {
                let faults = out.get_mut(target).expect("every server has an entry");
                if key == "latency" {
                    faults.latency = humantime_like(value)?;
                    continue;
                }
                let rate: f64 = value.parse().map_err(|_| format!("`{value}` is not a rate between 0 and 1"))?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("`{setting}`: a rate is between 0 and 1"));
                }
                match key {
                    "error_rate" => faults.error_rate = rate,
                    "storm" => faults.storm = rate,
                    "malformed" => faults.malformed = rate,
                    "truncated" => faults.truncated = rate,
                    "expired_tokens" => faults.expired_tokens = rate,
                    other => return Err(format!("unknown fault `{other}` (latency, error_rate, storm, malformed, truncated, expired_tokens)")),
                }
            }
        }
    }
    Ok(out)
}

fn humantime_like(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 50ms"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        _ => Err(format!("`{text}`: use ms or s")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let faults = parse("instagram:latency=50ms,error_rate=0.1;all:truncated=0.01").unwrap();
        assert_eq!(faults["instagram"].latency, Duration::from_millis(50));
        assert_eq!(faults["instagram"].error_rate, 0.1);
        assert_eq!(faults["ga4"].truncated, 0.01);
        assert!(!faults["tiktok"].any() || faults["tiktok"].truncated > 0.0);
        assert!(parse("myspace:storm=1").unwrap_err().contains("unknown server"));
        assert!(parse("instagram:storm=2").is_err());
        assert!(parse("instagram:boom=0.1").unwrap_err().contains("unknown fault"));
        assert_eq!(faults["instagram"].pick(0.05), Some(Fault::ServerError));
        assert_eq!(faults["instagram"].pick(0.105), Some(Fault::Truncated));
        assert_eq!(faults["instagram"].pick(0.5), None);
    }
}
