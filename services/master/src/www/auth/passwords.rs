//! Checking a user's password: against master.cfg (`util.UserPasswordAuth`) or an htpasswd
//! file (`util.HTPasswdAuth`) in the forms `htpasswd` writes: bcrypt (`-B`, `$2y$`) and SHA-1
//! (`-s`, `{SHA}`). MD5 (`$apr1$`, htpasswd's default) and crypt lines are refused by name.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ferrobot_config::WwwAuthConfig;

use crate::{Error, Result};

/// Whether `password` is the password of `username`. Unknown users are simply refused; a
/// broken password file is an error naming the file and line.
pub async fn check(
    auth: &WwwAuthConfig,
    basedir: &Path,
    username: &str,
    password: &str,
) -> Result<bool> {
    match auth {
        WwwAuthConfig::NoAuth => Ok(false),
        WwwAuthConfig::UserPassword { users } => Ok(users
            .iter()
            .any(|u| u.username == username && same(u.password.as_bytes(), password.as_bytes()))),
        WwwAuthConfig::HtPasswd { file } => {
            let path = basedir.join(file);
            let text = tokio::fs::read_to_string(&path).await.map_err(|e| {
                Error::Internal(format!("cannot read htpasswd file {}: {e}", path.display()))
            })?;
            let Some((number, hash)) = text.lines().enumerate().find_map(|(i, line)| {
                let (name, hash) = line.trim_end().split_once(':')?;
                (name == username).then_some((i + 1, hash.to_owned()))
            }) else {
                return Ok(false);
            };
            let password = password.to_owned();
            let where_ = format!("{}:{number}", path.display());
            // bcrypt is slow on purpose; keep it off the async threads.
            tokio::task::spawn_blocking(move || htpasswd_matches(&hash, &password, &where_))
                .await
                .map_err(|e| Error::Internal(format!("password check failed: {e}")))?
        }
    }
}

/// One htpasswd hash against a password; `where_` names the line for errors.
pub fn htpasswd_matches(hash: &str, password: &str, where_: &str) -> Result<bool> {
    if let Some(digest) = hash.strip_prefix("{SHA}") {
        let expected = STANDARD
            .decode(digest)
            .map_err(|_| Error::Internal(format!("{where_}: bad base64 in the {{SHA}} hash")))?;
        let actual =
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes());
        return Ok(same(&expected, actual.as_ref()));
    }
    if hash.starts_with("$2") {
        return bcrypt::verify(password, hash)
            .map_err(|e| Error::Internal(format!("{where_}: bad bcrypt hash: {e}")));
    }
    let form = if hash.starts_with("$apr1$") {
        "MD5 ($apr1$)"
    } else {
        "crypt"
    };
    Err(Error::Internal(format!(
        "{where_}: {form} htpasswd lines are not supported; write them with `htpasswd -B` \
         (bcrypt) or `htpasswd -s` ({{SHA}})"
    )))
}

/// Equality that takes as long whatever the first differing byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_lines_match_their_password_only() {
        // `htpasswd -nbs alice secret`.
        let hash = "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=";
        assert!(htpasswd_matches(hash, "secret", "f:1").expect("valid"));
        assert!(!htpasswd_matches(hash, "Secret", "f:1").expect("valid"));
    }

    #[test]
    fn bcrypt_lines_in_htpasswds_2y_form_match() {
        let hash = bcrypt::hash("pw", 4)
            .expect("hash")
            .replacen("$2b$", "$2y$", 1);
        assert!(htpasswd_matches(&hash, "pw", "f:1").expect("valid"));
        assert!(!htpasswd_matches(&hash, "px", "f:1").expect("valid"));
    }

    #[test]
    fn md5_lines_are_refused_with_a_hint() {
        let error = htpasswd_matches("$apr1$abc$def", "pw", "htpasswd:3").expect_err("refused");
        let message = error.to_string();
        assert!(
            message.contains("htpasswd:3") && message.contains("htpasswd -B"),
            "{message}"
        );
    }
}
