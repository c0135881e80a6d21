//! The Force dialog built from a ForceScheduler's own parameters, and the values it sends.

use anyhow::Result;
use ferrobot_browser_tests::Browser;
use serde_json::json;

use crate::{builderid, config, dashboard, open, start};

const WITH_PARAMETERS: &str = r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello", command="echo hello"))
c['builders'] = [util.BuilderConfig(name="custom", workernames=["w1"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(
    name="custom-force",
    builderNames=["custom"],
    buttonName="Release it",
    properties=[
        util.StringParameter(name="target", label="Target", default="all"),
        util.IntParameter(name="jobs", label="Jobs", default=2),
        util.BooleanParameter(name="clean", label="Clean first", default=False),
        util.ChoiceStringParameter(name="flavour", label="Flavour", choices=["debug", "release"], default="debug"),
        util.TextParameter(name="notes", label="Notes", default=""),
        util.FixedParameter(name="channel", default="stable"),
    ],
)]
"#;

#[tokio::test]
async fn the_force_dialog_offers_the_schedulers_parameters_and_sends_what_was_chosen() -> Result<()>
{
    let sandbox = start(&config(WITH_PARAMETERS, &[])).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;
    let custom = builderid(&sandbox, "custom").await?;
    let base = dashboard(&sandbox)?;
    let browser = Browser::start().await?;
    open(&browser, &base, &format!("#/builders/{custom}")).await?;

    let button = browser.find(".force-button").await?;
    assert_eq!(button.text().await?, "Release it");
    button.click().await?;
    let kinds = browser
        .eval(
            "return Object.fromEntries([...document.querySelectorAll('dialog [data-name]')].map((e) => [e.dataset.name, e.dataset.kind + ':' + e.tagName.toLowerCase() + ':' + (e.type || '')]))",
            json!([]),
        )
        .await?;
    assert_eq!(kinds["target"], json!("text:input:text"), "{kinds}");
    assert_eq!(kinds["jobs"], json!("int:input:number"), "{kinds}");
    assert_eq!(kinds["clean"], json!("bool:input:checkbox"), "{kinds}");
    assert_eq!(kinds["flavour"], json!("list:select:select-one"), "{kinds}");
    assert_eq!(
        kinds["notes"],
        json!("textarea:textarea:textarea"),
        "{kinds}"
    );
    assert_eq!(kinds["channel"], json!("fixed:input:text"), "{kinds}");

    let jobs = browser.find("dialog [data-name='jobs']").await?;
    jobs.clear().await?;
    jobs.type_text("8").await?;
    browser
        .find("dialog [data-name='clean']")
        .await?
        .click()
        .await?;
    browser
        .find("dialog [data-name='flavour'] option[value='release']")
        .await?
        .click()
        .await?;
    browser
        .find("dialog [data-name='notes']")
        .await?
        .type_text("first line\nsecond line")
        .await?;
    browser.find("dialog button.start").await?.click().await?;
    browser
        .wait_for(
            "the build page",
            &format!("return location.hash === '#/builders/{custom}/builds/1'"),
        )
        .await?;
    let build = sandbox.get(&format!("/builders/{custom}/builds/1")).await?;
    let brid = build["builds"][0]["buildrequestid"]
        .as_i64()
        .unwrap_or_default();
    // Properties are complete once the build is.
    let build = sandbox.wait_request_done(brid).await?;
    let buildid = build["buildid"].clone();
    let properties = sandbox
        .get(&format!("/builds/{buildid}/properties"))
        .await?;
    let properties = &properties["properties"][0];
    assert_eq!(properties["target"][0], json!("all"), "{properties}");
    assert_eq!(properties["jobs"][0], json!(8), "{properties}");
    assert_eq!(properties["clean"][0], json!(true), "{properties}");
    assert_eq!(properties["flavour"][0], json!("release"), "{properties}");
    assert_eq!(
        properties["notes"][0],
        json!("first line\nsecond line"),
        "{properties}"
    );
    assert_eq!(properties["channel"][0], json!("stable"), "{properties}");

    browser.close().await;
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
