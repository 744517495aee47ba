fn main() -> std::process::ExitCode {
    actprof::cli::main()
}
