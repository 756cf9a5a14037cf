//! Delivery of a succeeded run beyond the object store: a webhook POST of its manifest,
//! signed with the definition's secret, retried while the receiver fails on its side.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Manifest, Retry};
use crate::error::{JobsError, Result};

/// Where a definition's runs go besides the object store (`delivery` of the definition).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub webhook: Option<Webhook>,
    pub email: Option<Email>,
}

/// The files of each succeeded run as attachments, through the configured SMTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    pub to: Vec<String>,
}

/// The `[reports.smtp]` section: the server report e-mails go through.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "submission_port")]
    pub port: u16,
    /// starttls (default), tls (implicit TLS, usually port 465) or none (a relay on the same host).
    #[serde(default)]
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, e.g. `Analisa <relatorios@agencia.com.br>`.
    pub from: String,
}

fn submission_port() -> u16 {
    587
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    /// Signs every POST; the receiver checks `X-Analisa-Signature` with it.
    pub secret: SecretString,
}

impl Delivery {
    pub fn parse(json: &Value) -> Result<Self> {
        let delivery: Self = serde_json::from_value(json.clone()).map_err(|e| JobsError::InvalidReport(format!("delivery: {e}")))?;
        if let Some(hook) = &delivery.webhook {
            let url = url::Url::parse(&hook.url).map_err(|e| JobsError::InvalidReport(format!("delivery: webhook url: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(JobsError::InvalidReport("delivery: a webhook url is http or https".into()));
            }
            if hook.secret.expose_secret().len() < 16 {
                return Err(JobsError::InvalidReport("delivery: a webhook secret has at least 16 characters".into()));
            }
        }
        if let Some(email) = &delivery.email {
            if email.to.is_empty() || email.to.len() > 50 {
                return Err(JobsError::InvalidReport("delivery: e-mail goes to 1 to 50 addresses".into()));
            }
            if let Some(bad) = email.to.iter().find(|a| a.parse::<lettre::Address>().is_err()) {
                return Err(JobsError::InvalidReport(format!("delivery: `{bad}` is not an e-mail address")));
            }
        }
        Ok(delivery)
    }

    /// The delivery as it may be shown (secrets left out).
    pub fn redacted(json: &Value) -> Value {
        let mut shown = json.clone();
        if let Some(hook) = shown.get_mut("webhook").and_then(Value::as_object_mut) {
            hook.remove("secret");
        }
        shown
    }
}

/// What a delivery did, kept on the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivered {
    pub delivered: bool,
    pub attempts: i32,
    pub http_status: Option<u16>,
    pub error: Option<String>,
}

/// `sha256=` and the hex HMAC of `{timestamp}.{body}`: the timestamp is signed too, so a
/// captured request cannot be replayed later under a fresh one.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs the run's manifest; a 5xx answer or no answer is tried again with doubling delays,
/// any other refusal is final.
pub(super) async fn webhook(client: &reqwest::Client, hook: &Webhook, manifest: &Manifest, retry: &Retry) -> Delivered {
    let body = match serde_json::to_vec(&json!({"event": "report.run.succeeded", "manifest": manifest})) {
        Ok(body) => body,
        Err(error) => return Delivered { delivered: false, attempts: 0, http_status: None, error: Some(error.to_string()) },
    };
    let mut delay = retry.first_delay;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let timestamp = chrono::Utc::now().timestamp();
        let answer = client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-analisa-event", "report.run.succeeded")
            .header("x-analisa-timestamp", timestamp.to_string())
            .header("x-analisa-signature", signature(hook.secret.expose_secret(), timestamp, &body))
            .body(body.clone())
            .send()
            .await;
        let (status, error) = match answer {
            Ok(response) if response.status().is_success() => return Delivered { delivered: true, attempts, http_status: Some(response.status().as_u16()), error: None },
            Ok(response) => (Some(response.status().as_u16()), format!("the receiver answered {}", response.status())),
            Err(error) => (None, format!("the receiver is unreachable: {error}")),
        };
        let retriable = status.is_none_or(|s| s >= 500);
        if !retriable || attempts >= retry.attempts {
            return Delivered { delivered: false, attempts, http_status: status, error: Some(error) };
        }
        tracing::warn!(url = %hook.url, attempt = attempts, %error, "webhook delivery failed; trying again");
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

/// Sends the run's files as attachments to the definition's recipients.
pub(super) async fn email(smtp: &SmtpConfig, email: &Email, manifest: &Manifest, files: Vec<(String, Vec<u8>)>) -> Delivered {
    match send(smtp, email, manifest, files).await {
        Ok(()) => Delivered { delivered: true, attempts: 1, http_status: None, error: None },
        Err(error) => Delivered { delivered: false, attempts: 1, http_status: None, error: Some(error) },
    }
}

async fn send(smtp: &SmtpConfig, email: &Email, manifest: &Manifest, files: Vec<(String, Vec<u8>)>) -> std::result::Result<(), String> {
    use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let pt = manifest.spec.language == super::Language::PtBr;
    let from: Mailbox = smtp.from.parse().map_err(|e| format!("reports.smtp.from: {e}"))?;
    let period = format!("{} – {}", manifest.from, manifest.to);
    let subject = format!("{}: {period}", manifest.run.report_name);
    let listing: String = manifest.files.iter().map(|f| format!("- {} ({} bytes, sha256 {})\n", f.path.rsplit('/').next().unwrap_or(&f.path), f.bytes, f.sha256)).collect();
    let text = if pt {
        format!("Relatório \"{}\", período {period}, {} criadores.\n\nArquivos anexos:\n{listing}\nExecução {} (versões do lake no manifesto).\n", manifest.run.report_name, manifest.influencers.len(), manifest.run.run_id)
    } else {
        format!("Report \"{}\", period {period}, {} creators.\n\nAttached files:\n{listing}\nRun {} (lake versions in the manifest).\n", manifest.run.report_name, manifest.influencers.len(), manifest.run.run_id)
    };
    let mut body = MultiPart::mixed().singlepart(SinglePart::plain(text));
    for (name, bytes) in files {
        let kind = match name.rsplit('.').next() {
            Some("csv") => "text/csv",
            Some("pdf") => "application/pdf",
            Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Some("json") => "application/json",
            _ => "application/octet-stream",
        };
        body = body.singlepart(Attachment::new(name).body(bytes, ContentType::parse(kind).map_err(|e| e.to_string())?));
    }
    let mut message = Message::builder().from(from).subject(subject);
    for to in &email.to {
        message = message.to(to.parse().map_err(|e| format!("{to}: {e}"))?);
    }
    let message = message.multipart(body).map_err(|e| e.to_string())?;
    let mut transport = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .tls(Tls::Required(TlsParameters::new(smtp.host.clone()).map_err(|e| e.to_string())?)),
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .tls(Tls::Wrapper(TlsParameters::new(smtp.host.clone()).map_err(|e| e.to_string())?)),
    }
    .port(smtp.port)
    .timeout(Some(Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        transport = transport.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
    }
    transport.build().send(message).await.map(|_| ()).map_err(|e| format!("SMTP {}:{}: {e}", smtp.host, smtp.port))
}

pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(15)).connect_timeout(Duration::from_secs(5)).build().expect("a client with timeouts builds")
}
