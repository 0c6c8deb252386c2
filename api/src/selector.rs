//! Label selectors, node selector terms and field selectors.
