//! Identifiers the service hands out for objects a caller later names in a request (runs,
//! special-case applications): 128 random bits, so that an id reveals nothing about other
//! objects and cannot be guessed from one the caller holds.

/// 128 random bits from the operating system, as 32 lowercase hex digits.
pub fn random_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_differ() {
        let first = random_id().expect("random");
        let second = random_id().expect("random");
        assert_eq!(first.len(), 32);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }
}
