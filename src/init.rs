//! Placeholder until the workflows issue lands.

pub fn run<T: std::fmt::Debug>(_args: T) -> u8 {
    eprintln!("xacct: this subcommand is not available yet");
    crate::exit::INPUT
}
