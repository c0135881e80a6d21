use serde_json::json;

use super::*;

fn param(name: &str, kind: ForceParameterKind, default: Value) -> ForceParameter {
    ForceParameter {
        name: name.into(),
        label: name.into(),
        kind,
        default,
        required: false,
        regex: None,
        hide: false,
        maxsize: None,
        tooltip: String::new(),
    }
}

fn form() -> Vec<ForceParameter> {
    vec![
        param(
            "target",
            ForceParameterKind::String { size: 10 },
            json!("all"),
        ),
        param(
            "notes",
            ForceParameterKind::Text { cols: 80, rows: 5 },
            json!(""),
        ),
        param("jobs", ForceParameterKind::Int { size: 10 }, json!(2)),
        param("clean", ForceParameterKind::Bool, json!(false)),
        param(
            "os",
            ForceParameterKind::Choice {
                choices: vec!["linux".into(), "mac".into()],
                strict: true,
                multiple: false,
            },
            json!("linux"),
        ),
        param("kind", ForceParameterKind::Fixed, json!("release")),
        param(
            "deploy",
            ForceParameterKind::Nested {
                fields: vec![
                    param("host", ForceParameterKind::String { size: 10 }, json!("")),
                    param("port", ForceParameterKind::Int { size: 5 }, json!(22)),
                ],
                layout: "vertical".into(),
                columns: None,
            },
            json!(""),
        ),
    ]
}

fn params(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[test]
fn every_kind_reads_its_field_and_nested_groups_make_one_dict() {
    let properties = collect(
        &form(),
        &params(json!({
            "target": "docs", "notes": "line 1\nline 2", "jobs": "8", "clean": "on",
            "os": "mac", "kind": "debug", "deploy_host": "ci.example", "deploy_port": 2222,
        })),
    )
    .expect("valid");
    assert_eq!(properties["target"], json!("docs"));
    assert_eq!(properties["notes"], json!("line 1\nline 2"));
    assert_eq!(properties["jobs"], json!(8));
    assert_eq!(properties["clean"], json!(true));
    assert_eq!(properties["os"], json!("mac"));
    assert_eq!(properties["kind"], json!("release"), "fixed ignores input");
    assert_eq!(
        properties["deploy"],
        json!({"host": "ci.example", "port": 2222})
    );
}

#[test]
fn missing_or_blank_fields_take_their_defaults() {
    let properties = collect(&form(), &params(json!({"target": "  ", "jobs": ""}))).expect("ok");
    assert_eq!(properties["target"], json!("all"));
    assert_eq!(properties["jobs"], json!(2));
    assert_eq!(properties["clean"], json!(false));
    assert_eq!(properties["deploy"], json!({"host": "", "port": 22}));
}

#[test]
fn bad_values_are_refused_naming_the_field() {
    let refused = |extra: Value| collect(&form(), &params(extra)).expect_err("refused");
    assert!(refused(json!({"jobs": "many"})).contains("'jobs' must be an integer"));
    assert!(refused(json!({"os": "windows"})).contains("'windows' does not belong"));
    assert!(refused(json!({"clean": "maybe"})).contains("'clean'"));
    assert!(refused(json!({"deploy_port": "x"})).contains("'port'"));

    let mut strict = form();
    strict[0].required = true;
    strict[0].regex = Some("[a-z]+".into());
    strict[0].maxsize = Some(4);
    assert!(
        collect(&strict, &Map::new())
            .expect_err("required")
            .contains("needs to be specified")
    );
    assert!(
        collect(&strict, &params(json!({"target": "9docs"})))
            .expect_err("regex")
            .contains("does not match pattern")
    );
    assert!(
        collect(&strict, &params(json!({"target": "abcdef"})))
            .expect_err("maxsize")
            .contains("longer than 4")
    );
}

#[test]
fn a_multiple_choice_takes_a_list() {
    let parameters = vec![param(
        "platforms",
        ForceParameterKind::Choice {
            choices: vec!["a".into(), "b".into(), "c".into()],
            strict: true,
            multiple: true,
        },
        json!([]),
    )];
    let properties = collect(&parameters, &params(json!({"platforms": ["a", "c"]}))).expect("ok");
    assert_eq!(properties["platforms"], json!(["a", "c"]));
}
