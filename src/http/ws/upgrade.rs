//! The handshake: a request for a websocket, handed over by the HTTP dispatcher with its connection, is answered
//! here; `GET /graphql` then runs as a `Connection` (docs/decisions/0014-websockets-leave-the-http-dispatcher.md).

use super::socket::{linger_on, Socket};
use super::{connection, CLOSE_LINGER, MAX_FRAME, SUBPROTOCOL};
use crate::codes;
use crate::http::AppState;
use actix_codec::Framed;
use actix_http::body::{BodySize, MessageBody};
use actix_http::header::{self, HeaderValue};
use actix_http::{h1, ConnectionType, HttpMessage, Method, Request, Response, StatusCode};
use futures_util::SinkExt;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A request that asks for a websocket (`Upgrade: websocket`, on any path), handed over by the HTTP dispatcher with
/// its connection: `GET /graphql` becomes a websocket run here to its end; anything else is answered and closed.
///
/// An accepted socket runs as a task of its own, and the dispatcher's task ends. That task was sized for the whole
/// HTTP dispatcher (about 4 KiB, by heaptrack over 10,000 idle sockets), which an idle socket would otherwise keep
/// for as long as it lives. `AppState::sockets` tracks the tasks, so a graceful stop still waits for them.
pub fn upgrade(
    state: Arc<AppState>,
    req: Request,
    framed: Framed<TcpStream, h1::Codec>,
) -> impl std::future::Future<Output = Result<(), std::convert::Infallible>> {
    // A socket counts from here, before its handshake is answered, so that neither the limit nor a graceful stop
    // misses one being opened; a refused one stops counting before it is answered.
    let opening = state.sockets.token();
    let closed = if *state.shutdown.borrow() {
        Some(Closed::Stopping)
    } else if state.sockets.len() > state.ws_max_sockets {
        Some(Closed::Full)
    } else {
        None
    };
    let accepting = Box::pin(accept(req, framed, closed, opening));
    async move {
        if let Some((socket, source, opening)) = accepting.await {
            let sockets = state.sockets.clone();
            // On the worker's own thread, as the dispatcher was.
            sockets.spawn_local(connection(state, socket, source));
            drop(opening);
        }
        Ok(())
    }
}

/// Why no more websockets are taken.
#[derive(Clone, Copy)]
enum Closed {
    /// The server is stopping (its open sockets are closing with 1001).
    Stopping,
    /// It holds `ORDERWATCH_WS_MAX_SOCKETS` already.
    Full,
}

type Opening = tokio_util::task::task_tracker::TaskTrackerToken;

/// Answers the upgrade request: the socket and the client's address when it is accepted.
async fn accept(
    req: Request,
    mut framed: Framed<TcpStream, h1::Codec>,
    closed: Option<Closed>,
    opening: Opening,
) -> Option<(Socket, Option<std::net::IpAddr>, Opening)> {
    let request_id = crate::http::client_request_id(req.headers())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut response = match handshake(&req, closed) {
        Ok(response) => response,
        Err(refused) => {
            drop(opening);
            let _ = refuse(&mut framed, refused, &request_id).await;
            let mut io = framed.into_parts().io;
            let _ = io.shutdown().await;
            linger_on(&mut io, CLOSE_LINGER).await;
            return None;
        }
    };
    // Named only when the client offered it: a browser fails a socket whose server names one it did not ask for.
    if req.headers().contains_key(header::SEC_WEBSOCKET_PROTOCOL) {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(
            header::HeaderName::from_static(crate::http::REQUEST_ID_HEADER),
            id,
        );
    }
    framed.send((response, BodySize::None).into()).await.ok()?;
    // The dispatcher's buffers and codec are dropped here; what the client sent after its request is the socket's
    // first input.
    let actix_codec::FramedParts { io, read_buf, .. } = framed.into_parts();
    Some((
        Socket::new(io, read_buf, MAX_FRAME),
        req.peer_addr().map(|a| a.ip()),
        opening,
    ))
}

/// The `101 Switching Protocols` for a websocket request to `/graphql`, or the answer that refuses it.
fn handshake(
    req: &Request,
    closed: Option<Closed>,
) -> Result<Response<()>, Response<actix_http::body::BoxBody>> {
    // Any method with `Upgrade: websocket`, and CONNECT, come here.
    if req.method() != Method::GET {
        let message = "a websocket is opened with GET /graphql";
        let refused = crate::http::error_body(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::METHOD_NOT_ALLOWED,
            message,
        );
        return Err(refused.into());
    }
    if req.path() != "/graphql" {
        let message = "a websocket is served at /graphql only";
        return Err(
            crate::http::error_body(StatusCode::NOT_FOUND, codes::NOT_FOUND, message).into(),
        );
    }
    let offered: Vec<&str> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(str::trim))
        .collect();
    // Websockets are tasks of their own, which actix-server's limit on connections does not count; and a stopping
    // server takes none, so that its wait for the open ones ends.
    if let Some(closed) = closed {
        let (code, message, retry) = match closed {
            Closed::Full => (
                codes::TOO_MANY_SOCKETS,
                "the server holds as many websockets as it is set to (ORDERWATCH_WS_MAX_SOCKETS); try again later",
                "30",
            ),
            Closed::Stopping => (
                codes::UNAVAILABLE,
                "the server is stopping; connect again in a moment",
                "5",
            ),
        };
        let mut refused = crate::http::error_body(StatusCode::SERVICE_UNAVAILABLE, code, message);
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(retry));
        return Err(refused.into());
    }
    if !offered.is_empty() && !offered.contains(&SUBPROTOCOL) {
        let message = format!("the only websocket subprotocol spoken is {SUBPROTOCOL}");
        let refused = crate::http::error_body(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_SUBPROTOCOL,
            &message,
        );
        return Err(refused.into());
    }
    actix_http::ws::handshake(req.head())
        .map(|mut accepted| accepted.finish().drop_body())
        .map_err(Response::from)
}

/// Writes a refusal whole, saying the connection closes after it.
async fn refuse(
    framed: &mut Framed<TcpStream, h1::Codec>,
    refused: Response<actix_http::body::BoxBody>,
    request_id: &str,
) -> std::io::Result<()> {
    let (mut head, body) = refused.into_parts();
    head.head_mut().set_connection_type(ConnectionType::Close);
    if let Ok(id) = HeaderValue::from_str(request_id) {
        head.headers_mut().insert(
            header::HeaderName::from_static(crate::http::REQUEST_ID_HEADER),
            id,
        );
    }
    let body = actix_http::body::to_bytes(body).await.unwrap_or_default();
    let size = body.size();
    framed.send((head, size).into()).await?;
    if !body.is_empty() {
        framed.send(h1::Message::Chunk(Some(body))).await?;
    }
    framed.send(h1::Message::Chunk(None)).await
}
