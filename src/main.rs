//! The `whisk` binary: parse arguments, run, turn the outcome into an exit code.

fn main() -> std::process::ExitCode {
    whisk::cli::main()
}
