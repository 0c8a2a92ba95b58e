//! Household plans: who lives together, with consistent surnames, ages, 続柄, 戸籍
//! units, residence dates, statuses and incomes. A plan holds one household only, so
//! memory stays bounded however large the town.

use kofu_domain::koseki::{KosekiEvent, KosekiMember};
use kofu_domain::ordered_map::OrderedMap;
use kofu_domain::resident::{ForeignDetails, ResidentStatus, Sex};

use crate::address::{self, Lot};
use crate::dates::{self, add_years, age, years};
use crate::names::{self, Name, Nationality};
use crate::rng::{Rng, permute_decimal};
use crate::tax::Income;

/// The day foreign residents entered the 住民基本台帳 (2012-07-09).
fn foreign_register_start() -> i32 {
    dates::days(2012, 7, 9)
}

/// The day the town computerised its 戸籍 (平成6年法務省令第51号附則第2条第1項による改製).
fn kosei_day() -> i32 {
    dates::days(2004, 3, 6)
}

/// One person of a household.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub family: &'static str,
    pub family_kana: &'static str,
    pub given: &'static str,
    pub given_kana: &'static str,
    pub male: bool,
    pub birth: i32,
    pub rel: &'static str,
    pub former_family: Option<&'static str>,
    pub alias: Option<String>,
    pub foreign: Option<ForeignDetails>,
    /// The 戸籍 unit (index into [`Plan::units`]) the person belongs to.
    pub unit: Option<usize>,
    pub role: Option<&'static str>,
    pub father: Option<String>,
    pub mother: Option<String>,
    pub parent_rel: Option<String>,
    pub events: Vec<KosekiEvent>,
    pub honseki: Option<String>,
    pub hitto: Option<String>,
    /// 住民となった年月日.
    pub arrived: i32,
    /// The address before coming to town, if the person came from outside.
    pub came_from: Option<String>,
    pub address_since: i32,
    pub notified_on: i32,
    pub previous_address: Option<String>,
    pub status: ResidentStatus,
    pub status_since: Option<i32>,
    pub moved_to: Option<String>,
    pub income: Income,
    pub widow: bool,
    /// The spouse's index in the household, if living together.
    pub spouse: Option<usize>,
}

impl Person {
    /// `family given`.
    pub(crate) fn full_name(&self) -> String {
        format!("{} {}", self.family, self.given)
    }

    pub(crate) fn sex(&self) -> Sex {
        if self.male { Sex::Male } else { Sex::Female }
    }
}

/// A member of a 戸籍 unit: a resident of the household, or someone else (a deceased
/// spouse, a child who married out, parents living elsewhere).
#[derive(Clone, Debug)]
pub(crate) enum Member {
    Resident(usize),
    Other(Box<KosekiMember>),
}

/// A 戸籍 of the household (emitted when its 本籍 is in town).
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    pub honseki: String,
    pub in_town: bool,
    pub hitto: String,
    pub events: Vec<KosekiEvent>,
    pub members: Vec<Member>,
    /// From when this register (and its 附票) is kept here.
    pub start: i32,
}

/// A planned household.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub persons: Vec<Person>,
    pub units: Vec<Unit>,
    pub address: String,
    pub town_prev: Option<String>,
    pub long_address: bool,
}

/// A 戸籍 event with details in order.
pub(crate) fn ev(kind: &str, day: i32, details: &[(&str, String)]) -> KosekiEvent {
    KosekiEvent {
        kind: kind.to_owned(),
        date: dates::date(day),
        details: OrderedMap(
            details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        ),
    }
}

fn order_name(male: bool, n: usize) -> String {
    const ORD: [&str; 5] = ["長", "二", "三", "四", "五"];
    format!("{}{}", ORD[n.min(4)], if male { "男" } else { "女" })
}

/// Builds households from one household's random stream.
pub(crate) struct Builder<'a> {
    pub rng: &'a mut Rng,
    pub as_of: i32,
    pub seed: u64,
    /// Serial for 在留カード numbers (unique per foreign resident).
    pub foreign_serial: &'a mut u64,
}

impl Builder<'_> {
    fn birth_at_age(&mut self, age: i64) -> i32 {
        self.as_of - years(age as f64) - self.rng.range(1, 364) as i32
    }

    fn day_between(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            lo
        } else {
            self.rng.range(i64::from(lo), i64::from(hi)) as i32
        }
    }

    fn surname(&mut self) -> Name {
        let r = self.rng.unit();
        if r < 0.0045 {
            *self.rng.pick(names::IVS_SURNAMES)
        } else if r < 0.0075 {
            *self.rng.pick(names::VARIANT_SURNAMES)
        } else {
            names::surname(self.rng)
        }
    }

    fn given(&mut self, male: bool, birth: i32, avoid: &[&str]) -> Name {
        let mut n = names::given(self.rng, male, dates::year(birth));
        for _ in 0..4 {
            if !avoid.contains(&n.0) {
                break;
            }
            n = names::given(self.rng, male, dates::year(birth));
        }
        n
    }

    fn person(&mut self, family: Name, male: bool, birth: i32, rel: &'static str) -> Person {
        let given = self.given(male, birth, &[]);
        Person {
            family: family.0,
            family_kana: family.1,
            given: given.0,
            given_kana: given.1,
            male,
            birth,
            rel,
            former_family: None,
            alias: None,
            foreign: None,
            unit: None,
            role: None,
            father: None,
            mother: None,
            parent_rel: None,
            events: Vec::new(),
            honseki: None,
            hitto: None,
            arrived: birth,
            came_from: None,
            address_since: birth,
            notified_on: birth,
            previous_address: None,
            status: ResidentStatus::Active,
            status_since: None,
            moved_to: None,
            income: Income::default(),
            widow: false,
            spouse: None,
        }
    }

    fn birth_event(&mut self, p: &Person) -> KosekiEvent {
        let place = address::birthplace(self.rng);
        let by = if self.rng.chance(0.85) { "父" } else { "母" };
        ev(
            "出生",
            p.birth,
            &[("出生地", place.to_owned()), ("届出人", by.to_owned())],
        )
    }

    fn parent_rel_random(&mut self, male: bool) -> String {
        let n = self.rng.weighted(&[60, 28, 9, 3]);
        order_name(male, n)
    }

    /// A 本籍 for a new household: mostly in town (the dwelling's lot or another).
    fn honseki(&mut self, lot: &Lot, in_town_p: f64) -> (String, bool) {
        if self.rng.chance(in_town_p) {
            if self.rng.chance(0.65) {
                (lot.lot.clone(), true)
            } else {
                (address::town_lot(self.rng).lot, true)
            }
        } else {
            (address::outside_honseki(self.rng), false)
        }
    }

    /// Someone outside the household who is a member of one of its 戸籍.
    #[allow(clippy::too_many_arguments)]
    fn other_member(
        &mut self,
        family: &str,
        given: Name,
        male: bool,
        birth: i32,
        role: Option<&str>,
        parents: (Option<String>, Option<String>),
        parent_rel: String,
        removed: Option<KosekiEvent>,
    ) -> Member {
        let place = address::birthplace(self.rng);
        let mut events = vec![ev(
            "出生",
            birth,
            &[("出生地", place.to_owned()), ("届出人", "父".to_owned())],
        )];
        if let Some(r) = &removed {
            events.push(r.clone());
        }
        Member::Other(Box::new(KosekiMember {
            member_no: 0,
            family: family.to_owned(),
            given: given.0.to_owned(),
            birth_date: dates::date(birth),
            sex: if male { Sex::Male } else { Sex::Female },
            father: parents.0,
            mother: parents.1,
            parent_relationship: Some(parent_rel),
            adoptive_father: None,
            adoptive_mother: None,
            adoptive_relationship: None,
            role: role.map(str::to_owned),
            events,
            removed,
            resident_id: None,
        }))
    }

    fn death_event(&mut self, day: i32, reporter: &str) -> KosekiEvent {
        let place = if self.rng.chance(0.8) {
            "見本県見本市"
        } else {
            address::birthplace(self.rng)
        };
        ev(
            "死亡",
            day,
            &[
                ("死亡地", place.to_owned()),
                ("届出人", reporter.to_owned()),
            ],
        )
    }

    /// Income by age, sex and situation (the year before the fiscal year).
    fn income(&mut self, age: i32, male: bool, spouse_role: bool) -> Income {
        let r = &mut *self.rng;
        let mut inc = Income {
            business_margin_pct: r.range(25, 55),
            ..Income::default()
        };
        let k = |x: f64| (x / 1000.0).round() as i64 * 1000;
        match age {
            ..16 => {}
            16..18 => {
                if r.chance(0.1) {
                    inc.salary = k(r.range(100, 600) as f64 * 1000.0);
                }
            }
            18..23 => {
                let roll = r.unit();
                if roll < 0.35 {
                    inc.salary = k(r.normal(2_600_000.0, 300_000.0));
                } else if roll < 0.8 {
                    inc.salary = k(r.range(300, 1_100) as f64 * 1000.0);
                }
            }
            23..65 => {
                let median = match age {
                    ..30 => 3_600_000.0,
                    30..40 => 4_800_000.0,
                    40..50 => 5_600_000.0,
                    _ => 6_000_000.0,
                };
                let roll = r.unit();
                if male || !spouse_role {
                    let scale = if male { 1.0 } else { 0.78 };
                    if roll < 0.86 {
                        inc.salary =
                            k((median * scale * (1.0 + r.normal(0.0, 0.3))).max(1_800_000.0));
                    } else if roll < 0.94 {
                        inc.business = k(r.range(2_500, 15_000) as f64 * 1000.0);
                    }
                } else if roll < 0.42 {
                    inc.salary = k(r.range(550, 1_300) as f64 * 1000.0);
                } else if roll < 0.68 {
                    inc.salary = k(r.normal(3_800_000.0, 900_000.0).max(2_000_000.0));
                } else if roll < 0.72 {
                    inc.business = k(r.range(1_000, 6_000) as f64 * 1000.0);
                }
            }
            _ => {
                inc.pension = if male {
                    k(r.range(1_500, 2_900) as f64 * 1000.0)
                } else {
                    k(r.range(650, 1_700) as f64 * 1000.0)
                };
                if age < 75 && r.chance(0.25) {
                    inc.salary = k(r.range(600, 2_400) as f64 * 1000.0);
                } else if r.chance(0.04) {
                    inc.business = k(r.range(1_000, 8_000) as f64 * 1000.0);
                }
            }
        }
        inc
    }

    /// A household of `size` persons (at least 1).
    pub(crate) fn household(&mut self, size: usize) -> Plan {
        let lot = address::town_lot(self.rng);
        let long_address = self.rng.chance(0.003);
        let apartment = long_address || self.rng.chance(if size == 1 { 0.55 } else { 0.3 });
        let address = address::dwelling(self.rng, &lot, apartment, long_address);
        let mut plan = Plan {
            persons: Vec::with_capacity(size),
            units: Vec::new(),
            address,
            town_prev: None,
            long_address,
        };
        let foreign_p = if size <= 2 { 0.04 } else { 0.012 };
        if self.rng.chance(foreign_p) {
            self.foreign_household(&mut plan, size);
        } else {
            self.japanese_household(&mut plan, &lot, size);
        }
        self.settle(&mut plan);
        plan
    }

    fn japanese_household(&mut self, plan: &mut Plan, lot: &Lot, size: usize) {
        let sn = self.surname();
        match size {
            1 => {
                let roll = self.rng.unit();
                if roll < 0.36 {
                    self.single(plan, lot, sn, 18, 34);
                } else if roll < 0.6 {
                    self.single(plan, lot, sn, 35, 64);
                } else {
                    self.single(plan, lot, sn, 65, 98);
                }
            }
            2 => {
                let roll = self.rng.unit();
                if roll < 0.58 {
                    self.couple(plan, lot, sn, 0, 0, 0);
                } else if roll < 0.76 {
                    self.single_parent(plan, lot, sn, 1);
                } else {
                    self.with_parents(plan, lot, sn, 1);
                }
            }
            3 => {
                let roll = self.rng.unit();
                if roll < 0.68 {
                    self.couple(plan, lot, sn, 1, 0, 0);
                } else if roll < 0.78 {
                    self.couple(plan, lot, sn, 0, 1, 0);
                } else if roll < 0.9 {
                    self.single_parent(plan, lot, sn, 2);
                } else {
                    self.with_parents(plan, lot, sn, 2);
                }
            }
            4 => {
                if self.rng.chance(0.8) {
                    self.couple(plan, lot, sn, 2, 0, 0);
                } else {
                    self.couple(plan, lot, sn, 1, 1, 0);
                }
            }
            5..=8 => {
                let roll = self.rng.unit();
                if roll < 0.2 {
                    self.couple(plan, lot, sn, size - 3, 1, 0);
                } else if roll < 0.35 && size >= 6 {
                    self.couple(plan, lot, sn, size - 4, 2, 0);
                } else {
                    self.couple(plan, lot, sn, size - 2, 0, 0);
                }
            }
            _ => {
                // Three or four generations: head, spouse, head's parents, a married son
                // with his wife and children, and unmarried children.
                let grandkids = (size - 6).clamp(1, 4);
                let kids = size.saturating_sub(6 + grandkids);
                self.couple(plan, lot, sn, kids, 2, grandkids);
            }
        }
    }

    /// A person living alone, aged `lo..=hi`.
    fn single(&mut self, plan: &mut Plan, lot: &Lot, sn: Name, lo: i64, hi: i64) {
        let male = self.rng.chance(if lo >= 65 { 0.32 } else { 0.55 });
        let a = if lo >= 65 {
            self.rng.triangular(lo, 76, hi)
        } else {
            self.rng.range(lo, hi)
        };
        let birth = self.birth_at_age(a);
        let mut p = self.person(sn, male, birth, "世帯主");
        p.income = self.income(a as i32, male, false);
        let ev_birth = self.birth_event(&p);
        p.events.push(ev_birth);
        p.parent_rel = Some(self.parent_rel_random(male));
        let native = self.rng.chance(if lo < 35 { 0.25 } else { 0.35 });
        let moved_in = if native {
            birth
        } else {
            let earliest = add_years(birth, 18);
            self.day_between(earliest.max(self.as_of - years(40.0)), self.as_of - 10)
        };
        p.arrived = moved_in;
        if !native {
            p.came_from = Some(address::outside_address(self.rng));
        }
        let father_given = self.given(true, birth - years(30.0), &[]);
        let mother_given = self.given(false, birth - years(28.0), &[]);
        let father = format!("{} {}", sn.0, father_given.0);
        let mother = format!("{} {}", sn.0, mother_given.0);
        let married_before = lo >= 35 && self.rng.chance(if lo >= 65 { 0.85 } else { 0.45 });
        if !married_before {
            // Still in the parents' 戸籍.
            p.father = Some(father.clone());
            p.mother = Some(mother.clone());
            let (honseki, in_town) = self.honseki(lot, if native { 0.8 } else { 0.3 });
            let f_birth =
                birth - years(self.rng.range(26, 36) as f64) - self.rng.range(0, 364) as i32;
            let m_birth =
                f_birth + years(self.rng.range(-1, 5) as f64) + self.rng.range(-180, 180) as i32;
            let wed = add_years(m_birth, self.rng.range(21, 27) as i32).min(birth - 300);
            let mut members = Vec::new();
            let f_dead = age(f_birth, self.as_of) > 80 && self.rng.chance(0.6);
            let f_removed = if f_dead {
                let d = self.day_between(birth + years(20.0), self.as_of - 30);
                Some(self.death_event(d, "親族"))
            } else {
                None
            };
            let role_f = Some("夫");
            let f_rel = self.parent_rel_random(true);
            members.push(self.other_member(
                sn.0,
                father_given,
                true,
                f_birth,
                role_f,
                (None, None),
                f_rel,
                f_removed,
            ));
            let m_rel = self.parent_rel_random(false);
            members.push(self.other_member(
                sn.0,
                mother_given,
                false,
                m_birth,
                Some("妻"),
                (None, None),
                m_rel,
                None,
            ));
            members.push(Member::Resident(0));
            p.role = Some("子");
            p.honseki = Some(honseki.clone());
            p.hitto = Some(father.clone());
            p.unit = Some(0);
            let mut events = vec![ev("編製", wed, &[("編製事由", "婚姻".to_owned())])];
            if wed < kosei_day() {
                events.push(kosei_event());
            }
            plan.units.push(Unit {
                honseki,
                in_town,
                hitto: father,
                events,
                members,
                start: wed,
            });
        } else if !male && lo >= 65 && self.rng.chance(0.8) {
            // A widow in her late husband's 戸籍.
            p.widow = true;
            p.role = Some("妻");
            let maiden = self.maiden(sn);
            let h_given = self.given(true, birth - years(3.0), &[]);
            let h_birth =
                birth - years(self.rng.range(0, 6) as f64) - self.rng.range(0, 300) as i32;
            let wed = add_years(birth, self.rng.range(21, 28) as i32);
            let husband = format!("{} {}", sn.0, h_given.0);
            let died = self.day_between(
                (wed + years(15.0)).max(self.as_of - years(25.0)),
                self.as_of - 40,
            );
            let (honseki, in_town) = self.honseki(lot, if native { 0.85 } else { 0.55 });
            p.father = Some(format!(
                "{} {}",
                maiden.0,
                self.given(true, birth - years(30.0), &[]).0
            ));
            p.mother = Some(format!(
                "{} {}",
                maiden.0,
                self.given(false, birth - years(27.0), &[]).0
            ));
            p.events.push(ev(
                "婚姻",
                wed,
                &[
                    ("配偶者氏名", husband.clone()),
                    (
                        "従前戸籍",
                        format!(
                            "{} {}",
                            address::outside_honseki(self.rng),
                            p.father.clone().unwrap_or_default()
                        ),
                    ),
                ],
            ));
            p.events
                .push(ev("配偶者の死亡", died, &[("配偶者氏名", husband.clone())]));
            let death = self.death_event(died, "妻");
            let h_rel = self.parent_rel_random(true);
            let mut members = vec![self.other_member(
                sn.0,
                h_given,
                true,
                h_birth,
                Some("夫"),
                (None, None),
                h_rel,
                Some(death),
            )];
            members.push(Member::Resident(0));
            let kids = self.rng.below(4) as usize;
            let mother_name = p.full_name();
            let mut seen = [0usize; 2];
            for k in 0..kids {
                let kb = wed + 300 + years(2.5 * k as f64) + self.rng.range(0, 500) as i32;
                let km = self.rng.chance(0.5);
                let kg = self.given(km, kb, &[]);
                let order = seen[usize::from(km)];
                seen[usize::from(km)] += 1;
                let married = add_years(kb, self.rng.range(23, 33) as i32).min(self.as_of - 100);
                let removed = ev(
                    "婚姻",
                    married,
                    &[
                        (
                            "配偶者氏名",
                            format!(
                                "{} {}",
                                names::surname(self.rng).0,
                                self.given(!km, kb, &[]).0
                            ),
                        ),
                        ("新本籍", address::outside_honseki(self.rng)),
                    ],
                );
                members.push(self.other_member(
                    sn.0,
                    kg,
                    km,
                    kb,
                    Some("子"),
                    (Some(husband.clone()), Some(mother_name.clone())),
                    order_name(km, order),
                    Some(removed),
                ));
            }
            p.honseki = Some(honseki.clone());
            p.hitto = Some(husband.clone());
            p.unit = Some(0);
            let mut events = vec![ev("編製", wed, &[("編製事由", "婚姻".to_owned())])];
            if wed < kosei_day() {
                events.push(kosei_event());
            }
            plan.units.push(Unit {
                honseki,
                in_town,
                hitto: husband,
                events,
                members,
                start: wed,
            });
        } else {
            // Divorced (or widowed man): the person heads their own 戸籍.
            let wed = add_years(birth, self.rng.range(23, 33) as i32).min(self.as_of - years(3.0));
            let split = self.day_between(wed + 400, self.as_of - 60);
            let ex_sn = names::surname(self.rng);
            let ex_given = self.given(!male, birth, &[]);
            let ex = format!("{} {}", if male { sn.0 } else { ex_sn.0 }, ex_given.0);
            let (honseki, in_town) = self.honseki(lot, if native { 0.8 } else { 0.5 });
            p.father = Some(father.clone());
            p.mother = Some(mother);
            p.honseki = Some(honseki.clone());
            p.hitto = Some(p.full_name());
            p.unit = Some(0);
            let widowed = male && lo >= 65;
            let mut members = vec![Member::Resident(0)];
            let mut events;
            if male {
                p.role = Some("夫");
                p.events.push(ev(
                    "婚姻",
                    wed,
                    &[
                        ("配偶者氏名", ex.clone()),
                        (
                            "従前戸籍",
                            format!("{} {}", address::outside_honseki(self.rng), father),
                        ),
                    ],
                ));
                let removed = if widowed {
                    p.events
                        .push(ev("配偶者の死亡", split, &[("配偶者氏名", ex.clone())]));
                    self.death_event(split, "夫")
                } else {
                    p.events
                        .push(ev("離婚", split, &[("配偶者氏名", ex.clone())]));
                    ev("離婚", split, &[("配偶者氏名", p.full_name())])
                };
                let ex_rel = self.parent_rel_random(false);
                let eb = birth + self.rng.range(-900, 1500) as i32;
                members.push(self.other_member(
                    sn.0,
                    ex_given,
                    false,
                    eb,
                    Some("妻"),
                    (None, None),
                    ex_rel,
                    Some(removed),
                ));
                events = vec![ev("編製", wed, &[("編製事由", "婚姻".to_owned())])];
                if wed < kosei_day() {
                    events.push(kosei_event());
                }
            } else {
                p.events.push(ev(
                    "離婚",
                    split,
                    &[
                        ("配偶者氏名", ex.clone()),
                        (
                            "従前戸籍",
                            format!("{} {}", address::outside_honseki(self.rng), ex),
                        ),
                    ],
                ));
                events = vec![ev("編製", split, &[("編製事由", "離婚".to_owned())])];
            }
            let start = events.first().map_or(split, |e| dates::from_date(e.date));
            events.sort_by_key(|e| e.date);
            plan.units.push(Unit {
                honseki,
                in_town,
                hitto: p.full_name(),
                events,
                members,
                start,
            });
        }
        plan.persons.push(p);
    }

    /// A maiden name different from `sn`.
    fn maiden(&mut self, sn: Name) -> Name {
        for _ in 0..4 {
            let m = if self.rng.chance(0.05) {
                *self.rng.pick(names::IVS_SURNAMES)
            } else {
                names::surname(self.rng)
            };
            if m.0 != sn.0 {
                return m;
            }
        }
        ("小鳥遊", "タカナシ")
    }

    /// A married couple with `kids` unmarried children, `parents` of the husband (0–2)
    /// and, if `grandkids > 0`, a married son with his wife and children.
    fn couple(
        &mut self,
        plan: &mut Plan,
        lot: &Lot,
        sn: Name,
        kids: usize,
        parents: usize,
        grandkids: usize,
    ) {
        let w_age = if grandkids > 0 {
            self.rng.range(54, 66)
        } else if parents > 0 {
            self.rng.range(36, 62)
        } else if kids > 0 {
            self.rng.triangular(30 + kids as i64, 52, 68)
        } else if self.rng.chance(0.25) {
            self.rng.range(23, 39)
        } else {
            self.rng.triangular(52, 67, 92)
        };
        let h_age = (w_age + self.rng.normal(2.0, 2.5).round() as i64)
            .clamp(w_age - 5, w_age + 12)
            .max(20);
        let w_birth = self.birth_at_age(w_age);
        let h_birth = self.birth_at_age(h_age);
        let m_age_hi = (w_age - 1).clamp(22, 36);
        let wed = (add_years(w_birth, self.rng.range(22.min(m_age_hi), m_age_hi) as i32)
            + self.rng.range(0, 300) as i32)
            .min(self.as_of - if kids > 0 || grandkids > 0 { 1200 } else { 200 });
        let wife_head = self.rng.chance(0.04);
        let foreign_wife = grandkids == 0 && self.rng.chance(0.012);

        let mut husband = self.person(sn, true, h_birth, if wife_head { "夫" } else { "世帯主" });
        let hrel = self.parent_rel_random(true);
        husband.parent_rel = Some(hrel);
        let h_income_age = age(h_birth, self.as_of);
        husband.income = self.income(h_income_age, true, false);
        let mut wife = if foreign_wife {
            let nat = *self.rng.pick(&[0usize, 2, 3, 3, 4, 7]);
            let nat = &names::NATIONALITIES[nat];
            let status = if self.rng.chance(0.5) {
                "日本人の配偶者等"
            } else {
                "永住者"
            };
            let mut w = self.foreigner(
                nat,
                false,
                w_birth,
                status,
                if wife_head { "世帯主" } else { "妻" },
            );
            let first = w.given_kana.split(' ').next().unwrap_or(w.given_kana);
            let alias = format!("{} {}", sn.0, first);
            if self.rng.chance(0.6) {
                w.alias = Some(alias.clone());
                if let Some(f) = w.foreign.as_mut() {
                    f.alias = Some(alias);
                }
            }
            w
        } else {
            let mut w = self.person(sn, false, w_birth, if wife_head { "世帯主" } else { "妻" });
            let r = self.parent_rel_random(false);
            w.parent_rel = Some(r);
            w
        };
        wife.income = self.income(age(w_birth, self.as_of), false, true);
        husband.spouse = Some(1);
        wife.spouse = Some(0);

        // Children: born after the wedding, before the mother's 42nd birthday.
        let hi = (add_years(w_birth, 42)).min(self.as_of - 1);
        let lo = wed + 300;
        let mut births: Vec<i32> = (0..kids + usize::from(grandkids > 0))
            .map(|_| self.day_between(lo, hi.max(lo)).min(self.as_of - 1))
            .collect();
        births.sort_unstable();
        for i in 1..births.len() {
            if births[i] - births[i - 1] < 330 && self.rng.chance(0.97) {
                births[i] =
                    (births[i - 1] + 330 + self.rng.range(0, 400) as i32).min(self.as_of - 1);
            }
        }
        let father_name = husband.full_name();
        let mother_name = wife.full_name();
        let (honseki, in_town) = self.honseki(lot, 0.72);
        let hitto = father_name.clone();
        let unit = 0usize;

        let native = self.rng.chance(0.3);
        let moved_in = if native {
            wed
        } else {
            let span_start = wed.max(self.as_of - years(35.0));
            let u = self.rng.unit();
            self.as_of - 10 - ((1.0 - u * u) * f64::from(self.as_of - 10 - span_start)) as i32
        };
        let outside = address::outside_address(self.rng);
        husband.arrived = if native { h_birth } else { moved_in };
        wife.arrived = if wife.foreign.is_some() {
            moved_in.max(foreign_register_start())
        } else {
            moved_in
        };
        if !native {
            husband.came_from = Some(outside.clone());
        }
        wife.came_from = Some(if wife.foreign.is_some() {
            wife.foreign
                .as_ref()
                .map_or(String::new(), |f| f.nationality.clone())
        } else if native {
            address::outside_address(self.rng)
        } else {
            outside.clone()
        });

        // 戸籍 details of the couple.
        let h_parents_honseki = if in_town && self.rng.chance(0.5) {
            honseki.clone()
        } else {
            address::outside_honseki(self.rng)
        };
        let hf_given = self.given(true, h_birth - years(30.0), &[husband.given]);
        let hm_given = self.given(false, h_birth - years(28.0), &[]);
        let h_father = format!("{} {}", sn.0, hf_given.0);
        let h_mother = format!("{} {}", sn.0, hm_given.0);
        husband.father = Some(h_father.clone());
        husband.mother = Some(h_mother.clone());
        husband.role = Some("夫");
        let birth_ev = self.birth_event(&husband);
        husband.events.push(birth_ev);
        if wife.foreign.is_some() {
            let spouse_name = format!("{}、{}", wife.family, wife.given);
            let nat = wife
                .foreign
                .as_ref()
                .map_or(String::new(), |f| f.nationality.clone());
            husband.events.push(ev(
                "婚姻",
                wed,
                &[
                    ("配偶者氏名", spouse_name),
                    ("配偶者の国籍", nat),
                    ("配偶者の生年月日", dates::date(w_birth).to_string()),
                    ("従前戸籍", format!("{h_parents_honseki} {h_father}")),
                ],
            ));
        } else {
            husband.events.push(ev(
                "婚姻",
                wed,
                &[
                    ("配偶者氏名", mother_name.clone()),
                    ("従前戸籍", format!("{h_parents_honseki} {h_father}")),
                ],
            ));
            let maiden = self.maiden(sn);
            let wf = format!(
                "{} {}",
                maiden.0,
                self.given(true, w_birth - years(30.0), &[]).0
            );
            let wm = format!(
                "{} {}",
                maiden.0,
                self.given(false, w_birth - years(28.0), &[]).0
            );
            wife.father = Some(wf.clone());
            wife.mother = Some(wm);
            wife.role = Some("妻");
            let birth_ev = self.birth_event(&wife);
            wife.events.push(birth_ev);
            wife.events.push(ev(
                "婚姻",
                wed,
                &[
                    ("配偶者氏名", father_name.clone()),
                    (
                        "従前戸籍",
                        format!("{} {wf}", address::outside_honseki(self.rng)),
                    ),
                ],
            ));
            if self.rng.chance(0.03) {
                wife.former_family = Some(maiden.0);
            }
            wife.honseki = Some(honseki.clone());
            wife.hitto = Some(hitto.clone());
            wife.unit = Some(unit);
        }
        husband.honseki = Some(honseki.clone());
        husband.hitto = Some(hitto.clone());
        husband.unit = Some(unit);

        let mut members = vec![Member::Resident(0)];
        if wife.foreign.is_none() {
            members.push(Member::Resident(1));
        }
        let (head_given_h, head_given_w) = (husband.given, wife.given);
        plan.persons.push(husband);
        plan.persons.push(wife);

        // Children (the first one is the married son when there are grandchildren).
        let mut seen = [0usize; 2];
        let mut used: Vec<&'static str> = vec![head_given_h, head_given_w];
        let mut married_son: Option<usize> = None;
        for (k, &b) in births.iter().enumerate() {
            let male = if grandkids > 0 && k == 0 {
                true
            } else {
                self.rng.chance(0.51)
            };
            let mut c = self.person(sn, male, b, "子");
            let g = self.given(male, b, &used);
            c.given = g.0;
            c.given_kana = g.1;
            used.push(g.0);
            c.parent_rel = Some(order_name(male, seen[usize::from(male)]));
            seen[usize::from(male)] += 1;
            c.father = Some(father_name.clone());
            c.mother = Some(mother_name.clone());
            c.role = Some("子");
            let place = if b >= moved_in {
                "見本県見本市"
            } else {
                address::birthplace(self.rng)
            };
            c.events.push(ev(
                "出生",
                b,
                &[("出生地", place.to_owned()), ("届出人", "父".to_owned())],
            ));
            c.arrived = b.max(moved_in);
            c.came_from = plan.persons[0].came_from.clone();
            c.honseki = Some(honseki.clone());
            c.hitto = Some(hitto.clone());
            c.unit = Some(unit);
            c.income = self.income(age(b, self.as_of), male, false);
            if grandkids > 0 && k == 0 {
                married_son = Some(plan.persons.len());
            } else {
                members.push(Member::Resident(plan.persons.len()));
            }
            plan.persons.push(c);
        }

        // Children who married and left (older couples).
        if kids == 0 && grandkids == 0 && w_age >= 50 {
            let left = self.rng.below(4) as usize;
            for k in 0..left {
                let kb = (wed + 300 + years(2.4 * k as f64) + self.rng.range(0, 400) as i32)
                    .min(self.as_of - years(20.0));
                let km = self.rng.chance(0.5);
                let kg = self.given(km, kb, &used);
                let order = seen[usize::from(km)];
                seen[usize::from(km)] += 1;
                let married = self.day_between(add_years(kb, 22), self.as_of - 30);
                let removed = ev(
                    "婚姻",
                    married,
                    &[
                        (
                            "配偶者氏名",
                            format!(
                                "{} {}",
                                names::surname(self.rng).0,
                                self.given(!km, kb, &[]).0
                            ),
                        ),
                        ("新本籍", address::outside_honseki(self.rng)),
                    ],
                );
                let m = self.other_member(
                    sn.0,
                    kg,
                    km,
                    kb,
                    Some("子"),
                    (Some(father_name.clone()), Some(mother_name.clone())),
                    order_name(km, order),
                    Some(removed),
                );
                members.push(m);
            }
        }

        let mut events = vec![ev("編製", wed, &[("編製事由", "婚姻".to_owned())])];
        let mut start = wed;
        if in_town && !native && self.rng.chance(0.5) && moved_in > wed + 30 {
            let t = self.day_between(moved_in, self.as_of - 5);
            events.push(ev(
                "転籍",
                t,
                &[("従前本籍", address::outside_honseki(self.rng))],
            ));
            start = t;
        }
        if wed < kosei_day() {
            events.push(kosei_event());
        }
        events.sort_by_key(|e| e.date);

        // The married son's own 戸籍, with his wife and children.
        if let Some(si) = married_son {
            let son = plan.persons[si].clone();
            let s_wed = self.day_between(add_years(son.birth, 24), self.as_of - years(1.0));
            let dil_birth = son.birth + self.rng.range(-1200, 900) as i32;
            let mut dil = self.person(sn, false, dil_birth, "子の妻");
            let dr = self.parent_rel_random(false);
            dil.parent_rel = Some(dr);
            let maiden = self.maiden(sn);
            let df = format!(
                "{} {}",
                maiden.0,
                self.given(true, dil_birth - years(30.0), &[]).0
            );
            dil.father = Some(df.clone());
            dil.mother = Some(format!(
                "{} {}",
                maiden.0,
                self.given(false, dil_birth - years(28.0), &[]).0
            ));
            dil.role = Some("妻");
            let be = self.birth_event(&dil);
            dil.events.push(be);
            dil.events.push(ev(
                "婚姻",
                s_wed,
                &[
                    ("配偶者氏名", son.full_name()),
                    (
                        "従前戸籍",
                        format!("{} {df}", address::outside_honseki(self.rng)),
                    ),
                ],
            ));
            dil.arrived = s_wed.max(moved_in);
            dil.came_from = Some(address::outside_address(self.rng));
            dil.income = self.income(age(dil_birth, self.as_of), false, true);
            let s_honseki = honseki.clone();
            let s_hitto = son.full_name();
            let removed = ev(
                "婚姻",
                s_wed,
                &[
                    ("配偶者氏名", dil.full_name()),
                    ("新本籍", s_honseki.clone()),
                ],
            );
            // In the parents' register the son is removed by his marriage.
            members.push(Member::Other(Box::new(KosekiMember {
                member_no: 0,
                family: son.family.to_owned(),
                given: son.given.to_owned(),
                birth_date: dates::date(son.birth),
                sex: Sex::Male,
                father: son.father.clone(),
                mother: son.mother.clone(),
                parent_relationship: son.parent_rel.clone(),
                adoptive_father: None,
                adoptive_mother: None,
                adoptive_relationship: None,
                role: Some("子".into()),
                events: son.events.clone(),
                removed: Some(removed),
                resident_id: None,
            })));
            {
                let dil_index = plan.persons.len();
                let s = &mut plan.persons[si];
                s.role = Some("夫");
                s.events.push(ev(
                    "婚姻",
                    s_wed,
                    &[
                        ("配偶者氏名", dil.full_name()),
                        ("従前戸籍", format!("{honseki} {hitto}")),
                    ],
                ));
                s.hitto = Some(s_hitto.clone());
                s.unit = Some(1);
                s.spouse = Some(dil_index);
            }
            dil.honseki = Some(s_honseki.clone());
            dil.hitto = Some(s_hitto.clone());
            dil.unit = Some(1);
            dil.spouse = Some(si);
            let dil_name = dil.full_name();
            let mut s_members = vec![Member::Resident(si), Member::Resident(plan.persons.len())];
            plan.persons.push(dil);
            let mut gseen = [0usize; 2];
            let mut gb = s_wed + 300 + self.rng.range(0, 300) as i32;
            for _ in 0..grandkids {
                let b = gb.min(self.as_of - 1);
                let male = self.rng.chance(0.51);
                let mut g = self.person(sn, male, b, "孫");
                let name = self.given(male, b, &used);
                g.given = name.0;
                g.given_kana = name.1;
                used.push(name.0);
                g.parent_rel = Some(order_name(male, gseen[usize::from(male)]));
                gseen[usize::from(male)] += 1;
                g.father = Some(s_hitto.clone());
                g.mother = Some(dil_name.clone());
                g.role = Some("子");
                g.events.push(ev(
                    "出生",
                    b,
                    &[
                        ("出生地", "見本県見本市".to_owned()),
                        ("届出人", "父".to_owned()),
                    ],
                ));
                g.arrived = b.max(moved_in);
                g.came_from = plan.persons[0].came_from.clone();
                g.honseki = Some(s_honseki.clone());
                g.hitto = Some(s_hitto.clone());
                g.unit = Some(1);
                s_members.push(Member::Resident(plan.persons.len()));
                plan.persons.push(g);
                gb = b + 400 + self.rng.range(0, 700) as i32;
            }
            plan.units.push(Unit {
                honseki: honseki.clone(),
                in_town,
                hitto: hitto.clone(),
                events: events.clone(),
                members: std::mem::take(&mut members),
                start,
            });
            plan.units.push(Unit {
                honseki: s_honseki,
                in_town,
                hitto: s_hitto,
                events: vec![ev("編製", s_wed, &[("編製事由", "婚姻".to_owned())])],
                members: s_members,
                start: s_wed,
            });
        } else {
            plan.units.push(Unit {
                honseki: honseki.clone(),
                in_town,
                hitto: hitto.clone(),
                events,
                members,
                start,
            });
        }

        // The husband's parents living with them, in their own (older) 戸籍.
        if parents > 0 {
            self.add_husband_parents(
                plan,
                parents,
                &h_parents_honseki,
                (hf_given, hm_given),
                sn,
                wife_head,
                moved_in,
                native,
            );
        }
        if wife_head {
            // The wife heads the household: put her first.
            plan.persons.swap(0, 1);
            fix_indices_after_swap(plan);
        }
    }

    /// One of a married elder couple living with a grown child: 氏 `sn` (the husband's),
    /// the wife's parents under her maiden name, birth and 婚姻 events, income.
    #[allow(clippy::too_many_arguments)]
    fn married_elder(
        &mut self,
        sn: Name,
        male: bool,
        birth: i32,
        rel: &'static str,
        given: Name,
        parent_rel: String,
        wed: i32,
        spouse_name: &str,
    ) -> Person {
        let mut p = self.person(sn, male, birth, rel);
        p.given = given.0;
        p.given_kana = given.1;
        p.parent_rel = Some(parent_rel);
        p.role = Some(if male { "夫" } else { "妻" });
        let parents_family = if male { sn } else { self.maiden(sn) };
        p.father = Some(format!(
            "{} {}",
            parents_family.0,
            self.given(true, birth - years(30.0), &[]).0
        ));
        p.mother = Some(format!(
            "{} {}",
            parents_family.0,
            self.given(false, birth - years(28.0), &[]).0
        ));
        let be = self.birth_event(&p);
        p.events.push(be);
        p.events
            .push(ev("婚姻", wed, &[("配偶者氏名", spouse_name.to_owned())]));
        p.income = self.income(age(birth, self.as_of), male, !male);
        p
    }

    #[allow(clippy::too_many_arguments)]
    fn add_husband_parents(
        &mut self,
        plan: &mut Plan,
        parents: usize,
        honseki: &str,
        given: (Name, Name),
        sn: Name,
        wife_head: bool,
        moved_in: i32,
        native: bool,
    ) {
        let h = plan.persons[0].clone();
        let f_birth =
            h.birth - years(self.rng.range(26, 34) as f64) - self.rng.range(0, 200) as i32;
        let m_birth = f_birth + years(self.rng.range(0, 4) as f64) + self.rng.range(0, 364) as i32;
        let f_birth = f_birth.max(self.as_of - years(101.0));
        let m_birth = m_birth.max(self.as_of - years(100.0));
        let wed = add_years(m_birth, 22).min(h.birth - 300);
        let in_town = honseki.starts_with(address::TOWN);
        let father_name = format!("{} {}", sn.0, given.0.0);
        let mother_name = format!("{} {}", sn.0, given.1.0);
        let unit = plan.units.len();
        let mut members = Vec::new();
        let father_lives = parents >= 2 || self.rng.chance(0.3);
        let arrived = if native {
            f_birth.max(h.birth - years(3.0))
        } else {
            self.day_between(moved_in, self.as_of - 20)
        };
        let came_from = if native {
            None
        } else {
            Some(address::outside_address(self.rng))
        };
        let (f_rel, m_rel) = (self.parent_rel_random(true), self.parent_rel_random(false));
        let mut idx_father = None;
        if father_lives {
            let rel = if wife_head { "夫の父" } else { "父" };
            let mut f =
                self.married_elder(sn, true, f_birth, rel, given.0, f_rel, wed, &mother_name);
            f.arrived = arrived;
            f.came_from = came_from.clone();
            f.honseki = Some(honseki.to_owned());
            f.hitto = Some(father_name.clone());
            f.unit = Some(unit);
            idx_father = Some(plan.persons.len());
            members.push(Member::Resident(plan.persons.len()));
            plan.persons.push(f);
        } else {
            let died = self.day_between(h.birth + years(25.0), self.as_of - 60);
            let d = self.death_event(died, "妻");
            members.push(self.other_member(
                sn.0,
                given.0,
                true,
                f_birth,
                Some("夫"),
                (None, None),
                f_rel,
                Some(d),
            ));
        }
        if parents >= 2 || !father_lives {
            let rel = if wife_head { "夫の母" } else { "母" };
            let mut m =
                self.married_elder(sn, false, m_birth, rel, given.1, m_rel, wed, &father_name);
            m.widow = !father_lives;
            m.arrived = arrived;
            m.came_from = came_from;
            m.honseki = Some(honseki.to_owned());
            m.hitto = Some(father_name.clone());
            m.unit = Some(unit);
            if let Some(fi) = idx_father {
                plan.persons[fi].spouse = Some(plan.persons.len());
                m.spouse = Some(fi);
            }
            members.push(Member::Resident(plan.persons.len()));
            plan.persons.push(m);
        } else {
            let mr = self.parent_rel_random(false);
            let hg = given.1;
            members.push(self.other_member(
                sn.0,
                hg,
                false,
                m_birth,
                Some("妻"),
                (None, None),
                mr,
                None,
            ));
        }
        // The husband, removed from this register by his marriage.
        let wed_h = plan.persons[0]
            .events
            .iter()
            .find(|e| e.kind == "婚姻")
            .map_or(h.birth + years(25.0), |e| dates::from_date(e.date));
        let new_honseki = h.honseki.clone().unwrap_or_default();
        members.push(Member::Other(Box::new(KosekiMember {
            member_no: 0,
            family: h.family.to_owned(),
            given: h.given.to_owned(),
            birth_date: dates::date(h.birth),
            sex: Sex::Male,
            father: Some(father_name.clone()),
            mother: Some(mother_name),
            parent_relationship: h.parent_rel.clone(),
            adoptive_father: None,
            adoptive_mother: None,
            adoptive_relationship: None,
            role: Some("子".into()),
            events: h
                .events
                .iter()
                .filter(|e| e.kind == "出生")
                .cloned()
                .collect(),
            removed: Some(ev("婚姻", wed_h, &[("新本籍", new_honseki)])),
            resident_id: None,
        })));
        let mut events = vec![ev("編製", wed, &[("編製事由", "婚姻".to_owned())])];
        if wed < kosei_day() {
            events.push(kosei_event());
        }
        plan.units.push(Unit {
            honseki: honseki.to_owned(),
            in_town,
            hitto: father_name,
            events,
            members,
            start: wed,
        });
    }

    /// A single parent (mostly a divorced mother) with `kids` children.
    fn single_parent(&mut self, plan: &mut Plan, lot: &Lot, sn: Name, kids: usize) {
        let mother = self.rng.chance(0.85);
        let p_age = self.rng.range(26, 56);
        let p_birth = self.birth_at_age(p_age);
        let mut p = self.person(sn, !mother, p_birth, "世帯主");
        let pr = self.parent_rel_random(!mother);
        p.parent_rel = Some(pr);
        p.income = self.income(p_age as i32, !mother, false);
        let be = self.birth_event(&p);
        p.events.push(be);
        let pf = format!(
            "{} {}",
            sn.0,
            self.given(true, p_birth - years(30.0), &[]).0
        );
        p.father = Some(pf.clone());
        p.mother = Some(format!(
            "{} {}",
            sn.0,
            self.given(false, p_birth - years(28.0), &[]).0
        ));
        let wed = add_years(
            p_birth,
            self.rng.range(21, (p_age - 2).clamp(22, 32)) as i32,
        )
        .min(self.as_of - 400);
        let split = self.day_between(wed + 700, self.as_of - 30);
        let ex_sn = if mother { names::surname(self.rng) } else { sn };
        let ex_given = self.given(mother, p_birth, &[]);
        let ex = format!("{} {}", ex_sn.0, ex_given.0);
        let (honseki, in_town) = self.honseki(lot, 0.6);
        let native = self.rng.chance(0.3);
        let moved_in = if native {
            p_birth
        } else {
            self.day_between(wed.max(self.as_of - years(20.0)), self.as_of - 10)
        };
        p.arrived = moved_in;
        if !native {
            p.came_from = Some(address::outside_address(self.rng));
        }
        p.honseki = Some(honseki.clone());
        p.hitto = Some(p.full_name());
        p.unit = Some(0);
        p.role = None;
        let parent_name = p.full_name();
        let (father, mother_n) = if mother {
            (ex.clone(), parent_name.clone())
        } else {
            (parent_name.clone(), ex.clone())
        };
        let ex_kosei = format!(
            "{} {}",
            address::outside_honseki(self.rng),
            if mother {
                ex.clone()
            } else {
                parent_name.clone()
            }
        );
        let events = if mother {
            p.events.push(ev(
                "離婚",
                split,
                &[("配偶者氏名", ex.clone()), ("従前戸籍", ex_kosei.clone())],
            ));
            vec![ev("編製", split, &[("編製事由", "離婚".to_owned())])]
        } else {
            p.events.push(ev(
                "婚姻",
                wed,
                &[
                    ("配偶者氏名", ex.clone()),
                    (
                        "従前戸籍",
                        format!("{} {pf}", address::outside_honseki(self.rng)),
                    ),
                ],
            ));
            p.events
                .push(ev("離婚", split, &[("配偶者氏名", ex.clone())]));
            vec![ev("編製", wed, &[("編製事由", "婚姻".to_owned())])]
        };
        let start = dates::from_date(events[0].date);
        let mut members = vec![Member::Resident(0)];
        let mut used = vec![p.given];
        plan.persons.push(p);
        let mut seen = [0usize; 2];
        let mut b = self.day_between(wed + 300, (split - 1).max(wed + 300));
        for _ in 0..kids {
            let cb = b.min(self.as_of - 1);
            let male = self.rng.chance(0.51);
            let mut c = self.person(sn, male, cb, "子");
            let g = self.given(male, cb, &used);
            c.given = g.0;
            c.given_kana = g.1;
            used.push(g.0);
            c.parent_rel = Some(order_name(male, seen[usize::from(male)]));
            seen[usize::from(male)] += 1;
            c.father = Some(father.clone());
            c.mother = Some(mother_n.clone());
            c.role = Some("子");
            let be = self.birth_event(&c);
            c.events.push(be);
            if mother {
                let entered = self.day_between(split, (split + 200).min(self.as_of - 1));
                c.events.push(ev(
                    "入籍",
                    entered,
                    &[
                        ("入籍事由", "母の氏を称する入籍".to_owned()),
                        ("従前戸籍", ex_kosei.clone()),
                    ],
                ));
            }
            c.arrived = cb.max(moved_in);
            c.came_from = plan.persons[0].came_from.clone();
            c.honseki = Some(honseki.clone());
            c.hitto = Some(parent_name.clone());
            c.unit = Some(0);
            c.income = self.income(age(cb, self.as_of), male, false);
            members.push(Member::Resident(plan.persons.len()));
            plan.persons.push(c);
            b = cb + 400 + self.rng.range(0, 900) as i32;
        }
        if mother {
            plan.persons[0].widow = false;
        }
        plan.units.push(Unit {
            honseki,
            in_town,
            hitto: parent_name,
            events,
            members,
            start,
        });
    }

    /// An unmarried adult heading a household with their elderly parent(s).
    fn with_parents(&mut self, plan: &mut Plan, lot: &Lot, sn: Name, parents: usize) {
        let h_age = self.rng.range(40, 66);
        let male = self.rng.chance(0.55);
        let h_birth = self.birth_at_age(h_age);
        let mut h = self.person(sn, male, h_birth, "世帯主");
        h.income = self.income(h_age as i32, male, false);
        let pr = self.parent_rel_random(male);
        h.parent_rel = Some(pr.clone());
        let be = self.birth_event(&h);
        h.events.push(be);
        let native = self.rng.chance(0.55);
        let moved_in = if native {
            h_birth
        } else {
            self.day_between(self.as_of - years(30.0), self.as_of - 10)
        };
        h.arrived = moved_in;
        if !native {
            h.came_from = Some(address::outside_address(self.rng));
        }
        let (honseki, in_town) = self.honseki(lot, if native { 0.9 } else { 0.5 });
        let f_birth =
            h_birth - years(self.rng.range(25, 34) as f64) - self.rng.range(0, 364) as i32;
        let m_birth =
            (f_birth + years(self.rng.range(0, 4) as f64) + self.rng.range(0, 364) as i32)
                .max(self.as_of - years(99.0));
        let f_birth = f_birth.max(self.as_of - years(101.0));
        let wed = add_years(m_birth, 22).min(h_birth - 300);
        let fg = self.given(true, f_birth, &[h.given]);
        let mg = self.given(false, m_birth, &[h.given]);
        let father_name = format!("{} {}", sn.0, fg.0);
        let mother_name = format!("{} {}", sn.0, mg.0);
        h.father = Some(father_name.clone());
        h.mother = Some(mother_name.clone());
        h.role = Some("子");
        h.honseki = Some(honseki.clone());
        h.hitto = Some(father_name.clone());
        h.unit = Some(0);
        let came_from = h.came_from.clone();
        plan.persons.push(h);
        let mut members = Vec::new();
        let both = parents >= 2;
        let (f_rel, m_rel) = (self.parent_rel_random(true), self.parent_rel_random(false));
        if both {
            let mut f = self.married_elder(sn, true, f_birth, "父", fg, f_rel, wed, &mother_name);
            f.arrived = if native {
                wed.max(f_birth)
            } else {
                moved_in.max(f_birth)
            };
            f.came_from = came_from.clone();
            f.honseki = Some(honseki.clone());
            f.hitto = Some(father_name.clone());
            f.unit = Some(0);
            f.spouse = Some(2);
            members.push(Member::Resident(1));
            plan.persons.push(f);
        } else {
            let died = self.day_between(h_birth + years(20.0), self.as_of - 60);
            let d = self.death_event(died, "妻");
            members.push(self.other_member(
                sn.0,
                fg,
                true,
                f_birth,
                Some("夫"),
                (None, None),
                f_rel,
                Some(d),
            ));
        }
        let mut m = self.married_elder(sn, false, m_birth, "母", mg, m_rel, wed, &father_name);
        m.widow = !both;
        m.arrived = if native {
            wed.max(m_birth)
        } else {
            moved_in.max(m_birth)
        };
        m.came_from = came_from;
        m.honseki = Some(honseki.clone());
        m.hitto = Some(father_name.clone());
        m.unit = Some(0);
        if both {
            m.spouse = Some(1);
        }
        members.push(Member::Resident(plan.persons.len()));
        plan.persons.push(m);
        members.push(Member::Resident(0));
        let mut events = vec![ev("編製", wed, &[("編製事由", "婚姻".to_owned())])];
        if wed < kosei_day() {
            events.push(kosei_event());
        }
        plan.units.push(Unit {
            honseki,
            in_town,
            hitto: father_name,
            events,
            members,
            start: wed,
        });
    }

    /// A foreign resident's record items.
    fn foreigner(
        &mut self,
        nat: &'static Nationality,
        male: bool,
        birth: i32,
        status: &'static str,
        rel: &'static str,
    ) -> Person {
        let family = *self.rng.pick(nat.families);
        let given = *self.rng.pick(if male { nat.male } else { nat.female });
        let mut p = self.person(family, male, birth, rel);
        p.given = given.0;
        p.given_kana = given.1;
        let permanent = matches!(status, "永住者" | "特別永住者");
        let (period, days): (&str, i32) = match status {
            "永住者" | "特別永住者" => ("無期限", years(7.0)),
            "技能実習" => *self.rng.pick(&[("1年", 365), ("2年", 730)]),
            "特定技能" => *self.rng.pick(&[("1年", 365), ("3年", 1095)]),
            "留学" => *self
                .rng
                .pick(&[("1年3月", 456), ("2年3月", 821), ("4年3月", 1552)]),
            _ => *self.rng.pick(&[("1年", 365), ("3年", 1095), ("5年", 1826)]),
        };
        let end = if self.rng.chance(0.03) {
            self.as_of + self.rng.range(1, 30) as i32
        } else {
            self.as_of + self.rng.range(31, i64::from(days.max(32))) as i32
        };
        *self.foreign_serial += 1;
        let digits = permute_decimal(*self.foreign_serial, self.seed ^ 0xF0E1, 8);
        let letter = |r: &mut Rng| (b'A' + r.below(26) as u8) as char;
        let card_number = format!(
            "{}{}{digits:08}{}{}",
            letter(self.rng),
            letter(self.rng),
            letter(self.rng),
            letter(self.rng)
        );
        let alias = if !nat.alias_families.is_empty()
            && self.rng.chance(if status == "特別永住者" {
                0.6
            } else {
                0.15
            }) {
            let af = *self.rng.pick(nat.alias_families);
            let ag = names::given(self.rng, male, dates::year(birth));
            Some(format!("{} {}", af.0, ag.0))
        } else {
            None
        };
        p.alias = alias.clone();
        p.foreign = Some(ForeignDetails {
            nationality: nat.name.to_owned(),
            alias,
            residence_status: status.to_owned(),
            // Permanent residents have no period of stay.
            period: (!permanent).then(|| period.to_owned()),
            period_end: (!permanent).then(|| dates::date(end)),
            card_number,
            category: if status == "特別永住者" {
                "特別永住者".to_owned()
            } else {
                "中長期在留者".to_owned()
            },
        });
        p
    }

    fn foreign_income(&mut self, status: &str, age: i32, male: bool, spouse_role: bool) -> Income {
        let r = &mut *self.rng;
        let k = |x: i64| x * 1000;
        let mut inc = Income {
            business_margin_pct: 40,
            ..Income::default()
        };
        match status {
            "技能実習" => inc.salary = k(r.range(1_900, 2_600)),
            "特定技能" => inc.salary = k(r.range(2_500, 3_700)),
            "技能" => inc.salary = k(r.range(2_300, 3_600)),
            "留学" => {
                if r.chance(0.8) {
                    inc.salary = k(r.range(400, 1_250));
                }
            }
            "技術・人文知識・国際業務" => inc.salary = k(r.range(3_000, 6_800)),
            "家族滞在" => {
                if age >= 18 && r.chance(0.4) {
                    inc.salary = k(r.range(400, 1_000));
                }
            }
            _ => return self.income(age, male, spouse_role),
        }
        if age < 16 {
            inc = Income::default();
        }
        inc
    }

    fn foreign_household(&mut self, plan: &mut Plan, size: usize) {
        let nat = names::nationality(self.rng);
        let weights: Vec<u32> = nat.statuses.iter().map(|s| s.1).collect();
        let mut status = nat.statuses[self.rng.weighted(&weights)].0;
        let arrival_years: f64 = match status {
            "技能実習" => 2.5,
            "特定技能" => 5.0,
            "留学" => 3.0,
            "永住者" => 25.0,
            "特別永住者" => 60.0,
            _ => 12.0,
        };
        if size >= 2 && matches!(status, "技能実習" | "特定技能" | "留学") {
            status = "定住者";
        }
        let (lo, hi) = match (status, size) {
            ("技能実習", _) => (19, 34),
            ("留学", _) => (19, 30),
            ("特別永住者", _) => (30, 90),
            (_, 1) => (22, 65),
            _ => (26, 55),
        };
        let a = self.rng.range(lo, hi);
        let male = self.rng.chance(0.55);
        let birth = self.birth_at_age(a);
        let mut head = self.foreigner(nat, male, birth, status, "世帯主");
        head.income = self.foreign_income(status, a as i32, male, false);
        let arrived_abroad =
            (self.as_of - 10 - (self.rng.unit() * arrival_years * 365.0) as i32).max(birth);
        let born_here = status == "特別永住者" && self.rng.chance(0.7);
        let arrival = if born_here { birth } else { arrived_abroad };
        head.arrived = arrival.max(foreign_register_start()).max(birth);
        head.came_from = if arrival >= foreign_register_start() && !born_here {
            Some(nat.name.to_owned())
        } else {
            None
        };
        let family = (head.family, head.family_kana);
        let mut father_family = family;
        // Chinese, Korean, Vietnamese and Taiwanese spouses keep their own family names.
        let keeps_own_family = matches!(nat.name, "中国" | "韓国" | "ベトナム" | "台湾");
        plan.persons.push(head);
        if size >= 2 {
            let s_status = match status {
                "技術・人文知識・国際業務" | "技能" => "家族滞在",
                s => s,
            };
            let sb = birth + self.rng.range(-1500, 1500) as i32;
            let mut s = self.foreigner(
                nat,
                !male,
                sb.min(self.as_of - years(20.0)),
                s_status,
                if male { "妻" } else { "夫" },
            );
            if keeps_own_family {
                if !male {
                    // The husband's family name passes to the children.
                    father_family = (s.family, s.family_kana);
                }
            } else {
                s.family = family.0;
                s.family_kana = family.1;
            }
            s.income = self.foreign_income(s_status, age(s.birth, self.as_of), !male, true);
            s.arrived = plan.persons[0].arrived.max(s.birth);
            s.came_from = plan.persons[0].came_from.clone();
            s.spouse = Some(0);
            plan.persons[0].spouse = Some(1);
            plan.persons.push(s);
        }
        let c_status = match status {
            "技術・人文知識・国際業務" | "技能" => "家族滞在",
            "日本人の配偶者等" => "定住者",
            s => s,
        };
        let youngest_parent = plan.persons.iter().map(|p| p.birth).max().unwrap_or(birth);
        let mut cb = self.day_between(
            add_years(youngest_parent, 21),
            add_years(youngest_parent, 30).min(self.as_of - 1),
        );
        for _ in 2..size {
            let b = cb.min(self.as_of - 1);
            let cm = self.rng.chance(0.5);
            let mut c = self.foreigner(nat, cm, b, c_status, "子");
            c.family = father_family.0;
            c.family_kana = father_family.1;
            c.income = self.foreign_income(c_status, age(b, self.as_of), cm, false);
            c.arrived = plan.persons[0].arrived.max(b);
            c.came_from = if c.arrived > b {
                plan.persons[0].came_from.clone()
            } else {
                None
            };
            plan.persons.push(c);
            cb = b + 400 + self.rng.range(0, 900) as i32;
        }
    }

    /// Residence dates, previous addresses, statuses: the same rules for every household.
    fn settle(&mut self, plan: &mut Plan) {
        let as_of = self.as_of;
        let first = plan
            .persons
            .iter()
            .map(|p| p.arrived)
            .min()
            .unwrap_or(as_of - 10);
        let moved_within = first < as_of - 120 && self.rng.chance(0.3);
        let within_day = if moved_within {
            let u = self.rng.unit();
            as_of - 7 - ((1.0 - u * u) * f64::from(as_of - 7 - first)) as i32
        } else {
            i32::MIN
        };
        if moved_within {
            let lot = address::town_lot(self.rng);
            let apt = self.rng.chance(0.4);
            plan.town_prev = Some(address::dwelling(self.rng, &lot, apt, false));
        }
        for p in &mut plan.persons {
            p.arrived = p.arrived.clamp(p.birth, as_of - 1);
            if p.came_from.is_none() && p.arrived > p.birth && p.foreign.is_none() {
                p.came_from = Some(address::outside_address(self.rng));
            }
            p.address_since = p.arrived.max(within_day).min(as_of - 1);
            p.previous_address = if p.address_since > p.arrived {
                plan.town_prev.clone()
            } else if p.arrived > p.birth {
                p.came_from.clone()
            } else {
                None
            };
            let delay = if p.address_since == p.birth {
                self.rng.range(3, 14)
            } else {
                self.rng.range(0, 14)
            } as i32;
            p.notified_on = (p.address_since + delay).min(as_of);
        }
        // Statuses: a few households moved out or are about to; a few deaths.
        let roll = self.rng.unit();
        if roll < 0.008 {
            let last = plan
                .persons
                .iter()
                .map(|p| p.address_since)
                .max()
                .unwrap_or(as_of - 2);
            let day = self.day_between(last + 1, as_of - 1);
            let to = address::outside_address(self.rng);
            for p in &mut plan.persons {
                p.status = ResidentStatus::MovedOut;
                p.status_since = Some(day);
                p.moved_to = Some(to.clone());
            }
        } else if roll < 0.0105 {
            let day = as_of + self.rng.range(2, 20) as i32;
            let to = address::outside_address(self.rng);
            for p in &mut plan.persons {
                p.status = ResidentStatus::MovingOut;
                p.status_since = Some(day);
                p.moved_to = Some(to.clone());
            }
        } else {
            let n = plan.persons.len();
            for i in 0..n {
                let p = &plan.persons[i];
                let a = age(p.birth, as_of);
                let head_of_many = i == 0 && n > 1;
                if !head_of_many && a >= 60 && p.address_since < as_of - 3 && self.rng.chance(0.02)
                {
                    let lo = p.address_since + 1;
                    let day = self.day_between(lo.max(as_of - 700), as_of - 1);
                    let p = &mut plan.persons[i];
                    p.status = ResidentStatus::Deceased;
                    p.status_since = Some(day);
                } else if p.rel == "子"
                    && (18..=30).contains(&a)
                    && p.address_since < as_of - 3
                    && self.rng.chance(0.03)
                {
                    let day = self.day_between(p.address_since + 1, as_of - 1);
                    let to = address::outside_address(self.rng);
                    let p = &mut plan.persons[i];
                    p.status = ResidentStatus::MovedOut;
                    p.status_since = Some(day);
                    p.moved_to = Some(to);
                }
            }
        }
        // A death is recorded in the 戸籍 too.
        for i in 0..plan.persons.len() {
            if plan.persons[i].status == ResidentStatus::Deceased
                && let Some(day) = plan.persons[i].status_since
            {
                let reporter = if plan.persons[i].spouse.is_some() {
                    if plan.persons[i].male { "妻" } else { "夫" }
                } else {
                    "親族"
                };
                let d = self.death_event(day, reporter);
                plan.persons[i].events.push(d);
            }
        }
    }
}

fn kosei_event() -> KosekiEvent {
    ev(
        "改製",
        kosei_day(),
        &[(
            "改製事由",
            "平成6年法務省令第51号附則第2条第1項による改製".to_owned(),
        )],
    )
}

/// After swapping persons 0 and 1 (the wife heads the household), keep every index
/// (spouse links, 戸籍 members) pointing at the same person.
fn fix_indices_after_swap(plan: &mut Plan) {
    let swap = |i: usize| match i {
        0 => 1,
        1 => 0,
        x => x,
    };
    for p in &mut plan.persons {
        p.spouse = p.spouse.map(swap);
    }
    for u in &mut plan.units {
        for m in &mut u.members {
            if let Member::Resident(i) = m {
                *i = swap(*i);
            }
        }
    }
}
