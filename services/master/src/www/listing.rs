//! Pushing a whole REST query down to the database: when every filter and sort key of a
//! `builds`, `buildrequests` or `changes` query is one the store can evaluate, the store pages and counts, and
//! the engine only projects fields. Otherwise the caller falls back to reading the collection
//! and running the engine (same results, more rows read).

use ferrobot_store::{Cmp, Condition, ListQuery, SortKey, SqlValue};
use serde_json::Value;

use crate::www::query::{Op, Query};

/// Which store listing a query goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `Store::list_builds`.
    Builds,
    /// `Store::list_changes`.
    Changes,
    /// `Store::list_buildrequests`.
    BuildRequests,
}

impl Listing {
    fn knows(self, field: &str) -> bool {
        let field = std::iter::once(field);
        match self {
            Listing::Builds => ferrobot_store::builds_can_list(field),
            Listing::Changes => ferrobot_store::changes_can_list(field),
            Listing::BuildRequests => ferrobot_store::buildrequests_can_list(field),
        }
    }
}

fn sql_value(value: &Value) -> Option<SqlValue> {
    Some(match value {
        Value::Null => SqlValue::Null,
        Value::Bool(flag) => SqlValue::Integer(i64::from(*flag)),
        Value::Number(n) => SqlValue::Integer(n.as_i64()?),
        Value::String(text) => SqlValue::Text(text.clone()),
        _ => return None,
    })
}

/// The store query for `query` plus the path's own restrictions (`builderid = 3` for
/// `/builders/3/builds`), or None when some part needs the in-memory engine.
pub fn push_down(
    listing: Listing,
    query: &Query,
    restrictions: Vec<Condition>,
) -> Option<ListQuery> {
    let mut conditions = restrictions;
    for filter in &query.filters {
        if !listing.knows(&filter.field) {
            return None;
        }
        let cmp = match filter.op {
            Op::Eq | Op::In => Cmp::Eq,
            Op::Ne | Op::NotIn => Cmp::Ne,
            Op::Lt => Cmp::Lt,
            Op::Le => Cmp::Le,
            Op::Gt => Cmp::Gt,
            Op::Ge => Cmp::Ge,
            // Substring matching stays in the engine (LIKE treats `%` and `_` specially).
            Op::Contains => return None,
        };
        let values = filter
            .values
            .iter()
            .map(sql_value)
            .collect::<Option<Vec<_>>>()?;
        conditions.push(Condition {
            field: filter.field.clone(),
            cmp,
            values,
        });
    }
    let mut order = Vec::new();
    for key in &query.order {
        if !listing.knows(&key.field) {
            return None;
        }
        order.push(SortKey {
            field: key.field.clone(),
            descending: key.descending,
        });
    }
    Some(ListQuery {
        conditions,
        order,
        limit: query.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
        offset: query
            .offset
            .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
    })
}

/// `field = value`, the restriction a path puts on a listing.
pub fn restricted_to(field: &str, value: i64) -> Condition {
    Condition {
        field: field.to_owned(),
        cmp: Cmp::Eq,
        values: vec![SqlValue::Integer(value)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::www::resources;

    fn parse(text: &str, rtype: &resources::ResourceType) -> Query {
        let pairs: Vec<(String, String)> = text
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').expect("k=v");
                (k.to_owned(), v.to_owned())
            })
            .collect();
        Query::parse(&pairs, rtype, true).expect("a valid query")
    }

    #[test]
    fn simple_queries_go_to_the_database_whole() {
        let query = parse(
            "limit=50&order=-buildid&complete=true&results__ne=null&builderid__in=2&builderid__in=3",
            &resources::BUILD,
        );
        let pushed = push_down(Listing::Builds, &query, vec![restricted_to("workerid", 4)])
            .expect("pushable");
        assert_eq!(pushed.limit, Some(50));
        assert_eq!(pushed.order[0].field, "buildid");
        assert!(pushed.order[0].descending);
        assert_eq!(pushed.conditions.len(), 4);
        assert_eq!(pushed.conditions[1].values, vec![SqlValue::Integer(1)]);
        assert_eq!(pushed.conditions[3].values.len(), 2);
    }

    #[test]
    fn substring_and_unknown_fields_stay_in_the_engine() {
        let contains = parse("state_string__contains=fail", &resources::BUILD);
        assert!(push_down(Listing::Builds, &contains, Vec::new()).is_none());
        let files = parse("files__contains=a.rs", &resources::CHANGE);
        assert!(push_down(Listing::Changes, &files, Vec::new()).is_none());
        let by_properties = parse(
            "field=properties&field=buildid&order=buildid",
            &resources::BUILD,
        );
        assert!(push_down(Listing::Builds, &by_properties, Vec::new()).is_some());
    }
}
