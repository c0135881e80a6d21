//! The benchmarks' master.cfg: one template (`bench/master.cfg.template`) rendered for each
//! master, so Ferrobot and Buildbot read the same text but for ports and sizes.

/// The template; `{{NAME}}` marks a value filled in by [`render`].
const TEMPLATE: &str = include_str!("../master.cfg.template");

/// What differs between the masters of the workloads.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Names of the workers the master accepts (all builders may use each).
    pub workers: Vec<String>,
    /// Extra builders with a `true` step, all forced together by W6.
    pub backlog_builders: Vec<String>,
    /// Lines the `logs` builder prints (1024 bytes each).
    pub log_lines: u64,
}

/// Renders the template for a master with these ports.
pub fn render(shape: &Shape, www_port: u16, worker_port: u16) -> String {
    let list = |names: &[String]| {
        let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    TEMPLATE
        .replace("{{WWW_PORT}}", &www_port.to_string())
        .replace("{{WORKER_PORT}}", &worker_port.to_string())
        .replace("{{WORKERS}}", &list(&shape.workers))
        .replace("{{BACKLOG_BUILDERS}}", &list(&shape.backlog_builders))
        .replace("{{LOG_LINES}}", &shape.log_lines.to_string())
}

/// Worker names `prefix001`, `prefix002`, ... (`count` of them).
pub fn names(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("{prefix}{i:03}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled() {
        let shape = Shape {
            workers: names("w", 2),
            backlog_builders: names("backlog", 1),
            log_lines: 7,
        };
        let text = render(&shape, 8010, 9989);
        assert!(!text.contains("{{"), "{text}");
        assert!(text.contains(r#"WORKERS = ["w001", "w002"]"#), "{text}");
        assert!(text.contains("tcp:9989:interface=127.0.0.1"), "{text}");
        assert!(text.contains("i < 7;"), "{text}");
    }
}
