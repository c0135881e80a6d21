//! A master's roles (design §2): `www` (REST, live events, dashboard), `scheduler` (change
//! sources and schedulers), `builder` (worker server, claims, builds). Single node has all three.

use std::fmt;

use crate::{Error, Result};

/// Which parts of a master run in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// Serves the REST API, `/ws`, `/sse` and the dashboard.
    pub www: bool,
    /// Runs change sources and schedulers.
    pub scheduler: bool,
    /// Accepts workers, claims build requests and runs builds.
    pub builder: bool,
}

impl Roles {
    /// Every role: the single-node shape.
    pub const ALL: Roles = Roles {
        www: true,
        scheduler: true,
        builder: true,
    };

    /// Parses a comma-separated list such as `www,scheduler` (or `all`).
    pub fn parse(text: &str) -> Result<Roles> {
        let mut roles = Roles {
            www: false,
            scheduler: false,
            builder: false,
        };
        for role in text.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            match role {
                "www" => roles.www = true,
                "scheduler" => roles.scheduler = true,
                "builder" => roles.builder = true,
                "all" => roles = Roles::ALL,
                other => {
                    return Err(Error::BadRequest(format!(
                        "unknown role {other:?} in {text:?}: roles are www, scheduler, builder (or all)"
                    )));
                }
            }
        }
        if roles
            == (Roles {
                www: false,
                scheduler: false,
                builder: false,
            })
        {
            return Err(Error::BadRequest(format!(
                "no role in {text:?}: give www, scheduler and/or builder"
            )));
        }
        Ok(roles)
    }

    /// Whether this is the single-node shape.
    pub fn is_all(self) -> bool {
        self == Roles::ALL
    }
}

impl Default for Roles {
    fn default() -> Roles {
        Roles::ALL
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (self.www, "www"),
            (self.scheduler, "scheduler"),
            (self.builder, "builder"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_all() {
        let roles = Roles::parse("www, scheduler").expect("parse");
        assert_eq!(
            roles,
            Roles {
                www: true,
                scheduler: true,
                builder: false
            }
        );
        assert_eq!(roles.to_string(), "www,scheduler");
        assert!(Roles::parse("all").expect("parse").is_all());
    }

    #[test]
    fn unknown_or_empty_roles_are_named_in_the_error() {
        let error = Roles::parse("www,bilder")
            .expect_err("unknown role")
            .to_string();
        assert!(error.contains("\"bilder\""), "{error}");
        assert!(Roles::parse(" , ").is_err());
    }
}
