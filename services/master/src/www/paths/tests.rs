use super::*;

fn parse(path: &str) -> Option<Endpoint> {
    let segments: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
    };
    Endpoint::parse(&segments)
}

#[test]
fn builders_are_found_by_id_or_name() {
    assert_eq!(
        parse("builders/3"),
        Some(Endpoint::Builder(BuilderRef::Id(3)))
    );
    assert_eq!(
        parse("builders/linux-x86"),
        Some(Endpoint::Builder(BuilderRef::Name("linux-x86".into())))
    );
}

#[test]
fn nested_log_paths_resolve_through_build_and_step() {
    let by_number = BuildRef::Number(BuilderRef::Name("b".into()), 4);
    assert_eq!(
        parse("builders/b/builds/4/steps/compile/logs/stdio/raw"),
        Some(Endpoint::LogData(
            LogRef::Slug(StepRef::Name(by_number, "compile".into()), "stdio".into()),
            LogView::Raw
        ))
    );
    assert_eq!(
        parse("builds/9/steps/0/logs"),
        Some(Endpoint::Logs(StepRef::Number(BuildRef::Id(9), 0)))
    );
    assert_eq!(
        parse("logs/5/contents"),
        Some(Endpoint::LogData(LogRef::Id(5), LogView::Contents))
    );
}

#[test]
fn unknown_paths_trailing_slashes_and_bad_ids_are_refused() {
    for path in [
        "nope",
        "builds/",
        "builds/x",
        "builds/1/nope",
        "logs/1/tail",
        "steps/-1",
    ] {
        assert_eq!(parse(path), None, "{path}");
    }
    assert_eq!(parse("builders/b/builds/x"), None);
}
