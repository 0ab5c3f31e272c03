//! The websocket transport itself (`src/http/ws/socket.rs` and `src/http/ws/upgrade.rs`): the handshake's
//! answers, messages in several frames, pings, and bytes that arrive with the upgrade request.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use orderwatch::auth::Role;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::Role as WsRole;
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A websocket upgrade request for `path`, with extra header lines.
fn upgrade_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n{extra}\r\n"
    )
}

/// Sends `bytes` over a new connection: the connection, the response head, and the bytes after it.
async fn raw(app: &TestApp, bytes: &[u8]) -> (tokio::net::TcpStream, String, Vec<u8>) {
    let mut tcp = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap();
    tcp.write_all(bytes).await.unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = tokio::time::timeout(WAIT, tcp.read(&mut chunk))
            .await
            .expect("a response in time")
            .unwrap();
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(got[..end].to_vec()).unwrap();
    (tcp, head, got[end..].to_vec())
}

/// The JSON body of a refused upgrade (the connection closes after it).
async fn refused_body(mut tcp: tokio::net::TcpStream, mut rest: Vec<u8>) -> Value {
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut rest))
        .await
        .expect("the connection closes after a refusal")
        .unwrap();
    serde_json::from_slice(&rest).unwrap()
}

#[tokio::test]
async fn a_websocket_is_refused_anywhere_but_graphql_and_with_another_subprotocol() {
    let app = TestApp::spawn().await;

    let probe = upgrade_request("/healthz", "X-Request-Id: ws-probe-1\r\n");
    let (tcp, head, rest) = raw(&app, probe.as_bytes()).await;
    let lower = head.to_lowercase();
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert!(lower.contains("x-request-id: ws-probe-1"), "{head}");
    assert!(lower.contains("connection: close"), "{head}");
    let body = refused_body(tcp, rest).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );

    let offered = "Sec-WebSocket-Protocol: graphql-ws\r\n";
    let (tcp, head, rest) = raw(&app, upgrade_request("/graphql", offered).as_bytes()).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let body = refused_body(tcp, rest).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNSUPPORTED_SUBPROTOCOL",
        "{body}"
    );

    // A malformed handshake (no key) is refused, and the server goes on answering.
    let bad =
        "GET /graphql HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
               Sec-WebSocket-Version: 13\r\n\r\n";
    let (_, head, _) = raw(&app, bad.as_bytes()).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let health = app.client.get(format!("{}/healthz", app.url)).send().await;
    assert!(health.unwrap().status().is_success());

    // An accepted upgrade names the subprotocol offered and echoes the request id.
    let offered = "Sec-WebSocket-Protocol: graphql-transport-ws\r\nX-Request-Id: ws-probe-2\r\n";
    let (_, head, _) = raw(&app, upgrade_request("/graphql", offered).as_bytes()).await;
    let lower = head.to_lowercase();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        lower.contains("sec-websocket-protocol: graphql-transport-ws"),
        "{head}"
    );
    assert!(lower.contains("x-request-id: ws-probe-2"), "{head}");

    // A client that offers no subprotocol is not answered with one (a browser would fail the socket).
    let (_, head, _) = raw(&app, upgrade_request("/graphql", "").as_bytes()).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        !head.to_lowercase().contains("sec-websocket-protocol"),
        "{head}"
    );
}

/// A masked client text frame, as a client writes it.
fn masked_text(text: &str) -> Vec<u8> {
    let mut frame = Frame::message(text.as_bytes().to_vec(), OpCode::Data(Data::Text), true);
    frame.header_mut().mask = Some([0x37, 0xfa, 0x21, 0x3d]);
    let mut out = Vec::new();
    frame.format(&mut out).unwrap();
    out
}

fn connection_init(token: &str) -> String {
    json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })
        .to_string()
}

#[tokio::test]
async fn a_message_sent_with_the_upgrade_request_is_read() {
    let app = TestApp::spawn().await.with_agencies().await;
    let token = app.token(Role::Advocate, "ADV-A");
    let offered = "Sec-WebSocket-Protocol: graphql-transport-ws\r\n";
    let mut bytes = upgrade_request("/graphql", offered).into_bytes();
    bytes.extend(masked_text(&connection_init(&token)));
    let (tcp, head, rest) = raw(&app, &bytes).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let mut ws =
        tokio_tungstenite::WebSocketStream::from_partially_read(tcp, rest, WsRole::Client, None)
            .await;
    let ack = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("an answer in time");
    let Some(Ok(Message::Text(ack))) = ack else {
        panic!("{ack:?}")
    };
    assert_eq!(
        serde_json::from_str::<Value>(&ack).unwrap()["type"],
        "connection_ack"
    );
}

/// One frame of a message: the first (`Text`) or a later one (`Continue`), the last when `fin`.
async fn frame(ws: &mut Ws, bytes: &[u8], data: Data, fin: bool) -> bool {
    let frame = Frame::message(bytes.to_vec(), OpCode::Data(data), fin);
    ws.stream_mut().send(Message::Frame(frame)).await.is_ok()
}

#[tokio::test]
async fn a_message_in_several_frames_is_joined_and_a_ping_is_answered() {
    let app = TestApp::spawn().await.with_agencies().await;
    let token = app.token(Role::Advocate, "ADV-A");
    let mut ws = app.ws().await;
    let init = connection_init(&token);
    let (first, rest) = init.split_at(10);
    let (middle, last) = rest.split_at(rest.len() / 2);
    assert!(frame(&mut ws, first.as_bytes(), Data::Text, false).await);
    // A control frame may come between the pieces of a message.
    let ping = Message::Ping(b"between".to_vec().into());
    ws.stream_mut().send(ping).await.unwrap();
    assert!(frame(&mut ws, middle.as_bytes(), Data::Continue, false).await);
    assert!(frame(&mut ws, last.as_bytes(), Data::Continue, true).await);
    let mut got = Vec::new();
    while got.len() < 2 {
        let msg = tokio::time::timeout(WAIT, ws.stream_mut().next())
            .await
            .expect("an answer in time");
        match msg {
            Some(Ok(Message::Pong(p))) => got.push(format!("pong {}", String::from_utf8_lossy(&p))),
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                got.push(v["type"].as_str().unwrap().to_string())
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, ["pong between", "connection_ack"]);
}

#[tokio::test]
async fn a_message_over_the_limit_in_pieces_or_not_utf8_closes_the_socket() {
    let app = TestApp::spawn().await;
    let mut ws = app.ws().await;
    let piece = vec![b' '; 100 * 1024];
    assert!(frame(&mut ws, &piece, Data::Text, false).await);
    for _ in 0..2 {
        // The server may close while these are on their way.
        frame(&mut ws, &piece, Data::Continue, false).await;
    }
    assert_eq!(ws.closed().await.0, 1009, "300 KiB in three frames");

    let mut ws = app.ws().await;
    assert!(frame(&mut ws, &[0xff, 0xfe], Data::Text, true).await);
    assert_eq!(ws.closed().await.0, 1007, "a text frame that is not UTF-8");
}

/// Opens a websocket by hand: the connection after the `101`, and any bytes that came with it.
async fn opened(app: &TestApp) -> (tokio::net::TcpStream, Vec<u8>) {
    let offered = "Sec-WebSocket-Protocol: graphql-transport-ws\r\n";
    let (tcp, head, rest) = raw(app, upgrade_request("/graphql", offered).as_bytes()).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    (tcp, rest)
}

/// The code of the close frame the server sends first (server frames are not masked).
async fn close_code(tcp: &mut tokio::net::TcpStream, mut got: Vec<u8>) -> u16 {
    let mut chunk = [0u8; 1024];
    while got.len() < 4 {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut chunk))
            .await
            .expect("a close frame in time")
            .unwrap();
        assert!(n > 0, "closed without a close frame: {got:?}");
        got.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(got[0], 0x88, "a close frame first: {got:?}");
    u16::from_be_bytes([got[2], got[3]])
}

#[tokio::test]
async fn a_frame_declared_too_large_is_refused_as_it_arrives_and_an_unmasked_one_breaks_the_protocol(
) {
    let app = TestApp::spawn().await;

    // A header declaring 1 MiB, then 300 KiB of it: the server stops reading past 256 KiB, not at 1 MiB.
    let (mut tcp, rest) = opened(&app).await;
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 20).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    tcp.write_all(&header).await.unwrap();
    let piece = vec![0u8; 30 * 1024];
    for _ in 0..10 {
        // The server may close while these are on their way.
        let sent = tokio::time::timeout(WAIT, tcp.write_all(&piece)).await;
        if !matches!(sent, Ok(Ok(()))) {
            break;
        }
    }
    assert_eq!(close_code(&mut tcp, rest).await, 1009);

    let (mut tcp, rest) = opened(&app).await;
    tcp.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
    assert_eq!(close_code(&mut tcp, rest).await, 1002, "an unmasked frame");

    // CONNECT reaches the same handler as an upgrade, and is refused.
    let connect = "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n";
    let (tcp, head, rest) = raw(&app, connect.as_bytes()).await;
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    let body = refused_body(tcp, rest).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "METHOD_NOT_ALLOWED"
    );
}

#[tokio::test]
async fn a_close_reason_naming_a_long_id_fits_a_close_frame() {
    let app = TestApp::spawn().await.with_agencies().await;
    let token = app.token(Role::Advocate, "ADV-A");
    let mut ws = app.ws().await;
    ws.init(&token).await;
    let id = "é".repeat(100);
    ws.alerts_after(&id, &json!(null)).await;
    ws.alerts_after(&id, &json!(null)).await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 4409, "{reason}");
    assert!(
        reason.len() <= 123 && reason.starts_with("Subscriber for é"),
        "{reason}"
    );
}

/// Websockets run as tasks of their own, which actix-server's limit on connections does not count: the server
/// keeps its own, and one socket more is refused before its handshake while the open ones go on.
#[tokio::test]
async fn a_websocket_past_the_most_the_server_holds_is_refused_and_the_others_go_on() {
    let app = TestApp::spawn_with(|s| s.ws_max_sockets = 1).await;
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Police, "MET")).await;

    let (tcp, head, rest) = raw(&app, upgrade_request("/graphql", "").as_bytes()).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.to_lowercase().contains("retry-after: 30"), "{head}");
    let body = refused_body(tcp, rest).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "TOO_MANY_SOCKETS",
        "{body}"
    );

    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.recv().await.unwrap()["type"], "pong");
}

/// A stopping server waits for its open sockets to close, and opens none meanwhile, so that wait ends: a socket
/// that has been sent its 1001 and has not answered it yet still holds the stop, and a new one is refused.
#[tokio::test]
async fn a_stopping_server_refuses_new_websockets_while_the_open_ones_close() {
    let app = TestApp::spawn().await;
    let (mut open, got) = opened(&app).await;
    let shutdown = app.shutdown.clone();
    let stopping = tokio::spawn(async move { shutdown.shutdown().await });
    assert_eq!(close_code(&mut open, got).await, 1001);

    // The open socket has not sent its own close frame, so the server still waits for it (for up to 1 s).
    let (tcp, head, rest) = raw(&app, upgrade_request("/graphql", "").as_bytes()).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.to_lowercase().contains("retry-after: 5"), "{head}");
    let body = refused_body(tcp, rest).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body}"
    );
    // A load balancer that asks whether to send more here is told no, while what is under way finishes.
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "stopping");
    drop(open);
    stopping.await.unwrap();
}
