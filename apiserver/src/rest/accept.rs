//! Content negotiation: which representation an `Accept` header asks for
//! (a plain object, a `meta.k8s.io/v1` Table, `PartialObjectMetadata(List)`
//! or aggregated discovery), and the `Content-Type` of the answer.
//!
//! Only JSON is served. Media ranges are tried by quality, then in the order
//! written; a range the endpoint cannot serve (protobuf, `v1beta1` Tables,
//! `v2beta1` discovery) is passed over, as Kubernetes does.

/// A representation a REST endpoint can answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Representation {
    /// The object or list itself, `application/json`.
    Object,
    /// A `meta.k8s.io/v1` Table.
    Table,
    /// One object's metadata as `meta.k8s.io/v1 PartialObjectMetadata`.
    PartialObjectMetadata,
    /// A list's metadata as `meta.k8s.io/v1 PartialObjectMetadataList`.
    PartialObjectMetadataList,
    /// `apidiscovery.k8s.io/v2 APIGroupDiscoveryList`, for `/api` and `/apis`.
    AggregatedDiscovery,
}

impl Representation {
    /// The `Content-Type` header of an answer in this representation.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Representation::Object => "application/json",
            Representation::Table => "application/json;as=Table;v=v1;g=meta.k8s.io",
            Representation::PartialObjectMetadata => {
                "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"
            }
            Representation::PartialObjectMetadataList => {
                "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
            }
            Representation::AggregatedDiscovery => {
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            }
        }
    }
}

/// No media range of the `Accept` header names a representation the
/// endpoint offers; the server answers 406 Not Acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("only the following media types are accepted: {offered}")]
pub(crate) struct NotAcceptable {
    /// The content types the endpoint offers, comma-separated.
    pub(crate) offered: String,
}

/// Picks the representation to answer with, among `offers` (what the
/// endpoint can produce). A missing or empty header means a plain object.
pub(crate) fn negotiate(
    accept: Option<&str>,
    offers: &[Representation],
) -> Result<Representation, NotAcceptable> {
    let header = accept.map(str::trim).unwrap_or_default();
    if header.is_empty() && offers.contains(&Representation::Object) {
        return Ok(Representation::Object);
    }
    let mut ranges: Vec<MediaRange> = header.split(',').filter_map(parse_media_range).collect();
    // A stable sort keeps the written order among ranges of equal quality.
    ranges.sort_by_key(|range| std::cmp::Reverse(range.quality_millis));
    ranges
        .iter()
        .filter(|range| range.quality_millis > 0)
        .filter_map(MediaRange::representation)
        .find(|wanted| offers.contains(wanted))
        .ok_or_else(|| NotAcceptable {
            offered: offers
                .iter()
                .map(|offer| offer.content_type())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Whether a discovery client wants the aggregated document.
pub(crate) fn wants_aggregated_discovery(accept: Option<&str>) -> bool {
    negotiate(
        accept,
        &[Representation::AggregatedDiscovery, Representation::Object],
    ) == Ok(Representation::AggregatedDiscovery)
}

/// One media range of an `Accept` header.
#[derive(Debug, PartialEq, Eq)]
struct MediaRange {
    /// `application/json`, lower case.
    essence: String,
    /// The `as`, `g` and `v` parameters, empty when absent.
    as_kind: String,
    group: String,
    version: String,
    /// `q` times 1000, 1000 when absent.
    quality_millis: u32,
}

impl MediaRange {
    /// The representation this range asks for, if it is one Skiff serves.
    fn representation(&self) -> Option<Representation> {
        let json = matches!(
            self.essence.as_str(),
            "application/json" | "application/*" | "*/*"
        );
        if !json {
            return None;
        }
        match (
            self.as_kind.as_str(),
            self.group.as_str(),
            self.version.as_str(),
        ) {
            ("", _, _) => Some(Representation::Object),
            ("Table", "meta.k8s.io", "v1") => Some(Representation::Table),
            ("PartialObjectMetadata", "meta.k8s.io", "v1") => {
                Some(Representation::PartialObjectMetadata)
            }
            ("PartialObjectMetadataList", "meta.k8s.io", "v1") => {
                Some(Representation::PartialObjectMetadataList)
            }
            ("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2") => {
                Some(Representation::AggregatedDiscovery)
            }
            _ => None,
        }
    }
}

/// Parses `type/subtype;key=value;…`; `None` for an empty or malformed range.
fn parse_media_range(text: &str) -> Option<MediaRange> {
    let mut parts = text.split(';');
    let essence = parts.next()?.trim().to_ascii_lowercase();
    if !essence.contains('/') {
        return None;
    }
    let mut range = MediaRange {
        essence,
        as_kind: String::new(),
        group: String::new(),
        version: String::new(),
        quality_millis: 1000,
    };
    for parameter in parts {
        let Some((key, value)) = parameter.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match key.trim().to_ascii_lowercase().as_str() {
            "as" => range.as_kind = value,
            "g" => range.group = value,
            "v" => range.version = value,
            "q" => range.quality_millis = parse_quality_millis(&value)?,
            _ => {}
        }
    }
    Some(range)
}

/// `0.5` → 500; `None` if it is not a quality value between 0 and 1.
fn parse_quality_millis(text: &str) -> Option<u32> {
    let quality: f64 = text.parse().ok()?;
    if !(0.0..=1.0).contains(&quality) {
        return None;
    }
    // The range check above bounds the product to 0..=1000.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "bounded to 0..=1000 by the check above"
    )]
    let millis = (quality * 1000.0).round() as u32;
    Some(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    use Representation::*;

    const RESOURCE_OFFERS: &[Representation] = &[
        Object,
        Table,
        PartialObjectMetadata,
        PartialObjectMetadataList,
    ];
    const DISCOVERY_OFFERS: &[Representation] = &[AggregatedDiscovery, Object];

    fn check(accept: Option<&str>, offers: &[Representation], expected: Option<Representation>) {
        assert_eq!(
            negotiate(accept, offers).ok(),
            expected,
            "Accept: {accept:?}"
        );
    }

    #[test]
    fn kubectl_get_asks_for_a_table() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        check(Some(kubectl), RESOURCE_OFFERS, Some(Table));
        // An endpoint that cannot print falls back to the object.
        check(Some(kubectl), &[Object], Some(Object));
    }

    #[test]
    fn table_versions_other_than_v1_are_passed_over() {
        let beta_only = "application/json;as=Table;v=v1beta1;g=meta.k8s.io";
        check(Some(beta_only), RESOURCE_OFFERS, None);
        let protobuf_first = "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io";
        check(Some(protobuf_first), RESOURCE_OFFERS, Some(Table));
    }

    #[test]
    fn metadata_clients_get_partial_object_metadata() {
        let list = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
        check(Some(list), RESOURCE_OFFERS, Some(PartialObjectMetadataList));
        let item = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
        check(Some(item), RESOURCE_OFFERS, Some(PartialObjectMetadata));
        // A list endpoint does not offer the single-object form.
        check(
            Some(item),
            &[Object, Table, PartialObjectMetadataList],
            None,
        );
    }

    #[test]
    fn plain_clients_get_objects() {
        check(None, RESOURCE_OFFERS, Some(Object));
        check(Some(""), RESOURCE_OFFERS, Some(Object));
        check(Some("application/json"), RESOURCE_OFFERS, Some(Object));
        check(Some("*/*"), RESOURCE_OFFERS, Some(Object));
        check(Some("application/json, */*"), RESOURCE_OFFERS, Some(Object));
        check(
            Some("application/vnd.kubernetes.protobuf"),
            RESOURCE_OFFERS,
            None,
        );
        check(Some("text/html"), RESOURCE_OFFERS, None);
    }

    #[test]
    fn quality_orders_ranges() {
        let accept = "application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io";
        check(Some(accept), RESOURCE_OFFERS, Some(Table));
        let refused = "application/json;as=Table;v=v1;g=meta.k8s.io;q=0,application/json;q=0.1";
        check(Some(refused), RESOURCE_OFFERS, Some(Object));
    }

    #[test]
    fn kubectl_discovery_gets_v2() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        check(Some(kubectl), DISCOVERY_OFFERS, Some(AggregatedDiscovery));
        assert!(wants_aggregated_discovery(Some(kubectl)));
        let beta_only = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        check(Some(beta_only), DISCOVERY_OFFERS, Some(Object));
        assert!(!wants_aggregated_discovery(Some(beta_only)));
        assert!(!wants_aggregated_discovery(None));
        assert!(!wants_aggregated_discovery(Some("application/json")));
    }

    #[test]
    fn answers_carry_their_content_type() {
        assert_eq!(Object.content_type(), "application/json");
        assert_eq!(
            Table.content_type(),
            "application/json;as=Table;v=v1;g=meta.k8s.io"
        );
        assert_eq!(
            AggregatedDiscovery.content_type(),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        let refused = negotiate(Some("text/html"), &[Object]);
        assert_eq!(
            refused.map_err(|error| error.to_string()),
            Err("only the following media types are accepted: application/json".to_string())
        );
    }
}
