//! A `/metrics` scrape (OpenMetrics text): every sample as `name{labels}` → value, every `# TYPE`.

use std::collections::BTreeMap;

use crate::Server;

/// One scrape.
#[derive(Debug)]
pub struct Metrics {
    samples: BTreeMap<String, f64>,
    types: BTreeMap<String, String>,
    text: String,
}

impl Metrics {
    /// Scrapes `server`, checking the status and the OpenMetrics content type.
    pub fn scrape(server: &Server) -> Metrics {
        let resp = server.get("/metrics");
        if resp.status != 200 {
            server.fail(&format!("/metrics answered {}: {}", resp.status, resp.body));
        }
        let ctype = resp.header("content-type").unwrap_or_default();
        if !ctype.starts_with("application/openmetrics-text") {
            server.fail(&format!("/metrics content-type {ctype:?}"));
        }
        Metrics::parse(&resp.body)
            .unwrap_or_else(|why| server.fail(&format!("/metrics: {why}\n{}", resp.body)))
    }

    /// Parses the exposition text.
    pub fn parse(text: &str) -> Result<Metrics, String> {
        let mut samples = BTreeMap::new();
        let mut types = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').ok_or(format!("bad line {line:?}"))?;
                types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (key, value) = line.rsplit_once(' ').ok_or(format!("bad line {line:?}"))?;
            let value: f64 = value
                .parse()
                .map_err(|_| format!("bad value in {line:?}"))?;
            samples.insert(key.to_owned(), value);
        }
        if !text.trim_end().ends_with("# EOF") {
            return Err("OpenMetrics text must end with `# EOF`".to_owned());
        }
        Ok(Metrics {
            samples,
            types,
            text: text.to_owned(),
        })
    }

    /// A sample's value (`name{label="v"}` exactly as exposed), `None` when absent.
    pub fn value(&self, key: &str) -> Option<f64> {
        self.samples.get(key).copied()
    }

    /// A sample's value, 0 when absent (a labelled counter appears at its first increment).
    pub fn or_zero(&self, key: &str) -> f64 {
        self.value(key).unwrap_or(0.0)
    }

    /// The `# TYPE` of a family.
    pub fn kind(&self, family: &str) -> Option<&str> {
        self.types.get(family).map(String::as_str)
    }

    /// The whole text, for failure messages.
    pub fn text(&self) -> &str {
        &self.text
    }
}
