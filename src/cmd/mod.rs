//! One module per subcommand.

pub mod capture;
pub mod clear;
pub mod convert;
pub mod date;
pub mod dyndbg;
pub mod extract;
pub mod gated;
pub mod list;
pub mod man;
pub mod options;
pub mod probe;
pub mod record;
pub mod report;
pub mod reset;
pub mod setup;
pub mod show;
pub mod snapshot;
pub mod start;
pub mod stat;
pub mod stop;
pub mod stream;
pub mod tracing;
