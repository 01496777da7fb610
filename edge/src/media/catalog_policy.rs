//! Asset policy from a catalog (`[catalog]`): any implementation of the catalog contract,
//! reached over HTTP (our control plane, in this node or elsewhere, or an operator's own).
//! For an asset the catalog holds:
//! - its `source` (a path below the media root, or an origin URL) is what the node lists
//!   and packages; without one, the asset id names it in the media root;
//! - its encryption policy and its ad policy (server, cue points, break length, mode)
//!   replace those of the asset definition file (which still names subtitles, and the
//!   sources of a title directory);
//! - its availability window and territories become the title's rights, checked on every
//!   request (media/rights.rs).
//!
//! An asset the catalog does not hold keeps its file's policy.
//!
//! Lookups are cached for `ttl_seconds`; when the catalog cannot be reached, the last answer
//! is used for up to `stale_seconds` more (stale-if-error), so a catalog outage does not
//! stop playback. Titles are listed (and so looked up) when they load and when they are
//! revalidated, not per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::client::RemoteCatalog;
use catalog::model::{AdMode as CatalogAdMode, Asset, DrmSystem as CatalogDrm, Scheme};
use catalog::Catalog;
use control_common::ProblemType;
use prometheus::IntCounterVec;

use crate::ads::config::{AdMode, AdRules};
use crate::hash::fnv1a;
use crate::keys::policy::EncryptionPolicy;
use crate::media::catalog_config::CatalogSourceConfig;
use crate::media::rights::Rights;
use crate::media::title::Listing;
use crate::problem::{Problem, ProblemKind};

/// One answer: the asset (or none), and when it came.
#[derive(Clone)]
struct Answer {
    asset: Option<Arc<Asset>>,
    at: Instant,
}

/// The catalog as a source of asset policy.
pub struct CatalogPolicies {
    catalog: Box<dyn Catalog>,
    answers: moka::future::Cache<String, Answer>,
    ttl: Duration,
    stale: Duration,
    /// `edgepack_catalog_lookups_total`, by result.
    lookups: IntCounterVec,
}

impl CatalogPolicies {
    /// The catalog of `config`, if it names one.
    pub fn from_config(
        config: &CatalogSourceConfig,
        lookups: IntCounterVec,
    ) -> Result<Option<Arc<Self>>, String> {
        let Some(url) = &config.url else {
            return Ok(None);
        };
        let remote = RemoteCatalog::new(
            url,
            config.api_key.clone(),
            Duration::from_millis(config.timeout_ms.max(1)),
        )?;
        Ok(Some(Arc::new(Self::new(
            Box::new(remote),
            Duration::from_secs(config.ttl_seconds),
            Duration::from_secs(config.stale_seconds),
            lookups,
        ))))
    }

    pub fn new(
        catalog: Box<dyn Catalog>,
        ttl: Duration,
        stale: Duration,
        lookups: IntCounterVec,
    ) -> Self {
        CatalogPolicies {
            catalog,
            answers: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl + stale)
                .build(),
            ttl,
            stale,
            lookups,
        }
    }

    fn count(&self, result: &str) {
        self.lookups.with_label_values(&[result]).inc();
    }

    /// The catalog's asset `id`, or `None` when the catalog does not hold it.
    pub async fn asset(&self, id: &str) -> Result<Option<Arc<Asset>>, Problem> {
        let kept = self.answers.get(id).await;
        if let Some(a) = &kept {
            if a.at.elapsed() < self.ttl {
                self.count("cached");
                return Ok(a.asset.clone());
            }
        }
        match self.catalog.get_asset(id).await {
            Ok(asset) => {
                self.count("fetched");
                self.keep(id, Some(Arc::new(asset))).await
            }
            Err(p) if p.kind == ProblemType::NotFound => {
                self.count("not_held");
                self.keep(id, None).await
            }
            Err(p) => match kept {
                Some(a) if a.at.elapsed() < self.ttl + self.stale => {
                    self.count("stale");
                    tracing::warn!(asset = id, error = %p, "the catalog did not answer; using its last answer");
                    Ok(a.asset)
                }
                _ => {
                    self.count("unavailable");
                    Err(Problem::new(
                        ProblemKind::CatalogUnavailable,
                        format!("the catalog did not answer for {id:?}: {}", p.detail),
                    ))
                }
            },
        }
    }

    async fn keep(
        &self,
        id: &str,
        asset: Option<Arc<Asset>>,
    ) -> Result<Option<Arc<Asset>>, Problem> {
        self.answers
            .insert(
                id.to_owned(),
                Answer {
                    asset: asset.clone(),
                    at: Instant::now(),
                },
            )
            .await;
        Ok(asset)
    }
}

fn method(s: Scheme) -> drm::Method {
    match s {
        Scheme::None => drm::Method::None,
        Scheme::Aes128 => drm::Method::Aes128,
        Scheme::SampleAes => drm::Method::SampleAes,
        Scheme::Cenc => drm::Method::Cenc,
        Scheme::Cbcs => drm::Method::Cbcs,
    }
}

fn drm_system(d: CatalogDrm) -> drm::DrmSystem {
    match d {
        CatalogDrm::Widevine => drm::DrmSystem::Widevine,
        CatalogDrm::Playready => drm::DrmSystem::PlayReady,
        CatalogDrm::Fairplay => drm::DrmSystem::FairPlay,
        CatalogDrm::Clearkey => drm::DrmSystem::ClearKey,
    }
}

/// `listing` with the catalog's entry on top: its encryption and ad policy over the
/// definition file's (or as the definition, without a file), its window and territories as
/// the title's rights, and a hash of all it contributed added to the definition's (so the
/// title's fingerprint, and its ETags, change with the entry).
pub fn overlay(listing: &mut Listing, asset: &Asset) {
    let mut d = listing.definition.take().unwrap_or_default();
    d.encryption = Some(EncryptionPolicy {
        method: method(asset.encryption.scheme),
        drm: asset
            .encryption
            .drm_systems
            .iter()
            .copied()
            .map(drm_system)
            .collect(),
    });
    if let Some(ads) = &asset.ads {
        d.ads = Some(AdRules {
            ad_server: ads.ad_server.clone(),
            breaks: ads.cue_points.clone(),
            vmap: false,
            break_seconds: ads.break_seconds.unwrap_or(30),
            mode: match ads.mode {
                CatalogAdMode::Stitched => AdMode::Stitched,
                CatalogAdMode::Guided => AdMode::Guided,
            },
            slate: d.ads.as_ref().and_then(|a| a.slate.clone()),
        });
    }
    listing.definition = Some(d);
    let rights = Rights {
        starts_at: asset.availability.starts_at,
        ends_at: asset.availability.ends_at,
        territories: asset.territories.clone(),
    };
    listing.rights = (!rights.is_open()).then_some(rights);
    let contributed = serde_json::to_vec(&(
        &asset.source,
        &asset.encryption,
        &asset.ads,
        &asset.availability,
        &asset.territories,
    ))
    .unwrap_or_default();
    listing.definition_hash ^= fnv1a(&contributed, 0xca7a);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::definition::AssetDefinition;
    use catalog::model::{AdPolicy, AssetInput, Encryption};

    fn asset(scheme: Scheme, ads: Option<AdPolicy>) -> Asset {
        Asset::new(
            "demo".into(),
            AssetInput {
                title: "Demo".into(),
                source: None,
                encryption: Encryption {
                    scheme,
                    drm_systems: vec![CatalogDrm::Widevine, CatalogDrm::Clearkey],
                },
                ads,
                availability: Default::default(),
                territories: vec![],
                products: vec![],
            },
            1,
            0,
        )
    }

    fn listing(definition: Option<AssetDefinition>) -> Listing {
        Listing {
            definition,
            ..Listing::default()
        }
    }

    #[test]
    fn the_catalog_policy_replaces_the_file_policy_and_changes_the_hash() {
        let file = AssetDefinition {
            encryption: Some(EncryptionPolicy::default()),
            sources: vec!["a.mp4".into()],
            ..AssetDefinition::default()
        };
        let mut l1 = listing(Some(file));
        overlay(&mut l1, &asset(Scheme::Cbcs, None));
        let (d, h1) = (l1.definition.unwrap(), l1.definition_hash);
        assert_eq!(l1.rights, None, "an open entry restricts nothing");
        let e = d.encryption.unwrap();
        assert_eq!(e.method, drm::Method::Cbcs);
        assert_eq!(
            e.drm,
            vec![drm::DrmSystem::Widevine, drm::DrmSystem::ClearKey]
        );
        assert_eq!(
            d.sources,
            vec!["a.mp4".to_string()],
            "the file's sources stay"
        );
        let ads = AdPolicy {
            ad_server: "https://ads.example/v".into(),
            cue_points: vec!["00:00:10.000".into()],
            break_seconds: Some(15),
            mode: CatalogAdMode::Guided,
        };
        let mut l2 = listing(None);
        overlay(&mut l2, &asset(Scheme::Cbcs, Some(ads)));
        let (d2, h2) = (l2.definition.unwrap(), l2.definition_hash);
        let rules = d2.ads.unwrap();
        assert_eq!(rules.breaks, vec!["00:00:10.000".to_string()]);
        assert_eq!(rules.break_seconds, 15);
        assert_eq!(rules.mode, AdMode::Guided);
        assert_ne!(h1, h2);
    }

    #[test]
    fn the_window_and_territories_become_the_titles_rights() {
        let mut a = asset(Scheme::None, None);
        let mut open = listing(None);
        overlay(&mut open, &a);
        a.availability.ends_at = Some(1_000);
        a.territories = vec!["FR".into()];
        let mut restricted = listing(None);
        overlay(&mut restricted, &a);
        assert_eq!(
            restricted.rights,
            Some(Rights {
                starts_at: None,
                ends_at: Some(1_000),
                territories: vec!["FR".into()],
            })
        );
        assert_ne!(open.definition_hash, restricted.definition_hash);
    }
}
