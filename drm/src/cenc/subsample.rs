//! Subsample maps for video samples: which bytes of each NAL unit stay clear.
