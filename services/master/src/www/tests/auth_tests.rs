//! Web auth and authz: login with Basic credentials, signed session cookies valid on another
//! master, `/config`'s user, and refusals that name the role and change nothing.

use anyhow::{Context as _, Result};
use ferrobot_config::{
    AllowRule, AuthzConfig, EndpointMatcher, MasterConfig, RoleMatcher, WwwAuthConfig, WwwUser,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::Server;

fn users() -> WwwAuthConfig {
    WwwAuthConfig::UserPassword {
        users: vec![
            WwwUser {
                username: "alice".into(),
                password: "wonderland".into(),
            },
            WwwUser {
                username: "bob".into(),
                password: "builder".into(),
            },
        ],
    }
}

fn rule(matcher: EndpointMatcher, role: &str) -> AllowRule {
    AllowRule {
        matcher,
        role: role.into(),
        default_deny: true,
    }
}

/// alice is an admin; only admins may force, stop or do any other control action.
fn guarded() -> MasterConfig {
    let mut config = Server::config();
    config.www.auth = users();
    config.www.authz = AuthzConfig {
        allow_rules: vec![
            rule(EndpointMatcher::ForceBuild { builder: None }, "admins"),
            rule(EndpointMatcher::StopBuild { builder: None }, "admins"),
            rule(EndpointMatcher::AnyControl, "admins"),
        ],
        role_matchers: vec![RoleMatcher::FromUsername {
            roles: vec!["admins".into()],
            usernames: vec!["alice".into()],
        }],
    };
    config
}

/// Logs in and returns the `name=value` of the session cookie.
async fn login(server_url: &str, user: &str, password: &str) -> Result<String> {
    let response = super::http_client()
        .get(format!("{server_url}/auth/login"))
        .basic_auth(user, Some(password))
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "login: {}",
        response.status()
    );
    let cookie = response
        .headers()
        .get("set-cookie")
        .context("login sets a cookie")?
        .to_str()?
        .split(';')
        .next()
        .context("cookie has a value")?
        .to_owned();
    Ok(cookie)
}

async fn config_of(server_url: &str, cookie: Option<&str>) -> Result<Value> {
    let mut request = super::http_client().get(format!("{server_url}/config"));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    Ok(request.send().await?.json().await?)
}

async fn call_as(
    server: &Server,
    cookie: Option<&str>,
    path: &str,
    method: &str,
    params: Value,
) -> Result<(StatusCode, Value)> {
    let mut request = server
        .client
        .post(format!("{}{path}", server.url))
        .json(&json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await?;
    Ok((response.status(), response.json().await?))
}

#[tokio::test]
async fn without_auth_everyone_is_anonymous_and_there_is_no_login() -> Result<()> {
    let server = Server::start().await?;
    let config = config_of(&server.url, None).await?;
    assert_eq!(config["auth"], json!({"name": "NoAuth"}));
    assert_eq!(config["user"], json!({"anonymous": true}));
    assert_eq!(config["user_any_access_allowed"], json!(true));
    let login = server.error("/auth/login", StatusCode::NOT_FOUND).await?;
    assert!(login.contains("c['www']['auth']"), "{login}");
    Ok(())
}

#[tokio::test]
async fn basic_login_sets_a_session_that_config_shows_and_logout_clears() -> Result<()> {
    let mut config = Server::config();
    config.www.auth = users();
    let server = Server::start_with(config).await?;

    let refused = server
        .client
        .get(format!("{}/auth/login", server.url))
        .send()
        .await?;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers().contains_key("www-authenticate"));
    let wrong = super::http_client()
        .get(format!("{}/auth/login", server.url))
        .basic_auth("alice", Some("nope"))
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let cookie = login(&server.url, "alice", "wonderland").await?;
    assert!(cookie.starts_with("TWISTED_SESSION="), "{cookie}");
    let config = config_of(&server.url, Some(&cookie)).await?;
    assert_eq!(config["auth"]["name"], json!("UserPasswordAuth"));
    assert_eq!(config["auth"]["oauth2"], json!(false));
    assert_eq!(config["user"]["username"], json!("alice"));
    assert_eq!(config["user"]["full_name"], json!("alice"));

    // A cookie signed by this master is good on another one: the secret is in the database.
    let other = server.second_master().await?;
    let there = config_of(&other, Some(&cookie)).await?;
    assert_eq!(there["user"]["username"], json!("alice"));

    // A tampered cookie is anonymous.
    let forged = format!("{cookie}x");
    let anonymous = config_of(&server.url, Some(&forged)).await?;
    assert_eq!(anonymous["user"], json!({"anonymous": true}));

    let logout = super::http_client()
        .get(format!("{}/auth/logout", server.url))
        .header("cookie", &cookie)
        .send()
        .await?;
    let cleared = logout
        .headers()
        .get("set-cookie")
        .context("logout sets a cookie")?
        .to_str()?;
    assert!(
        cleared.starts_with("TWISTED_SESSION=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    Ok(())
}

#[tokio::test]
async fn htpasswd_logins_accept_sha_and_bcrypt_lines() -> Result<()> {
    let mut config = Server::config();
    config.www.auth = WwwAuthConfig::HtPasswd {
        file: "htpasswd".into(),
    };
    let server = Server::start_with(config).await?;
    let bcrypt_line = bcrypt::hash("builder", 4)?.replacen("$2b$", "$2y$", 1);
    std::fs::write(
        server.ctx.basedir.join("htpasswd"),
        format!("alice:{{SHA}}5en6G6MezRroT3XKqkdPOmY/BfQ=\nbob:{bcrypt_line}\nmd5:$apr1$x$y\n"),
    )?;
    login(&server.url, "alice", "secret").await?;
    login(&server.url, "bob", "builder").await?;
    let wrong = super::http_client()
        .get(format!("{}/auth/login", server.url))
        .basic_auth("bob", Some("secret"))
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let md5 = super::http_client()
        .get(format!("{}/auth/login", server.url))
        .basic_auth("md5", Some("x"))
        .send()
        .await?;
    assert_eq!(md5.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = md5.json().await?;
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("htpasswd:3")),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn denied_control_actions_are_403s_naming_the_role_and_change_nothing() -> Result<()> {
    let server = Server::start_with(guarded()).await?;
    let buildsets_before = server.ok("/api/v2/buildsets").await?["meta"]["total"].clone();
    let bob = login(&server.url, "bob", "builder").await?;
    let alice = login(&server.url, "alice", "wonderland").await?;
    let force = json!({"builderNames": ["linux"], "reason": "try"});

    for cookie in [None, Some(bob.as_str())] {
        let (status, reply) = call_as(
            &server,
            cookie,
            "/api/v2/forceschedulers/force",
            "force",
            force.clone(),
        )
        .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
        assert_eq!(
            reply["error"]["message"],
            json!("you need to have role 'admins'")
        );
        assert_eq!(reply["error"]["code"], json!(-32600));
    }
    let stop = format!("/api/v2/builds/{}", server.seed.running_build);
    let (status, _) = call_as(&server, Some(&bob), &stop, "stop", json!({})).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let pause = format!("/api/v2/workers/{}", server.seed.worker);
    let (status, _) = call_as(&server, None, &pause, "pause", json!({})).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let after_denials = server.ok("/api/v2/buildsets").await?["meta"]["total"].clone();
    assert_eq!(after_denials, buildsets_before, "no buildset on denial");

    // Reads stay open; the admin may force, and is recorded as the owner.
    server.ok("/api/v2/builders").await?;
    let (status, reply) = call_as(
        &server,
        Some(&alice),
        "/api/v2/forceschedulers/force",
        "force",
        json!({"builderNames": ["linux"], "username": "mallory"}),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let bsid = reply["result"][0].as_i64().context("a buildset id")?;
    let properties = server.ctx.store.buildset_properties(bsid).await?;
    assert_eq!(
        properties.get("owner").map(|p| p.0.clone()),
        Some(json!("alice"))
    );
    Ok(())
}

#[tokio::test]
async fn a_read_rule_closes_the_api_and_the_live_streams_to_anonymous_users() -> Result<()> {
    let mut config = guarded();
    config.www.authz.allow_rules = vec![rule(EndpointMatcher::Any, "admins")];
    let server = Server::start_with(config).await?;
    let message = server
        .error("/api/v2/builders", StatusCode::FORBIDDEN)
        .await?;
    assert_eq!(message, "you need to have role 'admins'");
    let config = config_of(&server.url, None).await?;
    assert_eq!(config["user_any_access_allowed"], json!(false));

    let ws_url = format!("{}/ws", server.url.replacen("http", "ws", 1));
    match tokio_tungstenite::connect_async(&ws_url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN)
        }
        other => panic!("the handshake should be refused: {other:?}"),
    }
    let sse = server
        .client
        .get(format!("{}/sse/listen", server.url))
        .send()
        .await?;
    assert_eq!(sse.status(), StatusCode::FORBIDDEN);

    let alice = login(&server.url, "alice", "wonderland").await?;
    let allowed = server
        .client
        .get(format!("{}/api/v2/builders", server.url))
        .header("cookie", &alice)
        .send()
        .await?;
    assert_eq!(allowed.status(), StatusCode::OK);
    Ok(())
}
