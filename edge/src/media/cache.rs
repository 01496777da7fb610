//! The metadata caches: parsed `moov`s keyed by source identity (so a replaced source is a
//! new entry) within a byte budget, and titles keyed by asset name, looked at again after
//! a short revalidation interval. Both load with single flight: concurrent misses for one
//! key wait for one load and share its result or its error.
//!
//! Stale-if-error: the last good title of every asset is kept; when revalidating it fails
//! because the origin is failing (not because the content is bad), the old title is served
//! for another interval and the stale answer is counted.
//!
//! Openings (decision 0010): a segment request for a title never loaded is served from a
//! title planned from the openings of its sources (their first minute or so, parsed and
//! checked alone), while the whole title loads in the background; so the first segment of
//! a two-hour source costs about what a ten-second source's does.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use moka::notification::RemovalCause;
use packager::mp4::Movie;
use packager::presentation::PackagingOptions;
use packager::segment::Cue;

use crate::ads::config::AdPolicy;
#[cfg(feature = "control")]
use crate::media::catalog_policy::{overlay, CatalogPolicies};
use crate::media::root::MediaRoot;
use crate::media::title::{
    assemble, identify, list_asset, load_subtitles, with_cues, Listing, Title,
};
use crate::ops::metrics::Metrics;
use crate::origin::{
    parse_found, parse_off_runtime, FoundMoov, Origins, SourceIdentity, SourceRef,
};
use crate::problem::{Problem, ProblemKind};

type MovieKey = (SourceRef, SourceIdentity);

/// Most titles kept (fresh or last good).
const MAX_TITLES: u64 = 10_000;

/// Most titles planned from openings kept at once: each lives only until its whole title
/// has loaded.
const MAX_OPENINGS: u64 = 1_000;

/// Parsed sources and titles.
pub struct MediaCache {
    root: MediaRoot,
    origins: Arc<Origins>,
    options: PackagingOptions,
    movies: Cache<MovieKey, Arc<Movie>>,
    titles: Cache<String, Arc<Title>>,
    last_good: Cache<String, Arc<Title>>,
    /// Titles planned from the openings of their sources, until the whole title loads.
    openings: Cache<String, Arc<Title>>,
    /// Segments an opening is planned to hold (at the target duration); 0: no openings.
    opening_segments: u32,
    /// The configured ad policies, whose breaks titles are cut at (an asset definition's own
    /// `[ads]` wins).
    ad_policies: Vec<AdPolicy>,
    /// Asset policy from a catalog, on top of definition files (`[catalog]`).
    #[cfg(feature = "control")]
    catalog: Option<Arc<CatalogPolicies>>,
    metrics: Arc<Metrics>,
}

fn movie_weight(movie: &Movie) -> u32 {
    let bytes: usize = movie
        .tracks
        .iter()
        .map(|t| t.samples.heap_bytes() + t.sample_entry.len() + 256)
        .sum();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl MediaCache {
    pub fn new(
        root: MediaRoot,
        origins: Arc<Origins>,
        options: PackagingOptions,
        metadata_bytes: u64,
        revalidate: Duration,
        opening_segments: u32,
        metrics: Arc<Metrics>,
    ) -> Self {
        let evictions = metrics.cache_evictions.with_label_values(&["metadata"]);
        MediaCache {
            root,
            origins,
            options,
            movies: Cache::builder()
                .max_capacity(metadata_bytes)
                .weigher(|_, m: &Arc<Movie>| movie_weight(m))
                .eviction_listener(move |_, _, cause| {
                    if cause == RemovalCause::Size {
                        evictions.inc();
                    }
                })
                .build(),
            titles: Cache::builder()
                .max_capacity(MAX_TITLES)
                .time_to_live(revalidate)
                .build(),
            last_good: Cache::builder().max_capacity(MAX_TITLES).build(),
            openings: Cache::builder()
                .max_capacity(MAX_OPENINGS)
                .time_to_live(revalidate)
                .build(),
            opening_segments,
            ad_policies: Vec::new(),
            #[cfg(feature = "control")]
            catalog: None,
            metrics,
        }
    }

    /// The same cache, taking asset policy from `catalog` too.
    #[cfg(feature = "control")]
    pub fn with_catalog(mut self, catalog: Option<Arc<CatalogPolicies>>) -> Self {
        self.catalog = catalog;
        self
    }

    /// The listing of `asset`: of the catalog's source for it when the catalog holds it
    /// (with the catalog's policy and rights on top), else of the asset in the media root.
    async fn listing(&self, asset: &str) -> Result<Listing, Problem> {
        #[cfg(feature = "control")]
        if let Some(catalog) = &self.catalog {
            if let Some(entry) = catalog.asset(asset).await? {
                let mut listing = match &entry.source {
                    Some(source) => {
                        let (root, name) = self
                            .root
                            .for_source(source)
                            .map_err(|e| Problem::new(ProblemKind::AssetDefinitionInvalid, e))?;
                        list_asset(&self.origins, &root, &name).await?
                    }
                    None => list_asset(&self.origins, &self.root, asset).await?,
                };
                overlay(&mut listing, &entry);
                return Ok(listing);
            }
        }
        list_asset(&self.origins, &self.root, asset).await
    }

    /// The same cache, cutting titles at the breaks of `policies` too.
    pub fn with_ad_policies(mut self, policies: &[AdPolicy]) -> Self {
        self.ad_policies = policies.to_vec();
        self
    }

    /// Where `asset` (listed as `listing`) is cut for ad breaks.
    fn cues(&self, asset: &str, listing: &Listing) -> Vec<Cue> {
        match listing.definition.as_ref().and_then(|d| d.ads.as_ref()) {
            Some(rules) => rules.cues(),
            None => self
                .ad_policies
                .iter()
                .find(|p| p.covers(asset))
                .map(|p| p.rules.cues())
                .unwrap_or_default(),
        }
    }

    pub fn root(&self) -> &MediaRoot {
        &self.root
    }

    /// Brings the size gauge up to date (moka applies evictions and sizes lazily).
    pub async fn update_gauges(&self) {
        self.movies.run_pending_tasks().await;
        let bytes = i64::try_from(self.movies.weighted_size()).unwrap_or(i64::MAX);
        self.metrics
            .cache_bytes
            .with_label_values(&["metadata"])
            .set(bytes);
    }

    /// The title of `asset`, loading it (once, however many ask) if needed.
    ///
    /// A hit takes the short path: the future of a load is large (origin reads, parsing),
    /// and every request's future would carry it, to be copied on each request, if the
    /// load were not boxed and only made on a miss.
    pub async fn title(&self, asset: &str) -> Result<Arc<Title>, Problem> {
        if let Some(title) = self.titles.get(asset).await {
            self.metrics.cache_lookup("title", true);
            return Ok(title);
        }
        Box::pin(self.title_on_miss(asset)).await
    }

    async fn title_on_miss(&self, asset: &str) -> Result<Arc<Title>, Problem> {
        let entry = self
            .titles
            .entry_by_ref(asset)
            .or_try_insert_with(self.revalidate(asset))
            .await
            .map_err(|e| self.private(&e))?;
        self.metrics.cache_lookup("title", !entry.is_fresh());
        Ok(entry.into_value())
    }

    /// The title to serve segment `index` (from 0) of `asset` from: the title once it has
    /// loaded. Before that, a title planned from the openings of its sources, when the
    /// segment is among those it holds (see [`Presentation::opening_segments`]); the whole
    /// title then loads in the background.
    ///
    /// [`Presentation::opening_segments`]: packager::presentation::Presentation::opening_segments
    pub async fn title_for_segment(
        self: &Arc<Self>,
        asset: &str,
        index: usize,
    ) -> Result<Arc<Title>, Problem> {
        if let Some(title) = self.titles.get(asset).await {
            self.metrics.cache_lookup("title", true);
            return Ok(title);
        }
        Box::pin(self.opening_or_title(asset, index)).await
    }

    async fn opening_or_title(
        self: &Arc<Self>,
        asset: &str,
        index: usize,
    ) -> Result<Arc<Title>, Problem> {
        // A title known before revalidates cheaply (its sources unchanged): no opening.
        if index < self.opening_segments as usize && !self.last_good.contains_key(asset) {
            let entry = self
                .openings
                .entry_by_ref(asset)
                .or_try_insert_with(self.load_opening(asset))
                .await;
            // An error is the title's: the same reads and checks on less of the sources,
            // and no older title to fall back on.
            let entry = entry.map_err(|e| self.private(&e))?;
            self.metrics.cache_lookup("opening", !entry.is_fresh());
            let title = entry.into_value();
            let held = title.presentation.opening_segments();
            if held.is_none_or(|n| index < n) {
                return Ok(title);
            }
        }
        self.title_on_miss(asset).await
    }

    /// Plans `asset` from the openings of its sources and starts loading the whole title.
    /// When every source is short enough to be its own opening, the plan is the title.
    async fn load_opening(self: &Arc<Self>, asset: &str) -> Result<Arc<Title>, Problem> {
        let listing = self.listing(asset).await?;
        let (ids, fingerprint) = identify(&self.origins, &listing).await?;
        let cues = self.cues(asset, &listing);
        if cues.iter().any(|c| matches!(c, Cue::Fraction(_))) {
            // A share of the duration is known only from the whole sample table: no opening.
            return self.title_on_miss(asset).await;
        }
        let fingerprint = with_cues(fingerprint, &cues);
        let mut cached = Vec::with_capacity(listing.videos.len());
        let mut found = Vec::new();
        for (k, ((_, source), id)) in listing.videos.iter().zip(&ids).enumerate() {
            let movie = self.movies.get(&(source.clone(), id.clone())).await;
            self.metrics.cache_lookup("metadata", movie.is_some());
            if movie.is_none() {
                found.push((k, self.origins.find_moov(source, id).await?));
            }
            cached.push(movie);
        }
        let target_ms = u64::from(self.options.target_segment_ms);
        let seconds = (target_ms * u64::from(self.opening_segments)).div_ceil(1000) + 1;
        let seconds = u32::try_from(seconds).unwrap_or(u32::MAX);
        let (options, opened) = (self.options, found.clone());
        let (list, sources) = (listing.clone(), ids.clone());
        let planned = tokio::task::spawn_blocking(move || -> Result<_, Problem> {
            let mut movies = cached;
            for (k, moov) in &opened {
                let (source, id) = (&list.videos[*k].1, &sources[*k]);
                let movie = parse_found(source, id, moov, Some(seconds))?;
                movies[*k] = Some(Arc::new(movie));
            }
            let movies: Vec<Arc<Movie>> = movies.into_iter().flatten().collect();
            let title = assemble(
                &list,
                &sources,
                movies,
                Vec::new(),
                options,
                &cues,
                fingerprint,
            )?;
            Ok(Arc::new(title))
        })
        .await
        .map_err(|e| {
            Problem::new(
                ProblemKind::Internal,
                format!("background task failed: {e}"),
            )
        })?;
        let title = planned?;
        if title.presentation.opening_segments().is_none() {
            // Whole sources: this is the title, but for its subtitles; load it properly
            // (its sources are parsed now) rather than serve a title without them.
            for (k, _) in &found {
                let key = (listing.videos[*k].1.clone(), ids[*k].clone());
                let movie = title.presentation.sources[*k].movie.clone();
                self.movies.insert(key, movie).await;
            }
            return Ok(title);
        }
        let this = self.clone();
        let asset = asset.to_owned();
        tokio::spawn(async move {
            this.load_whole(&asset, listing, ids, fingerprint, found)
                .await
        });
        Ok(title)
    }

    /// Parses the `moov`s an opening found, whole, then loads the title from them (as a
    /// request for it would, single flight) and drops the opening.
    async fn load_whole(
        &self,
        asset: &str,
        listing: Listing,
        ids: Vec<SourceIdentity>,
        fingerprint: u64,
        found: Vec<(usize, FoundMoov)>,
    ) {
        for (k, moov) in found {
            let (source, id) = (&listing.videos[k].1, &ids[k]);
            let _ = self
                .movies
                .entry((source.clone(), id.clone()))
                .or_try_insert_with(async {
                    let parsed = parse_off_runtime(source, id, vec![moov], None).await;
                    let movie = parsed.map_err(Problem::from)?.into_iter().next();
                    movie
                        .map(Arc::new)
                        .ok_or_else(|| Problem::new(ProblemKind::Internal, "no movie parsed"))
                })
                .await;
        }
        let loaded = self
            .titles
            .entry_by_ref(asset)
            .or_try_insert_with(async {
                let title = self.load_listed(asset, listing, ids, fingerprint).await?;
                self.last_good.insert(asset.to_owned(), title.clone()).await;
                Ok::<_, Problem>(title)
            })
            .await;
        if let Err(e) = loaded {
            tracing::warn!(asset, error = %e.detail, "the whole title did not load after its opening");
        }
        self.openings.invalidate(asset).await;
    }

    /// Forgets the title of `asset`, so that the next request looks at its sources again
    /// (after a source changed under a read).
    pub async fn invalidate(&self, asset: &str) {
        self.titles.invalidate(asset).await;
        self.openings.invalidate(asset).await;
    }

    /// Loads the title, or falls back on the last good one when the origin fails.
    async fn revalidate(&self, asset: &str) -> Result<Arc<Title>, Problem> {
        match self.load_title(asset).await {
            Ok(title) => {
                self.last_good.insert(asset.to_owned(), title.clone()).await;
                Ok(title)
            }
            Err(e) if e.kind.is_origin_fault() => match self.last_good.get(asset).await {
                Some(old) => {
                    tracing::warn!(asset, error = %e.detail, "origin failing; serving the last good title");
                    self.metrics
                        .cache_stale_served
                        .with_label_values(&["title"])
                        .inc();
                    Ok(old)
                }
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// The problem with file paths made relative to the media root: clients see which file
    /// is at fault, not where the server keeps it.
    fn private(&self, problem: &Problem) -> Problem {
        let MediaRoot::Local(dir) = &self.root else {
            return problem.clone();
        };
        let mut root = dir.display().to_string();
        if !root.ends_with('/') {
            root.push('/');
        }
        Problem::new(problem.kind, problem.detail.replace(&root, ""))
    }

    async fn load_title(&self, asset: &str) -> Result<Arc<Title>, Problem> {
        let started = std::time::Instant::now();
        let listing = self.listing(asset).await?;
        let (ids, fingerprint) = identify(&self.origins, &listing).await?;
        let fingerprint = with_cues(fingerprint, &self.cues(asset, &listing));
        tracing::debug!(
            asset,
            identified_us = started.elapsed().as_micros() as u64,
            "title identified"
        );
        if let Some(old) = self.last_good.get(asset).await {
            if old.fingerprint == fingerprint {
                return Ok(old);
            }
        }
        self.load_listed(asset, listing, ids, fingerprint).await
    }

    /// Loads a title whose sources are listed and identified: their movies (parsed, or
    /// from the metadata cache), its subtitles, and the plan.
    async fn load_listed(
        &self,
        asset: &str,
        listing: Listing,
        ids: Vec<SourceIdentity>,
        fingerprint: u64,
    ) -> Result<Arc<Title>, Problem> {
        let started = std::time::Instant::now();
        let mut movies = Vec::with_capacity(listing.videos.len());
        for ((_, source), id) in listing.videos.iter().zip(&ids) {
            movies.push(self.movie(source, id).await?);
        }
        let subtitles = load_subtitles(&self.origins, &listing).await?;
        let loaded = started.elapsed();
        let options = self.options;
        let cues = self.cues(asset, &listing);
        let title = tokio::task::spawn_blocking(move || {
            assemble(
                &listing,
                &ids,
                movies,
                subtitles,
                options,
                &cues,
                fingerprint,
            )
        })
        .await
        .map_err(|e| {
            Problem::new(
                ProblemKind::Internal,
                format!("background task failed: {e}"),
            )
        })??;
        tracing::debug!(
            asset,
            sources_loaded_us = loaded.as_micros() as u64,
            assembled_us = started.elapsed().as_micros() as u64,
            "title loaded"
        );
        Ok(Arc::new(title))
    }

    async fn movie(&self, source: &SourceRef, id: &SourceIdentity) -> Result<Arc<Movie>, Problem> {
        let entry = self
            .movies
            .entry((source.clone(), id.clone()))
            .or_try_insert_with(async {
                self.origins
                    .load_movie(source, id)
                    .await
                    .map(Arc::new)
                    .map_err(Problem::from)
            })
            .await
            .map_err(|e| (*e).clone())?;
        self.metrics.cache_lookup("metadata", !entry.is_fresh());
        Ok(entry.into_value())
    }
}
