//! The parameters of a ForceScheduler's form (`properties=[util.StringParameter(...), ...]`),
//! after Buildbot's `schedulers/forcesched.py`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field of the force form; its value becomes a build property named `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceParameter {
    /// The property (and, joined to its parents' names with `_`, the form field) name.
    pub name: String,
    /// The label shown (default: the name).
    pub label: String,
    /// What kind of field it is.
    pub kind: ForceParameterKind,
    /// The value when the form leaves it out.
    pub default: Value,
    /// An empty value is refused.
    pub required: bool,
    /// Each value must match this regular expression (from its start).
    pub regex: Option<String>,
    /// Not shown in the form.
    pub hide: bool,
    /// Longest accepted value, in characters.
    pub maxsize: Option<u64>,
    /// Help text shown with the field.
    pub tooltip: String,
}

/// The kinds of force-form fields Ferrobot implements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ForceParameterKind {
    /// `util.StringParameter`: one line of text.
    String {
        /// Field width in characters.
        size: u32,
    },
    /// `util.TextParameter`: several lines.
    Text {
        /// Columns.
        cols: u32,
        /// Rows.
        rows: u32,
    },
    /// `util.IntParameter`: an integer.
    Int {
        /// Field width in characters.
        size: u32,
    },
    /// `util.BooleanParameter`: a checkbox.
    Bool,
    /// `util.ChoiceStringParameter`: one (or, with `multiple`, several) of `choices`.
    Choice {
        /// The choices offered.
        choices: Vec<String>,
        /// Only the choices are accepted (otherwise any value is).
        strict: bool,
        /// Several may be chosen; the property is then a list.
        multiple: bool,
    },
    /// `util.FixedParameter`: always its default, not editable.
    Fixed,
    /// `util.NestedParameter`: a group of fields; with a non-empty name its fields' values go
    /// into one dict-valued property of that name.
    Nested {
        /// The grouped fields.
        fields: Vec<ForceParameter>,
        /// `vertical`, `horizontal` or `tabs`.
        layout: String,
        /// Columns of the grid (None: Buildbot's choice from the number of fields).
        columns: Option<u32>,
    },
}

impl ForceParameterKind {
    /// Buildbot's `type` of the field in the REST spec.
    pub fn type_name(&self) -> &'static str {
        match self {
            ForceParameterKind::String { .. } => "text",
            ForceParameterKind::Text { .. } => "textarea",
            ForceParameterKind::Int { .. } => "int",
            ForceParameterKind::Bool => "bool",
            ForceParameterKind::Choice { .. } => "list",
            ForceParameterKind::Fixed => "fixed",
            ForceParameterKind::Nested { .. } => "nested",
        }
    }
}
