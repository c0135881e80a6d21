//! Logs: slugs, appends, overlong lines, ranges and compression.

use ferrobot_model::LogId;
use ferrobot_store::{AppendedLines, Error, Store};
use sqlx::{Connection, Row};

use crate::fixtures::{running_build, world};
use crate::harness::Ctx;

/// One line more than fits a stored line (64 KiB with its newline).
const OVERLONG: usize = 64 * 1024;

async fn a_log(store: &dyn Store, name: &str, log_type: &str) -> anyhow::Result<LogId> {
    let w = world(store).await?;
    let buildid = running_build(store, &w).await?;
    let (stepid, _, _) = store.add_step(buildid, "shell", "", w.claimant()).await?;
    Ok(store.add_log(stepid, name, log_type, w.claimant()).await?)
}

pub async fn log_slugs_are_unique_within_a_step(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let me = world(store).await?.claimant();
    let w = world(store).await?;
    let buildid = running_build(store, &w).await?;
    let (step1, _, _) = store.add_step(buildid, "test", "", me).await?;
    let (step2, _, _) = store.add_step(buildid, "lint", "", me).await?;
    let stdio = store.add_log(step1, "stdio", "s", me).await?;
    let stdio_again = store.add_log(step1, "stdio", "s", me).await?;
    let results = store.add_log(step1, "test results (xml)", "t", me).await?;
    let other_step = store.add_log(step2, "stdio", "s", me).await?;

    let slug = |logid| async move { anyhow::Ok(store.log(logid).await?.expect("exists").slug) };
    assert_eq!(slug(stdio).await?, "stdio");
    assert_eq!(slug(stdio_again).await?, "stdio_2");
    assert_eq!(slug(results).await?, "test_results__xml_");
    assert_eq!(slug(other_step).await?, "stdio");

    let log = store.log(results).await?.expect("exists");
    assert_eq!(
        (log.name.as_str(), log.stepid, log.log_type.as_str()),
        ("test results (xml)", step1, "t")
    );
    assert_eq!((log.complete, log.num_lines), (false, 0));
    let listed: Vec<LogId> = store
        .logs(step1)
        .await?
        .into_iter()
        .map(|l| l.logid)
        .collect();
    assert_eq!(listed, [stdio, stdio_again, results]);

    let bad = store.add_log(step1, "x", "stdio", me).await;
    assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
    Ok(())
}

pub async fn appended_lines_are_numbered_and_read_back(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let me = world(store).await?.claimant();
    let logid = a_log(store, "stdio", "s").await?;
    let mut expected = String::new();
    let mut next = 0;
    // Appends of many sizes, so that small chunks fill up and big ones span chunks.
    for (batch, size) in [1usize, 3, 250, 1, 1200, 40, 2500, 7]
        .into_iter()
        .enumerate()
    {
        let text: String = (0..size)
            .map(|i| format!("{}line {batch}.{i}\n", if i % 3 == 0 { 'e' } else { 'o' }))
            .collect();
        let appended = store.append_log(logid, &text, me).await?;
        assert_eq!(
            appended,
            AppendedLines {
                first_line: next,
                last_line: next + size as i64 - 1
            }
        );
        next += size as i64;
        expected.push_str(&text);
    }
    let log = store.log(logid).await?.expect("exists");
    assert_eq!(log.num_lines, next);
    assert_eq!(store.log_lines(logid, 0, next - 1).await?, expected);

    let lines: Vec<&str> = expected.split_inclusive('\n').collect();
    for (first, last) in [
        (0, 0),
        (3, 4),
        (250, 1500),
        (999, 1001),
        (next - 1, next - 1),
        (3990, 4001),
    ] {
        let want: String = lines[first as usize..=last as usize].concat();
        assert_eq!(
            store.log_lines(logid, first, last).await?,
            want,
            "lines {first}..={last}"
        );
    }
    assert_eq!(
        store.log_lines(logid, next - 2, next + 50).await?,
        lines[lines.len() - 2..].concat()
    );
    assert_eq!(store.log_lines(logid, next, next + 10).await?, "");
    assert_eq!(store.log_lines(logid, 5, 4).await?, "");

    store.finish_log(logid, me).await?;
    assert!(store.log(logid).await?.expect("exists").complete);
    let empty = store.append_log(logid, "", me).await?;
    assert_eq!(
        empty,
        AppendedLines {
            first_line: next,
            last_line: next - 1
        }
    );
    Ok(())
}

pub async fn overlong_lines_are_split_never_truncated(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let me = world(store).await?.claimant();
    let logid = a_log(store, "stdio", "s").await?;
    let body: String = (0..3 * OVERLONG + 100)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let appended = store
        .append_log(logid, &format!("ostart\ne{body}\noend\n"), me)
        .await?;
    assert_eq!(appended.first_line, 0);
    let num_lines = store.log(logid).await?.expect("exists").num_lines;
    assert_eq!(num_lines, appended.last_line + 1);
    assert_eq!(num_lines, 2 + 4, "the long line became four");

    let text = store.log_lines(logid, 0, num_lines - 1).await?;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!((lines[0], lines[5]), ("ostart\n", "oend\n"));
    let pieces = &lines[1..5];
    assert!(
        pieces
            .iter()
            .all(|l| l.starts_with('e') && l.len() <= OVERLONG),
        "each piece keeps its stream"
    );
    let rejoined: String = pieces.iter().map(|l| &l[1..l.len() - 1]).collect();
    assert_eq!(rejoined, body, "nothing lost");

    // A text log has no stream letters to keep.
    let text_log = a_log(store, "notes", "t").await?;
    store
        .append_log(text_log, &"x".repeat(OVERLONG), me)
        .await?;
    let stored = store.log_lines(text_log, 0, 10).await?;
    assert_eq!(stored.replace('\n', ""), "x".repeat(OVERLONG));
    assert_eq!(stored.lines().count(), 2);
    Ok(())
}

pub async fn log_chunks_are_compressed_when_it_pays(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let me = world(store).await?.claimant();
    let logid = a_log(store, "stdio", "s").await?;
    let repetitive = "ocompiling module frobnicator with optimisations enabled\n".repeat(3000);
    store.append_log(logid, &repetitive, me).await?;
    store.append_log(logid, "o!\n", me).await?;
    let expected = format!("{repetitive}o!\n");
    assert_eq!(store.log_lines(logid, 0, 3000).await?, expected);

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&ctx.sqlx_url).await?;
    let rows = sqlx::query(
        "SELECT first_line, compressed, content FROM logchunks WHERE logid = $1 ORDER BY first_line",
    )
    .bind(logid)
    .fetch_all(&mut conn)
    .await?;
    let mut stored = 0;
    for row in &rows {
        let first_line: i64 = row.try_get("first_line")?;
        let content: Vec<u8> = row.try_get("content")?;
        let compressed: i64 = row.try_get("compressed")?;
        if first_line < 3000 {
            assert_eq!(
                compressed, 1,
                "repetitive text is stored zlib-compressed (Buildbot's id 1)"
            );
        } else {
            assert_eq!(
                (compressed, content.as_slice()),
                (0, &b"o!\n"[..]),
                "3 bytes stay raw"
            );
        }
        stored += content.len();
    }
    assert!(rows.len() >= 4, "3000 lines fill several chunks");
    assert!(
        stored * 5 < expected.len(),
        "{stored} bytes stored for {} of text",
        expected.len()
    );
    conn.close().await?;
    Ok(())
}

pub async fn appending_to_an_unknown_log_is_not_found(ctx: Ctx) -> anyhow::Result<()> {
    let store = ctx.store.as_ref();
    let me = world(store).await?.claimant();
    let logid = a_log(store, "stdio", "s").await?;
    assert!(matches!(
        store.append_log(logid + 100, "ox\n", me).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.log_lines(logid + 100, 0, 1).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.finish_log(logid + 100, me).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.log(logid + 100).await?, None);
    Ok(())
}
