//! A websocket's frames over the connection it was upgraded on, with no buffer held while it is idle.
//!
//! An advocate's console keeps one socket open all day and hears from it a few times, so what an idle socket holds
//! is what 10,000 of them cost. The HTTP dispatcher keeps an 8 KiB read and an 8 KiB write buffer for as long as a
//! connection lives; here a read buffer exists only while a message is arriving, and what is sent is written from a
//! buffer that exists only while it is written (docs/decisions/0014-websockets-leave-the-http-dispatcher.md).

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{CloseReason, Codec, Frame, Item, Message, ProtocolError};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How much is read at a time while a message arrives.
const READ_CHUNK: usize = 4 * 1024;
/// The longest a frame's header can be: 2 bytes, 8 of length, 4 of mask.
const MAX_HEADER: usize = 14;
/// How long a write may wait for a client that does not read; then the client is taken to be gone.
const WRITE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
/// Longest reason a close frame carries: its payload is at most 125 bytes, 2 of them the code.
const MAX_CLOSE_REASON: usize = 123;

/// A whole message from the client, its continuation frames joined.
#[derive(Debug)]
pub enum Incoming {
    Text(ByteString),
    Binary,
    Ping(Bytes),
    Pong,
    Close,
}

/// Why no message could be read.
#[derive(Debug, PartialEq, Eq)]
pub enum Broken {
    /// A frame, or a message of several frames, larger than the limit.
    TooLarge,
    /// A text message that is not UTF-8.
    NotUtf8,
    /// A frame the protocol does not allow (unmasked, an unknown opcode, a continuation out of order).
    Protocol,
    /// The client went away; nothing more can be said to it.
    Gone,
}

pub struct Socket {
    io: TcpStream,
    codec: Codec,
    /// Bytes read and not yet decoded; released whenever it is empty.
    read: BytesMut,
    /// Messages encoded and not yet written; released after each write.
    write: BytesMut,
    /// A message arriving in continuation frames: whether it is text, and its bytes so far.
    partial: Option<(bool, BytesMut)>,
    max_message: usize,
}

impl Socket {
    /// `read` is what arrived after the upgrade request, before the handshake was answered.
    pub fn new(io: TcpStream, read: BytesMut, max_message: usize) -> Socket {
        Socket {
            io,
            codec: Codec::new().max_size(max_message),
            read: if read.is_empty() {
                BytesMut::new()
            } else {
                read
            },
            write: BytesMut::new(),
            partial: None,
            max_message,
        }
    }

    /// The next whole message. Safe to cancel (as `tokio::select!` does): the only await is for the socket to be
    /// readable, and what has been read stays in `self`.
    pub async fn next(&mut self) -> Result<Incoming, Broken> {
        loop {
            while let Some(frame) = self.decode()? {
                if let Some(message) = self.join(frame)? {
                    self.release();
                    return Ok(message);
                }
            }
            self.release();
            // The codec checks a frame's size only once all of it has arrived: past the limit, no frame it could
            // still accept is in the buffer.
            if self.read.len() > self.max_message + MAX_HEADER {
                return Err(Broken::TooLarge);
            }
            self.io.readable().await.map_err(|_| Broken::Gone)?;
            self.read.reserve(READ_CHUNK);
            match self.io.try_read_buf(&mut self.read) {
                Ok(0) => return Err(Broken::Gone),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return Err(Broken::Gone),
            }
        }
    }

    fn decode(&mut self) -> Result<Option<Frame>, Broken> {
        self.codec.decode(&mut self.read).map_err(|e| match e {
            ProtocolError::Overflow => Broken::TooLarge,
            ProtocolError::Io(_) => Broken::Gone,
            _ => Broken::Protocol,
        })
    }

    /// Frees the read buffer once everything in it has been decoded, and moves a small rest out of a large one (a
    /// large message followed by a byte would otherwise keep the message's buffer).
    fn release(&mut self) {
        if self.read.is_empty() {
            if self.read.capacity() > 0 {
                self.read = BytesMut::new();
            }
        } else if self.read.len() <= READ_CHUNK && self.read.capacity() > 2 * READ_CHUNK {
            self.read = BytesMut::from(&self.read[..]);
        }
    }

    /// A frame as a message: continuation frames are kept until the last one, within the size limit.
    fn join(&mut self, frame: Frame) -> Result<Option<Incoming>, Broken> {
        let (text, bytes) = match frame {
            Frame::Text(bytes) => (true, bytes),
            Frame::Binary(_) => return Ok(Some(Incoming::Binary)),
            Frame::Ping(p) => return Ok(Some(Incoming::Ping(p))),
            Frame::Pong(_) => return Ok(Some(Incoming::Pong)),
            Frame::Close(_) => return Ok(Some(Incoming::Close)),
            Frame::Continuation(Item::FirstText(b)) => return self.start(true, b),
            Frame::Continuation(Item::FirstBinary(b)) => return self.start(false, b),
            Frame::Continuation(Item::Continue(b)) => {
                self.append(&b)?;
                return Ok(None);
            }
            Frame::Continuation(Item::Last(b)) => {
                self.append(&b)?;
                let (text, bytes) = self.partial.take().ok_or(Broken::Protocol)?;
                (text, bytes.freeze())
            }
        };
        if !text {
            return Ok(Some(Incoming::Binary));
        }
        ByteString::try_from(bytes)
            .map(|t| Some(Incoming::Text(t)))
            .map_err(|_| Broken::NotUtf8)
    }

    fn start(&mut self, text: bool, first: Bytes) -> Result<Option<Incoming>, Broken> {
        if self.partial.is_some() {
            return Err(Broken::Protocol);
        }
        self.partial = Some((text, BytesMut::from(&first[..])));
        Ok(None)
    }

    fn append(&mut self, more: &[u8]) -> Result<(), Broken> {
        let (_, so_far) = self.partial.as_mut().ok_or(Broken::Protocol)?;
        if so_far.len() + more.len() > self.max_message {
            return Err(Broken::TooLarge);
        }
        so_far.extend_from_slice(more);
        Ok(())
    }

    /// Encodes a message to be written by the next `flush`.
    pub fn queue(&mut self, message: Message) -> std::io::Result<()> {
        self.codec
            .encode(message, &mut self.write)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))
    }

    /// How many bytes are queued.
    pub fn queued(&self) -> usize {
        self.write.len()
    }

    /// Writes what is queued, then releases the buffer. A client that takes none of it for `WRITE_DEADLINE` is
    /// gone: the connection ends, and the client resumes from its last cursor when it reconnects.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        let written = tokio::time::timeout(WRITE_DEADLINE, self.io.write_all(&self.write)).await;
        self.write = BytesMut::new();
        written.unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    }

    /// Writes one message whole.
    pub async fn send(&mut self, message: Message) -> std::io::Result<()> {
        self.queue(message)?;
        self.flush().await
    }

    /// Sends the close frame and ends the connection: after the client's close frame, its end of the stream, or
    /// `linger`, whichever comes first, so that it reads the close before the connection goes.
    pub async fn close(mut self, mut reason: Option<CloseReason>, linger: std::time::Duration) {
        if let Some(text) = reason.as_mut().and_then(|r| r.description.as_mut()) {
            let mut end = text.len().min(MAX_CLOSE_REASON);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        if self.send(Message::Close(reason)).await.is_err() {
            return;
        }
        let _ = self.io.shutdown().await;
        // Until the client's own close frame (a browser waits for the server to end the connection after it), or
        // its end of the stream; input that is not frames is read and dropped.
        let _ = tokio::time::timeout(linger, async {
            loop {
                match self.next().await {
                    Ok(Incoming::Close) | Err(Broken::Gone) => return,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            drain(&mut self.io).await
        })
        .await;
    }
}

/// Reads and drops what the client still sends until it closes its end, for at most `linger`: a connection closed
/// with input unread is reset, and the reset can destroy what was written last before the client reads it.
pub async fn linger_on(io: &mut TcpStream, linger: std::time::Duration) {
    let _ = tokio::time::timeout(linger, drain(io)).await;
}

async fn drain(io: &mut TcpStream) {
    let mut sink = vec![0u8; 1024];
    while let Ok(n) = io.read(&mut sink).await {
        if n == 0 {
            return;
        }
    }
}
