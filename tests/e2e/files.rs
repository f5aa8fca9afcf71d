//! The data directory and the database files are the console's alone: `0700` and `0600` on creation,
//! and tightened (with a warning) when found looser.

use hermod_console_tests::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn database_files(c: &Console) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| c.data_dir().join(format!("hermod-console.sqlite3{s}")))
        .collect()
}

#[tokio::test]
async fn the_data_directory_and_the_database_are_private_and_made_so_again() {
    let mut c = Console::demo().start().await;
    // A write, so that the log and shared-memory files exist.
    c.send("ping", ping_body(&unique("files-"), 30)).await;
    assert_eq!(mode(&c.data_dir()), 0o700, "data directory");
    for file in database_files(&c) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    // Loosened while the console was stopped (a restore, a careless copy): tightened on the next start.
    let status = c.stop().await;
    assert!(status.success());
    std::fs::set_permissions(c.data_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for file in database_files(&c).iter().filter(|f| f.exists()) {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    c.start_again().await;
    // The store is open once the console is ready.
    c.assert_healthy().await;
    assert_eq!(mode(&c.data_dir()), 0o700);
    for file in database_files(&c).iter().filter(|f| f.exists()) {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert!(
        c.log().contains("permissions tightened"),
        "the tightening is logged"
    );
}
