//! Live updates: one connection LISTENs on the extension's `chronicle`
//! channel (the sealer notifies once per stream and seal, with the stream's
//! version and feed position) and fans the payloads out to every open
//! Server-Sent Events response. It reconnects after a lost connection (TCP
//! keepalives notice a dead one) and then tells the pages to `resync`:
//! notifications sent while it was away are lost.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;

/// A message for the pages: the SSE event name and its data.
pub type Message = (&'static str, String);

/// Subscribes to the messages: `append` with a notification's payload (JSON
/// text), `resync` after a reconnect.
pub type Live = broadcast::Sender<Message>;

pub fn start(mut config: tokio_postgres::Config) -> Live {
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30));
    let (tx, _) = broadcast::channel(1024);
    let sender = tx.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = listen(&config, &sender).await {
                eprintln!("live updates: {e}; reconnecting in 1 s");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    tx
}

async fn listen(config: &tokio_postgres::Config, tx: &Live) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx)).boxed();
    // The connection must be polled for LISTEN to complete: run both.
    let subscribe = client.batch_execute("LISTEN chronicle");
    tokio::pin!(subscribe);
    let mut subscribed = false;
    loop {
        tokio::select! {
            r = &mut subscribe, if !subscribed => {
                r?;
                subscribed = true;
                let _ = tx.send(("resync", "{}".to_string()));
            }
            m = messages.next() => match m {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    // No receivers is fine: nobody is watching.
                    let _ = tx.send(("append", n.payload().to_string()));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            }
        }
    }
}
