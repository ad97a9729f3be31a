//! Reading a loop's spool back in item order. The file holds chunks, each the entries one
//! thread finished, nearly in order. An entry read before its turn is not copied: its chunk
//! is kept until every entry of it was handed on, and the chunk's memory is then used again
//! for a later one. (Reading and decompressing on a second thread was measured: no faster,
//! as the caller then reads every chunk from the other core's cache.)

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read};

/// Calls `each` with the text of the entries `0..len` of the spool `file`, in index order.
pub fn in_order(
    file: File,
    len: usize,
    mut each: impl FnMut(usize, &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut reader = Chunks::new(file)?;
    let mut order = Order::new(len);
    while order.next < len {
        let buffer = order.spare.pop().unwrap_or_default();
        let Some(chunk) = reader.next_chunk(buffer)? else {
            return Err(io::Error::other(format!(
                "the loop's spool file ended early: item {} is missing",
                order.next
            )));
        };
        order.take(chunk, &mut each)?;
    }
    Ok(())
}

/// Where an entry read before its turn is: its chunk (a slot of `Order::held`), the start
/// of its text in the chunk, and the text's length.
#[derive(Clone, Copy)]
struct Held {
    slot: u32,
    start: u32,
    len: u32,
}

/// The entries read so far and not yet handed on, by index.
struct Order {
    /// The index of the next entry to hand on.
    next: usize,
    len: usize,
    /// `ahead[k]` is entry `next + k`, once it was read.
    ahead: VecDeque<Option<Held>>,
    /// Chunks with entries not yet handed on, and how many.
    held: Vec<(Vec<u8>, usize)>,
    /// Slots of `held` free for the next chunk.
    free: Vec<u32>,
    /// The memory of chunks handed on, for the next ones.
    spare: Vec<Vec<u8>>,
}

impl Order {
    fn new(len: usize) -> Order {
        Order {
            next: 0,
            len,
            ahead: VecDeque::new(),
            held: Vec::new(),
            free: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// Takes a chunk's entries, then hands on every entry that is next, in order. A chunk
    /// whose entries were all handed on is kept in `spare`.
    fn take(
        &mut self,
        chunk: Vec<u8>,
        each: &mut impl FnMut(usize, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.held.push((Vec::new(), 0));
                (self.held.len() - 1) as u32
            }
        };
        let mut entries = 0;
        let mut at = 0;
        while at < chunk.len() {
            let (index, start, len) = split_entry(&chunk, at)?;
            at = start + len;
            if index >= self.len {
                return Err(io::Error::other(format!(
                    "the loop's spool file is damaged: it has item {index} of a loop of {}",
                    self.len
                )));
            }
            // An item given twice keeps its first text (`Spool::put` never writes two).
            let Some(k) = index.checked_sub(self.next) else {
                continue;
            };
            if self.ahead.len() <= k {
                self.ahead.resize(k + 1, None);
            }
            if self.ahead[k].is_none() {
                self.ahead[k] = Some(Held {
                    slot,
                    start: start as u32,
                    len: len as u32,
                });
                entries += 1;
            }
        }
        self.held[slot as usize] = (chunk, entries);
        if entries == 0 {
            self.release(slot);
        }
        while let Some(Some(held)) = self.ahead.front().copied() {
            self.ahead.pop_front();
            let (chunk, left) = &mut self.held[held.slot as usize];
            let start = held.start as usize;
            each(self.next, &chunk[start..start + held.len as usize])?;
            self.next += 1;
            *left -= 1;
            if *left == 0 {
                self.release(held.slot);
            }
        }
        Ok(())
    }

    /// Frees a chunk's slot and keeps its memory for a later chunk.
    fn release(&mut self, slot: u32) {
        let chunk = std::mem::take(&mut self.held[slot as usize].0);
        self.spare.push(chunk);
        self.free.push(slot);
    }
}

/// The entry of `chunk` at `at`: its index, and where its text starts and how long it is.
fn split_entry(chunk: &[u8], at: usize) -> io::Result<(usize, usize, usize)> {
    let damaged = || io::Error::other("the loop's spool file is damaged: an entry is cut short");
    let rest = chunk.get(at..).ok_or_else(damaged)?;
    let (index, rest) = rest.split_first_chunk::<8>().ok_or_else(damaged)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(damaged)?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err(damaged());
    }
    Ok((u64::from_le_bytes(*index) as usize, at + 12, len))
}

/// The chunks of a spool file, decompressed one at a time.
struct Chunks {
    file: BufReader<File>,
    compressed: Vec<u8>,
}

impl Chunks {
    fn new(mut file: File) -> io::Result<Chunks> {
        io::Seek::rewind(&mut file)?;
        Ok(Chunks {
            file: BufReader::with_capacity(64 * 1024, file),
            compressed: Vec::new(),
        })
    }

    /// The next chunk's entries, decompressed into `chunk`, or `None` at the end of the file.
    fn next_chunk(&mut self, mut chunk: Vec<u8>) -> io::Result<Option<Vec<u8>>> {
        let mut head = [0u8; 8];
        match self.file.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let size = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let raw = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        self.compressed.resize(size, 0);
        self.file.read_exact(&mut self.compressed)?;
        chunk.resize(raw, 0);
        let n = lz4_flex::block::decompress_into(&self.compressed, &mut chunk)
            .map_err(|e| io::Error::other(format!("the loop's spool file is damaged: {e}")))?;
        chunk.truncate(n);
        Ok(Some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of the entries `(index, text)`, laid out as `Spool` writes them.
    fn chunk(entries: &[(usize, &str)]) -> Vec<u8> {
        let mut chunk = Vec::new();
        for (index, text) in entries {
            chunk.extend_from_slice(&(*index as u64).to_le_bytes());
            chunk.extend_from_slice(&(text.len() as u32).to_le_bytes());
            chunk.extend_from_slice(text.as_bytes());
        }
        chunk
    }

    /// What `Order` hands on from `chunks`, and how many chunks it kept for reuse.
    fn order(len: usize, chunks: &[Vec<u8>]) -> io::Result<(Vec<(usize, String)>, usize)> {
        let mut order = Order::new(len);
        let mut out = Vec::new();
        for chunk in chunks {
            order.take(chunk.clone(), &mut |index, text| {
                out.push((index, String::from_utf8(text.to_vec()).unwrap()));
                Ok(())
            })?;
        }
        Ok((out, order.spare.len()))
    }

    #[test]
    fn entries_of_interleaved_chunks_come_out_in_order_and_chunks_are_reused() {
        let chunks = [
            chunk(&[(1, "b"), (4, "e")]),
            chunk(&[(2, "c"), (0, "a")]),
            chunk(&[(5, "f"), (3, "d")]),
        ];
        let (out, kept) = order(6, &chunks).unwrap();
        let expected: Vec<(usize, String)> = "abcdef"
            .chars()
            .enumerate()
            .map(|(i, c)| (i, c.to_string()))
            .collect();
        assert_eq!(out, expected);
        assert_eq!(kept, 3, "every chunk is kept for reuse once handed on");
    }

    #[test]
    fn an_entry_given_twice_keeps_its_first_text() {
        let chunks = [chunk(&[(1, "first"), (1, "second")]), chunk(&[(0, "zero")])];
        let (out, _) = order(2, &chunks).unwrap();
        assert_eq!(out, [(0, "zero".into()), (1, "first".into())]);
    }

    #[test]
    fn a_damaged_chunk_is_an_error_not_a_panic() {
        let mut cut = chunk(&[(0, "text")]);
        cut.truncate(cut.len() - 1);
        let error = order(1, &[cut]).unwrap_err();
        assert!(error.to_string().contains("cut short"), "{error}");
        let error = order(3, &[chunk(&[(usize::MAX, "x")])]).unwrap_err();
        assert!(
            error.to_string().contains("item 18446744073709551615"),
            "{error}"
        );
    }
}
