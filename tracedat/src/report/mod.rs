//! trace-cmd's `report` (tracecmd/trace-read.c and the parts of lib/trace-cmd it drives).

pub mod comm;
pub mod line;
pub mod plugins;
pub mod wakeup;
