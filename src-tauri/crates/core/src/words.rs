//! Plain-English phrasing shared by the messages core writes for users ("1 group", "3 groups"),
//! so no message says "group(s)".

/// `n` followed by the singular or plural noun: `count(1, "group", "groups")` is `"1 group"`,
/// `count(0, "group", "groups")` is `"0 groups"`.
/// Any integer type works (`usize` lengths included).
pub fn count<N: TryInto<u64>>(n: N, one: &str, many: &str) -> String {
    let n = n.try_into().unwrap_or(u64::MAX);
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A wait of `seconds` as a person would say it: "1 minute", "45 minutes", "about 16 hours"
/// (from two hours on, rounded to the nearest hour; never "0 minutes").
pub fn wait(seconds: u32) -> String {
    let minutes = seconds.div_ceil(60).max(1);
    if minutes < 120 {
        count(minutes, "minute", "minutes")
    } else {
        format!("about {}", count((minutes + 30) / 60, "hour", "hours"))
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn waits_read_in_minutes_then_hours() {
        use super::wait;
        assert_eq!(wait(0), "1 minute");
        assert_eq!(wait(61), "2 minutes");
        assert_eq!(wait(119 * 60), "119 minutes");
        // 964 minutes (57,840 s) is 16 h 4 min.
        assert_eq!(wait(57_840), "about 16 hours");
        // 86,396 s is 1,440 minutes: 24 hours.
        assert_eq!(wait(86_396), "about 24 hours");
    }

    #[test]
    fn one_is_singular_and_every_other_number_plural() {
        assert_eq!(count(1u32, "group", "groups"), "1 group");
        assert_eq!(count(0u32, "group", "groups"), "0 groups");
        assert_eq!(count(12u32, "XPM call", "XPM calls"), "12 XPM calls");
        assert_eq!(count(1usize, "group is", "groups are"), "1 group is");
    }
}
