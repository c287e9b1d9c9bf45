//! One module per subcommand.

pub mod man;
pub mod report;
