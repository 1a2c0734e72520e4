//! Headless Chromium for the tests that open a page the way a person would (the demo's report,
//! a gRPC-Web page): Debian's `chromium` found on the PATH, run once per page with a fresh profile
//! and its DOM read back after the page's scripts have run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// However a page behaves, Chromium is stopped after this long.
const PAGE_DEADLINE: Duration = Duration::from_secs(120);

/// `chromium` on the PATH (Debian's package, which `.ci/run` installs).
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

/// The browser a test opens its page in. Under CI a missing browser fails the test, since
/// `.ci/run` installs it; elsewhere the test is skipped with a line saying what `skipped` was not
/// checked.
pub fn chromium_for_test(skipped: &str) -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        let ci = std::env::var("CI").unwrap_or_default();
        assert!(
            ci.is_empty(),
            "CI={ci} but chromium is not installed: `.ci/run` installs it (Debian package `chromium`)"
        );
        eprintln!(
            "SKIPPED: chromium is not installed (apt-get install -y --no-install-recommends chromium); \
             {skipped}"
        );
    }
    found
}

/// The DOM of `url` once its scripts have had `virtual_time` of page time, rendered in a fresh
/// `profile`. Fails if Chromium fails or runs past two minutes.
pub fn rendered_dom(
    chromium: &Path,
    url: &str,
    profile: &Path,
    virtual_time: Duration,
) -> anyhow::Result<String> {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            "--dump-dom",
        ])
        .arg(format!(
            "--virtual-time-budget={}",
            virtual_time.as_millis()
        ))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("chromium's stdout is not piped"))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("chromium's stderr is not piped"))?;
    // Both pipes are drained while the browser runs, so a chatty log cannot block it.
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut dom).map(|_| dom)
    });
    let errors = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut log);
        log
    });
    let deadline = Instant::now() + PAGE_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            child.kill()?;
            anyhow::bail!("chromium did not finish {url} in two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader panicked"))??;
    let log = errors
        .join()
        .map_err(|_| anyhow::anyhow!("the reader panicked"))?;
    anyhow::ensure!(status.success(), "chromium failed: {status}\n{log}");
    Ok(dom)
}
