//! The resource types of REST API v2 and the fields a query may select, filter and order on
//! (reference/buildbot.md §5.3). The query engine checks every field name against these lists,
//! so a typo is a 400 naming the field rather than an empty result.

/// How a field's filter values are read from the query string and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer (ids, counts, result codes, epoch times).
    Integer,
    /// Free text or an identifier.
    String,
    /// A boolean, written on/off, true/false, yes/no or 1/0.
    Boolean,
    /// A list of integers (`masterids`); filters compare the elements.
    IntegerList,
    /// A list of strings (`tags`, `files`); filters compare the elements.
    StringList,
    /// Nested JSON (properties, source stamps): selectable, never filtered or ordered.
    Object,
}

impl Kind {
    /// The name used in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Integer => "integer",
            Kind::String => "string",
            Kind::Boolean => "boolean",
            Kind::IntegerList => "integer list",
            Kind::StringList => "string list",
            Kind::Object => "object",
        }
    }
}

/// One field of a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The JSON key.
    pub name: &'static str,
    /// How it is filtered.
    pub kind: Kind,
    /// Whether it may be null (then the filter value `null` means null).
    pub nullable: bool,
}

/// A resource type: its names and fields.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// Singular name (`build`).
    pub name: &'static str,
    /// The envelope key (`builds`).
    pub plural: &'static str,
    /// The fields of its entities.
    pub fields: &'static [Field],
}

impl ResourceType {
    /// The field with this name, if the type has one.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

pub(super) const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        nullable: false,
    }
}

pub(super) const fn null(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        nullable: true,
    }
}

use Kind::{
    Boolean as B, Integer as I, IntegerList as IL, Object as O, String as S, StringList as SL,
};

/// `rootlinks`: the collections under `/api/v2`.
pub const ROOTLINK: ResourceType = ResourceType {
    name: "rootlink",
    plural: "rootlinks",
    fields: &[f("name", S)],
};

/// `builders`.
pub const BUILDER: ResourceType = ResourceType {
    name: "builder",
    plural: "builders",
    fields: &[
        f("builderid", I),
        f("name", S),
        f("masterids", IL),
        null("description", S),
        null("description_format", S),
        null("description_html", S),
        null("projectid", I),
        f("tags", SL),
    ],
};

/// `builds`.
pub const BUILD: ResourceType = ResourceType {
    name: "build",
    plural: "builds",
    fields: &[
        f("buildid", I),
        f("number", I),
        f("builderid", I),
        f("buildrequestid", I),
        null("workerid", I),
        f("masterid", I),
        f("started_at", I),
        f("complete", B),
        null("complete_at", I),
        f("locks_duration_s", I),
        null("results", I),
        f("state_string", S),
        f("properties", O),
    ],
};

/// `buildrequests`.
pub const BUILDREQUEST: ResourceType = ResourceType {
    name: "buildrequest",
    plural: "buildrequests",
    fields: &[
        f("buildrequestid", I),
        f("buildsetid", I),
        f("builderid", I),
        f("priority", I),
        f("claimed", B),
        null("claimed_at", I),
        null("claimed_by_masterid", I),
        f("complete", B),
        f("results", I),
        f("submitted_at", I),
        null("complete_at", I),
        f("waited_for", B),
        null("properties", O),
    ],
};

/// `buildsets`.
pub const BUILDSET: ResourceType = ResourceType {
    name: "buildset",
    plural: "buildsets",
    fields: &[
        f("bsid", I),
        null("external_idstring", S),
        f("reason", S),
        null("rebuilt_buildid", I),
        f("submitted_at", I),
        f("complete", B),
        null("complete_at", I),
        null("results", I),
        f("sourcestamps", O),
        null("parent_buildid", I),
        null("parent_relationship", S),
    ],
};

/// `sourcestamps`.
pub const SOURCESTAMP: ResourceType = ResourceType {
    name: "sourcestamp",
    plural: "sourcestamps",
    fields: &[
        f("ssid", I),
        null("revision", S),
        null("branch", S),
        f("repository", S),
        f("project", S),
        f("codebase", S),
        null("patch", O),
        f("created_at", I),
    ],
};

/// `changes`.
pub const CHANGE: ResourceType = ResourceType {
    name: "change",
    plural: "changes",
    fields: &[
        f("changeid", I),
        f("parent_changeids", IL),
        f("author", S),
        null("committer", S),
        f("files", SL),
        f("comments", S),
        null("revision", S),
        f("when_timestamp", I),
        null("branch", S),
        null("category", S),
        null("revlink", S),
        f("properties", O),
        f("repository", S),
        f("project", S),
        f("codebase", S),
        f("sourcestamp", O),
    ],
};

/// `changesources`.
pub const CHANGESOURCE: ResourceType = ResourceType {
    name: "changesource",
    plural: "changesources",
    fields: &[f("changesourceid", I), f("name", S), null("master", O)],
};

/// `schedulers`.
pub const SCHEDULER: ResourceType = ResourceType {
    name: "scheduler",
    plural: "schedulers",
    fields: &[
        f("schedulerid", I),
        f("name", S),
        f("enabled", B),
        null("master", O),
    ],
};

/// `forceschedulers`.
pub const FORCESCHEDULER: ResourceType = ResourceType {
    name: "forcescheduler",
    plural: "forceschedulers",
    fields: &[
        f("name", S),
        f("button_name", S),
        f("label", S),
        f("builder_names", SL),
        f("enabled", B),
        f("all_fields", O),
    ],
};

/// `masters`.
pub const MASTER: ResourceType = ResourceType {
    name: "master",
    plural: "masters",
    fields: &[
        f("masterid", I),
        f("name", S),
        f("active", B),
        f("last_active", I),
    ],
};

/// `workers`.
pub const WORKER: ResourceType = ResourceType {
    name: "worker",
    plural: "workers",
    fields: &[
        f("workerid", I),
        f("name", S),
        f("workerinfo", O),
        f("paused", B),
        null("pause_reason", S),
        f("graceful", B),
        f("connected_to", O),
        f("configured_on", O),
    ],
};

/// `steps`.
pub const STEP: ResourceType = ResourceType {
    name: "step",
    plural: "steps",
    fields: &[
        f("stepid", I),
        f("number", I),
        f("name", S),
        f("buildid", I),
        null("started_at", I),
        null("locks_acquired_at", I),
        f("complete", B),
        null("complete_at", I),
        null("results", I),
        f("state_string", S),
        f("urls", O),
        f("hidden", B),
    ],
};

/// `logs`.
pub const LOG: ResourceType = ResourceType {
    name: "log",
    plural: "logs",
    fields: &[
        f("logid", I),
        f("name", S),
        f("slug", S),
        f("stepid", I),
        f("complete", B),
        f("num_lines", I),
        f("type", S),
    ],
};

/// `logchunks`: what `.../contents` returns.
pub const LOGCHUNK: ResourceType = ResourceType {
    name: "logchunk",
    plural: "logchunks",
    fields: &[f("logid", I), f("firstline", I), f("content", S)],
};

/// `properties`: a build's properties as one `{name: [value, source]}` object. It has no
/// selectable fields: Buildbot returns the whole dictionary.
pub const PROPERTIES: ResourceType = ResourceType {
    name: "properties",
    plural: "properties",
    fields: &[],
};
