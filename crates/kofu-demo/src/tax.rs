//! 個人住民税 (municipal and prefectural inhabitant tax) of the demo town: income from
//! salary, pension and business, the usual 所得控除, and the tax, following the rules in
//! force for 2020s assessments closely enough to look real (non-taxable thresholds,
//! 6 % + 4 % 所得割, 調整控除, 均等割).

use kofu_domain::ordered_map::OrderedMap;

use crate::rng::Rng;

/// A person's income in the year before the fiscal year (収入, yen).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Income {
    /// 給与収入.
    pub salary: i64,
    /// 公的年金等の収入.
    pub pension: i64,
    /// 営業等 (business) revenue.
    pub business: i64,
    /// Share of business revenue left after 必要経費, percent.
    pub business_margin_pct: i64,
}

impl Income {
    /// Whether the person had any income.
    pub(crate) fn any(&self) -> bool {
        self.salary > 0 || self.pension > 0 || self.business > 0
    }
}

/// 給与所得 for a 給与収入 (給与所得控除, 2020 table).
pub(crate) fn salary_income(revenue: i64) -> i64 {
    let deduction = if revenue <= 1_625_000 {
        550_000
    } else if revenue <= 1_800_000 {
        revenue * 40 / 100 - 100_000
    } else if revenue <= 3_600_000 {
        revenue * 30 / 100 + 80_000
    } else if revenue <= 6_600_000 {
        revenue * 20 / 100 + 440_000
    } else if revenue <= 8_500_000 {
        revenue * 10 / 100 + 1_100_000
    } else {
        1_950_000
    };
    (revenue - deduction).max(0)
}

/// 雑所得 (公的年金等) for a pension revenue; `senior` is 65 or over.
pub(crate) fn pension_income(revenue: i64, senior: bool) -> i64 {
    let deduction = if revenue <= if senior { 3_300_000 } else { 1_300_000 } {
        if senior { 1_100_000 } else { 600_000 }
    } else if revenue <= 4_100_000 {
        revenue * 25 / 100 + 275_000
    } else if revenue <= 7_700_000 {
        revenue * 15 / 100 + 685_000
    } else if revenue <= 10_000_000 {
        revenue * 5 / 100 + 1_455_000
    } else {
        1_955_000
    };
    (revenue - deduction).max(0)
}

/// 合計所得金額 of an income.
pub(crate) fn total_income(income: &Income, senior: bool) -> i64 {
    salary_income(income.salary)
        + pension_income(income.pension, senior)
        + income.business * income.business_margin_pct / 100
}

/// Dependents and family situation a taxpayer claims.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Claims {
    /// Spouse's 合計所得金額, if a spouse is claimed.
    pub spouse_income: Option<i64>,
    /// The claimed spouse is 70 or over.
    pub spouse_senior: bool,
    /// 一般扶養 (16–18, 23–69).
    pub general: u32,
    /// 特定扶養 (19–22).
    pub specific: u32,
    /// 老人扶養 (70+), living together (同居老親等).
    pub elderly_parents: u32,
    /// ひとり親控除.
    pub single_parent: bool,
    /// 寡婦控除.
    pub widow: bool,
}

/// A computed assessment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Assessment {
    /// 収入 by kind.
    pub income: OrderedMap<i64>,
    /// 合計所得金額.
    pub total_income: i64,
    /// 所得控除 breakdown.
    pub deductions: OrderedMap<i64>,
    /// Sum of the breakdown.
    pub total_deductions: i64,
    /// 課税標準額 (rounded down to 1,000 yen).
    pub taxable_base: i64,
    /// 市民税.
    pub municipal_tax: i64,
    /// 県民税.
    pub prefectural_tax: i64,
    /// 所得 by kind.
    pub income_amounts: OrderedMap<i64>,
    /// 均等割 of the 市民税 and of the 県民税 (0 when exempt).
    pub per_capita: (i64, i64),
}

fn floor_to(v: i64, unit: i64) -> i64 {
    v.max(0) / unit * unit
}

/// Assesses one taxpayer. `rng` draws the optional deductions (insurance, medical, …).
pub(crate) fn assess(rng: &mut Rng, income: &Income, senior: bool, claims: &Claims) -> Assessment {
    let mut breakdown = Vec::new();
    let mut amounts = Vec::new();
    if income.salary > 0 {
        breakdown.push(("給与".to_owned(), income.salary));
        amounts.push(("給与".to_owned(), salary_income(income.salary)));
    }
    if income.pension > 0 {
        breakdown.push(("公的年金等".to_owned(), income.pension));
        amounts.push((
            "公的年金等".to_owned(),
            pension_income(income.pension, senior),
        ));
    }
    if income.business > 0 {
        breakdown.push(("営業等".to_owned(), income.business));
        amounts.push((
            "営業等".to_owned(),
            income.business * income.business_margin_pct / 100,
        ));
    }
    let total = total_income(income, senior);

    let mut d: Vec<(String, i64)> = Vec::new();
    let mut push = |name: &str, amount: i64| {
        if amount > 0 {
            d.push((name.to_owned(), amount));
        }
    };
    // 社会保険料: employees ~14.5 % of pay over the small-job threshold; pensioners
    // 国保・介護 ~9 %; the self-employed 国保 + 国民年金.
    let mut social = 0;
    if income.salary >= 1_060_000 {
        social += income.salary * 145 / 1000;
    }
    if income.pension > 0 {
        social += income.pension * 9 / 100 + 20_000;
    }
    if income.business > 0 {
        social += (income.business * income.business_margin_pct / 100 * 10 / 100
            + if senior { 0 } else { 203_760 })
        .min(1_100_000);
    }
    push("社会保険料控除", floor_to(social, 1));
    if income.salary > 1_500_000 && rng.chance(0.6) {
        push("生命保険料控除", rng.range(18, 70) * 1_000);
    }
    if rng.chance(0.25) {
        push("地震保険料控除", rng.range(3, 25) * 1_000);
    }
    if rng.chance(if senior { 0.15 } else { 0.06 }) {
        push("医療費控除", rng.range(12, 420) * 1_000);
    }
    if rng.chance(if senior { 0.06 } else { 0.02 }) {
        push("障害者控除", 260_000);
    }
    if claims.single_parent && total <= 5_000_000 {
        push("ひとり親控除", 300_000);
    } else if claims.widow && total <= 5_000_000 {
        push("寡婦控除", 260_000);
    }
    if let Some(spouse) = claims.spouse_income
        && total <= 10_000_000
    {
        if spouse <= 480_000 {
            push(
                "配偶者控除",
                if claims.spouse_senior {
                    380_000
                } else {
                    330_000
                },
            );
        } else if spouse <= 1_330_000 {
            // 配偶者特別控除: full up to 95万, then tapering to 3万.
            let amount = if spouse <= 950_000 {
                330_000
            } else {
                let steps = (spouse - 950_000) / 50_000 + 1;
                (330_000 - steps * 40_000).max(30_000)
            };
            push("配偶者特別控除", amount);
        }
    }
    let dependants = i64::from(claims.general) * 330_000
        + i64::from(claims.specific) * 450_000
        + i64::from(claims.elderly_parents) * 450_000;
    push("扶養控除", dependants);
    if total <= 24_000_000 {
        push("基礎控除", 430_000);
    }
    let total_deductions: i64 = d.iter().map(|(_, a)| *a).sum();
    let taxable_base = floor_to(total - total_deductions, 1_000);

    // 非課税: 均等割 up to 45万 (+ family allowance), 所得割 likewise with 10万 more.
    let family = i64::from(
        claims.general
            + claims.specific
            + claims.elderly_parents
            + u32::from(claims.spouse_income.is_some()),
    );
    let (flat_exempt, rate_exempt) = if family == 0 {
        (450_000, 450_000)
    } else {
        (
            350_000 * (family + 1) + 310_000,
            350_000 * (family + 1) + 420_000,
        )
    };
    let low_income_exempt = (claims.single_parent || claims.widow) && total <= 1_350_000;
    let (mut municipal, mut prefectural) = (0, 0);
    if total > flat_exempt && !low_income_exempt {
        municipal += 3_000;
        prefectural += 1_000;
    }
    let per_capita = (municipal, prefectural);
    if total > rate_exempt && !low_income_exempt {
        // 調整控除: 5 % of the smaller of the 人的控除差 and the taxable base (up to 200万).
        let personal_diff = 50_000
            + if claims.spouse_income.is_some() {
                50_000
            } else {
                0
            }
            + i64::from(claims.general + claims.elderly_parents) * 50_000
            + i64::from(claims.specific) * 180_000;
        let adjustment = if taxable_base <= 2_000_000 {
            personal_diff.min(taxable_base) * 5 / 100
        } else {
            ((personal_diff - (taxable_base - 2_000_000)) * 5 / 100).max(2_500)
        };
        municipal += floor_to(taxable_base * 6 / 100 - adjustment * 3 / 5, 100);
        prefectural += floor_to(taxable_base * 4 / 100 - adjustment * 2 / 5, 100);
    }
    Assessment {
        income: OrderedMap(breakdown),
        total_income: total,
        deductions: OrderedMap(d),
        total_deductions,
        taxable_base,
        municipal_tax: municipal,
        prefectural_tax: prefectural,
        income_amounts: OrderedMap(amounts),
        per_capita,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salary_income_table() {
        assert_eq!(salary_income(1_000_000), 450_000);
        assert_eq!(salary_income(500_000), 0);
        assert_eq!(salary_income(5_200_000), 3_720_000);
        assert_eq!(salary_income(10_000_000), 8_050_000);
    }

    #[test]
    fn pension_income_table() {
        assert_eq!(pension_income(2_000_000, true), 900_000);
        assert_eq!(pension_income(1_000_000, true), 0);
        assert_eq!(pension_income(1_000_000, false), 400_000);
    }

    #[test]
    fn a_typical_employee() {
        let mut rng = Rng::new(1, 1);
        let a = assess(
            &mut rng,
            &Income {
                salary: 5_200_000,
                ..Income::default()
            },
            false,
            &Claims {
                spouse_income: Some(0),
                ..Claims::default()
            },
        );
        assert_eq!(a.total_income, 3_720_000);
        assert_eq!(
            a.total_deductions,
            a.deductions.iter().map(|(_, v)| *v).sum::<i64>()
        );
        assert_eq!(a.deductions.get("基礎控除"), Some(&430_000));
        assert_eq!(a.deductions.get("配偶者控除"), Some(&330_000));
        assert!(
            a.municipal_tax > 80_000 && a.municipal_tax < 150_000,
            "{a:?}"
        );
        assert!(a.prefectural_tax * 3 / 2 <= a.municipal_tax + 3_000);
    }

    #[test]
    fn small_incomes_are_not_taxed() {
        let mut rng = Rng::new(1, 2);
        let a = assess(
            &mut rng,
            &Income {
                salary: 900_000,
                ..Income::default()
            },
            false,
            &Claims::default(),
        );
        assert_eq!(a.total_income, 350_000);
        assert_eq!((a.municipal_tax, a.prefectural_tax), (0, 0));
    }
}
