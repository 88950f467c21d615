//! `seqlab_training::console`: a stream that fails is remembered and never written again (the
//! work goes on); what its loss means for a command's exit status.

use std::io::{self, Write};

use seqlab_training::console::Stream;

/// Takes `room` bytes, then fails with `error`; counts every write asked of it.
struct Failing {
    room: usize,
    error: fn() -> io::Error,
    asked: usize,
    taken: Vec<u8>,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.asked += 1;
        if self.room == 0 {
            return Err((self.error)());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        self.taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_lost_stream_is_remembered_and_never_written_again() {
    let stream = Stream::new();
    let closed = || io::Error::from(io::ErrorKind::BrokenPipe);
    let mut out = Failing { room: 6, error: closed, asked: 0, taken: Vec::new() };
    stream.line(&mut out, format_args!("epoch {}", 1));
    assert_eq!(stream.lost().map(|l| l.kind), Some(io::ErrorKind::BrokenPipe));
    let asked = out.asked;
    stream.line(&mut out, format_args!("epoch 2"));
    assert_eq!(out.asked, asked, "nothing more is asked of a lost stream");
    assert_eq!(out.taken, b"epoch ");
    assert_eq!(stream.lost().unwrap().exit(), (141, None), "quiet, as cat ends");
}

#[test]
fn a_full_disk_is_an_error_that_names_it() {
    let stream = Stream::new();
    let mut out = Failing { room: 0, error: || io::Error::from_raw_os_error(28), asked: 0, taken: Vec::new() };
    stream.line(&mut out, format_args!("accuracy 0.85"));
    let (status, line) = stream.lost().unwrap().exit();
    assert_eq!(status, 1);
    assert_eq!(line.unwrap(), "error: standard output: No space left on device (os error 28)");
    let ok = Stream::new();
    let mut written = Vec::new();
    ok.line(&mut written, format_args!("{} {}", "F1", 0.9));
    assert_eq!((written.as_slice(), ok.lost()), (&b"F1 0.9\n"[..], None));
}
