//! The file steps end to end through a real worker: directories made and removed, properties
//! from commands, commands run on the master, and files and directories copied both ways.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ferrobot_integration_tests::Sandbox;
use serde_json::{Value, json};

/// One builder `files` forced by `force`, with the given `f.addStep(...)` arguments.
fn one_builder(steps: &[&str]) -> String {
    let mut body = String::from("f = util.BuildFactory()\n");
    for step in steps {
        body.push_str(&format!("f.addStep({step})\n"));
    }
    body.push_str(
        "c['builders'] = [util.BuilderConfig(name='files', workernames=['w1'], factory=f)]\n\
         c['schedulers'] = [schedulers.ForceScheduler(name='force', builderNames=['files'])]\n",
    );
    crate::config(&body)
}

/// Runs one build of `files` and returns it with its configured steps' (name, results).
async fn build(sandbox: &Sandbox) -> anyhow::Result<(Value, Vec<(String, i64)>)> {
    let build = sandbox
        .wait_request_done(sandbox.force("files").await?)
        .await?;
    let steps = sandbox
        .get(&format!("/builds/{}/steps", build["buildid"]))
        .await?;
    let steps = steps["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["name"] != json!("worker_preparation"))
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_owned(),
                s["results"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    Ok((build, steps))
}

fn mode_of(path: &Path) -> anyhow::Result<u32> {
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o7777)
}

#[tokio::test]
async fn directory_property_and_master_steps_do_what_buildbot_does() -> anyhow::Result<()> {
    let cfg = one_builder(&[
        "steps.MakeDirectory(dir='build/made/deep')",
        "steps.ShellCommand(name='made', command='test -d made/deep')",
        "steps.SetPropertyFromCommand(command=\"printf '  comp%s  \\\\n' uted\", property='answer')",
        "steps.SetPropertyFromCommand(name='raw', command=['printf', ' x '], property='unstripped', strip=False)",
        "steps.MasterShellCommand(command='echo master-$((6*7)) | tee ms.txt; echo oops >&2')",
        "steps.MasterShellCommand(name='in sub', command=['pwd'], workdir='sub', env={'X': '1'}, haltOnFailure=False)",
        "steps.RemoveDirectory(dir='build/made')",
        "steps.ShellCommand(name='removed', command='test ! -e made')",
    ]);
    let sandbox = Sandbox::start(&cfg).await?;
    std::fs::create_dir(sandbox.dir.path().join("sub"))?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let (build, steps) = build(&sandbox).await?;
    assert_eq!(build["results"], json!(0), "{build} {steps:?}");
    let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "MakeDirectory",
            "made",
            "setproperty",
            "raw",
            "MasterShellCommand",
            "in sub",
            "RemoveDirectory",
            "removed"
        ]
    );
    let buildid = build["buildid"].as_i64().expect("buildid");
    let properties = sandbox
        .get(&format!("/builds/{buildid}/properties"))
        .await?;
    assert_eq!(
        properties["properties"][0]["answer"],
        json!(["computed", "SetPropertyFromCommand Step"])
    );
    assert_eq!(properties["properties"][0]["unstripped"][0], json!(" x "));
    let log = sandbox.build_log_text(buildid).await?;
    assert!(log.contains("master-42\n"), "{log}");
    assert!(log.contains("oops\n"), "{log}");
    // The command ran in the master directory's `sub`, not in the worker's workdir.
    assert!(log.contains("/sub\n"), "{log}");
    assert_eq!(
        std::fs::read_to_string(sandbox.dir.path().join("ms.txt"))?,
        "master-42\n"
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn files_and_directories_travel_both_ways_with_identical_bytes() -> anyhow::Result<()> {
    let cfg = one_builder(&[
        "steps.StringDownload('hello\\nworld\\n', workerdest='sub/greeting.txt', mode=0o750)",
        "steps.ShellCommand(name='show', command='cat sub/greeting.txt; stat -c mode=%a sub/greeting.txt')",
        "steps.ShellCommand(name='make', command='head -c 100000 /dev/urandom > blob.bin; mkdir -p tree/sub; echo a > tree/a.txt; cp blob.bin tree/sub/b.bin; ln -s a.txt tree/link')",
        "steps.FileUpload(workersrc='blob.bin', masterdest='uploads/blob.bin', blocksize=1000, mode=0o640, keepstamp=True)",
        "steps.FileDownload(mastersrc='uploads/blob.bin', workerdest='copy.bin', mode=0o700)",
        "steps.ShellCommand(name='compare', command='cmp blob.bin copy.bin && stat -c copy=%a copy.bin')",
        "steps.DirectoryUpload(workersrc='tree', masterdest='trees/plain')",
        "steps.DirectoryUpload(name='gz', workersrc='tree', masterdest='trees/gz', compress='gz')",
        "steps.DirectoryUpload(name='bz2', workersrc='tree', masterdest=TREES + '/bz2', compress='bz2', blocksize=512)",
    ]);
    let absolute = tempfile::tempdir()?;
    let cfg = cfg.replace(
        "f = util.BuildFactory()",
        &format!(
            "TREES = {:?}\nf = util.BuildFactory()",
            absolute.path().display().to_string()
        ),
    );
    let sandbox = Sandbox::start(&cfg).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let (build, steps) = build(&sandbox).await?;
    assert_eq!(build["results"], json!(0), "{build} {steps:?}");
    let log = sandbox
        .build_log_text(build["buildid"].as_i64().expect("buildid"))
        .await?;
    assert!(log.contains("hello\nworld\nmode=750\n"), "{log}");
    assert!(log.contains("copy=700\n"), "{log}");

    let workdir = worker.basedir.join("files/build");
    let blob = std::fs::read(workdir.join("blob.bin"))?;
    assert_eq!(blob.len(), 100_000);
    let uploaded = sandbox.dir.path().join("uploads/blob.bin");
    assert!(std::fs::read(&uploaded)? == blob, "uploaded bytes differ");
    assert_eq!(mode_of(&uploaded)?, 0o640);
    let worker_mtime = std::fs::metadata(workdir.join("blob.bin"))?.modified()?;
    // The times travel as float seconds (as Buildbot's), exact to well under a millisecond.
    let uploaded_mtime = std::fs::metadata(&uploaded)?.modified()?;
    let skew = uploaded_mtime
        .duration_since(worker_mtime)
        .or_else(|e| Ok::<_, anyhow::Error>(e.duration()))?;
    assert!(skew < std::time::Duration::from_millis(1), "{skew:?}");
    // No temporary file is left beside the destination.
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.dir.path().join("uploads"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers, ["blob.bin"]);

    for tree in [
        sandbox.dir.path().join("trees/plain"),
        sandbox.dir.path().join("trees/gz"),
        absolute.path().join("bz2"),
    ] {
        assert_eq!(
            std::fs::read_to_string(tree.join("a.txt"))?,
            "a\n",
            "{tree:?}"
        );
        assert!(std::fs::read(tree.join("sub/b.bin"))? == blob, "{tree:?}");
        assert_eq!(std::fs::read_link(tree.join("link"))?, Path::new("a.txt"));
    }
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn transfers_over_maxsize_or_without_a_source_fail_their_step() -> anyhow::Result<()> {
    let cfg = one_builder(&[
        "steps.ShellCommand(name='make', command='head -c 100 /dev/zero > big')",
        "steps.FileUpload(workersrc='big', masterdest='big.out', maxsize=10, haltOnFailure=False)",
        "steps.FileUpload(name='missing', workersrc='nothing-here', masterdest='none.out', haltOnFailure=False)",
        "steps.FileDownload(mastersrc='twelve.txt', workerdest='small', maxsize=5, haltOnFailure=False)",
        "steps.FileDownload(name='no source', mastersrc='absent.txt', workerdest='x', haltOnFailure=False)",
        "steps.MasterShellCommand(command='exit 3', haltOnFailure=False)",
        "steps.ShellCommand(name='after', command='echo size=$(stat -c %s small)')",
    ]);
    let sandbox = Sandbox::start(&cfg).await?;
    std::fs::write(sandbox.dir.path().join("twelve.txt"), "twelve bytes")?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let (build, steps) = build(&sandbox).await?;
    assert_eq!(build["results"], json!(2), "{build}");
    let results: Vec<i64> = steps.iter().map(|(_, r)| *r).collect();
    assert_eq!(results, [0, 2, 2, 2, 2, 2, 0], "{steps:?}");
    assert!(!sandbox.dir.path().join("big.out").exists());
    assert!(!sandbox.dir.path().join("none.out").exists());
    let temporaries: Vec<_> = std::fs::read_dir(sandbox.dir.path())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".ferrobot-upload-"))
        .collect();
    assert!(temporaries.is_empty(), "left behind: {temporaries:?}");
    let log = sandbox
        .build_log_text(build["buildid"].as_i64().expect("buildid"))
        .await?;
    assert!(log.contains("Maximum filesize reached"), "{log}");
    assert!(log.contains("not available at master"), "{log}");
    // As Buildbot, a download cut at maxsize keeps the truncated file.
    assert!(log.contains("size=5\n"), "{log}");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn stopping_a_build_kills_its_master_shell_command() -> anyhow::Result<()> {
    // Without the stop the build would take ten minutes: the test ends only if it is killed.
    let cfg = one_builder(&[
        "steps.MasterShellCommand(command='echo started; sleep 600; touch survived')",
    ]);
    let sandbox = Sandbox::start(&cfg).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let brid = sandbox.force("files").await?;
    let buildid = sandbox.wait_build_log(brid, "started").await?;
    sandbox.stop_build(buildid).await?;
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(build["results"], json!(6), "CANCELLED: {build}");
    let log = sandbox.build_log_text(buildid).await?;
    assert!(log.contains("interrupted: the build was stopped"), "{log}");
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
