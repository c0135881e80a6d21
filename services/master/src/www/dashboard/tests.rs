//! The dashboard's files are all built in and served with their types; the override directory
//! cannot be escaped.

use std::path::Path;

use super::*;

fn files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("the www directory is readable") {
        let entry = entry.expect("a directory entry");
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

#[test]
fn every_file_of_the_www_directory_is_built_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
    let mut files = Vec::new();
    files_under(&dir, "", &mut files);
    for file in &files {
        assert!(
            assets::built_in(file).is_some(),
            "{file} is missing from dashboard/assets.rs"
        );
    }
    assert_eq!(files.len(), assets::ASSETS.len());
}

#[test]
fn asset_types_follow_the_extension() {
    assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
    assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
    assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
    assert_eq!(content_type("icon.svg"), "image/svg+xml");
}

#[test]
fn the_override_directory_cannot_be_left() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("app.js"), "export {};").expect("write");
    assert_eq!(
        read_from(dir.path(), "app.js").expect("readable"),
        Some(b"export {};".to_vec())
    );
    assert_eq!(read_from(dir.path(), "missing.js").expect("no error"), None);
    for escape in ["../secret", "/etc/passwd", "pages/../../x"] {
        let error = read_from(dir.path(), escape).expect_err("refused");
        assert!(error.to_string().contains(escape), "{error}");
    }
}
