//! The resource types of the less common endpoints (reference/buildbot.md §5.3): projects,
//! test results, the API spec, build data and property lists.

use crate::www::resources::{Kind, ResourceType, f, null};

use Kind::{Boolean as B, Integer as I, Object as O, String as S};

/// `projects`.
pub const PROJECT: ResourceType = ResourceType {
    name: "project",
    plural: "projects",
    fields: &[
        f("projectid", I),
        f("name", S),
        f("slug", S),
        f("active", B),
        null("description", S),
        null("description_format", S),
        null("description_html", S),
    ],
};

/// `test_result_sets`.
pub const TEST_RESULT_SET: ResourceType = ResourceType {
    name: "test_result_set",
    plural: "test_result_sets",
    fields: &[
        f("test_result_setid", I),
        f("builderid", I),
        f("buildid", I),
        f("stepid", I),
        null("description", S),
        f("category", S),
        f("value_unit", S),
        null("tests_passed", I),
        null("tests_failed", I),
        f("complete", B),
    ],
};

/// `test_results`.
pub const TEST_RESULT: ResourceType = ResourceType {
    name: "test_result",
    plural: "test_results",
    fields: &[
        f("test_resultid", I),
        f("builderid", I),
        f("test_result_setid", I),
        null("test_name", S),
        null("test_code_path", S),
        null("line", I),
        null("duration_ns", I),
        f("value", S),
    ],
};

/// `specs`: what `/application.spec` lists.
pub const SPEC: ResourceType = ResourceType {
    name: "spec",
    plural: "specs",
    fields: &[
        f("path", S),
        f("type", S),
        f("plural", S),
        f("type_spec", O),
    ],
};

/// `build_data`.
pub const BUILD_DATA: ResourceType = ResourceType {
    name: "build_data",
    plural: "build_data",
    fields: &[
        f("buildid", I),
        f("name", S),
        f("length", I),
        f("value", S),
        f("source", S),
    ],
};

/// `_properties`: one property per entry, its value as JSON text.
pub const PROPERTY_ENTRY: ResourceType = ResourceType {
    name: "_property",
    plural: "_properties",
    fields: &[f("name", S), f("source", S), f("value", S)],
};
