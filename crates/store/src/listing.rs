//! Paged, filtered, ordered listings of builds and changes, done by the database so that
//! `GET /api/v2/builds?limit=50&order=-buildid` reads 50 rows and one `COUNT(*)` instead of
//! the whole table. The semantics are those of the REST query engine (reference/buildbot.md
//! §5.4): null sorts before every value, `ne`/`notin` let null through, ordering comparisons
//! with null are never true, and rows with equal sort keys stay in id order.

use ferrobot_model::{Build, BuildRequest, Change};
use sqlx::any::AnyArguments;
use sqlx::{Arguments, Row};

use crate::db::{Backend, SqlStore, assembled};
use crate::{Error, Result};

/// A comparison of a [`Condition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Equal to one of the values.
    Eq,
    /// Equal to none of the values.
    Ne,
    /// Less than the (single) value.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

/// A value compared against a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// An integer (booleans are 0/1).
    Integer(i64),
    /// Text.
    Text(String),
}

/// One filter on a field of the listed resource, by its REST field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The REST field (`builderid`, `complete`, `branch`, ...).
    pub field: String,
    /// How it is compared.
    pub cmp: Cmp,
    /// The values; `Eq`/`Ne` take any number, the ordering comparisons exactly one.
    pub values: Vec<SqlValue>,
}

/// One sort key, by REST field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The REST field.
    pub field: String,
    /// Largest first.
    pub descending: bool,
}

/// What to list: all conditions must hold; then order, offset and limit apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Filters, all of which must pass.
    pub conditions: Vec<Condition>,
    /// Sort keys, first key first; ties (and no keys) are in id order.
    pub order: Vec<SortKey>,
    /// At most this many rows.
    pub limit: Option<i64>,
    /// Rows skipped after ordering.
    pub offset: i64,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    /// The rows of the page, in the asked order.
    pub items: Vec<T>,
    /// How many rows passed the conditions, before paging.
    pub total: i64,
}

/// A listable column: its SQL expression and whether it may be null.
struct Column {
    field: &'static str,
    sql: &'static str,
    nullable: bool,
    text: bool,
}

const fn col(field: &'static str, sql: &'static str, nullable: bool) -> Column {
    Column {
        field,
        sql,
        nullable,
        text: false,
    }
}

/// A text column: compared byte-wise on both databases, as the engine compares strings.
const fn text(field: &'static str, sql: &'static str, nullable: bool) -> Column {
    Column {
        field,
        sql,
        nullable,
        text: true,
    }
}

/// The build fields the database can filter and order on.
const BUILD_COLUMNS: &[Column] = &[
    col("buildid", "id", false),
    col("number", "number", false),
    col("builderid", "builderid", false),
    col("buildrequestid", "buildrequestid", false),
    col("workerid", "workerid", true),
    col("masterid", "masterid", false),
    col("started_at", "started_at", false),
    col("complete_at", "complete_at", true),
    col("locks_duration_s", "locks_duration_s", false),
    col("results", "results", true),
    text("state_string", "state_string", false),
    // A derived flag, as Buildbot's: complete means complete_at is set.
    col(
        "complete",
        "(CASE WHEN complete_at IS NULL THEN 0 ELSE 1 END)",
        false,
    ),
];

/// The change fields the database can filter and order on.
const CHANGE_COLUMNS: &[Column] = &[
    col("changeid", "changeid", false),
    text("author", "author", false),
    text("committer", "committer", true),
    text("comments", "comments", false),
    text("revision", "revision", true),
    col("when_timestamp", "when_timestamp", false),
    text("branch", "branch", true),
    text("category", "category", true),
    text("revlink", "revlink", true),
    text("repository", "repository", false),
    text("project", "project", false),
    text("codebase", "codebase", false),
];

/// The build request fields the database can filter and order on (the claim fields come from
/// another table, and `results` holds -1 for "not yet", so those stay in the engine).
const BUILDREQUEST_COLUMNS: &[Column] = &[
    col("buildrequestid", "id", false),
    col("buildsetid", "buildsetid", false),
    col("builderid", "builderid", false),
    col("priority", "priority", false),
    col("complete", "complete", false),
    col("submitted_at", "submitted_at", false),
    col("complete_at", "complete_at", true),
    col("waited_for", "waited_for", false),
];

/// Whether the database can list build requests with these conditions and keys.
pub fn buildrequests_can_list<'a>(mut fields: impl Iterator<Item = &'a str>) -> bool {
    fields.all(|f| column(BUILDREQUEST_COLUMNS, f).is_ok())
}

/// Whether the database can list builds with these conditions and keys (else the caller
/// reads them all and filters in memory).
pub fn builds_can_list<'a>(mut fields: impl Iterator<Item = &'a str>) -> bool {
    fields.all(|f| column(BUILD_COLUMNS, f).is_ok())
}

/// Whether the database can list changes with these conditions and keys.
pub fn changes_can_list<'a>(mut fields: impl Iterator<Item = &'a str>) -> bool {
    fields.all(|f| column(CHANGE_COLUMNS, f).is_ok())
}

fn column<'a>(columns: &'a [Column], field: &str) -> Result<&'a Column> {
    columns
        .iter()
        .find(|c| c.field == field)
        .ok_or_else(|| Error::Invalid(format!("cannot list by field '{field}'")))
}

/// The WHERE and ORDER BY clauses of a query, with their arguments.
struct Clauses {
    filter: String,
    order: String,
    arguments: AnyArguments,
    count: usize,
}

impl Clauses {
    fn bind(&mut self, value: &SqlValue) -> Result<String> {
        let added = match value {
            SqlValue::Integer(n) => self.arguments.add(*n),
            SqlValue::Text(text) => self.arguments.add(text.clone()),
            SqlValue::Null => return Err(Error::Invalid("null is not bound".into())),
        };
        added.map_err(|e| Error::Invalid(format!("cannot bind a listing value: {e}")))?;
        self.count += 1;
        Ok(format!("${}", self.count))
    }
}

fn clauses(backend: Backend, columns: &[Column], id: &str, query: &ListQuery) -> Result<Clauses> {
    let mut out = Clauses {
        filter: String::new(),
        order: String::new(),
        arguments: AnyArguments::default(),
        count: 0,
    };
    let mut parts = Vec::new();
    for condition in &query.conditions {
        let column = column(columns, &condition.field)?;
        parts.push(condition_sql(&mut out, backend, column, condition)?);
    }
    out.filter = if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    };
    let mut keys = Vec::new();
    for key in &query.order {
        let column = column(columns, &key.field)?;
        let direction = if key.descending { "DESC" } else { "ASC" };
        if column.nullable {
            // Null first when ascending (the engine's NoneComparator), last when descending,
            // on both databases (PostgreSQL puts nulls last by default, SQLite first).
            keys.push(format!(
                "(CASE WHEN {} IS NULL THEN 0 ELSE 1 END) {direction}",
                column.sql
            ));
        }
        keys.push(format!("{} {direction}", sorted(backend, column)));
    }
    keys.push(format!("{id} ASC"));
    out.order = format!(" ORDER BY {}", keys.join(", "));
    Ok(out)
}

/// The column as compared and sorted: PostgreSQL's default collation orders text by locale,
/// the engine (and SQLite) by bytes, so text is compared under the "C" collation there.
fn sorted(backend: Backend, column: &Column) -> String {
    match backend {
        Backend::Postgres if column.text => format!("{} COLLATE \"C\"", column.sql),
        _ => column.sql.to_owned(),
    }
}

fn condition_sql(
    out: &mut Clauses,
    backend: Backend,
    column: &Column,
    condition: &Condition,
) -> Result<String> {
    let sql = column.sql;
    let compared = sorted(backend, column);
    let (nulls, values): (Vec<&SqlValue>, Vec<&SqlValue>) = condition
        .values
        .iter()
        .partition(|v| matches!(v, SqlValue::Null));
    let ordering = match condition.cmp {
        Cmp::Lt => Some("<"),
        Cmp::Le => Some("<="),
        Cmp::Gt => Some(">"),
        Cmp::Ge => Some(">="),
        Cmp::Eq | Cmp::Ne => None,
    };
    if let Some(operator) = ordering {
        let [value] = condition.values.as_slice() else {
            return Err(Error::Invalid(format!(
                "{} takes exactly one value",
                condition.field
            )));
        };
        if *value == SqlValue::Null {
            return Ok("1 = 0".to_owned());
        }
        let placeholder = out.bind(value)?;
        return Ok(format!("{compared} {operator} {placeholder}"));
    }
    let mut placeholders = Vec::new();
    for value in values {
        placeholders.push(out.bind(value)?);
    }
    let listed =
        (!placeholders.is_empty()).then(|| format!("{sql} IN ({})", placeholders.join(", ")));
    Ok(match condition.cmp {
        Cmp::Eq => {
            let mut any = Vec::new();
            any.extend(listed);
            if !nulls.is_empty() {
                any.push(format!("{sql} IS NULL"));
            }
            if any.is_empty() {
                "1 = 0".to_owned()
            } else {
                format!("({})", any.join(" OR "))
            }
        }
        _ => {
            let mut all = Vec::new();
            if let Some(listed) = listed {
                // SQL's NOT IN drops nulls; the engine lets them through.
                all.push(if column.nullable {
                    format!("({sql} IS NULL OR NOT {listed})")
                } else {
                    format!("NOT {listed}")
                });
            }
            if !nulls.is_empty() {
                all.push(format!("{sql} IS NOT NULL"));
            }
            if all.is_empty() {
                "1 = 1".to_owned()
            } else {
                format!("({})", all.join(" AND "))
            }
        }
    })
}

impl SqlStore {
    /// The ids of one page of `table` and the total, by the query.
    async fn list_ids(
        &self,
        table: &str,
        id: &str,
        columns: &[Column],
        query: &ListQuery,
    ) -> Result<(Vec<i64>, i64)> {
        let mut conn = self.read().await?;
        let count = clauses(self.backend(), columns, id, query)?;
        let total: i64 = sqlx::query_scalar_with(
            assembled(format!("SELECT COUNT(*) FROM {table}{}", count.filter)),
            count.arguments,
        )
        .fetch_one(&mut *conn)
        .await?;
        let page = clauses(self.backend(), columns, id, query)?;
        let limit = query.limit.unwrap_or(i64::MAX).max(0);
        let sql = format!(
            "SELECT {id} FROM {table}{}{} LIMIT {limit} OFFSET {}",
            page.filter,
            page.order,
            query.offset.max(0)
        );
        let rows = sqlx::query_with(assembled(sql), page.arguments)
            .fetch_all(&mut *conn)
            .await?;
        let ids = rows
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok((ids, total))
    }

    pub(crate) async fn list_builds_impl(&self, query: &ListQuery) -> Result<Listed<Build>> {
        let (ids, total) = self.list_ids("builds", "id", BUILD_COLUMNS, query).await?;
        let mut by_id = self.builds_by_ids(&ids).await?;
        let items = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        Ok(Listed { items, total })
    }

    pub(crate) async fn list_buildrequests_impl(
        &self,
        query: &ListQuery,
    ) -> Result<Listed<BuildRequest>> {
        let (ids, total) = self
            .list_ids("buildrequests", "id", BUILDREQUEST_COLUMNS, query)
            .await?;
        let mut by_id = self.buildrequests_by_ids(&ids).await?;
        let items = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        Ok(Listed { items, total })
    }

    pub(crate) async fn list_changes_impl(&self, query: &ListQuery) -> Result<Listed<Change>> {
        let (ids, total) = self
            .list_ids("changes", "changeid", CHANGE_COLUMNS, query)
            .await?;
        let mut by_id = self.changes_by_ids(&ids).await?;
        let items = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        Ok(Listed { items, total })
    }
}

/// Ids from the database itself, as a literal list (they are integers, never input).
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
