use serde_json::{Value, json};

use super::*;
use crate::www::resources::{BUILD, BUILDER, BUILDREQUEST};

fn params(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

/// What the REST layer does with a collection: page, then project.
fn apply(query: &Query, items: Vec<Value>) -> Page {
    let mut page = query.page(items);
    page.items = page
        .items
        .into_iter()
        .map(|item| query.project(item))
        .collect();
    page
}

fn builds() -> Vec<Value> {
    vec![
        json!({"buildid": 1, "number": 1, "builderid": 1, "results": 0, "complete": true,
               "state_string": "build successful", "complete_at": 100}),
        json!({"buildid": 2, "number": 2, "builderid": 1, "results": 2, "complete": true,
               "state_string": "failed compile", "complete_at": 200}),
        json!({"buildid": 3, "number": 1, "builderid": 2, "results": null, "complete": false,
               "state_string": "building", "complete_at": null}),
        json!({"buildid": 4, "number": 3, "builderid": 1, "results": 0, "complete": true,
               "state_string": "build successful", "complete_at": 300}),
    ]
}

fn ids(query: &str) -> Vec<i64> {
    let query = Query::parse(&params(query), &BUILD, true).expect("query parses");
    apply(&query, builds())
        .items
        .iter()
        .filter_map(|b| b["buildid"].as_i64())
        .collect()
}

fn error(query: &str) -> String {
    match Query::parse(&params(query), &BUILD, true) {
        Ok(q) => panic!("{query} parsed into {q:?}"),
        Err(crate::Error::BadRequest(message)) => message,
        Err(other) => panic!("{query}: not a bad request: {other}"),
    }
}

#[test]
fn no_parameters_return_everything_in_store_order() {
    assert_eq!(ids(""), vec![1, 2, 3, 4]);
}

#[test]
fn plain_equality_and_repeats_mean_any_of() {
    assert_eq!(ids("builderid=1"), vec![1, 2, 4]);
    assert_eq!(ids("results=0&results=2"), vec![1, 2, 4]);
    assert_eq!(ids("builderid__eq=2"), vec![3]);
}

#[test]
fn every_operator_compares_like_buildbot() {
    assert_eq!(ids("results__ne=0"), vec![2, 3]);
    assert_eq!(ids("buildid__lt=3"), vec![1, 2]);
    assert_eq!(ids("buildid__le=3"), vec![1, 2, 3]);
    assert_eq!(ids("buildid__gt=3"), vec![4]);
    assert_eq!(ids("buildid__ge=3"), vec![3, 4]);
    assert_eq!(ids("state_string__contains=success"), vec![1, 4]);
    assert_eq!(
        ids("state_string__contains=fail&state_string__contains=build"),
        vec![1, 2, 3, 4]
    );
    assert_eq!(ids("buildid__in=2&buildid__in=4"), vec![2, 4]);
    assert_eq!(ids("buildid__notin=2&buildid__notin=4"), vec![1, 3]);
    assert_eq!(ids("results__ne=0&results__ne=2"), vec![3]);
}

#[test]
fn null_is_a_value_for_equality_and_never_ordered() {
    assert_eq!(ids("results=null"), vec![3]);
    assert_eq!(ids("results__ne=null"), vec![1, 2, 4]);
    // SQL semantics: a running build has no completion time to compare.
    assert_eq!(ids("complete_at__lt=250"), vec![1, 2]);
    assert_eq!(ids("complete_at__ge=0"), vec![1, 2, 4]);
}

#[test]
fn booleans_accept_every_buildbot_spelling() {
    for yes in ["true", "1", "on", "yes", "TRUE"] {
        assert_eq!(ids(&format!("complete={yes}")), vec![1, 2, 4], "{yes}");
    }
    for no in ["false", "0", "off", "no"] {
        assert_eq!(ids(&format!("complete={no}")), vec![3], "{no}");
    }
    assert!(error("complete=maybe").contains("complete"));
}

#[test]
fn ordering_is_multi_key_with_nulls_first() {
    assert_eq!(ids("order=-buildid"), vec![4, 3, 2, 1]);
    assert_eq!(ids("order=builderid&order=-number"), vec![4, 2, 1, 3]);
    assert_eq!(ids("order=results&order=buildid"), vec![3, 1, 4, 2]);
    assert_eq!(ids("order=-results&order=buildid"), vec![2, 1, 4, 3]);
}

#[test]
fn paging_applies_after_filter_and_order_and_total_counts_all_matches() {
    let query = Query::parse(
        &params("builderid=1&order=-buildid&limit=2&offset=1"),
        &BUILD,
        true,
    )
    .expect("parses");
    let page = apply(&query, builds());
    let got: Vec<_> = page.items.iter().map(|b| b["buildid"].clone()).collect();
    assert_eq!(got, vec![json!(2), json!(1)]);
    assert_eq!(page.total, 3);
    assert_eq!(ids("offset=10"), Vec::<i64>::new());
}

#[test]
fn field_selection_projects_each_entity() {
    let query = Query::parse(&params("field=buildid&field=results"), &BUILD, true).expect("ok");
    assert_eq!(
        apply(&query, builds()).items[2],
        json!({"buildid": 3, "results": null})
    );
    assert!(error("field=buildid&builderid=2").contains("un-selected field 'builderid'"));
    assert!(error("field=buildid&order=number").contains("un-selected field 'number'"));
}

#[test]
fn errors_name_the_bad_field_operator_or_value() {
    assert_eq!(error("field=nope"), "no such field 'nope' in builds");
    assert_eq!(error("order=-nope"), "no such field 'nope' in builds");
    assert_eq!(error("nope=1"), "unrecognized query parameter 'nope'");
    assert!(error("nope__eq=1").contains("no such field 'nope'"));
    assert!(error("results__like=1").contains("no such operator 'like'"));
    assert!(error("results__lt=x").contains("results__lt"));
    assert!(error("results__lt=1&results__lt=2").contains("single value"));
    assert!(error("builderid__contains=1").contains("'contains' does not apply"));
    assert!(error("properties=x").contains("'properties' cannot be filtered"));
    assert!(error("order=properties").contains("cannot order on field 'properties'"));
    assert_eq!(error("limit=ten"), "invalid limit 'ten'");
    assert_eq!(error("offset=-1"), "invalid offset '-1'");
    assert!(error("number=null").contains("is not an integer"));
}

#[test]
fn single_resources_refuse_filters_but_take_fields() {
    let err = Query::parse(&params("builderid=1"), &BUILD, false).expect_err("filter");
    assert_eq!(err.to_string(), "this is not a collection");
    let query = Query::parse(&params("field=name"), &BUILDER, false).expect("fields");
    assert_eq!(
        query.project(json!({"name": "a", "builderid": 1})),
        json!({"name": "a"})
    );
}

#[test]
fn list_fields_filter_on_their_elements() {
    let builders = vec![
        json!({"builderid": 1, "tags": ["linux", "fast"], "masterids": [1]}),
        json!({"builderid": 2, "tags": ["windows"], "masterids": [1, 2]}),
    ];
    let run = |text: &str| {
        let query = Query::parse(&params(text), &BUILDER, true).expect("parses");
        let page = apply(&query, builders.clone());
        page.items
            .iter()
            .filter_map(|b| b["builderid"].as_i64())
            .collect::<Vec<_>>()
    };
    assert_eq!(run("tags__contains=linux"), vec![1]);
    assert_eq!(run("masterids__contains=2"), vec![2]);
    assert_eq!(
        run("tags__contains=windows&tags__contains=fast"),
        vec![1, 2]
    );
}

#[test]
fn pushdown_hints_read_single_equalities() {
    let parse = |text: &str| Query::parse(&params(text), &BUILDREQUEST, true).expect("parses");
    assert_eq!(parse("builderid=3").eq_integer("builderid"), Some(3));
    assert_eq!(
        parse("builderid=3&builderid=4").eq_integer("builderid"),
        None
    );
    assert_eq!(parse("builderid__lt=3").eq_integer("builderid"), None);
    assert_eq!(parse("claimed=no").eq_boolean("claimed"), Some(false));
    assert_eq!(
        parse("complete__ne=true").eq_boolean("complete"),
        Some(false)
    );
    assert_eq!(
        parse("complete__ne=false").eq_boolean("complete"),
        Some(true)
    );
}

#[test]
fn properties_are_wanted_only_when_asked_and_selected() {
    let parse = |text: &str| Query::parse(&params(text), &BUILD, true).expect("parses");
    assert!(!parse("").wants_properties());
    assert!(parse("property=*").wants_properties());
    assert!(parse("property=*").wants_property("anything"));
    assert!(parse("property=owner").wants_property("owner"));
    assert!(!parse("property=owner").wants_property("branch"));
    assert!(!parse("property=owner&field=buildid").wants_properties());
    assert!(parse("property=owner&field=buildid&field=properties").wants_properties());
}
