//! The `ringcast` command: run the server, or `ringcast token` to mint a test JWT.
//!
//! Exit codes: 0 success, 1 the server failed, 2 bad command line or configuration (one line
//! on stderr naming the setting).

use std::process::ExitCode;

use clap::Parser;
use ringcast::auth::{self, AuthSettings};
use ringcast::config::{Cli, Command, Config, TokenArgs, process_env};

fn main() -> ExitCode {
    // Prints help/version and exits 0, or a usage error and exits 2, as clap does.
    let cli = Cli::parse();
    let (settings, token) = match cli.command {
        None => (cli.settings, None),
        Some(Command::Token(args)) => (args.settings_over(cli.settings), Some(args)),
    };
    let config = match process_env().and_then(|env| Config::from_settings(settings, &env)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ringcast: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(args) = token else {
        return match ringcast::run(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ringcast: {e}");
                ExitCode::FAILURE
            }
        };
    };
    match mint(&config, &args) {
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

/// `ringcast token`: signs with the configured key, or (with `--dev`, or in dev mode where no
/// key is configured) with the secret the dev-mode server saved, adding `rooms: ["*"]` so the
/// token works under either room policy.
fn mint(config: &Config, args: &TokenArgs) -> Result<String, String> {
    let mut settings: AuthSettings = config.auth();
    let mut claims = args.claims.clone();
    if args.dev || config.dev_mode {
        let dir = config
            .dev_state_dir()
            .ok_or("no state directory: set state_dir (RINGCAST_STATE_DIR) or HOME")?;
        settings.secret = Some(auth::load_dev_secret(&dir)?);
        settings.private_key = None;
        settings.algorithms = vec![jsonwebtoken::Algorithm::HS256];
        if !claims.iter().any(|(name, _)| name == "rooms") {
            claims.push(auth::dev_rooms_claim());
        }
    }
    auth::mint_secs(&settings, &args.sub, args.ttl.secs(), &claims).map_err(|e| e.to_string())
}
