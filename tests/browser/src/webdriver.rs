//! A minimal W3C WebDriver client over chromedriver: sessions, navigation, elements, scripts,
//! screenshots, and bounded waits on page conditions.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::TIMEOUT;

/// The key WebDriver gives element references under.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How often a wait re-checks the page.
const POLL: Duration = Duration::from_millis(100);

fn program(variable: &str, default: &str, package: &str) -> Result<PathBuf> {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    if !path.exists() {
        bail!(
            "{} not found: install Debian's {package} (scripts/test.sh does) or set {variable}",
            path.display()
        );
    }
    Ok(path)
}

/// Reads chromedriver's stdout until it says which port it took (`--port=0` lets it choose,
/// so parallel tests never race for one), then keeps draining it so the pipe never fills.
fn port_of(driver: &mut Child) -> Result<std::sync::mpsc::Receiver<u16>> {
    let stdout = driver
        .stdout
        .take()
        .ok_or_else(|| anyhow!("chromedriver's stdout is not piped"))?;
    let (found, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                let number = rest.trim_end_matches('.').trim().parse::<u16>();
                if let (Some(sender), Ok(number)) = (found.take(), number) {
                    let _ = sender.send(number);
                }
            }
        }
    });
    Ok(port)
}

/// Headless Chromium under chromedriver, with one WebDriver session.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// A reference to an element of the page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile, 1400×1000.
    pub async fn start() -> Result<Browser> {
        let chromium = program("FERROBOT_CHROMIUM", "/usr/bin/chromium", "chromium")?;
        let chromedriver = program(
            "FERROBOT_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromium-driver",
        )?;
        let profile = tempfile::tempdir()?;
        let log = profile.path().join("chromedriver.log");
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group, so Drop can end chromedriver and the browser together.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", chromedriver.display()))?;
        let announced = port_of(&mut driver)?;
        let waited = tokio::task::spawn_blocking(move || announced.recv_timeout(TIMEOUT)).await?;
        let Ok(port) = waited else {
            let _ = driver.kill();
            bail!("chromedriver did not say which port it listens on within {TIMEOUT:?}");
        };
        let mut browser = Browser {
            http: reqwest::Client::new(),
            session: String::new(),
            driver,
            _profile: profile,
        };
        let base = format!("http://127.0.0.1:{port}");
        browser.wait_driver_ready(&base).await?;
        browser.session = browser
            .new_session(&base, &chromium, &browser._profile.path().join("profile"))
            .await?;
        browser.session = format!("{base}/session/{}", browser.session);
        Ok(browser)
    }

    async fn wait_driver_ready(&mut self, base: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.driver.try_wait()? {
                bail!("chromedriver exited at start-up: {status}");
            }
            let ready = match self.http.get(format!("{base}/status")).send().await {
                Ok(response) => response.json::<Value>().await?["value"]["ready"] == json!(true),
                Err(_) => false,
            };
            if ready {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("chromedriver was not ready after {TIMEOUT:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn new_session(&self, base: &str, chromium: &Path, profile: &Path) -> Result<String> {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
            "--hide-scrollbars",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let reply = self
            .http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await?
            .json::<Value>()
            .await?;
        reply["value"]["sessionId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("chromedriver refused the session: {reply}"))
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value> {
        let url = format!("{}{path}", self.session);
        let request = self.http.request(method.clone(), &url);
        let request = if method == reqwest::Method::GET {
            request
        } else {
            request.json(&body)
        };
        let reply: Value = request.send().await?.json().await?;
        if let Some(error) = reply["value"]["error"].as_str() {
            bail!(
                "WebDriver {method} {path}: {error}: {}",
                reply["value"]["message"]
            );
        }
        Ok(reply["value"].clone())
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.call(reqwest::Method::POST, "/url", json!({"url": url}))
            .await?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it returns.
    pub async fn eval(&self, script: &str, args: Value) -> Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// Waits until `script` returns something truthy; returns that value. Fails after
    /// [`TIMEOUT`] naming `what` and the last value seen.
    pub async fn wait_for(&self, what: &str, script: &str) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let value = self.eval(script, json!([])).await?;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(_) | Value::Object(_) => true,
            };
            if truthy {
                return Ok(value);
            }
            if tokio::time::Instant::now() > deadline {
                let page = self
                    .eval("return document.body.innerText.slice(0, 2000)", json!([]))
                    .await
                    .unwrap_or_default();
                bail!("timed out after {TIMEOUT:?} waiting for {what}; page text: {page}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for the element `selector` and returns it.
    pub async fn find(&self, selector: &str) -> Result<Element<'_>> {
        let script = format!("return document.querySelector({selector:?}) !== null");
        self.wait_for(&format!("element {selector}"), &script)
            .await?;
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": selector}),
            )
            .await?;
        let id = found[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| anyhow!("no element reference for {selector}: {found}"))?;
        Ok(Element {
            browser: self,
            id: id.to_owned(),
        })
    }

    /// The PNG of the window as it is.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let value = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await?;
        let text = value
            .as_str()
            .ok_or_else(|| anyhow!("screenshot is not text"))?;
        crate::base64::decode(text)
    }

    /// Ends the session (closing Chromium) and chromedriver.
    pub async fn close(mut self) {
        let _ = self
            .http
            .delete(&self.session)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        self.kill_group();
    }

    fn kill_group(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if matches!(self.driver.try_wait(), Ok(None)) {
            self.kill_group();
        }
    }
}

impl Element<'_> {
    /// Clicks it.
    pub async fn click(&self) -> Result<()> {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/click", self.id),
                json!({}),
            )
            .await?;
        Ok(())
    }

    /// Types `text` into it.
    pub async fn type_text(&self, text: &str) -> Result<()> {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/value", self.id),
                json!({ "text": text }),
            )
            .await?;
        Ok(())
    }

    /// Empties it (an input or a text area).
    pub async fn clear(&self) -> Result<()> {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/clear", self.id),
                json!({}),
            )
            .await?;
        Ok(())
    }

    /// Its visible text.
    pub async fn text(&self) -> Result<String> {
        let value = self
            .browser
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/text", self.id),
                Value::Null,
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }
}
