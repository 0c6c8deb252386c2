//! Exact parsing of Kubernetes resource quantities into integer units
//! (`value()` and `milli_value()`, both rounded up like Kubernetes).

use crate::error::ConvertError;

/// Parses a quantity and returns its value rounded up to an integer.
pub fn parse_value(text: &str) -> Result<i64, ConvertError> {
    scaled(text, 1)
}

/// Parses a quantity and returns its value in thousandths, rounded up.
pub fn parse_milli_value(text: &str) -> Result<i64, ConvertError> {
    scaled(text, 1000)
}

fn invalid(text: &str) -> ConvertError {
    ConvertError::InvalidQuantity {
        quantity: text.to_string(),
    }
}

fn scaled(text: &str, multiplier: i128) -> Result<i64, ConvertError> {
    let trimmed = text.trim();
    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    if number.is_empty() || number == "." {
        return Err(invalid(text));
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.contains('.') {
        return Err(invalid(text));
    }
    let mut mantissa: i128 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(digit - b'0')))
            .ok_or_else(|| invalid(text))?;
    }
    // The value is mantissa * 10^decimal_exponent * 2^binary_exponent.
    let mut decimal_exponent = -i32::try_from(fraction.len()).map_err(|_| invalid(text))?;
    let mut binary_exponent = 0u32;
    match suffix {
        "" => {}
        "n" => decimal_exponent -= 9,
        "u" => decimal_exponent -= 6,
        "m" => decimal_exponent -= 3,
        "k" => decimal_exponent += 3,
        "M" => decimal_exponent += 6,
        "G" => decimal_exponent += 9,
        "T" => decimal_exponent += 12,
        "P" => decimal_exponent += 15,
        "E" => decimal_exponent += 18,
        "Ki" => binary_exponent = 10,
        "Mi" => binary_exponent = 20,
        "Gi" => binary_exponent = 30,
        "Ti" => binary_exponent = 40,
        "Pi" => binary_exponent = 50,
        "Ei" => binary_exponent = 60,
        other if other.starts_with(['e', 'E']) => {
            let exponent: i32 = other[1..].parse().map_err(|_| invalid(text))?;
            decimal_exponent += exponent;
        }
        _ => return Err(invalid(text)),
    }
    let mut numerator = mantissa
        .checked_mul(multiplier)
        .and_then(|n| n.checked_mul(1i128 << binary_exponent))
        .ok_or_else(|| invalid(text))?;
    let mut denominator: i128 = 1;
    if decimal_exponent >= 0 {
        for _ in 0..decimal_exponent {
            numerator = numerator.checked_mul(10).ok_or_else(|| invalid(text))?;
        }
    } else {
        for _ in 0..(-decimal_exponent) {
            denominator = denominator.checked_mul(10).ok_or_else(|| invalid(text))?;
        }
    }
    let rounded_up = (numerator + denominator - 1) / denominator;
    let signed = if negative {
        -(numerator / denominator)
    } else {
        rounded_up
    };
    i64::try_from(signed).map_err(|_| invalid(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubernetes_examples() {
        assert_eq!(parse_milli_value("100m").unwrap(), 100);
        assert_eq!(parse_milli_value("1").unwrap(), 1000);
        assert_eq!(parse_milli_value("1.5").unwrap(), 1500);
        assert_eq!(parse_milli_value("0.0001").unwrap(), 1);
        assert_eq!(parse_value("200Mi").unwrap(), 200 * 1024 * 1024);
        assert_eq!(parse_value("1G").unwrap(), 1_000_000_000);
        assert_eq!(parse_value("1.5Gi").unwrap(), 1_610_612_736);
        assert_eq!(parse_value("1e3").unwrap(), 1000);
        assert_eq!(parse_value("110").unwrap(), 110);
        assert_eq!(parse_value("100m").unwrap(), 1);
        assert!(parse_value("abc").is_err());
        assert!(parse_value("1Qi").is_err());
    }
}
