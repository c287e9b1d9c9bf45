//! placeholder
mod cnum;
mod event;
mod printf;
mod printfmt;
mod token;
