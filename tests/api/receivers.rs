//! Real receivers for the endpoint tests: a webhook receiver (an actix-web HTTP server on port 0) that keeps every
//! request it gets and answers as the test says, and an SMTP server (`mailin-embedded`) that keeps every message.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a test waits for a delivery (never reached when things work).
const WAIT: Duration = Duration::from_secs(30);

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: http::HeaderMap,
    pub raw: Vec<u8>,
    pub body: Value,
    /// The status it was answered with (0: held, never answered).
    pub status: u16,
}

impl Delivery {
    pub fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_string()
    }

    /// Verifies the delivery with the Standard Webhooks reference library, with `secret`.
    pub fn verify(&self, secret: &str) -> Result<(), String> {
        standardwebhooks::Webhook::new(secret)
            .map_err(|e| e.to_string())?
            .verify(&self.raw, &self.headers)
            .map_err(|e| e.to_string())
    }
}

#[derive(Default)]
struct Received {
    got: Mutex<Vec<Delivery>>,
    /// The status to answer with (200 unless the test says otherwise).
    answer: AtomicU16,
    /// While set, requests are held unanswered until released.
    hold: AtomicBool,
    released: tokio::sync::Notify,
    arrived: tokio::sync::Notify,
}

/// A webhook receiver at `url`.
pub struct WebhookReceiver {
    pub url: String,
    state: Arc<Received>,
    server: actix_web::dev::ServerHandle,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Received>>,
) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    for (name, value) in req.headers() {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(n, v);
        }
    }
    let held = state.hold.load(Ordering::SeqCst);
    let status = if held {
        0
    } else {
        state.answer.load(Ordering::SeqCst)
    };
    state.got.lock().unwrap().push(Delivery {
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body.to_vec(),
        status,
    });
    let index = {
        let got = state.got.lock().unwrap();
        got.len() - 1
    };
    state.arrived.notify_waiters();
    if held {
        state.released.notified().await;
        // Answered now, if the sender is still there to read it.
        state.got.lock().unwrap()[index].status = 200;
        state.arrived.notify_waiters();
        return HttpResponse::Ok().finish();
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        let state = Arc::new(Received::default());
        state.answer.store(200, Ordering::SeqCst);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/orderwatch", listener.local_addr().unwrap());
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hooks/orderwatch", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        WebhookReceiver {
            url,
            state,
            server: handle,
        }
    }

    /// Answers every request from now on with `status`.
    pub fn answer(&self, status: u16) {
        self.state.answer.store(status, Ordering::SeqCst);
    }

    /// Holds requests from now on without answering, until `release`.
    pub fn hold(&self) {
        self.state.hold.store(true, Ordering::SeqCst);
    }

    /// Answers held requests (200) and holds no more.
    pub fn release(&self) {
        self.state.hold.store(false, Ordering::SeqCst);
        self.state.released.notify_waiters();
    }

    /// Every request so far, in arrival order.
    pub fn got(&self) -> Vec<Delivery> {
        self.state.got.lock().unwrap().clone()
    }

    /// The requests answered with success, duplicates dropped by `webhook-id` as a receiver would, in order.
    pub fn taken(&self) -> Vec<Delivery> {
        let mut seen = std::collections::HashSet::new();
        self.got()
            .into_iter()
            .filter(|d| (200..300).contains(&d.status) && seen.insert(d.id()))
            .collect()
    }

    /// Waits until what was received satisfies `done`.
    pub async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let waited = tokio::time::timeout(WAIT, async {
            loop {
                let arrived = self.state.arrived.notified();
                tokio::pin!(arrived);
                arrived.as_mut().enable();
                let got = self.got();
                if done(&got) {
                    return got;
                }
                // A request may land between reading and waiting; look again now and then.
                let _ = tokio::time::timeout(Duration::from_millis(200), arrived).await;
            }
        })
        .await;
        match waited {
            Ok(got) => got,
            Err(_) => panic!("timed out waiting for {what}; received {:#?}", self.got()),
        }
    }

    /// Waits for `n` deliveries taken (after de-duplication).
    pub async fn wait_taken(&self, n: usize) -> Vec<Delivery> {
        self.wait_until(&format!("{n} deliveries taken"), |_| {
            self.taken().len() >= n
        })
        .await;
        self.taken()
    }

    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

/// One message the SMTP server got.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone)]
struct Inbox {
    mails: Arc<Mutex<Vec<Mail>>>,
    current: Mail,
}

impl mailin_embedded::Handler for Inbox {
    fn data_start(
        &mut self,
        _domain: &str,
        from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.current = Mail {
            from: from.to_string(),
            to: to.to_vec(),
            data: String::new(),
        };
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.push_str(&String::from_utf8_lossy(buf));
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        self.mails
            .lock()
            .unwrap()
            .push(std::mem::take(&mut self.current));
        mailin_embedded::response::OK
    }
}

/// An SMTP server on port 0 of this machine, on a thread of its own for the rest of the test process.
pub struct SmtpReceiver {
    pub url: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpReceiver {
    pub fn start() -> SmtpReceiver {
        let mails = Arc::new(Mutex::new(vec![]));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let mut server = mailin_embedded::Server::new(Inbox {
            mails: mails.clone(),
            current: Mail::default(),
        });
        server
            .with_name("smtp.test")
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpReceiver { url, mails }
    }

    /// Waits for `n` messages and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let waited = tokio::time::timeout(WAIT, async {
            loop {
                let mails = self.mails.lock().unwrap().clone();
                if mails.len() >= n {
                    return mails;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        waited.unwrap_or_else(|_| panic!("timed out waiting for {n} emails"))
    }
}
