//! Plain-English phrasing shared by the messages core writes for users ("1 group", "3 groups"),
//! so no message says "group(s)".

/// `n` followed by the singular or plural noun: `count(1, "group", "groups")` is `"1 group"`,
/// `count(0, "group", "groups")` is `"0 groups"`.
/// Any integer type works (`usize` lengths included).
pub fn count<N: TryInto<u64>>(n: N, one: &str, many: &str) -> String {
    let n = n.try_into().unwrap_or(u64::MAX);
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_every_other_number_plural() {
        assert_eq!(count(1u32, "group", "groups"), "1 group");
        assert_eq!(count(0u32, "group", "groups"), "0 groups");
        assert_eq!(count(12u32, "XPM call", "XPM calls"), "12 XPM calls");
        assert_eq!(count(1usize, "group is", "groups are"), "1 group is");
    }
}
