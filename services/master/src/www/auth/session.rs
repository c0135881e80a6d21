//! Signed session cookies (reference/buildbot.md §5.6, §5.9): a JWT (HS256) holding the user's
//! details and an expiry, signed with a secret that lives in the database. The secret is
//! created once for the whole cluster (`create_state_once`), so a cookie one `www` master set
//! is accepted by every other.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::context::Context;
use crate::www::auth::UserInfo;
use crate::{Error, Result};

/// Buildbot's cookie name over plain HTTP (`TWISTED_SECURE_SESSION` is its https name).
pub const COOKIE: &str = "TWISTED_SESSION";

/// Buildbot's default session lifetime (`www.cookie_expiration_time`): one week.
pub const LIFETIME_SECONDS: i64 = 7 * 24 * 3600;

/// Where the secret is kept: the same object and key as Buildbot's.
const SECRET_OBJECT: (&str, &str, &str) =
    ("www", "buildbot.www.service.WWWService", "session_secret");

/// The signing key, read from the database on first use.
#[derive(Default)]
pub struct Sessions {
    key: OnceCell<hmac::Key>,
}

impl Sessions {
    async fn key(&self, ctx: &Context) -> Result<&hmac::Key> {
        self.key
            .get_or_try_init(|| async {
                let mut bytes = [0u8; 16];
                SystemRandom::new()
                    .fill(&mut bytes)
                    .map_err(|_| Error::Internal("no randomness for the session secret".into()))?;
                let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let (object, class, key) = SECRET_OBJECT;
                let stored = ctx
                    .store
                    .create_state_once(object, class, key, &json!(fresh))
                    .await?;
                let secret = stored.as_str().ok_or_else(|| {
                    Error::Internal("the stored session secret is not a string".into())
                })?;
                Ok(hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()))
            })
            .await
    }

    /// A signed token for the user, valid until `expires` (epoch seconds).
    pub async fn sign(&self, ctx: &Context, user: &UserInfo, expires: i64) -> Result<String> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = json!({ "user_info": user.to_json(), "exp": expires });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let tag = hmac::sign(self.key(ctx).await?, signed.as_bytes());
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())))
    }

    /// The user of a token, if its signature holds and it has not expired.
    pub async fn verify(&self, ctx: &Context, token: &str, now: i64) -> Result<Option<UserInfo>> {
        let Some((signed, tag)) = token.rsplit_once('.') else {
            return Ok(None);
        };
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return Ok(None);
        };
        if hmac::verify(self.key(ctx).await?, signed.as_bytes(), &tag).is_err() {
            return Ok(None);
        }
        let claims = signed
            .split_once('.')
            .and_then(|(_, claims)| URL_SAFE_NO_PAD.decode(claims).ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        let Some(claims) = claims else {
            return Ok(None);
        };
        if claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_none_or(|exp| exp <= now)
        {
            return Ok(None);
        }
        Ok(claims.get("user_info").and_then(UserInfo::from_json))
    }
}

/// The session token among the request's cookies.
pub fn token_from(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}
