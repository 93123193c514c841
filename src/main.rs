//! The `ringcast` command: run the server, or `ringcast token` to mint a test JWT.
//!
//! Exit codes: 0 success, 1 the server failed, 2 bad command line or configuration (one line
//! on stderr naming the setting).

use std::process::ExitCode;

use clap::Parser;
use ringcast::config::{Cli, Command, Config, process_env};

fn main() -> ExitCode {
    // Prints help/version and exits 0, or a usage error and exits 2, as clap does.
    let cli = Cli::parse();
    let config = match process_env().and_then(|env| Config::from_settings(cli.settings, &env)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ringcast: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        None => match ringcast::run(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ringcast: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Token(args)) => {
            match ringcast::auth::mint(&config.auth(), &args.sub, args.ttl, &args.claims) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("ringcast token: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
