//! `util.Secret("name")` with `c['secretsProviders'] = [secrets.SecretInAFile(dirname=...)]`:
//! values read from one file per secret when the config loads, unknown secrets a config error
//! naming them and where they are used, values never shown.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{BASE, assert_mentions, error, load};
use ferrobot_config::ReporterConfig;

/// Writes secret file `name` with `content`, readable by its owner only.
fn secret_file(dir: &Path, name: &str, content: &str) {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write the secret");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn config_using(dir: &Path, reporters: &str) -> String {
    format!(
        "{BASE}c['services'] = [{reporters}]\n\
         c['secretsProviders'] = [secrets.SecretInAFile(dirname={:?})]\n",
        dir.display().to_string()
    )
}

#[test]
fn secrets_fill_passwords_and_tokens_with_trailing_newlines_stripped() {
    let dir = tempfile::tempdir().expect("tempdir");
    secret_file(dir.path(), "smtp", "s3cret\n");
    secret_file(dir.path(), "gh", "ghp_token\r\n");
    secret_file(dir.path(), "hook", "pw  ");
    // The providers come after the reporters in the file: the order does not matter.
    let cfg = load(&config_using(
        dir.path(),
        "reporters.MailNotifier('ci@example.org', smtpUser='ci', \
         smtpPassword=util.Secret('smtp')), \
         reporters.GitHubStatusPush(token=util.Secret('gh')), \
         reporters.HttpStatusPush('http://x', auth=('ci', util.Secret('hook')))",
    ));
    let [
        ReporterConfig::MailNotifier(mail),
        ReporterConfig::GitHubStatusPush(github),
        ReporterConfig::HttpStatusPush(hook),
    ] = cfg.reporters.as_slice()
    else {
        panic!("three reporters: {:?}", cfg.reporters);
    };
    assert_eq!(
        mail.smtp_password.as_ref().map(|p| p.expose()),
        Some("s3cret")
    );
    assert_eq!(github.token.expose(), "ghp_token");
    assert_eq!(hook.password.as_ref().map(|p| p.expose()), Some("pw  "));
    let shown = format!("{:?}", cfg.reporters);
    for value in ["s3cret", "ghp_token", "pw  "] {
        assert!(!shown.contains(value), "{value} shown in {shown}");
    }
    assert!(shown.contains("Secret(\"gh\")"), "{shown}");
    let dumped = serde_json::to_string(&cfg.reporters).expect("serialisable");
    assert!(
        !dumped.contains("s3cret") && !dumped.contains("ghp_token"),
        "{dumped}"
    );
}

#[test]
fn suffixes_and_strip_false_are_buildbots() {
    let dir = tempfile::tempdir().expect("tempdir");
    secret_file(dir.path(), "gh.txt", "tok\n");
    let cfg = load(&format!(
        "{BASE}c['secretsProviders'] = [secrets.SecretInAFile({:?}, suffixes=['.txt'], strip=False)]\n\
         c['services'] = [reporters.GitHubStatusPush(util.Secret('gh'))]\n",
        dir.path().display().to_string()
    ));
    let [ReporterConfig::GitHubStatusPush(github)] = cfg.reporters.as_slice() else {
        panic!("one reporter");
    };
    assert_eq!(github.token.expose(), "tok\n");
}

#[test]
fn an_unknown_secret_is_an_error_naming_it_and_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let message = error(&config_using(
        dir.path(),
        "reporters.GitLabStatusPush(token=util.Secret('gitlab_token'))",
    ));
    assert_mentions(
        &message,
        &["master.cfg:5:", "unknown secret \"gitlab_token\""],
    );
}

#[test]
fn open_permissions_and_missing_directories_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("smtp");
    std::fs::write(&path, "pw").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let message = error(&config_using(
        dir.path(),
        "reporters.MailNotifier('ci@example.org', smtpUser='u', smtpPassword=util.Secret('smtp'))",
    ));
    assert_mentions(&message, &["secret \"smtp\"", "are too open"]);
    assert!(!message.contains("pw\""), "{message}");
    let message = error(&config_using(
        &dir.path().join("nowhere"),
        "reporters.GitHubStatusPush(util.Secret('gh'))",
    ));
    assert_mentions(
        &message,
        &["secrets.SecretInAFile directory", "does not exist"],
    );
    assert_mentions(
        &error(&format!(
            "{BASE}c['secretsProviders'] = [util.Secret('x')]\n"
        )),
        &["c['secretsProviders'][0] must be a secrets provider"],
    );
}
