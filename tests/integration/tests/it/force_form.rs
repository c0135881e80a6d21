//! A ForceScheduler with its own form fields: the REST spec the dashboard draws its dialog
//! from, a force whose fields become build properties the build's steps see, and a bad field
//! refused with nothing built.

use ferrobot_integration_tests::Sandbox;
use serde_json::{Value, json};

fn config() -> String {
    crate::config(
        r#"
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="show", command="true"))
c['builders'] = [util.BuilderConfig(name="b", workernames=["w1"], factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name="release", builderNames=["b"], properties=[
    util.StringParameter(name="version", label="Version:", required=True, regex="[0-9.]+"),
    util.TextParameter(name="notes", rows=3),
    util.IntParameter(name="jobs", default=2),
    util.BooleanParameter(name="publish", default=True),
    util.ChoiceStringParameter(name="channel", choices=["beta", "stable"]),
    util.NestedParameter(name="target", fields=[
        util.StringParameter(name="host", default="ci.example"),
        util.IntParameter(name="port", default=22),
    ]),
])]
"#,
    )
}

fn field<'a>(fields: &'a Value, name: &str) -> &'a Value {
    fields
        .as_array()
        .and_then(|all| all.iter().find(|f| f["name"] == json!(name)))
        .unwrap_or_else(|| panic!("no field {name} in {fields}"))
}

#[tokio::test]
async fn form_fields_are_described_validated_and_become_build_properties() -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&config()).await?;
    let worker = sandbox.add_worker("w1", "pw").await?;
    sandbox.wait_worker_connected("w1").await?;

    let spec = sandbox.get("/forceschedulers/release").await?;
    let all_fields = &spec["forceschedulers"][0]["all_fields"];
    let version = field(all_fields, "version");
    assert_eq!(version["type"], json!("text"));
    assert_eq!(version["label"], json!("Version:"));
    assert_eq!(version["required"], json!(true));
    assert_eq!(field(all_fields, "notes")["type"], json!("textarea"));
    assert_eq!(field(all_fields, "jobs")["default"], json!(2));
    assert_eq!(field(all_fields, "publish")["type"], json!("bool"));
    assert_eq!(
        field(all_fields, "channel")["choices"],
        json!(["beta", "stable"])
    );
    let target = field(all_fields, "target");
    assert_eq!(target["type"], json!("nested"));
    assert_eq!(
        field(&target["fields"], "host")["fullName"],
        json!("target_host")
    );

    let (status, refused) = sandbox
        .rpc(
            "/forceschedulers/release",
            "force",
            json!({"builderNames": ["b"], "version": "latest"}),
        )
        .await?;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("does not match pattern"), "{refused}");
    assert_eq!(
        sandbox.get("/buildrequests").await?["buildrequests"],
        json!([])
    );

    let (status, forced) = sandbox
        .rpc(
            "/forceschedulers/release",
            "force",
            json!({"builderNames": ["b"], "version": "1.2.3", "jobs": "8",
                   "publish": false, "channel": "stable", "target_port": "2222"}),
        )
        .await?;
    assert_eq!(status, 200, "{forced}");
    let brid = forced["result"][1]
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(Value::as_i64)
        .expect("a request");
    let build = sandbox.wait_request_done(brid).await?;
    assert_eq!(build["results"], json!(0), "{build}");
    let buildid = build["buildid"].as_i64().expect("buildid");
    let properties = sandbox
        .get(&format!("/builds/{buildid}/properties"))
        .await?;
    let props = &properties["properties"][0];
    assert_eq!(props["version"], json!(["1.2.3", "Force Build Form"]));
    assert_eq!(props["notes"][0], json!(""));
    assert_eq!(props["jobs"][0], json!(8));
    assert_eq!(props["publish"][0], json!(false));
    assert_eq!(props["channel"][0], json!("stable"));
    assert_eq!(
        props["target"][0],
        json!({"host": "ci.example", "port": 2222})
    );
    worker.stop().await;
    sandbox.stop().await;
    Ok(())
}
