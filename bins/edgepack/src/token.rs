//! `edgepack token mint|inspect`: make a CAT for an asset with chosen claims and lifetime
//! (for operators and tests), and take one apart to see why it is refused.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use access::cat::mint::ClaimsBuilder;
use access::cat::Replay;
use access::RequestFacts;
use anyhow::{anyhow, bail, Context};
use ciborium::value::Value;
use edge::access::config::AccessConfig;
use edge::Config;

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Mint a Common Access Token with a key of the config's [[access.keys]].
    Mint(Box<MintArgs>),
    /// Decode a token; with --config, verify it and check it against --url.
    Inspect(InspectArgs),
}

#[derive(clap::Args)]
pub struct MintArgs {
    /// The config file whose [[access.keys]] hold the signing key.
    #[arg(long, env = "EDGEPACK_CONFIG")]
    config: PathBuf,
    /// The key id to sign with (default: access.signing_kid, else the first that can sign).
    #[arg(long)]
    kid: Option<String>,
    /// The asset the token is for: `catu` limits it to the path prefix `/vod/{asset}/`.
    #[arg(long)]
    asset: Option<String>,
    /// A `catu` path prefix of your own instead of the asset's.
    #[arg(long)]
    path_prefix: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
    /// Valid from this many seconds from now (`nbf`).
    #[arg(long)]
    not_before_in: Option<u64>,
    #[arg(long)]
    iss: Option<String>,
    #[arg(long)]
    aud: Option<String>,
    /// The account (`sub`).
    #[arg(long)]
    sub: Option<String>,
    /// The token id (`cti`), hex; random when not given.
    #[arg(long)]
    cti: Option<String>,
    /// A session id (`sid`).
    #[arg(long)]
    session: Option<String>,
    /// Methods allowed (`catm`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    methods: Vec<String>,
    /// Client addresses or prefixes allowed (`catnip`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    ip: Vec<String>,
    /// Countries allowed (`catgeoiso3166`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    country: Vec<String>,
    /// `catreplay`: permitted, prohibited or detect.
    #[arg(long)]
    replay: Option<String>,
    /// Renewal (`catr`): automatic, cookie, header or redirect.
    #[arg(long)]
    renew: Option<String>,
    /// Lifetime of a renewed token, seconds.
    #[arg(long, default_value_t = 60)]
    renew_expadd: u64,
    /// Renewal window before `exp`, seconds.
    #[arg(long, default_value_t = 30)]
    renew_deadline: u64,
}

#[derive(clap::Args)]
pub struct InspectArgs {
    /// The token text.
    token: String,
    /// Verify with this config's keys and policy.
    #[arg(long, env = "EDGEPACK_CONFIG")]
    config: Option<PathBuf>,
    /// Check the claims against this URL (with --config).
    #[arg(long)]
    url: Option<String>,
    #[arg(long, default_value = "GET")]
    method: String,
    #[arg(long)]
    client_ip: Option<std::net::IpAddr>,
    #[arg(long)]
    country: Option<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn access_config(path: &std::path::Path) -> anyhow::Result<AccessConfig> {
    Ok(Config::from_file(path)?.access)
}

pub fn run(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Mint(args) => mint(*args),
        TokenCommand::Inspect(args) => inspect(args),
    }
}

fn mint(a: MintArgs) -> anyhow::Result<ExitCode> {
    let config = access_config(&a.config)?;
    let keys = edge::access::keys::cat_keys(&config).map_err(|e| anyhow!(e))?;
    let kid = a.kid.as_deref().or(config.signing_kid.as_deref());
    let key = keys.signer(kid.map(str::as_bytes)).ok_or_else(|| {
        anyhow!(
            "no key that can sign in [[access.keys]] of {}",
            a.config.display()
        )
    })?;
    let rng = ring::rand::SystemRandom::new();
    let now = now();
    let cti = match &a.cti {
        Some(hex) => hex::decode(hex).context("--cti is not hex")?,
        None => {
            let mut b = [0u8; 16];
            ring::rand::SecureRandom::fill(&rng, &mut b).map_err(|_| anyhow!("no randomness"))?;
            b.to_vec()
        }
    };
    let mut b = ClaimsBuilder::new()
        .iat(now)
        .exp(now + a.ttl)
        .cti(&cti)
        .catv();
    if let Some(n) = a.not_before_in {
        b = b.nbf(now + n);
    }
    if let Some(v) = &a.iss {
        b = b.iss(v);
    }
    if let Some(v) = &a.aud {
        b = b.aud(v);
    }
    if let Some(v) = &a.sub {
        b = b.subject(v);
    }
    if let Some(v) = &a.session {
        b = b.sid(v);
    }
    match (&a.path_prefix, &a.asset) {
        (Some(p), _) => b = b.path_prefix(p),
        (None, Some(asset)) => b = b.path_prefix(&format!("/vod/{asset}/")),
        (None, None) => {}
    }
    if !a.methods.is_empty() {
        let m: Vec<&str> = a.methods.iter().map(String::as_str).collect();
        b = b.catm(&m);
    }
    if !a.ip.is_empty() {
        let m: Vec<&str> = a.ip.iter().map(String::as_str).collect();
        b = b.catnip(&m);
    }
    if !a.country.is_empty() {
        let m: Vec<&str> = a.country.iter().map(String::as_str).collect();
        b = b.countries(&m);
    }
    if let Some(r) = &a.replay {
        b = b.catreplay(match r.as_str() {
            "permitted" => Replay::Permitted,
            "prohibited" => Replay::Prohibited,
            "detect" => Replay::ReuseDetection,
            other => bail!("--replay {other}: permitted, prohibited or detect"),
        });
    }
    if let Some(r) = &a.renew {
        let kind = match r.as_str() {
            "automatic" => 0,
            "cookie" => 1,
            "header" => 2,
            "redirect" => 3,
            other => bail!("--renew {other}: automatic, cookie, header or redirect"),
        };
        b = b.catr(kind, a.renew_expadd, a.renew_deadline);
    }
    println!("{}", b.mint(key, &rng)?);
    Ok(ExitCode::SUCCESS)
}

/// A CBOR value as JSON; `claims` names the integer keys of the top-level claims map.
fn json(v: &Value, claims: bool) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Integer(i) => J::from(i128::from(*i) as f64 as i64),
        Value::Bytes(b) => J::String(format!("h'{}'", hex::encode(b))),
        Value::Float(f) => J::from(*f),
        Value::Text(t) => J::String(t.clone()),
        Value::Bool(b) => J::Bool(*b),
        Value::Null => J::Null,
        Value::Tag(t, inner) => serde_json::json!({ "tag": t, "value": json(inner, false) }),
        Value::Array(a) => J::Array(a.iter().map(|v| json(v, false)).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::Text(t) => t.clone(),
                        Value::Integer(i) if claims => claim_name(i128::from(*i)),
                        Value::Integer(i) => i128::from(*i).to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, json(v, false))
                })
                .collect(),
        ),
        _ => J::String(format!("{v:?}")),
    }
}

fn claim_name(key: i128) -> String {
    let name = match key {
        1 => "iss",
        2 => "sub",
        3 => "aud",
        4 => "exp",
        5 => "nbf",
        6 => "iat",
        7 => "cti",
        308 => "catreplay",
        309 => "catpor",
        310 => "catv",
        311 => "catnip",
        312 => "catu",
        313 => "catm",
        314 => "catalpn",
        316 => "catgeoiso3166",
        323 => "catr",
        _ => return key.to_string(),
    };
    format!("{name} ({key})")
}

fn inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let (envelope, claims) = access::cat::inspect(&a.token).map_err(|e| anyhow!("{e}"))?;
    println!("alg: {:?}", envelope.alg);
    println!("kid: {:?}", String::from_utf8_lossy(&envelope.kid));
    match &claims {
        Ok(c) => {
            let payload = ciborium::de::from_reader::<Value, _>(envelope.payload.as_slice())
                .map_err(|e| anyhow!("{e}"))?;
            println!(
                "claims: {}",
                serde_json::to_string_pretty(&json(&payload, true))?
            );
            if let Some(exp) = c.exp {
                let left = exp as i64 - now() as i64;
                println!("expires: {exp} ({left} s from now)");
            }
        }
        Err(e) => println!("claims: unreadable: {e}"),
    }
    let Some(path) = &a.config else {
        return Ok(ExitCode::SUCCESS);
    };
    let config = access_config(path)?;
    let keys = edge::access::keys::cat_keys(&config).map_err(|e| anyhow!(e))?;
    let token = match access::cat::verify(&a.token, &keys) {
        Ok(t) => t,
        Err(e) => {
            println!("refused: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("signature: verifies");
    let Some(url) = &a.url else {
        return Ok(ExitCode::SUCCESS);
    };
    let uri: http::Uri = url.parse().context("--url")?;
    let scheme = uri.scheme_str().unwrap_or("http");
    let facts = RequestFacts {
        scheme,
        host: uri.host().unwrap_or(""),
        port: uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 }),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        method: &a.method,
        client_ip: a.client_ip,
        country: a.country.as_deref(),
        alpn: "http/1.1",
        now: now(),
    };
    let policy = access::cat::Policy {
        issuers: config.issuers.clone(),
        audiences: config.audiences.clone(),
        leeway: config.leeway_seconds,
        require_exp: config.require_exp,
    };
    match token.check(&facts, &policy) {
        Ok(()) => {
            println!("allowed: {} {url}", a.method);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("refused: {e} ({})", e.label());
            Ok(ExitCode::FAILURE)
        }
    }
}
