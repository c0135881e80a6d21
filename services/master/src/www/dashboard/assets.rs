//! The dashboard's files, built into the binary. Every file under `services/master/www/` must
//! be listed here (a test checks), so a new page cannot be forgotten.

/// Declares the table of built-in assets from paths relative to `services/master/www/`.
macro_rules! assets {
    ($($file:literal),* $(,)?) => {
        /// `(path, contents)` of every built-in asset.
        pub(super) const ASSETS: &[(&str, &[u8])] = &[
            $(($file, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/www/", $file)))),*
        ];
    };
}

assets![
    "index.html",
    "style.css",
    "icon.svg",
    "app.js",
    "api.js",
    "live.js",
    "util.js",
    "ansi.js",
    "auth.js",
    "force.js",
    "pages/home.js",
    "pages/builders.js",
    "pages/builder.js",
    "pages/build.js",
    "pages/log.js",
    "pages/buildrequest.js",
    "pages/waterfall.js",
    "pages/console.js",
    "pages/grid.js",
    "pages/workers.js",
    "pages/changes.js",
    "pages/masters.js",
];

/// The built-in copy of `file`, if there is one.
pub(super) fn built_in(file: &str) -> Option<&'static [u8]> {
    ASSETS
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, bytes)| *bytes)
}
