//! `authwire-dev`: parse the command line (usage errors exit 2), log to stderr, run.
use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = authwire_devserver::Config::parse();
    authwire_devserver::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("authwire-dev: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(authwire_devserver::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authwire-dev: {e}");
            ExitCode::FAILURE
        }
    }
}
