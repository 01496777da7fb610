//! `edgepack token mint|inspect` seen from the command line: a minted token inspects as valid
//! for its asset and is refused, with the reason, for another asset or with another key.

use std::process::Command;

fn edgepack(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_edgepack"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn config(dir: &std::path::Path, secret: &str) -> String {
    let path = dir.join(format!("{secret}.toml"));
    std::fs::write(
        &path,
        format!(
            "[access]\n[[access.keys]]\nkid = \"k1\"\nalg = \"HS256\"\nsecret_hex = \"{}\"\n",
            secret.repeat(32)
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_minted_token_inspects_as_valid_for_its_asset_only() {
    let dir = tempfile::tempdir().unwrap();
    let good = config(dir.path(), "a1");
    let other = config(dir.path(), "b2");
    let (code, token) = edgepack(&[
        "token", "mint", "--config", &good, "--asset", "demo", "--ttl", "60", "--sub", "alice",
        "--renew", "header",
    ]);
    assert_eq!(code, 0, "{token}");
    let token = token.trim();
    let (code, text) = edgepack(&["token", "inspect", token]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("\"sub (2)\": \"alice\"") && text.contains("catr (323)"),
        "{text}"
    );
    let url = "http://edge.example/vod/demo/master.m3u8";
    let (code, text) = edgepack(&["token", "inspect", token, "--config", &good, "--url", url]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("allowed"), "{text}");
    let (code, text) = edgepack(&[
        "token",
        "inspect",
        token,
        "--config",
        &good,
        "--url",
        "http://edge.example/vod/other/master.m3u8",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("wrong_uri"), "{text}");
    let (code, text) = edgepack(&["token", "inspect", token, "--config", &other]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("does not verify"), "{text}");
    let (code, text) = edgepack(&["token", "inspect", "garbage!"]);
    assert_ne!(code, 0);
    assert!(text.contains("base64"), "{text}");
}
