//! `options` (and `list -O`): the plugin options `report -O` understands, printed as
//! libtraceevent's `tep_plugin_print_options` prints them for the plugins trace-cmd loads:
//! `ftrace` (libtraceevent plugins/plugin_function.c) and trace-cmd's built-in `fgraph`
//! (lib/trace-cmd/trace-ftrace.c; its `retval-*` options exist from trace-cmd 3.2). The
//! "set" column is the option's default, which is what a fresh trace-cmd shows.

use std::io::Write as _;
use std::process::ExitCode;

use tracedat::report::plugins::PluginOptions;

use crate::cli::{Compat, OptionsArgs};

pub fn run(args: &OptionsArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(render(args.compat).as_bytes())?;
    lock.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One plugin option: name, description, value.
type PluginOption = (&'static str, &'static str, bool);

/// The option list of one trace-cmd release.
pub fn render(compat: Compat) -> String {
    let d = PluginOptions::default();
    let mut plugins: Vec<(&str, Vec<PluginOption>)> = vec![
        (
            "ftrace",
            vec![
                (
                    "parent",
                    "Print parent of functions for function events",
                    d.parent,
                ),
                (
                    "indent",
                    "Try to show function call indents, based on parents",
                    d.indent,
                ),
                (
                    "offset",
                    "Show function names as well as their offsets",
                    d.offset,
                ),
            ],
        ),
        (
            "fgraph",
            vec![
                (
                    "tailprint",
                    "Print function name at function exit in function graph",
                    d.tailprint,
                ),
                ("depth", "Show the depth of each entry", d.depth),
            ],
        ),
    ];
    if compat == Compat::V3_3 {
        plugins[1].1.extend([
            (
                "retval-skip",
                "Skip printing function retval in function graph",
                d.retval_skip,
            ),
            (
                "retval-dec",
                "Print function retval in decimal at function exit in function graph",
                d.retval_dec,
            ),
            (
                "retval-hex",
                "Print function retval in hex at function exit in function graph",
                d.retval_hex,
            ),
        ]);
    }
    let mut out = String::new();
    for (pi, (plugin, opts)) in plugins.iter().enumerate() {
        if pi > 0 {
            out.push_str("============\n");
        }
        for (oi, (name, desc, set)) in opts.iter().enumerate() {
            if oi > 0 {
                out.push_str("------------\n");
            }
            out.push_str(&format!(
                "  plugin:\t{plugin}\n  option:\t{name}\n    desc:\t{desc}\n     set:\t{}\n",
                u8::from(*set)
            ));
        }
    }
    out
}

/// The zstd library's version (for `list -c`).
pub fn zstd_version() -> String {
    zstd::zstd_safe::version_string().to_string()
}

/// What stands for zlib here (for `list -c`): flate2's pure-Rust inflater.
pub fn zlib_version() -> &'static str {
    "flate2/miniz_oxide"
}
