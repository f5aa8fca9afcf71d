//! Liveness and readiness, public and cheap; the metrics, for admins, API tokens and the metrics
//! listener (`metrics_listen`).

use super::OpenMetrics;
use crate::error::{ApiError, Code};
use crate::metrics::Metrics;
use crate::state::Disk;
use crate::store::Store;
use axum::extract::State;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A writer that neither answers nor says it stopped (its thread gone) must still fail the probe,
/// within a probe's usual timeout.
const PING_WAIT: Duration = Duration::from_secs(5);

pub async fn live() -> &'static str {
    "ok"
}

/// Ready when the store answers a read and a write and the data directory has room to write in;
/// otherwise 503 `not_ready` naming what is wrong, so whoever reads the probe's answer knows.
pub async fn ready(
    State(store): State<Arc<dyn Store>>,
    State(disk): State<Disk>,
) -> Result<&'static str, ApiError> {
    let not_ready = |why: String| ApiError::new(Code::NotReady, format!("not ready: {why}"));
    match tokio::time::timeout(PING_WAIT, store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(not_ready(format!("store: {e}"))),
        Err(_) => {
            return Err(not_ready(format!(
                "store: its writer did not answer within {} s",
                PING_WAIT.as_secs()
            )));
        }
    }
    let least = disk.min_free_mb;
    if least > 0 {
        match free_disk_mb(&disk.dir) {
            Ok(free) if free < least => {
                return Err(not_ready(format!(
                    "disk: {free} MiB free in {}, under limits.min_free_disk_mb ({least} MiB)",
                    disk.dir.display()
                )));
            }
            Ok(_) => {}
            Err(e) => {
                return Err(not_ready(format!(
                    "disk: cannot read the free space of {}: {e}",
                    disk.dir.display()
                )));
            }
        }
    }
    Ok("ready")
}

/// Free space an unprivileged writer may use (`f_bavail`: the root reserve does not count, the
/// console does not run as root), in MiB.
#[cfg(unix)]
fn free_disk_mb(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `path` is a valid NUL-terminated string and `stat` a writable struct; statvfs writes
    // only into it.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    let bytes = (stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64);
    Ok(bytes >> 20)
}

#[cfg(not(unix))]
fn free_disk_mb(_dir: &Path) -> std::io::Result<u64> {
    Ok(u64::MAX)
}

pub async fn metrics(State(metrics): State<Arc<Metrics>>) -> OpenMetrics {
    OpenMetrics(metrics.text())
}
