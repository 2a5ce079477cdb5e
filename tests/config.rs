//! Bad settings stop `fullpass run` at once with one line naming the setting.

use std::process::Command;

fn run_with(env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fullpass"));
    cmd.arg("run")
        .env_clear()
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run fullpass");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Settings to give, and words the error must contain.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn each_bad_value_gets_one_clear_error() {
    let cases: &[Case] = &[
        (
            &[("FULLPASS_LISTEN_MODE", "sometimes")],
            &["sometimes", "listen-mode"],
        ),
        (&[("FULLPASS_LEASE", "-5s")], &["-5s", "lease"]),
        (
            &[("FULLPASS_SWEEP_INTERVAL", "0s")],
            &["FULLPASS_SWEEP_INTERVAL", "greater than zero"],
        ),
        (&[("FULLPASS_CONCURRENCY", "0")], &["FULLPASS_CONCURRENCY"]),
        (
            &[("FULLPASS_CONCURRENCY", "many")],
            &["many", "concurrency"],
        ),
        (
            &[("SUPABASE_URL", "https://x.supabase.co")],
            &["SUPABASE_SERVICE_ROLE_KEY", "required"],
        ),
        (
            &[
                ("SUPABASE_URL", "ftp://x"),
                ("SUPABASE_SERVICE_ROLE_KEY", "k"),
            ],
            &["SUPABASE_URL", "http"],
        ),
        (
            &[("FULLPASS_EXCLUDE_CATEGORIES", "health,astrology")],
            &["astrology"],
        ),
        (&[("FULLPASS_MAX_EXPORT_BYTES", "5 parsecs")], &["parsecs"]),
        (
            &[("FULLPASS_RETRY_BASE", "10m"), ("FULLPASS_RETRY_MAX", "1m")],
            &["FULLPASS_RETRY_MAX"],
        ),
        (
            &[("ALERT_WEBHOOK_URL", "mailto:ops@example.com")],
            &["ALERT_WEBHOOK_URL"],
        ),
        (
            &[("FULLPASS_DB_CA_FILE", "/nonexistent/ca.pem")],
            &["ca.pem"],
        ),
        (
            &[("FULLPASS_STORAGE_PATH_TEMPLATE", "{bucket}/")],
            &["FULLPASS_STORAGE_PATH_TEMPLATE", "{user_id}"],
        ),
        (
            &[("FULLPASS_STORAGE_BUCKETS", " , ")],
            &["FULLPASS_STORAGE_BUCKETS", "no bucket"],
        ),
    ];
    for (env, needles) in cases {
        let (ok, stderr) = run_with(env);
        assert!(!ok, "{env:?} was accepted");
        let text = stderr.trim();
        for needle in *needles {
            assert!(
                text.contains(needle),
                "{env:?}: error does not mention {needle:?}: {text}"
            );
        }
        assert!(!text.contains("panicked"), "{env:?} panicked: {text}");
    }
}

#[test]
fn a_bad_database_url_is_reported_without_its_password() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fullpass"));
    let out = cmd
        .args(["status"])
        .env_clear()
        .env(
            "DATABASE_URL",
            "postgres://u:hunter2-secret@127.0.0.1:1/db?sslmode=bogus",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sslmode"), "{stderr}");
    assert!(!stderr.contains("hunter2-secret"), "{stderr}");
}

#[test]
fn config_prints_the_effective_settings_with_secrets_masked() {
    let out = Command::new(env!("CARGO_BIN_EXE_fullpass"))
        .arg("config")
        .env_clear()
        .env(
            "DATABASE_URL",
            "postgres://worker:pw-Secret-77@db.example:5432/app",
        )
        .env("SUPABASE_URL", "https://x.supabase.co")
        .env("SUPABASE_SERVICE_ROLE_KEY", "service-key-Secret-88")
        .env("FULLPASS_CONCURRENCY", "7")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("Secret-77") && !stdout.contains("Secret-88"),
        "{stdout}"
    );
    assert!(
        stdout.contains("postgres://worker:***@db.example:5432/app"),
        "{stdout}"
    );
    let concurrency = stdout
        .lines()
        .find(|l| l.starts_with("FULLPASS_CONCURRENCY"))
        .unwrap();
    assert!(concurrency.ends_with(" 7"), "{concurrency}");
}

#[test]
fn config_masks_the_alert_webhook_path() {
    let out = Command::new(env!("CARGO_BIN_EXE_fullpass"))
        .arg("config")
        .env_clear()
        .env("DATABASE_URL", "postgres://worker@db.example:5432/app")
        .env(
            "ALERT_WEBHOOK_URL",
            "https://hooks.slack.com/services/T000/B000/Hook-Secret-99",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("Hook-Secret-99") && !stdout.contains("T000"),
        "{stdout}"
    );
    let hook = stdout
        .lines()
        .find(|l| l.starts_with("ALERT_WEBHOOK_URL"))
        .unwrap();
    assert!(hook.ends_with(" https://hooks.slack.com/***"), "{hook}");
    let template = stdout
        .lines()
        .find(|l| l.starts_with("FULLPASS_STORAGE_PATH_TEMPLATE"))
        .unwrap();
    assert!(template.ends_with(" {bucket}/{user_id}/"), "{template}");
}
