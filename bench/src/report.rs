//! The results: every metric of every workload with each system's value or failure, the ratio,
//! printed as a table and written as JSON.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::site::Kind;

/// One number a workload reports.
#[derive(Debug)]
pub struct Metric {
    /// `w1.median_ms`: the workload, then the number.
    pub id: &'static str,
    /// What it is, for the table.
    pub label: &'static str,
    /// Whether less is better (times, memory) or more (throughput).
    pub lower_is_better: bool,
}

const fn lower(id: &'static str, label: &'static str) -> Metric {
    Metric {
        id,
        label,
        lower_is_better: true,
    }
}

/// Every metric, in table order.
pub const METRICS: &[Metric] = &[
    lower("w1.median_ms", "W1 force→complete median (ms)"),
    lower("w1.p95_ms", "W1 force→complete p95 (ms)"),
    Metric {
        id: "w2.builds_per_s",
        label: "W2 throughput (builds/s)",
        lower_is_better: false,
    },
    lower("w3.seconds", "W3 100 MiB log: force→complete (s)"),
    lower("w4.master_idle_mb", "W4 master RSS idle (MB)"),
    lower("w4.worker_idle_mb", "W4 worker RSS idle (MB)"),
    lower("w4.master_peak_w2_mb", "W4 master peak during W2 (MB)"),
    lower("w4.worker_peak_w2_mb", "W4 worker peak during W2 (MB)"),
    lower("w4.master_peak_w3_mb", "W4 master peak during W3 (MB)"),
    lower("w4.worker_peak_w3_mb", "W4 worker peak during W3 (MB)"),
    lower("w5.master_rss_mb", "W5 master RSS, N workers (MB)"),
    lower("w5.master_cpu_percent", "W5 master CPU idle, N workers (%)"),
    lower("w6.startup_s", "W6 start-up with backlog (s)"),
    lower("w6.list50_ms", "W6 GET buildrequests?limit=50 (ms)"),
];

/// What one system gave for one metric.
pub type Cell = Result<f64, String>;

/// Collected results, by metric id and system.
#[derive(Debug, Default)]
pub struct Report {
    cells: BTreeMap<(&'static str, Kind), Cell>,
    details: BTreeMap<String, Map<String, Value>>,
}

impl Report {
    /// Records what a workload run on `kind` gave: its values, or its failure for every metric
    /// in `metric_ids` it did not measure.
    pub fn record(
        &mut self,
        workload: &str,
        kind: Kind,
        metric_ids: &[&'static str],
        outcome: anyhow::Result<crate::workloads::Measured>,
    ) {
        match outcome {
            Ok(measured) => {
                for (id, value) in measured.values {
                    self.cells.insert((id, kind), Ok(value));
                }
                if !measured.details.is_empty() {
                    self.details
                        .insert(format!("{workload}.{}", kind.name()), measured.details);
                }
            }
            Err(e) => {
                let reason = format!("{e:#}");
                eprintln!("{workload} FAILED on {}: {reason}", kind.name());
                for id in metric_ids {
                    self.cells
                        .entry((id, kind))
                        .or_insert_with(|| Err(format!("{workload} failed: {reason}")));
                }
            }
        }
    }

    fn ratio(metric: &Metric, cells: (Option<&Cell>, Option<&Cell>)) -> Option<f64> {
        match cells {
            (Some(Ok(f)), Some(Ok(b))) if *f > 0.0 && *b > 0.0 => {
                Some(if metric.lower_is_better { b / f } else { f / b })
            }
            _ => None,
        }
    }

    fn rows(&self) -> impl Iterator<Item = (&Metric, Option<&Cell>, Option<&Cell>)> {
        METRICS.iter().filter_map(|m| {
            let (f, b) = (
                self.cells.get(&(m.id, Kind::Ferrobot)),
                self.cells.get(&(m.id, Kind::Buildbot)),
            );
            (f.is_some() || b.is_some()).then_some((m, f, b))
        })
    }

    /// The table: one row per metric measured, ratio = how many times better Ferrobot is.
    pub fn table(&self) -> String {
        let show = |c: Option<&Cell>| match c {
            None => "-".to_owned(),
            Some(Ok(v)) => format_value(*v),
            Some(Err(_)) => "FAILED".to_owned(),
        };
        let mut out = format!(
            "| {:<38} | {:>10} | {:>10} | {:>7} |\n",
            "metric", "Ferrobot", "Buildbot", "ratio"
        );
        out.push_str(&format!(
            "|{:-<40}|{:->12}|{:->12}|{:->9}|\n",
            "", "", "", ""
        ));
        let mut failures = Vec::new();
        for (m, f, b) in self.rows() {
            let ratio = Self::ratio(m, (f, b)).map_or("-".to_owned(), |r| format!("{r:.1}×"));
            out.push_str(&format!(
                "| {:<38} | {:>10} | {:>10} | {:>7} |\n",
                m.label,
                show(f),
                show(b),
                ratio
            ));
            for (kind, cell) in [(Kind::Ferrobot, f), (Kind::Buildbot, b)] {
                if let Some(Err(reason)) = cell {
                    failures.push(format!("{} on {}: FAILED: {reason}", m.label, kind.name()));
                }
            }
        }
        for failure in failures {
            out.push_str(&format!("\n{failure}"));
        }
        out
    }

    /// The JSON document: metrics with values, failures and ratios, plus each run's details.
    pub fn json(&self, header: Value) -> Value {
        let cell = |c: Option<&Cell>| match c {
            None => Value::Null,
            Some(Ok(v)) => json!(v),
            Some(Err(reason)) => json!({ "failed": reason }),
        };
        let metrics: Vec<Value> = self
            .rows()
            .map(|(m, f, b)| {
                json!({
                    "id": m.id, "label": m.label, "lower_is_better": m.lower_is_better,
                    "ferrobot": cell(f), "buildbot": cell(b), "ratio": Self::ratio(m, (f, b)),
                })
            })
            .collect();
        json!({ "run": header, "metrics": metrics, "details": self.details })
    }

    /// True when some workload failed.
    pub fn any_failed(&self) -> bool {
        self.cells.values().any(Result::is_err)
    }
}

fn format_value(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
