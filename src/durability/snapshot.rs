//! The snapshot: the whole store in one file, written to a temporary and renamed, with
//! the directory fsynced.

use crate::state::TenantState;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

#[derive(Serialize, Deserialize)]
pub(super) struct Snapshot {
    pub(super) version: u32,
    /// The last journal record the snapshot includes.
    pub(super) last_seq: u64,
    pub(super) regions: Vec<TenantState>,
    /// How far `POST /_clock` had moved the clock (absent in older snapshots).
    #[serde(default)]
    pub(super) clock_offset_seconds: f64,
}

pub(super) fn temporary_for(path: &Path) -> PathBuf {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    PathBuf::from(temporary)
}

/// Temporary files a crash left behind (a failure removes its own).
pub(super) fn remove_leftover_temporaries(dir: &Path) {
    for name in [SNAPSHOT, JOURNAL, SEED] {
        let temporary = temporary_for(&dir.join(name));
        if temporary.exists() {
            match std::fs::remove_file(&temporary) {
                Ok(()) => tracing::info!(
                    "removed {}, left by an interrupted compaction",
                    temporary.display()
                ),
                Err(e) => tracing::warn!("cannot remove {}: {e}", temporary.display()),
            }
        }
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old file or the new
/// one, and a failure leaves the old one and no temporary file.
pub(super) fn write_durably(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), PersistenceError> {
    let temporary = temporary_for(path);
    let written = File::create(&temporary)
        .and_then(|mut file| file.write_all(bytes).and_then(|_| file.sync_all()))
        .map_err(io_error(&temporary))
        .and_then(|_| std::fs::rename(&temporary, path).map_err(io_error(path)));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    let _ = sync_dir(dir);
    Ok(())
}

/// Makes a directory's entries (files created, renamed or removed) durable.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
