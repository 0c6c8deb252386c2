//! Kubernetes resource quantities (`100m`, `128Mi`, `1e3`): exact parsing,
//! canonical formatting as Kubernetes prints them, and the request sums the
//! scheduler and quota need.
//!
//! A [`Quantity`] holds its value exactly, in nano-units, as Kubernetes does
//! after parsing: values are rounded up (away from zero) to the nearest
//! nano-unit and capped at `i64::MAX` units. Kubernetes leaves values written
//! with an exponent (`1e30`) uncapped; here they are capped too.
//!
//! Parsing allocates nothing, so summing a pod's requests in the scheduler's
//! hot path costs a few integer operations per container.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use k8s_openapi::api::core::v1::{Container, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;

/// The regular expression Kubernetes quotes when a quantity is malformed.
const FORMAT_RULE: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const NANOS_PER_UNIT: i128 = 1_000_000_000;
const MAX_NANOS: i128 = i64::MAX as i128 * NANOS_PER_UNIT;
/// Significant digits kept exactly; beyond them only "something non-zero
/// follows" matters, which is enough for rounding up to a nano-unit.
const MAX_SIGNIFICANT_DIGITS: usize = 30;

/// A malformed quantity; each variant carries the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("{FORMAT_RULE}: {input:?}")]
    Format { input: String },
    #[error("unable to parse quantity's suffix: {input:?}")]
    Suffix { input: String },
}

impl QuantityError {
    /// The message Kubernetes gives for this error, without the input.
    pub fn detail(&self) -> &'static str {
        match self {
            QuantityError::Format { .. } => FORMAT_RULE,
            QuantityError::Suffix { .. } => "unable to parse quantity's suffix",
        }
    }
}

/// How a quantity was written, which decides how it is printed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    /// `1e3`, `5E-2`.
    DecimalExponent,
    /// `1Ki`, `128Mi`.
    BinarySi,
    /// `100m`, `2`, `1G`.
    DecimalSi,
}

/// An exact Kubernetes quantity. Equality and order compare values only, so
/// `1` equals `1000m`.
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    nanos: i128,
    format: QuantityFormat,
}

/// CPU in thousandths of a core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MilliCpu(pub i64);

/// Memory or storage in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub i64);

impl Quantity {
    pub const ZERO: Quantity = Quantity {
        nanos: 0,
        format: QuantityFormat::DecimalSi,
    };

    /// Parses a quantity the way `resource.ParseQuantity` does.
    pub fn parse(input: &str) -> Result<Quantity, QuantityError> {
        parse(input)
    }

    /// A quantity of `milli` thousandths, printed in decimal SI form.
    pub fn from_milli(milli: i64) -> Quantity {
        Quantity {
            nanos: i128::from(milli) * 1_000_000,
            format: QuantityFormat::DecimalSi,
        }
    }

    /// A whole-unit quantity with the given format (`BinarySi` prints `1Ki`).
    pub fn from_units(units: i64, format: QuantityFormat) -> Quantity {
        Quantity {
            nanos: i128::from(units) * NANOS_PER_UNIT,
            format,
        }
    }

    /// A quantity of `nanos` nano-units (capped like parsing), printed in
    /// `format`.
    pub fn from_nanos(nanos: i128, format: QuantityFormat) -> Quantity {
        Quantity {
            nanos: nanos.clamp(-MAX_NANOS, MAX_NANOS),
            format,
        }
    }

    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// The value in nano-units, exactly.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The value in thousandths, rounded up away from zero like Kubernetes'
    /// `MilliValue`; saturates at the `i64` range.
    pub fn milli_value(&self) -> i64 {
        saturate(div_away_from_zero(self.nanos, 1_000_000))
    }

    /// The value in whole units, rounded up away from zero like Kubernetes'
    /// `Value`; saturates at the `i64` range.
    pub fn value(&self) -> i64 {
        saturate(div_away_from_zero(self.nanos, NANOS_PER_UNIT))
    }

    pub fn milli_cpu(&self) -> MilliCpu {
        MilliCpu(self.milli_value())
    }

    pub fn bytes(&self) -> Bytes {
        Bytes(self.value())
    }

    /// The sum, keeping this quantity's format unless it is zero; saturates
    /// at the cap like parsing does.
    pub fn saturating_add(self, other: Quantity) -> Quantity {
        let format = if self.nanos == 0 {
            other.format
        } else {
            self.format
        };
        Quantity {
            nanos: (self.nanos + other.nanos).clamp(-MAX_NANOS, MAX_NANOS),
            format,
        }
    }

    /// The canonical form as the `k8s-openapi` wire type.
    pub fn to_wire(&self) -> WireQuantity {
        WireQuantity(self.to_string())
    }
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

fn div_away_from_zero(value: i128, divisor: i128) -> i128 {
    let quotient = value / divisor;
    let remainder = value % divisor;
    if remainder == 0 {
        quotient
    } else if value < 0 {
        quotient - 1
    } else {
        quotient + 1
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse(input)
    }
}

impl TryFrom<&WireQuantity> for Quantity {
    type Error = QuantityError;

    fn try_from(wire: &WireQuantity) -> Result<Self, Self::Error> {
        parse(&wire.0)
    }
}

/// What a suffix means: the value is multiplied by `10^decimal * 2^binary`.
struct Suffix {
    decimal: i64,
    binary: u32,
    format: QuantityFormat,
}

fn interpret_suffix(suffix: &str) -> Option<Suffix> {
    let decimal = |exponent| Suffix {
        decimal: exponent,
        binary: 0,
        format: QuantityFormat::DecimalSi,
    };
    let binary = |exponent| Suffix {
        decimal: 0,
        binary: exponent,
        format: QuantityFormat::BinarySi,
    };
    let suffix = match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            let (negative, digits) = match rest.as_bytes().first() {
                Some(b'-') => (true, &rest[1..]),
                Some(b'+') => (false, &rest[1..]),
                _ => (false, rest),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Exponents beyond any representable value saturate; the value is
            // then capped or rounded to one nano-unit.
            let magnitude = digits
                .bytes()
                .fold(0i64, |acc, b| {
                    acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
                })
                .min(1_000_000);
            Suffix {
                decimal: if negative { -magnitude } else { magnitude },
                binary: 0,
                format: QuantityFormat::DecimalExponent,
            }
        }
    };
    Some(suffix)
}

/// Checks the suffix grammar `[eEinumkKMGTP]*[-+]?[0-9]*`.
fn suffix_is_well_formed(suffix: &str) -> bool {
    let bytes = suffix.as_bytes();
    let mut pos = bytes
        .iter()
        .take_while(|b| b"eEinumkKMGTP".contains(b))
        .count();
    if matches!(bytes.get(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    bytes[pos..].iter().all(u8::is_ascii_digit)
}

fn parse(input: &str) -> Result<Quantity, QuantityError> {
    let format_error = || QuantityError::Format {
        input: input.to_string(),
    };
    let bytes = input.as_bytes();
    let (negative, mut pos) = match bytes.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let int_start = pos;
    while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    let int_digits = &bytes[int_start..pos];
    let mut frac_digits: &[u8] = &[];
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        let frac_start = pos;
        while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        frac_digits = &bytes[frac_start..pos];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(format_error());
    }
    let suffix_text = &input[pos..];
    if !suffix_is_well_formed(suffix_text) {
        return Err(format_error());
    }
    let suffix = interpret_suffix(suffix_text).ok_or_else(|| QuantityError::Suffix {
        input: input.to_string(),
    })?;

    let magnitude = nanos_of(int_digits, frac_digits, &suffix);
    let nanos = if negative { -magnitude } else { magnitude };
    Ok(Quantity {
        nanos,
        format: suffix.format,
    })
}

/// The magnitude in nano-units, rounded up and capped.
fn nanos_of(int_digits: &[u8], frac_digits: &[u8], suffix: &Suffix) -> i128 {
    // The significant digits of `int.frac`, without leading or trailing zeros.
    let all = int_digits.iter().chain(frac_digits.iter());
    let leading_zeros = all.clone().take_while(|&&b| b == b'0').count();
    let total = int_digits.len() + frac_digits.len();
    let digit_at = |i: usize| {
        if i < int_digits.len() {
            int_digits[i]
        } else {
            frac_digits[i - int_digits.len()]
        }
    };
    let mut end = total;
    while end > leading_zeros && digit_at(end - 1) == b'0' {
        end -= 1;
    }
    if end == leading_zeros {
        return 0;
    }
    let kept_end = end.min(leading_zeros + MAX_SIGNIFICANT_DIGITS);
    let sticky = kept_end < end;
    let mut mantissa: i128 = 0;
    for i in leading_zeros..kept_end {
        mantissa = mantissa * 10 + i128::from(digit_at(i) - b'0');
    }
    // value = mantissa * 10^exponent * 2^binary units.
    let exponent = suffix.decimal + to_i64(int_digits.len()) - to_i64(kept_end);
    let shift = exponent + 9;
    if shift >= 0 {
        // Dropped digits cannot matter here: the value is already far above the cap.
        let scaled = u32::try_from(shift)
            .ok()
            .and_then(|shift| 10i128.checked_pow(shift))
            .and_then(|power| mantissa.checked_mul(power))
            .and_then(|value| value.checked_mul(1i128 << suffix.binary));
        return scaled.map_or(MAX_NANOS, |value| value.min(MAX_NANOS));
    }
    let Some(divisor) = u32::try_from(-shift)
        .ok()
        .and_then(|k| 10i128.checked_pow(k))
    else {
        // Smaller than one nano-unit: rounds up to exactly one.
        return 1;
    };
    let whole = (mantissa / divisor).checked_mul(1i128 << suffix.binary);
    let Some(whole) = whole else {
        return MAX_NANOS;
    };
    // Multiply the fraction `remainder / divisor` by 2^binary bit by bit, so
    // nothing overflows and nothing is lost.
    let mut remainder = mantissa % divisor;
    let mut fraction_part: i128 = 0;
    for _ in 0..suffix.binary {
        remainder *= 2;
        fraction_part *= 2;
        if remainder >= divisor {
            remainder -= divisor;
            fraction_part += 1;
        }
    }
    let round_up = i128::from(remainder != 0 || sticky);
    (whole + fraction_part + round_up).min(MAX_NANOS)
}

fn to_i64(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

const DECIMAL_SUFFIXES: [(i32, &str); 10] = [
    (-9, "n"),
    (-6, "u"),
    (-3, "m"),
    (0, ""),
    (3, "k"),
    (6, "M"),
    (9, "G"),
    (12, "T"),
    (15, "P"),
    (18, "E"),
];

const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

impl fmt::Display for Quantity {
    /// The canonical form Kubernetes prints: `1500m`, `1Gi`, `2k`, `1e3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let mut format = self.format;
        if format == QuantityFormat::BinarySi
            && (self.nanos.abs() < 1024 * NANOS_PER_UNIT || self.nanos % NANOS_PER_UNIT != 0)
        {
            format = QuantityFormat::DecimalSi;
        }
        if format == QuantityFormat::BinarySi {
            let mut units = self.nanos / NANOS_PER_UNIT;
            let mut power = 0;
            while power + 1 < BINARY_SUFFIXES.len() && units % 1024 == 0 {
                units /= 1024;
                power += 1;
            }
            return write!(f, "{units}{}", BINARY_SUFFIXES[power]);
        }
        let mut mantissa = self.nanos;
        let mut exponent: i32 = -9;
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        // Kubernetes prints exponents that are multiples of three.
        match exponent.rem_euclid(3) {
            1 => {
                mantissa *= 10;
                exponent -= 1;
            }
            2 => {
                mantissa *= 100;
                exponent -= 2;
            }
            _ => {}
        }
        if format == QuantityFormat::DecimalExponent {
            if exponent == 0 {
                return write!(f, "{mantissa}");
            }
            return write!(f, "{mantissa}e{exponent}");
        }
        // Values are capped at i64::MAX units, so exponents stay within the table.
        match DECIMAL_SUFFIXES.iter().find(|(e, _)| *e == exponent) {
            Some((_, suffix)) => write!(f, "{mantissa}{suffix}"),
            None => write!(f, "{mantissa}e{exponent}"),
        }
    }
}

/// Resource names to quantities, as in `resources.requests`.
pub type ResourceList = BTreeMap<String, WireQuantity>;

/// A pod's effective requests of the resources the scheduler tracks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodRequests {
    pub milli_cpu: MilliCpu,
    pub memory: Bytes,
    pub ephemeral_storage: Bytes,
}

/// The request for `resource` in `requirements`, zero if absent or malformed
/// (validation reports malformed ones).
fn request_of(requirements: Option<&ResourceRequirements>, resource: &str) -> i128 {
    requirements
        .and_then(|r| r.requests.as_ref())
        .and_then(|requests| requests.get(resource))
        .and_then(|q| parse(&q.0).ok())
        .map_or(0, |q| q.nanos)
}

/// The limit for `resource` in `requirements`, zero if absent or malformed.
fn limit_of(requirements: Option<&ResourceRequirements>, resource: &str) -> i128 {
    requirements
        .and_then(|r| r.limits.as_ref())
        .and_then(|limits| limits.get(resource))
        .and_then(|q| parse(&q.0).ok())
        .map_or(0, |q| q.nanos)
}

/// The pod's effective request of `resource` (Kubernetes' rule, see
/// [`pod_request_totals`]), as a quantity in `format`.
pub fn pod_request(spec: &PodSpec, resource: &str, format: QuantityFormat) -> Quantity {
    Quantity::from_nanos(effective_request(spec, resource), format)
}

/// The pod's effective limit of `resource`, summed as Kubernetes'
/// `PodLimits` does (the same rule as requests, over limits), as a
/// quantity in `format`.
pub fn pod_limit(spec: &PodSpec, resource: &str, format: QuantityFormat) -> Quantity {
    Quantity::from_nanos(effective(spec, resource, limit_of), format)
}

fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

/// Kubernetes' effective request of one resource, in nano-units:
/// `max(sum(containers) + sum(sidecars), max over init containers of
/// (that init container + sidecars started before it)) + overhead`.
fn effective_request(spec: &PodSpec, resource: &str) -> i128 {
    effective(spec, resource, request_of)
}

/// [`effective_request`] over the quantity `quantity_of` reads from each container.
fn effective(
    spec: &PodSpec,
    resource: &str,
    quantity_of: fn(Option<&ResourceRequirements>, &str) -> i128,
) -> i128 {
    let mut steady: i128 = spec
        .containers
        .iter()
        .map(|c| quantity_of(c.resources.as_ref(), resource))
        .sum();
    let mut sidecars: i128 = 0;
    let mut init_peak: i128 = 0;
    for init in spec.init_containers.iter().flatten() {
        let quantity = quantity_of(init.resources.as_ref(), resource);
        let during = if is_sidecar(init) {
            steady += quantity;
            sidecars += quantity;
            sidecars
        } else {
            quantity + sidecars
        };
        init_peak = init_peak.max(during);
    }
    let overhead = spec
        .overhead
        .as_ref()
        .and_then(|overhead| overhead.get(resource))
        .and_then(|q| parse(&q.0).ok())
        .map_or(0, |q| q.nanos);
    steady.max(init_peak) + overhead
}

/// The pod's effective CPU, memory and ephemeral-storage requests, without
/// allocating.
pub fn pod_request_totals(spec: &PodSpec) -> PodRequests {
    let milli = |nanos: i128| saturate(div_away_from_zero(nanos, 1_000_000));
    let units = |nanos: i128| saturate(div_away_from_zero(nanos, NANOS_PER_UNIT));
    PodRequests {
        milli_cpu: MilliCpu(milli(effective_request(spec, "cpu"))),
        memory: Bytes(units(effective_request(spec, "memory"))),
        ephemeral_storage: Bytes(units(effective_request(spec, "ephemeral-storage"))),
    }
}

/// The pod's effective requests of every resource any container, init
/// container or the overhead names, with Kubernetes' rule (see
/// [`pod_request_totals`]); values are canonical quantities.
pub fn pod_requests(spec: &PodSpec) -> ResourceList {
    let mut names: BTreeMap<&str, QuantityFormat> = BTreeMap::new();
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let requested = containers
        .filter_map(|c| c.resources.as_ref().and_then(|r| r.requests.as_ref()))
        .flat_map(|requests| requests.iter());
    for (name, quantity) in requested.chain(spec.overhead.iter().flatten()) {
        let format = parse(&quantity.0).map_or(QuantityFormat::DecimalSi, |q| q.format);
        names.entry(name.as_str()).or_insert(format);
    }
    names
        .into_iter()
        .map(|(name, format)| {
            let quantity = Quantity {
                nanos: effective_request(spec, name).min(MAX_NANOS),
                format,
            };
            (name.to_string(), quantity.to_wire())
        })
        .collect()
}

#[cfg(test)]
mod tests;
