//! Relationship validation (product-spec §4.2–§4.3), as pure functions over the two endpoints
//! and the relationships that already exist around them.
//!
//! Every rule returns a message that names it, so a user knows what to change. Counting rules
//! (partner interests ≤ 100%, SMSF ≤ 6 members, SMSF trustees) consider only relationships whose
//! start/end dates overlap the new one's, so a retired partner does not block a new one.

use chrono::NaiveDate;

use crate::model::{EntityKind, RelationshipInput, RelationshipKind, TrustType};

/// Most members an SMSF may have (product-spec §3.6).
pub const SMSF_MAX_MEMBERS: usize = 6;
/// Most individual trustees an SMSF may have (product-spec §3.6).
pub const SMSF_MAX_INDIVIDUAL_TRUSTEES: usize = 6;

/// What the rules need to know about an entity.
#[derive(Clone, Debug, PartialEq)]
pub struct Party {
    /// Entity id.
    pub id: i32,
    /// Display name, for messages.
    pub name: String,
    /// Legal-entity type.
    pub kind: EntityKind,
    /// Trust type, for trusts.
    pub trust_type: Option<TrustType>,
}

/// An existing relationship near the new one, with the kind of its source entity.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbour {
    /// Type.
    pub kind: RelationshipKind,
    /// Source entity id.
    pub from_id: i32,
    /// Target entity id.
    pub to_id: i32,
    /// Kind of the source entity.
    pub from_kind: EntityKind,
    /// Share class, for telling holdings apart.
    pub share_class: Option<String>,
    /// Free label, for telling custom links apart.
    pub label: Option<String>,
    /// Interest in percent.
    pub percentage: Option<f64>,
    /// Start date.
    pub start_date: Option<NaiveDate>,
    /// End date.
    pub end_date: Option<NaiveDate>,
}

fn overlaps(
    a: (Option<NaiveDate>, Option<NaiveDate>),
    b: (Option<NaiveDate>, Option<NaiveDate>),
) -> bool {
    let starts_before_b_ends = match (a.0, b.1) {
        (Some(start), Some(end)) => start <= end,
        _ => true,
    };
    let b_starts_before_a_ends = match (b.0, a.1) {
        (Some(start), Some(end)) => start <= end,
        _ => true,
    };
    starts_before_b_ends && b_starts_before_a_ends
}

fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

fn describe(p: &Party) -> String {
    match (p.kind, p.trust_type) {
        (EntityKind::Trust, Some(t)) => format!("{} trust", t.label().to_lowercase()),
        (k, _) => k.label().to_lowercase().replace("smsf", "SMSF"),
    }
}

/// Whether `kind` may run from `from` to `to` (the endpoint table of product-spec §4.2); `Err`
/// holds the sentence describing the allowed endpoints.
fn endpoints_allowed(kind: RelationshipKind, from: &Party, to: &Party) -> Result<(), &'static str> {
    use EntityKind::{Company, Individual, Partnership, Smsf, Trust};
    use RelationshipKind as R;
    let f = from.kind;
    let t = to.kind;
    let unit_like = matches!(to.trust_type, Some(TrustType::Unit | TrustType::Hybrid));
    let ok = match kind {
        R::Director | R::Secretary | R::PublicOfficer => f == Individual && t == Company,
        R::Shareholder => matches!(f, Individual | Company | Trust | Smsf) && t == Company,
        R::Unitholder => {
            matches!(f, Individual | Company | Trust | Smsf) && t == Trust && unit_like
        }
        R::Trustee => matches!(f, Individual | Company) && matches!(t, Trust | Smsf),
        R::Executor => {
            matches!(f, Individual | Company) && to.trust_type == Some(TrustType::DeceasedEstate)
        }
        R::Appointor | R::Settlor => matches!(f, Individual | Company) && t == Trust,
        R::Beneficiary => t == Trust,
        R::Partner => f != Partnership && t == Partnership,
        R::SmsfMember => f == Individual && t == Smsf,
        R::Spouse | R::Parent | R::Child => f == Individual && t == Individual,
        R::Auditor => matches!(f, Individual | Company),
        R::Owner => t != Individual,
        R::Associate | R::Custom => true,
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        R::Director => "A director must be an individual, and the director of a company.",
        R::Secretary => "A secretary must be an individual, and the secretary of a company.",
        R::PublicOfficer => "A public officer must be an individual, of a company.",
        R::Shareholder => "Shareholders hold shares in a company, and may be individuals, companies, trusts or SMSFs.",
        R::Unitholder => "Unitholders hold units in a unit or hybrid trust, and may be individuals, companies, trusts or SMSFs.",
        R::Trustee => "A trustee must be an individual or a company, of a trust or an SMSF.",
        R::Executor => "An executor must be an individual or a company, and the executor of a deceased estate.",
        R::Appointor => "An appointor must be an individual or a company, of a trust.",
        R::Settlor => "A settlor must be an individual or a company, of a trust.",
        R::Beneficiary => "A beneficiary must be a beneficiary of a trust.",
        R::Partner => "A partnership cannot be a partner; partners of a partnership are individuals, companies, trusts or SMSFs.",
        R::SmsfMember => "An SMSF member must be an individual, and a member of an SMSF.",
        R::Spouse | R::Parent | R::Child => "Family relationships are between two individuals.",
        R::Auditor => "An auditor must be an individual or a company.",
        R::Owner => "An owner owns a company, trust, partnership or SMSF, not an individual.",
        R::Associate | R::Custom => "",
    })
}

/// Whether two relationships are the same fact (the same kind between the same pair, reading
/// Spouse both ways and Parent A→B as Child B→A; holdings differ by share class).
fn same_fact(new: &RelationshipInput, old: &Neighbour) -> bool {
    use RelationshipKind as R;
    let same_pair = new.from_id == old.from_id && new.to_id == old.to_id;
    let reversed = new.from_id == old.to_id && new.to_id == old.from_id;
    match (new.kind, old.kind) {
        (R::Spouse, R::Spouse) => same_pair || reversed,
        (R::Parent, R::Child) | (R::Child, R::Parent) => reversed,
        (a, b) if a == b => {
            same_pair
                && (!matches!(a, R::Shareholder | R::Unitholder)
                    || new.share_class.as_deref().map(str::to_lowercase)
                        == old.share_class.as_deref().map(str::to_lowercase))
                && (a != R::Custom || new.label.as_deref().map(str::trim) == old.label.as_deref())
        }
        _ => false,
    }
}

/// Checks a new or changed relationship against every rule.
///
/// `neighbours` are the existing relationships touching `from` or `to` (excluding the one being
/// changed). Returns the first broken rule's message.
///
/// # Errors
/// A user-facing message naming the rule.
pub fn check(
    input: &RelationshipInput,
    from: &Party,
    to: &Party,
    neighbours: &[Neighbour],
) -> Result<(), String> {
    use RelationshipKind as R;
    if input.from_id == input.to_id {
        return Err("An entity cannot have a relationship with itself.".into());
    }
    if let (Some(start), Some(end)) = (input.start_date, input.end_date) {
        if end < start {
            return Err(format!(
                "The end date ({end}) must be after the start date ({start})."
            ));
        }
    }
    if let Some(p) = input.percentage {
        if !(0.0..=100.0).contains(&p) || p.is_nan() {
            return Err(format!(
                "A percentage must be between 0 and 100; {p} is not."
            ));
        }
    }
    if input.shares.is_some_and(|s| s < 0) {
        return Err("The number of shares or units cannot be negative.".into());
    }
    if input.kind == R::Appointor && to.trust_type == Some(TrustType::DeceasedEstate) {
        return Err(format!(
            "Appointor relationships are not valid for deceased estates ({}); a deceased estate is controlled by its executor.",
            to.name
        ));
    }
    if let Err(rule) = endpoints_allowed(input.kind, from, to) {
        return Err(format!(
            "{rule} {} is {} {} and {} is {} {}.",
            from.name,
            article(&describe(from)),
            describe(from),
            to.name,
            article(&describe(to)),
            describe(to)
        ));
    }
    if neighbours.iter().any(|n| {
        same_fact(input, n)
            && overlaps(
                (input.start_date, input.end_date),
                (n.start_date, n.end_date),
            )
    }) {
        return Err(format!(
            "This relationship already exists: {} is already {} {} of {}.",
            from.name,
            match input.kind {
                R::SmsfMember
                | R::Executor
                | R::Appointor
                | R::Auditor
                | R::Associate
                | R::Owner => "an",
                _ => "a",
            },
            input.kind.label().to_lowercase().replace("smsf", "SMSF"),
            to.name
        ));
    }
    let window = (input.start_date, input.end_date);
    let concurrent = |kind: R| {
        neighbours
            .iter()
            .filter(move |n| n.kind == kind && n.to_id == input.to_id)
            .filter(move |n| overlaps(window, (n.start_date, n.end_date)))
    };
    match input.kind {
        R::Partner => {
            let total = peak(
                window,
                input.percentage.unwrap_or(0.0),
                concurrent(R::Partner),
                |n| n.percentage.unwrap_or(0.0),
            );
            if total > 100.0 + 1e-9 {
                return Err(format!(
                    "Partner interests in {} would total {}%; they may not exceed 100%.",
                    to.name,
                    trim_number(total)
                ));
            }
        }
        R::SmsfMember
            if peak(window, 1.0, concurrent(R::SmsfMember), |_| 1.0) > SMSF_MAX_MEMBERS as f64 =>
        {
            return Err(format!(
                "{} already has {SMSF_MAX_MEMBERS} members; an SMSF may have at most {SMSF_MAX_MEMBERS}.",
                to.name
            ));
        }
        R::Trustee if to.kind == EntityKind::Smsf => {
            let trustees: Vec<&Neighbour> = concurrent(R::Trustee).collect();
            let corporate = trustees
                .iter()
                .filter(|n| n.from_kind == EntityKind::Company)
                .count();
            let individual = trustees.len() - corporate;
            let mixed = match from.kind {
                EntityKind::Company => individual > 0,
                _ => corporate > 0,
            };
            if mixed {
                return Err(format!(
                    "{}'s trustees must be either individuals or a corporate trustee, never both.",
                    to.name
                ));
            }
            if from.kind == EntityKind::Company && corporate >= 1 {
                return Err(format!(
                    "{} already has a corporate trustee; an SMSF has only one.",
                    to.name
                ));
            }
            if from.kind == EntityKind::Individual && individual >= SMSF_MAX_INDIVIDUAL_TRUSTEES {
                return Err(format!(
                    "{} already has {SMSF_MAX_INDIVIDUAL_TRUSTEES} individual trustees; an SMSF may have at most {SMSF_MAX_INDIVIDUAL_TRUSTEES}.",
                    to.name
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The largest total on any single day of `window`: `own` (the new relationship's amount) plus
/// the amounts of the `others` that hold that day. Totals change only where a relationship
/// starts, so it is enough to look at the window's first day and at each start inside it; a
/// partner who left before another joined is never added to them, whatever order they were
/// entered in.
fn peak<'a>(
    window: (Option<NaiveDate>, Option<NaiveDate>),
    own: f64,
    others: impl Iterator<Item = &'a Neighbour> + Clone,
    amount: impl Fn(&Neighbour) -> f64,
) -> f64 {
    let holds = |n: &Neighbour, day: Option<NaiveDate>| match day {
        // The open start of the window: everything without a start that has not ended "forever ago".
        None => n.start_date.is_none(),
        Some(d) => n.start_date.is_none_or(|s| s <= d) && n.end_date.is_none_or(|e| e >= d),
    };
    let inside = |d: NaiveDate| window.0.is_none_or(|s| s <= d) && window.1.is_none_or(|e| e >= d);
    let mut days: Vec<Option<NaiveDate>> = vec![window.0];
    days.extend(
        others
            .clone()
            .filter_map(|n| n.start_date)
            .filter(|d| inside(*d))
            .map(Some),
    );
    days.into_iter()
        .map(|day| {
            own + others
                .clone()
                .filter(|n| holds(n, day))
                .map(&amount)
                .sum::<f64>()
        })
        .fold(own, f64::max)
}

/// Formats a number without a trailing ".0" (120 → "120", 33.5 → "33.5").
pub fn trim_number(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityKind::{Company, Individual, Partnership, Smsf, Trust};
    use RelationshipKind as R;

    fn party(id: i32, name: &str, kind: EntityKind) -> Party {
        Party {
            id,
            name: name.into(),
            kind,
            trust_type: None,
        }
    }

    fn trust(id: i32, name: &str, t: TrustType) -> Party {
        Party {
            id,
            name: name.into(),
            kind: Trust,
            trust_type: Some(t),
        }
    }

    fn input(kind: R, from: i32, to: i32) -> RelationshipInput {
        RelationshipInput {
            kind,
            from_id: from,
            to_id: to,
            shares: None,
            share_class: None,
            percentage: None,
            start_date: None,
            end_date: None,
            label: None,
        }
    }

    fn existing(kind: R, from: i32, from_kind: EntityKind, to: i32) -> Neighbour {
        Neighbour {
            kind,
            from_id: from,
            to_id: to,
            from_kind,
            share_class: None,
            label: None,
            percentage: None,
            start_date: None,
            end_date: None,
        }
    }

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn partner_interests_may_not_pass_100_percent() {
        let firm = party(10, "Barker & Lowe", Partnership);
        let new_partner = party(3, "Kim Ade", Individual);
        let others = [
            Neighbour {
                percentage: Some(60.0),
                ..existing(R::Partner, 1, Individual, 10)
            },
            Neighbour {
                percentage: Some(30.0),
                ..existing(R::Partner, 2, Individual, 10)
            },
        ];
        let over = RelationshipInput {
            percentage: Some(30.0),
            ..input(R::Partner, 3, 10)
        };
        assert_eq!(
            check(&over, &new_partner, &firm, &others),
            Err(
                "Partner interests in Barker & Lowe would total 120%; they may not exceed 100%."
                    .into()
            ),
            "60 + 30 + 30 = 120 > 100"
        );
        let exact = RelationshipInput {
            percentage: Some(10.0),
            ..input(R::Partner, 3, 10)
        };
        assert_eq!(
            check(&exact, &new_partner, &firm, &others),
            Ok(()),
            "exactly 100% is allowed"
        );
    }

    #[test]
    fn a_retired_partner_does_not_count_toward_the_total() {
        let firm = party(10, "Barker & Lowe", Partnership);
        let retired = Neighbour {
            percentage: Some(80.0),
            end_date: d(2019, 6, 30),
            ..existing(R::Partner, 1, Individual, 10)
        };
        let joins_later = RelationshipInput {
            percentage: Some(50.0),
            start_date: d(2020, 7, 1),
            ..input(R::Partner, 3, 10)
        };
        assert_eq!(
            check(
                &joins_later,
                &party(3, "Kim Ade", Individual),
                &firm,
                &[retired]
            ),
            Ok(()),
            "interests that never overlap in time are not added together"
        );
    }

    #[test]
    fn the_partner_total_is_checked_day_by_day_whatever_the_order_of_entry() {
        // A holds 60% in 2020 only, B 60% from 2022; C's undated 40% meets each of them alone.
        let firm = party(10, "Barker & Lowe", Partnership);
        let a = Neighbour {
            percentage: Some(60.0),
            start_date: d(2020, 1, 1),
            end_date: d(2020, 12, 31),
            ..existing(R::Partner, 1, Individual, 10)
        };
        let b = Neighbour {
            percentage: Some(60.0),
            start_date: d(2022, 1, 1),
            ..existing(R::Partner, 2, Individual, 10)
        };
        let c = RelationshipInput {
            percentage: Some(40.0),
            ..input(R::Partner, 3, 10)
        };
        assert_eq!(
            check(
                &c,
                &party(3, "Kim Ade", Individual),
                &firm,
                &[a.clone(), b.clone()]
            ),
            Ok(()),
            "60 + 40 in 2020 and 40 + 60 from 2022: never over 100 on any day"
        );
        let c_existing = Neighbour {
            percentage: Some(40.0),
            ..existing(R::Partner, 3, Individual, 10)
        };
        let b_new = RelationshipInput {
            percentage: Some(60.0),
            start_date: d(2022, 1, 1),
            ..input(R::Partner, 2, 10)
        };
        assert_eq!(
            check(
                &b_new,
                &party(2, "Lee Lowe", Individual),
                &firm,
                &[a, c_existing.clone()]
            ),
            Ok(()),
            "the same facts entered in another order are accepted too"
        );
        let d_new = RelationshipInput {
            percentage: Some(1.0),
            ..input(R::Partner, 4, 10)
        };
        let b_existing = Neighbour {
            percentage: Some(60.0),
            start_date: d(2022, 1, 1),
            ..existing(R::Partner, 2, Individual, 10)
        };
        assert_eq!(
            check(
                &d_new,
                &party(4, "Dee", Individual),
                &firm,
                &[c_existing, b_existing]
            ),
            Err(
                "Partner interests in Barker & Lowe would total 101%; they may not exceed 100%."
                    .into()
            ),
            "from 2022 C's 40 and B's 60 already make 100"
        );
    }

    #[test]
    fn a_partnership_cannot_be_a_partner() {
        let err = check(
            &input(R::Partner, 1, 2),
            &party(1, "Alpha Partners", Partnership),
            &party(2, "Beta Partners", Partnership),
            &[],
        )
        .unwrap_err();
        assert!(
            err.starts_with("A partnership cannot be a partner;"),
            "the message names the rule: {err}"
        );
        assert!(
            err.contains("Alpha Partners is a partnership"),
            "and the offending entity: {err}"
        );
    }

    #[test]
    fn an_smsf_has_at_most_six_members() {
        let fund = party(100, "Ade Super Fund", Smsf);
        let members: Vec<Neighbour> = (1..=6)
            .map(|i| existing(R::SmsfMember, i, Individual, 100))
            .collect();
        assert_eq!(
            check(
                &input(R::SmsfMember, 7, 100),
                &party(7, "Seventh Member", Individual),
                &fund,
                &members
            ),
            Err("Ade Super Fund already has 6 members; an SMSF may have at most 6.".into())
        );
        assert_eq!(
            check(
                &input(R::SmsfMember, 7, 100),
                &party(7, "Sixth Member", Individual),
                &fund,
                &members[..5]
            ),
            Ok(()),
            "the sixth member is allowed"
        );
    }

    #[test]
    fn smsf_trustees_are_individuals_or_one_company_never_both() {
        let fund = party(100, "Ade Super Fund", Smsf);
        let individual_trustee = [existing(R::Trustee, 1, Individual, 100)];
        assert_eq!(
            check(&input(R::Trustee, 5, 100), &party(5, "Ade Pty Ltd", Company), &fund, &individual_trustee),
            Err("Ade Super Fund's trustees must be either individuals or a corporate trustee, never both.".into())
        );
        let corporate_trustee = [existing(R::Trustee, 5, Company, 100)];
        assert_eq!(
            check(&input(R::Trustee, 1, 100), &party(1, "Kim Ade", Individual), &fund, &corporate_trustee),
            Err("Ade Super Fund's trustees must be either individuals or a corporate trustee, never both.".into())
        );
        assert_eq!(
            check(
                &input(R::Trustee, 6, 100),
                &party(6, "Other Pty Ltd", Company),
                &fund,
                &corporate_trustee
            ),
            Err("Ade Super Fund already has a corporate trustee; an SMSF has only one.".into())
        );
    }

    #[test]
    fn a_deceased_estate_has_no_appointor() {
        let estate = trust(
            9,
            "Estate of the late G Harrington",
            TrustType::DeceasedEstate,
        );
        let err = check(
            &input(R::Appointor, 1, 9),
            &party(1, "Peter Harrington", Individual),
            &estate,
            &[],
        )
        .unwrap_err();
        assert!(
            err.starts_with("Appointor relationships are not valid for deceased estates"),
            "{err}"
        );
        assert_eq!(
            check(
                &input(R::Executor, 1, 9),
                &party(1, "Peter Harrington", Individual),
                &estate,
                &[]
            ),
            Ok(()),
            "an executor is the deceased estate's controller"
        );
    }

    #[test]
    fn an_entity_cannot_relate_to_itself() {
        let p = party(1, "Kim Ade", Individual);
        assert_eq!(
            check(&input(R::Associate, 1, 1), &p, &p, &[]),
            Err("An entity cannot have a relationship with itself.".into())
        );
    }

    #[test]
    fn the_same_relationship_cannot_be_added_twice_in_either_reading() {
        let kim = party(1, "Kim Ade", Individual);
        let co = party(2, "Ade Pty Ltd", Company);
        assert_eq!(
            check(
                &input(R::Director, 1, 2),
                &kim,
                &co,
                &[existing(R::Director, 1, Individual, 2)]
            ),
            Err(
                "This relationship already exists: Kim Ade is already a director of Ade Pty Ltd."
                    .into()
            )
        );
        let child = party(3, "Sam Ade", Individual);
        assert!(
            check(
                &input(R::Child, 3, 1),
                &child,
                &kim,
                &[existing(R::Parent, 1, Individual, 3)]
            )
            .is_err(),
            "Sam as Kim's child is the same fact as Kim as Sam's parent"
        );
        let ceased = Neighbour {
            end_date: d(2020, 6, 30),
            ..existing(R::Director, 1, Individual, 2)
        };
        let reappointed = RelationshipInput {
            start_date: d(2023, 1, 1),
            ..input(R::Director, 1, 2)
        };
        assert_eq!(
            check(&reappointed, &kim, &co, &[ceased]),
            Ok(()),
            "a later reappointment is a new term, not a duplicate"
        );
    }

    #[test]
    fn the_end_date_must_follow_the_start_date() {
        let r = RelationshipInput {
            start_date: d(2022, 7, 1),
            end_date: d(2021, 6, 30),
            ..input(R::Director, 1, 2)
        };
        assert_eq!(
            check(
                &r,
                &party(1, "Kim Ade", Individual),
                &party(2, "Ade Pty Ltd", Company),
                &[]
            ),
            Err("The end date (2021-06-30) must be after the start date (2022-07-01).".into())
        );
    }

    #[test]
    fn endpoints_follow_the_relationship_type() {
        let err = check(
            &input(R::Director, 2, 1),
            &party(2, "Ade Pty Ltd", Company),
            &party(1, "Kim Ade", Individual),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err,
            "A director must be an individual, and the director of a company. Ade Pty Ltd is a company and Kim Ade is an individual."
        );
        let unit_holding = input(R::Unitholder, 1, 5);
        assert!(
            check(
                &unit_holding,
                &party(1, "Kim Ade", Individual),
                &trust(5, "Ade Family Trust", TrustType::Discretionary),
                &[]
            )
            .is_err(),
            "units are held only in unit or hybrid trusts"
        );
        assert_eq!(
            check(
                &unit_holding,
                &party(1, "Kim Ade", Individual),
                &trust(5, "Ade Unit Trust", TrustType::Unit),
                &[]
            ),
            Ok(())
        );
    }

    #[test]
    fn percentages_stay_between_0_and_100() {
        let r = RelationshipInput {
            percentage: Some(120.0),
            ..input(R::Shareholder, 1, 2)
        };
        assert_eq!(
            check(
                &r,
                &party(1, "Kim Ade", Individual),
                &party(2, "Ade Pty Ltd", Company),
                &[]
            ),
            Err("A percentage must be between 0 and 100; 120 is not.".into())
        );
    }
}
