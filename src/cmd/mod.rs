//! One module per subcommand.

pub mod convert;
pub mod man;
pub mod report;
