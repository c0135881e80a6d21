//! Web authentication (reference/buildbot.md §5.9): `GET /auth/login` with HTTP Basic
//! credentials checks them against `c['www']['auth']` and sets a signed session cookie;
//! `GET /auth/logout` clears it. Every request's user comes from that cookie (none, or a bad
//! one, means anonymous).

mod passwords;
mod session;

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ferrobot_config::WwwAuthConfig;
use ferrobot_model::now_epoch;
use serde_json::{Map, Value, json};

pub use session::Sessions;

use crate::Result;
use crate::context::Context;

/// Who is making a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// The login name; None = anonymous.
    pub username: Option<String>,
    /// The full name shown in the UI.
    pub full_name: Option<String>,
    /// The email address, when the login name is one.
    pub email: Option<String>,
    /// Groups (for `util.RolesFromGroups`).
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user who logged in with this name.
    pub fn named(username: &str) -> UserInfo {
        UserInfo {
            username: Some(username.to_owned()),
            full_name: Some(username.to_owned()),
            email: username.contains('@').then(|| username.to_owned()),
            groups: Vec::new(),
        }
    }

    /// The frontend config's `user`: `{"anonymous": true}` or the user's details.
    pub fn to_json(&self) -> Value {
        let Some(username) = &self.username else {
            return json!({ "anonymous": true });
        };
        let mut user = Map::new();
        user.insert("username".into(), json!(username));
        if let Some(full_name) = &self.full_name {
            user.insert("full_name".into(), json!(full_name));
        }
        if let Some(email) = &self.email {
            user.insert("email".into(), json!(email));
        }
        user.insert("groups".into(), json!(self.groups));
        Value::Object(user)
    }

    /// Reads what [`UserInfo::to_json`] wrote.
    pub fn from_json(value: &Value) -> Option<UserInfo> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let username = text("username")?;
        let groups = value
            .get("groups")
            .and_then(Value::as_array)
            .map(|g| {
                g.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Some(UserInfo {
            username: Some(username),
            full_name: text("full_name"),
            email: text("email"),
            groups,
        })
    }

    /// The owner Buildbot records for actions of this user: email, else name, else
    /// "anonymous".
    pub fn owner(&self) -> Option<String> {
        self.email.clone().or_else(|| self.username.clone())
    }
}

/// The user of a request, from its session cookie.
pub async fn current_user(ctx: &Context, sessions: &Sessions, headers: &HeaderMap) -> UserInfo {
    if matches!(ctx.config().www.auth, WwwAuthConfig::NoAuth) {
        return UserInfo::default();
    }
    let Some(token) = session::token_from(headers) else {
        return UserInfo::default();
    };
    match sessions.verify(ctx, &token, now_epoch()).await {
        Ok(Some(user)) => user,
        Ok(None) => UserInfo::default(),
        Err(error) => {
            tracing::warn!(%error, "cannot check a session cookie");
            UserInfo::default()
        }
    }
}

/// `auth` of the frontend config.
pub fn frontend_auth(auth: &WwwAuthConfig) -> Value {
    match auth {
        WwwAuthConfig::NoAuth => json!({ "name": "NoAuth" }),
        other => json!({ "name": other.name(), "oauth2": false, "fa_icon": "fa-sign-in" }),
    }
}

/// The `/auth/login` and `/auth/logout` routes.
pub fn routes<S>(ctx: Arc<Context>) -> Router<S> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/logout", get(logout))
        .with_state(ctx)
}

#[derive(serde::Deserialize)]
struct Redirect {
    redirect: Option<String>,
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn challenge(message: &str) -> Response {
    let mut response =
        (StatusCode::UNAUTHORIZED, Json(json!({ "error": message }))).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"buildbot\""),
    );
    response
}

/// After login or logout: back to the dashboard page asked for, or the user as JSON.
fn finish(ctx: &Context, redirect: Option<String>, body: Value, cookie: String) -> Response {
    let mut response = match redirect {
        Some(target) => {
            let base = ctx.config().buildbot_url.clone();
            // Only fragments of our own UI, never another site (an open redirect).
            let target = target.trim_start_matches('#').trim_start_matches('/');
            let location = format!("{base}#/{target}");
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        None => Json(body).into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn login(
    State(ctx): State<Arc<Context>>,
    Extension(sessions): Extension<Arc<Sessions>>,
    Query(query): Query<Redirect>,
    headers: HeaderMap,
) -> Response {
    match try_login(&ctx, &sessions, query.redirect, &headers).await {
        Ok(response) => response,
        Err(error) => crate::www::rest::error_response(error),
    }
}

async fn try_login(
    ctx: &Context,
    sessions: &Sessions,
    redirect: Option<String>,
    headers: &HeaderMap,
) -> Result<Response> {
    let config = ctx.config();
    if matches!(config.www.auth, WwwAuthConfig::NoAuth) {
        return Err(crate::Error::NotFound(
            "login is not available: c['www']['auth'] is not set".into(),
        ));
    }
    let Some((username, password)) = basic_credentials(headers) else {
        return Ok(challenge("log in with HTTP Basic credentials"));
    };
    if !passwords::check(&config.www.auth, &ctx.basedir, &username, &password).await? {
        tracing::info!(username, "web login refused");
        return Ok(challenge("wrong user name or password"));
    }
    let user = UserInfo::named(&username);
    let expires = now_epoch() + session::LIFETIME_SECONDS;
    let token = sessions.sign(ctx, &user, expires).await?;
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
        session::COOKIE,
        session::LIFETIME_SECONDS
    );
    tracing::info!(username, "web login");
    Ok(finish(ctx, redirect, user.to_json(), cookie))
}

async fn logout(State(ctx): State<Arc<Context>>, Query(query): Query<Redirect>) -> Response {
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        session::COOKIE
    );
    finish(&ctx, query.redirect, json!({ "anonymous": true }), cookie)
}
