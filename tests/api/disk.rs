//! SQLite on a full disk: writes answer `UNAVAILABLE` (retryable) and change nothing, `/readyz` reports it, and
//! once space is freed writes succeed and the WAL does not fill the volume again. The volume is a small tmpfs the
//! test mounts (the suite runs as root, as CI does).

use crate::helpers::*;
use orderwatch::auth::Role;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A tmpfs of `size` mounted on a new directory, unmounted when dropped.
struct SmallVolume {
    dir: tempfile::TempDir,
}

impl SmallVolume {
    fn mount(size: &str) -> SmallVolume {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(
            status.success(),
            "mounting a tmpfs needs root (the suite runs as root, as CI does)"
        );
        SmallVolume { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left of the volume with one file, and returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let small = vec![0u8; 512];
        while f.write_all(&small).is_ok() {}
        path
    }
}

impl Drop for SmallVolume {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

async fn ready(app: &TestApp) -> (u16, serde_json::Value) {
    let res = app.get("/readyz").await;
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn on_a_full_disk_writes_are_unavailable_change_nothing_and_readyz_says_so_until_space_is_freed(
) {
    if on_postgres() {
        return;
    }
    let volume = SmallVolume::mount("8m");
    let url = format!("sqlite://{}", volume.path().join("orderwatch.db").display());
    let app = TestApp::spawn_with(|s| s.database_url = url)
        .await
        .with_agencies()
        .await;
    let court = app.token(Role::Court, "WMC");
    app.grant(&court, spo_input(&app, "WMC/FD/1")).await.ok();
    assert_eq!(ready(&app).await.0, 200);

    // The test's own pool on the database is opened while there is room (opening one migrates and checkpoints).
    app.db().await;
    let filler = volume.fill();
    let before = app.snapshot().await;
    let r = app.grant(&court, spo_input(&app, "WMC/FD/2")).await;
    assert_eq!(r.codes(), vec!["UNAVAILABLE"], "{:?}", r.errors);
    assert_eq!(r.errors[0]["extensions"]["category"], "UNAVAILABLE");
    assert_eq!(app.snapshot().await, before, "nothing half-written");
    let (status, body) = ready(&app).await;
    assert_eq!(
        (status, body["database"].as_str()),
        (503, Some("writes failing"))
    );

    std::fs::remove_file(filler).unwrap();
    assert_eq!(ready(&app).await.0, 200);
    app.grant(&court, spo_input(&app, "WMC/FD/2")).await.ok();

    // With the WAL truncated, the space freed stays free: many more writes fit in what the filler took.
    let wal = volume.path().join("orderwatch.db-wal");
    for i in 3..40 {
        app.grant(&court, spo_input(&app, &format!("WMC/FD/{i}")))
            .await
            .ok();
    }
    app.db()
        .await
        .checkpoint_now(orderwatch::db::upkeep::Checkpoint::Truncate)
        .await;
    let wal_size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(
        wal_size < 1024 * 1024,
        "the WAL was truncated: {wal_size} bytes"
    );
}
