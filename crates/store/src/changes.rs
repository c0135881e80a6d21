//! Changes and source stamps.

use std::collections::BTreeMap;

use ferrobot_model::{BuildId, Change, ChangeId, Patch, Properties, SourceStamp, SourceStampId};
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{SqlStore, assembled, hash_columns, properties_from_rows, property_json};
use crate::{Error, NewChange, NewSourceStamp, Result};

const SOURCESTAMP_SELECT: &str = "SELECT ss.id, ss.branch, ss.revision, ss.repository, \
     ss.codebase, ss.project, ss.created_at, ss.patchid, p.patchlevel, p.patch_base64, \
     p.patch_author, p.patch_comment, p.subdir \
     FROM sourcestamps ss LEFT JOIN patches p ON p.id = ss.patchid";

const CHANGE_COLUMNS: &str = "changeid, author, committer, comments, branch, revision, revlink, \
     when_timestamp, category, repository, codebase, project, sourcestampid, parent_changeids";

impl SqlStore {
    pub(crate) async fn add_change_impl(&self, change: &NewChange) -> Result<Change> {
        let mut tx = self.write().await?;
        let stamp = NewSourceStamp {
            branch: change.branch.clone(),
            revision: change.revision.clone(),
            repository: change.repository.clone(),
            project: change.project.clone(),
            codebase: change.codebase.clone(),
        };
        let ssid = find_or_create_sourcestamp(&mut tx, &stamp, ferrobot_model::now_epoch()).await?;
        // Buildbot's getParentChangeIds: the newest change on the same line of development
        // (NULL branch matches NULL branch).
        let parent: Option<ChangeId> = sqlx::query_scalar(
            "SELECT changeid FROM changes WHERE (branch = $1 OR (branch IS NULL AND $1 IS NULL)) \
             AND repository = $2 AND project = $3 AND codebase = $4 \
             ORDER BY changeid DESC LIMIT 1",
        )
        .bind(change.branch.as_deref())
        .bind(&change.repository)
        .bind(&change.project)
        .bind(&change.codebase)
        .fetch_optional(&mut *tx)
        .await?;
        let changeid: ChangeId = sqlx::query_scalar(
            "INSERT INTO changes (author, committer, comments, branch, revision, revlink, \
             when_timestamp, category, repository, codebase, project, sourcestampid, \
             parent_changeids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             RETURNING changeid",
        )
        .bind(&change.author)
        .bind(change.committer.as_deref())
        .bind(&change.comments)
        .bind(change.branch.as_deref())
        .bind(change.revision.as_deref())
        .bind(change.revlink.as_deref())
        .bind(change.when_timestamp)
        .bind(change.category.as_deref())
        .bind(&change.repository)
        .bind(&change.codebase)
        .bind(&change.project)
        .bind(ssid)
        .bind(parent)
        .fetch_one(&mut *tx)
        .await?;
        for file in &change.files {
            sqlx::query("INSERT INTO change_files (changeid, filename) VALUES ($1, $2)")
                .bind(changeid)
                .bind(file)
                .execute(&mut *tx)
                .await?;
        }
        for (name, value) in &change.properties {
            sqlx::query(
                "INSERT INTO change_properties (changeid, property_name, property_value) \
                 VALUES ($1, $2, $3)",
            )
            .bind(changeid)
            .bind(name)
            .bind(property_json(value, "Change")?)
            .execute(&mut *tx)
            .await?;
        }
        let stored = load_changes(&mut tx, ChangeSel::One(changeid)).await?.pop();
        tx.commit().await?;
        stored.ok_or_else(|| Error::Corrupt(format!("change {changeid} vanished while adding it")))
    }

    pub(crate) async fn change_impl(&self, changeid: ChangeId) -> Result<Option<Change>> {
        let mut conn = self.read().await?;
        Ok(load_changes(&mut conn, ChangeSel::One(changeid))
            .await?
            .pop())
    }

    pub(crate) async fn changes_impl(&self, limit: Option<i64>) -> Result<Vec<Change>> {
        let mut conn = self.read().await?;
        load_changes(
            &mut conn,
            ChangeSel::Newest(limit.unwrap_or(i64::MAX).max(0)),
        )
        .await
    }

    pub(crate) async fn changes_for_build_impl(&self, buildid: BuildId) -> Result<Vec<Change>> {
        let mut conn = self.read().await?;
        load_changes(&mut conn, ChangeSel::ForBuild(buildid)).await
    }

    /// The changes with these ids (any order, missing ones left out).
    pub(crate) async fn changes_by_ids(
        &self,
        ids: &[ChangeId],
    ) -> Result<std::collections::HashMap<ChangeId, Change>> {
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let mut conn = self.read().await?;
        let changes = load_changes(&mut conn, ChangeSel::Ids(crate::listing::id_list(ids))).await?;
        Ok(changes.into_iter().map(|c| (c.changeid, c)).collect())
    }

    pub(crate) async fn sourcestamp_impl(
        &self,
        ssid: SourceStampId,
    ) -> Result<Option<SourceStamp>> {
        let mut conn = self.read().await?;
        let sql = format!("{SOURCESTAMP_SELECT} WHERE ss.id = $1");
        let row = sqlx::query(assembled(sql))
            .bind(ssid)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(sourcestamp_from_row).transpose()
    }

    pub(crate) async fn sourcestamps_impl(&self) -> Result<Vec<SourceStamp>> {
        let mut conn = self.read().await?;
        let sql = format!("{SOURCESTAMP_SELECT} ORDER BY ss.id DESC");
        let rows = sqlx::query(assembled(sql)).fetch_all(&mut *conn).await?;
        rows.iter().map(sourcestamp_from_row).collect()
    }
}

/// Finds the source stamp with exactly these fields (Buildbot's `ss_hash`) or creates it.
pub(crate) async fn find_or_create_sourcestamp(
    conn: &mut AnyConnection,
    stamp: &NewSourceStamp,
    created_at: i64,
) -> Result<SourceStampId> {
    let hash = hash_columns(&[
        stamp.branch.as_deref(),
        stamp.revision.as_deref(),
        Some(&stamp.repository),
        Some(&stamp.project),
        Some(&stamp.codebase),
        None, // no patch
    ]);
    sqlx::query(
        "INSERT INTO sourcestamps (ss_hash, branch, revision, repository, codebase, project, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ss_hash) DO NOTHING",
    )
    .bind(&hash)
    .bind(stamp.branch.as_deref())
    .bind(stamp.revision.as_deref())
    .bind(&stamp.repository)
    .bind(&stamp.codebase)
    .bind(&stamp.project)
    .bind(created_at)
    .execute(&mut *conn)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM sourcestamps WHERE ss_hash = $1")
            .bind(&hash)
            .fetch_one(conn)
            .await?,
    )
}

/// The source stamps of buildsets, in the order they were attached, keyed by buildset.
/// `filter` is a condition on `bss.buildsetid` with one parameter, `$1`, bound to `param`.
pub(crate) async fn load_buildset_sourcestamps(
    conn: &mut AnyConnection,
    filter: &str,
    param: Option<i64>,
) -> Result<BTreeMap<i64, Vec<SourceStamp>>> {
    let sql = format!(
        "SELECT bss.buildsetid, s.* FROM buildset_sourcestamps bss \
         JOIN ({SOURCESTAMP_SELECT}) s ON s.id = bss.sourcestampid \
         WHERE {filter} ORDER BY bss.id"
    );
    let rows = sqlx::query(assembled(sql))
        .bind(param)
        .fetch_all(conn)
        .await?;
    let mut stamps: BTreeMap<i64, Vec<SourceStamp>> = BTreeMap::new();
    for row in &rows {
        stamps
            .entry(row.try_get("buildsetid")?)
            .or_default()
            .push(sourcestamp_from_row(row)?);
    }
    Ok(stamps)
}

fn sourcestamp_from_row(row: &AnyRow) -> Result<SourceStamp> {
    let ssid: SourceStampId = row.try_get("id")?;
    let patchid: Option<i64> = row.try_get("patchid")?;
    let patch = match patchid {
        None => None,
        Some(patchid) => {
            let encoded: String = row.try_get("patch_base64")?;
            let body = decode_base64(&encoded)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| Error::Corrupt(format!("patch {patchid} is not base64 text")))?;
            Some(Patch {
                patchid,
                body,
                level: row.try_get("patchlevel")?,
                subdir: row.try_get("subdir")?,
                author: row.try_get("patch_author")?,
                comment: row.try_get("patch_comment")?,
            })
        }
    };
    Ok(SourceStamp {
        ssid,
        revision: row.try_get("revision")?,
        branch: row.try_get("branch")?,
        repository: row.try_get("repository")?,
        project: row.try_get("project")?,
        codebase: row.try_get("codebase")?,
        patch,
        created_at: row.try_get("created_at")?,
    })
}

/// Which changes to load.
enum ChangeSel {
    One(ChangeId),
    /// A literal id list from [`crate::listing::id_list`].
    Ids(String),
    Newest(i64),
    ForBuild(BuildId),
}

impl ChangeSel {
    /// A subquery selecting the change ids (parameter `$1`), and the listing order.
    fn subquery(&self) -> (std::borrow::Cow<'static, str>, i64, &'static str) {
        match self {
            ChangeSel::One(id) => (
                "SELECT changeid FROM changes WHERE changeid = $1".into(),
                *id,
                "ASC",
            ),
            // `$1 = $1` keeps the one parameter every query of `load_changes` binds.
            ChangeSel::Ids(ids) => (
                format!("SELECT changeid FROM changes WHERE changeid IN ({ids}) AND $1 = $1")
                    .into(),
                0,
                "ASC",
            ),
            ChangeSel::Newest(limit) => (
                "SELECT changeid FROM changes ORDER BY changeid DESC LIMIT $1".into(),
                *limit,
                "DESC",
            ),
            ChangeSel::ForBuild(buildid) => (
                "SELECT changeid FROM changes WHERE sourcestampid IN \
                 (SELECT bss.sourcestampid FROM builds b \
                 JOIN buildrequests br ON br.id = b.buildrequestid \
                 JOIN buildset_sourcestamps bss ON bss.buildsetid = br.buildsetid \
                 WHERE b.id = $1)"
                    .into(),
                *buildid,
                "ASC",
            ),
        }
    }
}

/// Loads whole changes (files, properties, source stamp) in four queries, whatever their number.
async fn load_changes(conn: &mut AnyConnection, sel: ChangeSel) -> Result<Vec<Change>> {
    let (sub, param, order) = sel.subquery();
    let fetch = |sql: String| sqlx::query(assembled(sql)).bind(param);
    let rows = fetch(format!(
        "SELECT {CHANGE_COLUMNS} FROM changes WHERE changeid IN ({sub}) ORDER BY changeid {order}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let file_rows = fetch(format!(
        "SELECT changeid, filename FROM change_files WHERE changeid IN ({sub}) ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let property_rows = fetch(format!(
        "SELECT changeid, property_name, property_value FROM change_properties \
         WHERE changeid IN ({sub})"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let stamp_rows = fetch(format!(
        "{SOURCESTAMP_SELECT} WHERE ss.id IN \
         (SELECT sourcestampid FROM changes WHERE changeid IN ({sub}))"
    ))
    .fetch_all(&mut *conn)
    .await?;

    let mut files: BTreeMap<ChangeId, Vec<String>> = BTreeMap::new();
    for row in &file_rows {
        files
            .entry(row.try_get("changeid")?)
            .or_default()
            .push(row.try_get("filename")?);
    }
    let mut property_rows_by_change: BTreeMap<ChangeId, Vec<AnyRow>> = BTreeMap::new();
    for row in property_rows {
        property_rows_by_change
            .entry(row.try_get("changeid")?)
            .or_default()
            .push(row);
    }
    let mut stamps: BTreeMap<SourceStampId, SourceStamp> = BTreeMap::new();
    for row in &stamp_rows {
        let stamp = sourcestamp_from_row(row)?;
        stamps.insert(stamp.ssid, stamp);
    }
    rows.iter()
        .map(|row| {
            let changeid: ChangeId = row.try_get("changeid")?;
            let ssid: SourceStampId = row.try_get("sourcestampid")?;
            let properties: Properties = match property_rows_by_change.get(&changeid) {
                Some(rows) => properties_from_rows(rows, "property_name", "property_value")?,
                None => Properties::new(),
            };
            let parent: Option<ChangeId> = row.try_get("parent_changeids")?;
            Ok(Change {
                changeid,
                parent_changeids: parent.into_iter().collect(),
                author: row.try_get("author")?,
                committer: row.try_get("committer")?,
                files: files.remove(&changeid).unwrap_or_default(),
                comments: row.try_get("comments")?,
                revision: row.try_get("revision")?,
                when_timestamp: row.try_get("when_timestamp")?,
                branch: row.try_get("branch")?,
                category: row.try_get("category")?,
                revlink: row.try_get("revlink")?,
                properties,
                repository: row.try_get("repository")?,
                project: row.try_get("project")?,
                codebase: row.try_get("codebase")?,
                sourcestamp: stamps.get(&ssid).cloned().ok_or_else(|| {
                    Error::Corrupt(format!("change {changeid} has no source stamp {ssid}"))
                })?,
            })
        })
        .collect()
}

/// Standard base64 (Buildbot stores patches so); whitespace and padding are ignored.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for byte in text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
    {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xFF) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_patches_decode() {
        assert_eq!(
            decode_base64("aGVsbG8gd29ybGQ=").as_deref(),
            Some(&b"hello world"[..])
        );
        assert_eq!(decode_base64("YQ==\n").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("not*base64"), None);
    }
}
