//! Tests of the pre-pass.

use super::*;

fn none(_: &str) -> Option<&'static str> {
    None
}

fn run(src: &str) -> String {
    rewrite(src, &none).expect("rewrite")
}

#[test]
fn plugin_imports_are_blanked_keeping_lines() {
    let src = "# -*- python -*-\nfrom buildbot.plugins import *\nfrom buildbot.plugins import steps, util\nimport os, re\nx = 1\n";
    let out = run(src);
    assert_eq!(out.lines().count(), src.lines().count());
    assert_eq!(out.lines().nth(4), Some("x = 1"));
    assert!(out.lines().nth(1).is_some_and(|l| l.trim().is_empty()));
    assert!(out.lines().nth(3).is_some_and(|l| l.trim().is_empty()));
}

#[test]
fn parenthesised_import_spanning_lines_is_blanked() {
    let src = "from buildbot.plugins import (\n    steps,\n    util)\ny = 2\n";
    let out = run(src);
    assert_eq!(out.lines().count(), 4);
    assert_eq!(out.lines().nth(3), Some("y = 2"));
    assert!(out.lines().take(3).all(|l| l.trim().is_empty()));
}

#[test]
fn unknown_plugin_namespace_is_an_error_with_position() {
    let err =
        rewrite("x = 1\nfrom buildbot.plugins import buildslave\n", &none).expect_err("must fail");
    assert_eq!((err.line, err.col), (2, 1));
    assert!(err.message.contains("buildslave"), "{}", err.message);
}

#[test]
fn direct_buildbot_imports_become_namespaced_assignments() {
    let lookup = |n: &str| (n == "ShellCommand").then_some("steps");
    let out = rewrite(
        "from buildbot.steps.shell import ShellCommand as SC\n",
        &lookup,
    )
    .expect("rewrite");
    assert_eq!(out.trim(), "SC = steps.ShellCommand");
}

#[test]
fn chained_assignment_binds_every_name() {
    let out = run("c = BuildmasterConfig = {}  # the config\n");
    assert_eq!(out.lines().count(), 1);
    assert!(out.starts_with("c = "), "{out}");
    assert!(out.contains("{}; BuildmasterConfig = c"), "{out}");
    // The dict literal keeps its column.
    assert_eq!(out.find('{'), Some(24));
}

#[test]
fn chained_assignment_over_several_lines_appends_after_the_last() {
    let out = run("a = b = {\n  'x': 1,\n}\n");
    assert_eq!(out, "a =     {\n  'x': 1,\n}; b = a\n");
}

#[test]
fn comparison_is_not_a_chained_assignment() {
    assert_eq!(run("a = b == c\n"), "a = b == c\n");
}

#[test]
fn unicode_prefixes_become_spaces() {
    assert_eq!(
        run("x = u'a' + U\"b\" + u'''c'''\n"),
        "x =  'a' +  \"b\" +  '''c'''\n"
    );
}

#[test]
fn u_inside_strings_names_and_comments_is_kept() {
    let src = "menu = 'u' + u_x # u'x'\ns = \"it's u'q'\"\n";
    assert_eq!(run(src), src);
}

#[test]
fn statements_after_a_semicolon_survive_an_import() {
    assert_eq!(run("import os; x = 1\n"), "         ; x = 1\n");
}

#[test]
fn import_inside_a_block_becomes_pass() {
    let out = run("if True:\n    import os\nz = 1\n");
    assert_eq!(out, "if True:\n    pass\nz = 1\n");
}

#[test]
fn import_words_inside_strings_are_not_rewritten() {
    let src = "doc = '''\nimport os\n'''\n";
    assert_eq!(run(src), src);
}

#[test]
fn odd_input_never_panics_and_keeps_the_line_count() {
    for src in [
        "é = 1\nx = é\n",
        "x = 'unterminated\ny = 2\n",
        "s = '''never closed\n",
        "x = '\\é'\n",
        ";;\n; import os\n",
        "a = b = \\\n  1\n",
        "from buildbot.plugins import\n",
        "from\n",
        "x = (1,\n",
        "u",
        "'",
        "\\",
    ] {
        let out = rewrite(src, &none).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
        assert_eq!(
            out.matches('\n').count(),
            src.matches('\n').count(),
            "{src:?}"
        );
    }
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\né x", 6), (2, 3));
}
