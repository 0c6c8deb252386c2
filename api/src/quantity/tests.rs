//! Tests of quantity parsing, formatting and pod request sums.

use k8s_openapi::api::core::v1::{Container, PodSpec, ResourceRequirements};
use proptest::prelude::*;

use super::*;

/// Parses `input` and checks its canonical form, milli-value and value.
fn check(input: &str, canonical: &str, milli: i64, value: i64) {
    let quantity = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    assert_eq!(quantity.to_string(), canonical, "canonical form of {input}");
    assert_eq!(quantity.milli_value(), milli, "milli value of {input}");
    assert_eq!(quantity.value(), value, "value of {input}");
}

fn check_err(input: &str, expected: QuantityError) {
    assert_eq!(
        Quantity::parse(input),
        Err(expected).map(|()| Quantity::ZERO),
        "{input}"
    );
}

#[test]
fn parses_decimal_forms() {
    check("100m", "100m", 100, 1);
    check("1500m", "1500m", 1500, 2);
    check("2", "2", 2000, 2);
    check("1.5", "1500m", 1500, 2);
    check("+1", "1", 1000, 1);
    check(".5", "500m", 500, 1);
    check("0", "0", 0, 0);
    check("0.000", "0", 0, 0);
    check("1G", "1G", 1_000_000_000_000, 1_000_000_000);
    check("2000", "2k", 2_000_000, 2000);
    check("1500", "1500", 1_500_000, 1500);
    check("1E", "1E", i64::MAX, 1_000_000_000_000_000_000);
    check("10n", "10n", 1, 1);
    check("1u", "1u", 1, 1);
    check("-1", "-1", -1000, -1);
    check("0.1m", "100u", 1, 1);
}

#[test]
fn parses_binary_forms() {
    check("128Mi", "128Mi", 134_217_728_000, 134_217_728);
    check("1024Mi", "1Gi", 1_073_741_824_000, 1_073_741_824);
    check("0.5Gi", "512Mi", 536_870_912_000, 536_870_912);
    check("1Ki", "1Ki", 1_024_000, 1024);
    check("1Ei", "1Ei", i64::MAX, 1_152_921_504_606_846_976);
    check("0.5Ki", "512", 512_000, 512);
    check("1.5Ki", "1536", 1_536_000, 1536);
    check("1.1Ki", "1126400m", 1_126_400, 1127);
}

#[test]
fn parses_exponents() {
    check("1e3", "1e3", 1_000_000, 1000);
    check("1E3", "1e3", 1_000_000, 1000);
    check("1.5e3", "1500", 1_500_000, 1500);
    check("5e-3", "5e-3", 5, 1);
    check("1e+2", "100", 100_000, 100);
}

#[test]
fn rounds_up_to_nano_and_caps() {
    check("0.0000000001", "1n", 1, 1);
    check(
        "1.0000000000000000000000000000000000001",
        "1000000001n",
        1001,
        2,
    );
    check("1e100", "9223372036854775807", i64::MAX, i64::MAX);
    check(
        "99999999999999999999",
        "9223372036854775807",
        i64::MAX,
        i64::MAX,
    );
    check("1e-400", "1e-9", 1, 1);
}

#[test]
fn rejects_malformed() {
    for input in [
        "", "abc", ".", "1.2.3", "1 ", "1Mi ", "--1", "1e3.5", "m", "1/2",
    ] {
        check_err(
            input,
            QuantityError::Format {
                input: input.to_string(),
            },
        );
    }
    for input in ["1e", "1K", "1ki", "1mi", "1Kii", "1MM"] {
        check_err(
            input,
            QuantityError::Suffix {
                input: input.to_string(),
            },
        );
    }
}

#[test]
fn error_messages_name_the_input() {
    let error = Quantity::parse("1K").map(|_| ()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "unable to parse quantity's suffix: \"1K\""
    );
}

#[test]
fn compares_by_value() {
    assert_eq!(Quantity::parse("1"), Quantity::parse("1000m"));
    assert!(Quantity::parse("1Ki").ok() > Quantity::parse("1k").ok());
    assert_eq!(Quantity::from_milli(1500).to_string(), "1500m");
    assert_eq!(
        Quantity::from_units(2048, QuantityFormat::BinarySi).to_string(),
        "2Ki"
    );
}

fn requirements(requests: &[(&str, &str)]) -> Option<ResourceRequirements> {
    let requests = requests
        .iter()
        .map(|(name, value)| (name.to_string(), WireQuantity(value.to_string())))
        .collect();
    Some(ResourceRequirements {
        requests: Some(requests),
        ..ResourceRequirements::default()
    })
}

fn container(requests: &[(&str, &str)], sidecar: bool) -> Container {
    Container {
        name: "c".into(),
        resources: requirements(requests),
        restart_policy: sidecar.then(|| "Always".to_string()),
        ..Container::default()
    }
}

fn check_requests(spec: &PodSpec, expected: &[(&str, &str)]) {
    let actual: Vec<(String, String)> = pod_requests(spec)
        .into_iter()
        .map(|(name, q)| (name, q.0))
        .collect();
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn pod_requests_sum_containers_and_take_init_max() {
    let spec = PodSpec {
        containers: vec![
            container(&[("cpu", "100m"), ("memory", "64Mi")], false),
            container(&[("cpu", "200m"), ("memory", "64Mi")], false),
        ],
        init_containers: Some(vec![container(&[("cpu", "1"), ("memory", "16Mi")], false)]),
        overhead: Some(BTreeMap::from([(
            "cpu".to_string(),
            WireQuantity("10m".into()),
        )])),
        ..PodSpec::default()
    };
    check_requests(&spec, &[("cpu", "1010m"), ("memory", "128Mi")]);
    let totals = pod_request_totals(&spec);
    assert_eq!(totals.milli_cpu, MilliCpu(1010));
    assert_eq!(totals.memory, Bytes(128 * 1024 * 1024));
}

#[test]
fn pod_requests_count_sidecars() {
    // The sidecar runs beside the main containers and beside later init containers.
    let spec = PodSpec {
        containers: vec![container(&[("cpu", "100m")], false)],
        init_containers: Some(vec![
            container(&[("cpu", "50m")], true),
            container(&[("cpu", "200m")], false),
        ]),
        ..PodSpec::default()
    };
    check_requests(&spec, &[("cpu", "250m")]);
    let spec = PodSpec {
        containers: vec![container(&[("cpu", "500m")], false)],
        init_containers: Some(vec![container(&[("cpu", "50m")], true)]),
        ..PodSpec::default()
    };
    check_requests(&spec, &[("cpu", "550m")]);
}

fn quantity_text() -> impl Strategy<Value = String> {
    let suffix = prop::sample::select(vec![
        "", "n", "u", "m", "k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi", "e3", "e-2", "E6",
    ]);
    (
        any::<bool>(),
        0u64..1_000_000,
        prop::option::of(0u32..1000),
        suffix,
    )
        .prop_map(|(negative, whole, fraction, suffix)| {
            let sign = if negative { "-" } else { "" };
            match fraction {
                Some(fraction) => format!("{sign}{whole}.{fraction:03}{suffix}"),
                None => format!("{sign}{whole}{suffix}"),
            }
        })
}

proptest! {
    #[test]
    fn canonical_form_round_trips(text in quantity_text()) {
        let parsed = Quantity::parse(&text).unwrap();
        let canonical = parsed.to_string();
        let reparsed = Quantity::parse(&canonical).unwrap();
        prop_assert_eq!(reparsed, parsed, "{} -> {}", text, canonical);
        prop_assert_eq!(reparsed.to_string(), canonical);
    }

    #[test]
    fn milli_values_round_trip(milli in -1_000_000_000_000i64..1_000_000_000_000) {
        let quantity = Quantity::from_milli(milli);
        prop_assert_eq!(Quantity::parse(&quantity.to_string()).unwrap().milli_value(), milli);
    }
}
