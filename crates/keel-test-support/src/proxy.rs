//! A TCP proxy between keel and a database server that cuts every connection when the client
//! sends a given text: a connection lost at a chosen point, as a network failure or a server
//! restart does it (no error message, the socket just closes).
//!
//! Use plain-text URLs through it (`sslmode=disable`, `ssl-mode=DISABLED`) so that the text
//! can be seen.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where the cut falls relative to the client's packet holding the trigger text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The packet never reaches the server.
    Before,
    /// The packet reaches the server (which runs it); its answer never reaches the client.
    After,
}

/// A running proxy; it stops when dropped.
pub struct CutProxy {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    fired: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CutProxy {
    /// Proxies 127.0.0.1:`port` to `upstream`; the first client packet that contains
    /// `trigger` cuts every connection (once; later connections pass through untouched).
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start(upstream: SocketAddr, trigger: &str, cut: Cut) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let fired = Arc::new(AtomicBool::new(false));
        let trigger = trigger.as_bytes().to_vec();
        let (kill_tx, _) = tokio::sync::broadcast::channel::<()>(1);
        let fired2 = fired.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let fired = fired2.clone();
                let trigger = trigger.clone();
                let kill_tx = kill_tx.clone();
                let kill_rx = kill_tx.subscribe();
                tokio::spawn(pipe(client, server, trigger, cut, fired, kill_tx, kill_rx));
            }
        });
        CutProxy { port, fired, task }
    }

    /// Whether the trigger was seen (and the connections cut).
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    trigger: Vec<u8>,
    cut: Cut,
    fired: Arc<AtomicBool>,
    kill_tx: tokio::sync::broadcast::Sender<()>,
    mut kill_rx: tokio::sync::broadcast::Receiver<()>,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let mut up = [0u8; 65536];
    let mut down = [0u8; 65536];
    loop {
        tokio::select! {
            _ = kill_rx.recv() => break,
            n = cr.read(&mut up) => {
                let Ok(n) = n else { break };
                if n == 0 { break; }
                let chunk = &up[..n];
                let hit = !fired.load(Ordering::SeqCst)
                    && chunk.windows(trigger.len()).any(|w| w == trigger.as_slice());
                if hit {
                    fired.store(true, Ordering::SeqCst);
                    if cut == Cut::After {
                        let _ = sw.write_all(chunk).await;
                        // Let the server run it; its answer is never passed on.
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    let _ = kill_tx.send(());
                    break;
                }
                if sw.write_all(chunk).await.is_err() { break; }
            }
            n = sr.read(&mut down) => {
                let Ok(n) = n else { break };
                if n == 0 { break; }
                if cw.write_all(&down[..n]).await.is_err() { break; }
            }
        }
    }
    // Dropping the halves closes both sockets.
}
