//! DASH `ContentProtection` elements (ISO/IEC 23009-1 5.8.4.1, 23001-7 11, DASH-IF IOP):
//! the mp4protection scheme with `cenc:default_KID`, then one element per DRM system with
//! its `cenc:pssh` (and PlayReady's `mspr:pro`, ClearKey's `dashif:Laurl`).

use std::fmt::Write;

use base64::Engine as _;
use drm::{DrmSystem, SystemId};

use crate::protection::Protection;
use crate::xml::xml_escape;

/// Namespaces the elements use, for the `MPD` element.
pub const NAMESPACES: &str = " xmlns:cenc=\"urn:mpeg:cenc:2013\" xmlns:mspr=\"urn:microsoft:playready\" xmlns:dashif=\"https://dashif.org/CPS\"";

/// Writes the elements for one AdaptationSet, indented for it. Nothing when `p` has no
/// Common Encryption scheme.
pub fn write_content_protection(out: &mut String, p: &Protection, indent: &str) {
    let Some(scheme) = p.method.cmaf_scheme() else {
        return;
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let _ = writeln!(
        out,
        "{indent}<ContentProtection schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" value=\"{}\" cenc:default_KID=\"{}\"/>",
        scheme.name(),
        p.key.kid.uuid()
    );
    for s in &p.signalling.systems {
        let pssh = s
            .pssh
            .as_ref()
            .map(|b| format!("<cenc:pssh>{}</cenc:pssh>", b64.encode(b)))
            .unwrap_or_default();
        match s.system {
            DrmSystem::Widevine => {
                let _ = writeln!(
                    out,
                    "{indent}<ContentProtection schemeIdUri=\"urn:uuid:{}\" value=\"Widevine\">{pssh}</ContentProtection>",
                    SystemId::WIDEVINE.uuid()
                );
            }
            DrmSystem::PlayReady => {
                let pro = s
                    .playready_object
                    .as_ref()
                    .map(|b| format!("<mspr:pro>{}</mspr:pro>", b64.encode(b)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{indent}<ContentProtection schemeIdUri=\"urn:uuid:{}\" value=\"2.0\">{pssh}{pro}</ContentProtection>",
                    SystemId::PLAYREADY.uuid()
                );
            }
            // No `cenc:pssh` here: dash.js hands it to the CDM as `keyids` init data, which
            // Chromium rejects; without it dash.js builds `{"kids":[default_KID]}` itself.
            DrmSystem::ClearKey => {
                let _ = writeln!(
                    out,
                    "{indent}<ContentProtection schemeIdUri=\"urn:uuid:{}\" value=\"ClearKey1.0\"><dashif:Laurl>{}</dashif:Laurl></ContentProtection>",
                    SystemId::CLEARKEY_DASH.uuid(),
                    xml_escape(&p.urls.clearkey_license)
                );
            }
            // FairPlay is signalled in HLS only.
            DrmSystem::FairPlay => {}
        }
    }
}
