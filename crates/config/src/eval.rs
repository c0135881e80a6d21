//! Runs master.cfg: pre-pass, Starlark evaluation with Buildbot's namespaces predeclared, then
//! reading and checking the `BuildmasterConfig` dict the script left behind.

use std::sync::OnceLock;

use starlark::PrintHandler;
use starlark::environment::{Globals, GlobalsBuilder, LibraryExtension, Module};
use starlark::eval::Evaluator;
use starlark::syntax::{AstModule, Dialect};
use starlark::values::Value;
use starlark::values::dict::AllocDict;

use crate::types::MasterConfig;
use crate::values::{Collector, Loc};
use crate::{Error, Result, ctors, master, prepass, validate};

/// Python's top-level `for`/`if` and f-strings are common in master.cfg files.
fn dialect() -> Dialect {
    Dialect {
        enable_top_level_stmt: true,
        enable_f_strings: true,
        enable_keyword_only_arguments: true,
        ..Dialect::Standard
    }
}

fn globals() -> &'static Globals {
    static GLOBALS: OnceLock<Globals> = OnceLock::new();
    GLOBALS.get_or_init(|| {
        GlobalsBuilder::extended_by(&[
            LibraryExtension::StructType,
            LibraryExtension::Map,
            LibraryExtension::Filter,
            LibraryExtension::Partial,
            LibraryExtension::Print,
            LibraryExtension::Json,
        ])
        .with(ctors::register)
        .build()
    })
}

/// `print()` in master.cfg: to stderr, as `buildbot checkconfig` shows it.
struct Stderr;

impl PrintHandler for Stderr {
    fn println(&self, text: &str) -> starlark::Result<()> {
        eprintln!("{text}");
        Ok(())
    }
}

/// A starlark error as `file:line:col: message`.
fn describe(e: &starlark::Error, filename: &str) -> String {
    let message = e.without_diagnostic().to_string();
    let span = e.span().cloned().or_else(|| {
        e.call_stack()
            .frames
            .iter()
            .rev()
            .find_map(|f| f.location.clone())
    });
    match span {
        Some(span) => {
            let message = unknown_name(&message, span.source_span()).unwrap_or(message);
            format!("{}: {message}", Loc::of(&span))
        }
        None => format!("{filename}: {message}"),
    }
}

/// Starlark says "Object of type `namespace` has no attribute `Foo`"; a Buildbot user wants
/// to read which name it was.
fn unknown_name(message: &str, source: &str) -> Option<String> {
    if !message.starts_with("Object of type `namespace` has no attribute") {
        return None;
    }
    // The span is the attribute access, or the call it is part of.
    let head = source.split('(').next().unwrap_or(source);
    let (namespace, name) = head.trim().split_once('.')?;
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    (ident(namespace) && ident(name)).then(|| {
        format!(
            "{namespace}.{name} is not a Buildbot name Ferrobot knows \
             (docs/configuration.md lists the supported ones)"
        )
    })
}

/// Evaluates master.cfg text.
pub(crate) fn evaluate(filename: &str, source: &str) -> Result<MasterConfig> {
    let text = prepass::rewrite(source, &ctors::namespace_of)
        .map_err(|e| Error::Invalid(format!("{filename}:{}:{}: {}", e.line, e.col, e.message)))?;
    let ast = AstModule::parse(filename, text, &dialect())
        .map_err(|e| Error::Invalid(describe(&e, filename)))?;
    let collector = Collector::default();
    let (mut config, locations, mut errors) = Module::with_temp_heap(|module| {
        // One dict behind both names; predeclared globals are frozen, module variables are not.
        let initial = module
            .heap()
            .alloc(AllocDict(std::iter::empty::<(Value, Value)>()));
        module.set("c", initial);
        module.set("BuildmasterConfig", initial);
        {
            let mut eval = Evaluator::new(&module);
            // `initial` is held across evaluation and a collection would move it; a master.cfg
            // is small enough to run without one.
            eval.disable_gc();
            eval.extra = Some(&collector);
            eval.set_print_handler(&Stderr);
            eval.eval_module(ast, globals())
                .map_err(|e| Error::Invalid(describe(&e, filename)))?;
        }
        // The script may have rebound either name to a new dict; Buildbot reads
        // BuildmasterConfig, and `c` is its alias.
        let chosen = match module.get("BuildmasterConfig") {
            Some(v) if !v.ptr_eq(initial) => v,
            _ => module.get("c").unwrap_or(initial),
        };
        let read = master::read(chosen, filename);
        Ok::<_, Error>((read.config, read.locations, read.errors))
    })?;
    let mut warnings = collector.warnings.into_inner();
    warnings.append(&mut config.warnings);
    config.warnings = warnings;
    errors.extend(validate::check(&mut config, &locations));
    if !errors.is_empty() {
        return Err(Error::Invalid(errors.join("\n")));
    }
    Ok(config)
}
