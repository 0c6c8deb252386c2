//! Exact parsing of Kubernetes resource quantities into integer units
//! (`value()` and `milli_value()`, both rounded up like Kubernetes), on top
//! of `api::quantity`.

use api::quantity::Quantity;

use crate::error::ConvertError;

/// Parses a quantity and returns its value rounded up to an integer.
pub fn parse_value(text: &str) -> Result<i64, ConvertError> {
    parse(text).map(|quantity| quantity.value())
}

/// Parses a quantity and returns its value in thousandths, rounded up.
pub fn parse_milli_value(text: &str) -> Result<i64, ConvertError> {
    parse(text).map(|quantity| quantity.milli_value())
}

fn parse(text: &str) -> Result<Quantity, ConvertError> {
    Quantity::parse(text.trim()).map_err(|source| ConvertError::InvalidQuantity {
        quantity: text.to_string(),
        source,
    })
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
