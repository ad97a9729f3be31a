//! The file under the report writers: synced to disk as it is written once it is large. A
//! report of a million items is hundreds of MiB; an fsync after the last byte would wait for
//! all of them to reach the disk with both cores idle. Every 8 MiB written, a thread of the
//! file's own syncs it (`fdatasync` on a second handle), so that the disk takes the report
//! while the rest of it is made and the final fsync waits for the last few MiB. A file
//! smaller than that starts no thread.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Bytes written between two background syncs.
const SYNC_EVERY: u64 = 8 * 1024 * 1024;

/// A file being written (see the module's text); `sync` ends it.
pub struct Synced {
    file: File,
    written: u64,
    synced_at: u64,
    syncer: Option<Syncer>,
}

struct Syncer {
    due: mpsc::Sender<()>,
    thread: JoinHandle<io::Result<()>>,
}

impl Synced {
    pub fn new(file: File) -> Synced {
        Synced {
            file,
            written: 0,
            synced_at: 0,
            syncer: None,
        }
    }

    /// Asks the background thread to sync what was written so far (started on first use;
    /// without it the final sync does all).
    fn sync_in_background(&mut self) {
        self.synced_at = self.written;
        if self.syncer.is_none() {
            self.syncer = self.file.try_clone().ok().and_then(Syncer::start);
        }
        if let Some(syncer) = &self.syncer {
            // A thread that stopped on an error says so in `sync`.
            let _ = syncer.due.send(());
        }
    }

    /// Waits for the background syncs, then syncs the rest: the file is on disk. A failed
    /// background sync fails this too (the kernel reports a write-back error to one fsync of
    /// the file, which may have been the background one).
    pub fn sync(self) -> io::Result<()> {
        if let Some(Syncer { due, thread }) = self.syncer {
            drop(due);
            thread
                .join()
                .map_err(|_| io::Error::other("the thread syncing the file stopped"))??;
        }
        self.file.sync_all()
    }
}

impl Syncer {
    fn start(file: File) -> Option<Syncer> {
        let (due, asked) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("whisk-sync".into())
            .spawn(move || {
                while asked.recv().is_ok() {
                    // One sync covers every request that came while the last one ran.
                    while asked.try_recv().is_ok() {}
                    file.sync_data()?;
                }
                Ok(())
            })
            .ok()?;
        Some(Syncer { due, thread })
    }
}

impl Write for Synced {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.file.write(bytes)?;
        self.written += n as u64;
        if self.written - self.synced_at >= SYNC_EVERY {
            self.sync_in_background();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` bytes that differ from one MiB to the next.
    fn text(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i % 251) as u8 ^ (i >> 20) as u8)
            .collect()
    }

    /// Writes `bytes` to a new file in pieces of up to 64 KiB; returns the file's bytes and
    /// whether a background thread synced it.
    fn through(bytes: &[u8]) -> (Vec<u8>, bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut file = Synced::new(File::create(&path).unwrap());
        for piece in bytes.chunks(64 * 1024 - 3) {
            file.write_all(piece).unwrap();
        }
        let synced_in_background = file.syncer.is_some();
        file.sync().unwrap();
        (std::fs::read(&path).unwrap(), synced_in_background)
    }

    #[test]
    fn a_small_file_starts_no_thread() {
        let bytes = text(100_000);
        assert_eq!(through(&bytes), (bytes, false));
    }

    #[test]
    fn a_large_file_is_synced_as_it_is_written_and_lands_whole() {
        let bytes = text(20 * 1024 * 1024 + 12_345);
        let (written, synced_in_background) = through(&bytes);
        assert!(written == bytes, "the bytes differ");
        assert!(synced_in_background);
    }

    #[test]
    fn a_failed_write_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("read-only");
        std::fs::write(&path, b"").unwrap();
        // Writes to a file opened for reading fail.
        let mut file = Synced::new(File::open(&path).unwrap());
        assert!(file.write_all(&text(1024)).is_err());
    }
}
