//! A websocket's frames over the connection it was upgraded on, with no buffer held while it is idle.
//!
//! An advocate's console keeps one socket open all day and hears from it a few times, so what an idle socket holds
//! is what 10,000 of them cost. The HTTP dispatcher keeps an 8 KiB read and an 8 KiB write buffer for as long as a
//! connection lives; here a read buffer exists only while a message is arriving, and each message sent is written
//! from a buffer of its own size (docs/decisions/0014-websockets-leave-the-http-dispatcher.md).

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{CloseReason, Codec, Frame, Item, Message, ProtocolError};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// How much is read at a time while a message arrives.
const READ_CHUNK: usize = 4 * 1024;

/// A whole message from the client, its continuation frames joined.
#[derive(Debug)]
pub enum Incoming {
    Text(ByteString),
    Binary,
    Ping(Bytes),
    Pong,
    Close,
}

/// A message to write: protocol text, or any websocket message.
pub enum Outgoing {
    Text(String),
    Frame(Message),
}

impl From<String> for Outgoing {
    fn from(text: String) -> Outgoing {
        Outgoing::Text(text)
    }
}

impl From<Message> for Outgoing {
    fn from(message: Message) -> Outgoing {
        Outgoing::Frame(message)
    }
}

/// Why no message could be read.
#[derive(Debug, PartialEq, Eq)]
pub enum Broken {
    /// A frame, or a message of several frames, larger than the limit.
    TooLarge,
    /// A text message that is not UTF-8.
    NotUtf8,
    /// The client went away or broke the framing; nothing more can be said to it.
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
            _ => Broken::Gone,
        })
    }

    /// Frees the read buffer once everything in it has been decoded.
    fn release(&mut self) {
        if self.read.is_empty() && self.read.capacity() > 0 {
            self.read = BytesMut::new();
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
                let (text, bytes) = self.partial.take().ok_or(Broken::Gone)?;
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
            return Err(Broken::Gone);
        }
        self.partial = Some((text, BytesMut::from(&first[..])));
        Ok(None)
    }

    fn append(&mut self, more: &[u8]) -> Result<(), Broken> {
        let (_, so_far) = self.partial.as_mut().ok_or(Broken::Gone)?;
        if so_far.len() + more.len() > self.max_message {
            return Err(Broken::TooLarge);
        }
        so_far.extend_from_slice(more);
        Ok(())
    }

    /// Encodes a message to be written by the next `flush`.
    pub fn queue(&mut self, message: impl Into<Outgoing>) -> std::io::Result<()> {
        let message = match message.into() {
            Outgoing::Text(text) => Message::Text(text.into()),
            Outgoing::Frame(message) => message,
        };
        self.codec
            .encode(message, &mut self.write)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))
    }

    /// How many bytes are queued.
    pub fn queued(&self) -> usize {
        self.write.len()
    }

    /// Writes what is queued, then releases the buffer.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        let written = self.io.write_all(&self.write).await;
        self.write = BytesMut::new();
        written
    }

    /// Writes one message whole.
    pub async fn send(&mut self, message: impl Into<Outgoing>) -> std::io::Result<()> {
        self.queue(message)?;
        self.flush().await
    }

    /// Sends the close frame and ends the connection: after the client's close frame, its end of the stream, or
    /// `linger`, whichever comes first, so that it reads the close before the connection goes.
    pub async fn close(mut self, reason: Option<CloseReason>, linger: std::time::Duration) {
        if self.send(Message::Close(reason)).await.is_err() {
            return;
        }
        let _ = self.io.shutdown().await;
        let _ = tokio::time::timeout(linger, async {
            while !matches!(self.next().await, Ok(Incoming::Close) | Err(_)) {}
        })
        .await;
    }
}
