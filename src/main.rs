//! The `whisk` binary (wired up by the core runner).

fn main() {}
