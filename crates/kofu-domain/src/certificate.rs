//! Certificate kinds, the options a requester chooses, channels and applicant types.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The seven certificates of the LGWAN protocol, with their wire names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// 住民票の写し.
    Juminhyo,
    /// 住民票記載事項証明書.
    KisaiJiko,
    /// 印鑑登録証明書.
    Inkan,
    /// 戸籍全部事項証明書.
    KosekiZenbu,
    /// 戸籍個人事項証明書.
    KosekiKojin,
    /// 戸籍の附票の写し.
    Fuhyo,
    /// 所得・課税証明書.
    ShotokuKazei,
}

impl CertificateKind {
    /// Every kind, in the protocol's order.
    pub const ALL: [CertificateKind; 7] = [
        CertificateKind::Juminhyo,
        CertificateKind::KisaiJiko,
        CertificateKind::Inkan,
        CertificateKind::KosekiZenbu,
        CertificateKind::KosekiKojin,
        CertificateKind::Fuhyo,
        CertificateKind::ShotokuKazei,
    ];

    /// The wire name (`juminhyo`, `kisai_jiko`, …).
    pub fn code(self) -> &'static str {
        match self {
            CertificateKind::Juminhyo => "juminhyo",
            CertificateKind::KisaiJiko => "kisai_jiko",
            CertificateKind::Inkan => "inkan",
            CertificateKind::KosekiZenbu => "koseki_zenbu",
            CertificateKind::KosekiKojin => "koseki_kojin",
            CertificateKind::Fuhyo => "fuhyo",
            CertificateKind::ShotokuKazei => "shotoku_kazei",
        }
    }

    /// The certificate's title as printed.
    pub fn title(self) -> &'static str {
        match self {
            CertificateKind::Juminhyo => "住民票の写し",
            CertificateKind::KisaiJiko => "住民票記載事項証明書",
            CertificateKind::Inkan => "印鑑登録証明書",
            CertificateKind::KosekiZenbu => "戸籍全部事項証明書",
            CertificateKind::KosekiKojin => "戸籍個人事項証明書",
            CertificateKind::Fuhyo => "戸籍の附票の写し",
            CertificateKind::ShotokuKazei => "所得・課税証明書",
        }
    }

    /// Whether this kind is drawn from the 戸籍 (and follows the 戸籍 kiosk hours).
    pub fn is_koseki(self) -> bool {
        matches!(
            self,
            CertificateKind::KosekiZenbu | CertificateKind::KosekiKojin | CertificateKind::Fuhyo
        )
    }

    /// Whether this kind is about a resident's household record (住民票).
    pub fn is_juminhyo(self) -> bool {
        matches!(self, CertificateKind::Juminhyo | CertificateKind::KisaiJiko)
    }
}

impl fmt::Display for CertificateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An unknown certificate kind name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown certificate kind '{0}' (expected one of juminhyo, kisai_jiko, inkan, koseki_zenbu, koseki_kojin, fuhyo, shotoku_kazei)"
)]
pub struct UnknownKind(pub String);

impl FromStr for CertificateKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CertificateKind::ALL
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// Where a certificate is issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 窓口: the town hall's counter.
    Counter,
    /// コンビニ交付: a convenience-store kiosk through the relay center.
    Kiosk,
}

/// Which household members a 住民票 shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdSelection {
    /// 世帯全員.
    All,
    /// The subject only.
    #[default]
    SelfOnly,
    /// Chosen members, by resident ID (counter) or by the opaque member token of a
    /// kiosk transaction, already resolved to resident IDs by the caller.
    Members(Vec<String>),
}

/// The options a requester chooses for one certificate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct CertificateOptions {
    /// Household members shown (住民票 and 記載事項証明書).
    pub household: HouseholdSelection,
    /// 世帯主の氏名及び続柄.
    pub show_relationship: bool,
    /// 本籍・筆頭者.
    pub show_honseki: bool,
    /// 個人番号 (only for the person or a household member).
    pub show_my_number: bool,
    /// 旧氏 併記 (where one is registered).
    pub show_former_surname: bool,
    /// 住民票コード (counter only; never on a kiosk copy).
    pub show_resident_code: bool,
    /// The fiscal year of a 所得・課税証明書.
    pub tax_year: Option<i32>,
    /// 公印省略: print without the official seal (only for 公用 requests).
    pub omit_seal: bool,
}

/// Who asks for a certificate at the counter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Applicant {
    /// 本人.
    Person,
    /// 同一世帯員.
    HouseholdMember,
    /// 代理人 with a 委任状.
    Proxy {
        /// Whether the 委任状 was presented and checked.
        letter_of_proxy: bool,
    },
    /// 第三者 with a stated purpose.
    ThirdParty {
        /// The purpose stated (e.g. 債権回収のため).
        purpose: String,
    },
    /// 公用: an official request, fee-exempt.
    Official {
        /// The requesting office and legal basis.
        office: String,
    },
}

/// An option a requester may choose, with its wire name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateOption {
    /// Which household members a 住民票 shows (`household`).
    Household,
    /// 世帯主の氏名及び続柄.
    ShowRelationship,
    /// 本籍・筆頭者.
    ShowHonseki,
    /// 個人番号.
    ShowMyNumber,
    /// 旧氏 併記.
    ShowFormerSurname,
    /// 住民票コード (counter only).
    ShowResidentCode,
    /// The fiscal year of a 課税証明書.
    TaxYear,
    /// 公印省略 (counter, 公用 only).
    OmitSeal,
}

impl CertificateOption {
    /// Every option, in the order forms list them.
    pub const ALL: [CertificateOption; 8] = [
        CertificateOption::Household,
        CertificateOption::ShowRelationship,
        CertificateOption::ShowHonseki,
        CertificateOption::ShowMyNumber,
        CertificateOption::ShowFormerSurname,
        CertificateOption::ShowResidentCode,
        CertificateOption::TaxYear,
        CertificateOption::OmitSeal,
    ];

    /// The wire name (`show_my_number`, …).
    pub fn code(self) -> &'static str {
        match self {
            CertificateOption::Household => "household",
            CertificateOption::ShowRelationship => "show_relationship",
            CertificateOption::ShowHonseki => "show_honseki",
            CertificateOption::ShowMyNumber => "show_my_number",
            CertificateOption::ShowFormerSurname => "show_former_surname",
            CertificateOption::ShowResidentCode => "show_resident_code",
            CertificateOption::TaxYear => "tax_year",
            CertificateOption::OmitSeal => "omit_seal",
        }
    }
}

impl CertificateKind {
    /// The option matrix: the options this kind accepts on a channel. The rules
    /// ([`CertificateOptions::check`]), the renderer (which prints every accepted
    /// option), the kiosk inquiry's `options` and the counter app's form all follow it.
    pub fn accepted_options(self, channel: Channel) -> Vec<CertificateOption> {
        use CertificateOption as O;
        let mut options = match self {
            CertificateKind::Juminhyo => vec![
                O::Household,
                O::ShowRelationship,
                O::ShowHonseki,
                O::ShowMyNumber,
                O::ShowFormerSurname,
                O::ShowResidentCode,
            ],
            CertificateKind::KisaiJiko => vec![
                O::Household,
                O::ShowRelationship,
                O::ShowMyNumber,
                O::ShowFormerSurname,
            ],
            CertificateKind::Inkan => vec![O::ShowFormerSurname],
            CertificateKind::ShotokuKazei => vec![O::TaxYear],
            CertificateKind::KosekiZenbu
            | CertificateKind::KosekiKojin
            | CertificateKind::Fuhyo => Vec::new(),
        };
        match channel {
            // 住民票コード is never on a kiosk copy, and no kiosk request is 公用.
            Channel::Kiosk => options.retain(|o| *o != O::ShowResidentCode),
            Channel::Counter => options.push(O::OmitSeal),
        }
        options
    }
}

/// An option that the request may not carry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// 個人番号 asked by someone who is neither the person nor a household member.
    #[error("個人番号 may only be shown to the person or a household member")]
    MyNumberNotAllowed,
    /// 住民票コード asked on a kiosk copy.
    #[error("住民票コード is never shown on a kiosk copy")]
    ResidentCodeOnKiosk,
    /// 公印省略 asked outside an official request.
    #[error("公印省略 is only for official (公用) requests")]
    SealOmissionNotAllowed,
    /// A proxy without a letter of proxy.
    #[error("a proxy needs a checked 委任状")]
    MissingLetterOfProxy,
    /// A third party without a purpose.
    #[error("a third party must state a purpose")]
    MissingPurpose,
    /// An option that does not apply to the kind.
    #[error("option {option} does not apply to {kind}")]
    NotForKind {
        /// The option's wire name.
        option: &'static str,
        /// The certificate kind.
        kind: CertificateKind,
    },
    /// A 課税証明書 without a fiscal year.
    #[error("a 所得・課税証明書 needs a tax year")]
    MissingTaxYear,
}

impl CertificateOptions {
    /// Each option and whether this request chose it (a household other than the
    /// subject alone, a tax year given, a flag set).
    pub fn chosen(&self) -> [(CertificateOption, bool); 8] {
        use CertificateOption as O;
        [
            (O::Household, self.household != HouseholdSelection::SelfOnly),
            (O::ShowRelationship, self.show_relationship),
            (O::ShowHonseki, self.show_honseki),
            (O::ShowMyNumber, self.show_my_number),
            (O::ShowFormerSurname, self.show_former_surname),
            (O::ShowResidentCode, self.show_resident_code),
            (O::TaxYear, self.tax_year.is_some()),
            (O::OmitSeal, self.omit_seal),
        ]
    }

    /// Checks the options against the kind, channel and applicant (`None` on a kiosk,
    /// where the applicant is always the card holder).
    pub fn check(
        &self,
        kind: CertificateKind,
        channel: Channel,
        applicant: Option<&Applicant>,
    ) -> Result<(), OptionError> {
        if self.show_resident_code && channel == Channel::Kiosk {
            return Err(OptionError::ResidentCodeOnKiosk);
        }
        let accepted = kind.accepted_options(channel);
        for (option, set) in self.chosen() {
            // 公印省略 is refused below for who asks, not for the kind.
            if set && option != CertificateOption::OmitSeal && !accepted.contains(&option) {
                return Err(OptionError::NotForKind {
                    option: option.code(),
                    kind,
                });
            }
        }
        if kind == CertificateKind::ShotokuKazei && self.tax_year.is_none() {
            return Err(OptionError::MissingTaxYear);
        }
        match applicant {
            Some(Applicant::Proxy {
                letter_of_proxy: false,
            }) => return Err(OptionError::MissingLetterOfProxy),
            Some(Applicant::ThirdParty { purpose }) if purpose.trim().is_empty() => {
                return Err(OptionError::MissingPurpose);
            }
            _ => {}
        }
        let may_see_my_number = matches!(
            applicant,
            None | Some(Applicant::Person | Applicant::HouseholdMember)
        );
        if self.show_my_number && !may_see_my_number {
            return Err(OptionError::MyNumberNotAllowed);
        }
        if self.omit_seal && !matches!(applicant, Some(Applicant::Official { .. })) {
            return Err(OptionError::SealOmissionNotAllowed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in CertificateKind::ALL {
            assert_eq!(k.code().parse::<CertificateKind>().unwrap(), k);
        }
        assert!("jumin".parse::<CertificateKind>().is_err());
    }

    #[test]
    fn option_rules() {
        let check = |opts: CertificateOptions,
                     kind,
                     channel,
                     applicant: Option<Applicant>,
                     expected: Result<(), OptionError>| {
            assert_eq!(
                opts.check(kind, channel, applicant.as_ref()),
                expected,
                "{opts:?} {kind} {applicant:?}"
            );
        };
        let my_number = CertificateOptions {
            show_my_number: true,
            ..Default::default()
        };
        use CertificateKind::*;
        check(my_number.clone(), Juminhyo, Channel::Kiosk, None, Ok(()));
        check(
            my_number.clone(),
            Juminhyo,
            Channel::Counter,
            Some(Applicant::HouseholdMember),
            Ok(()),
        );
        check(
            my_number.clone(),
            Juminhyo,
            Channel::Counter,
            Some(Applicant::Proxy {
                letter_of_proxy: true,
            }),
            Err(OptionError::MyNumberNotAllowed),
        );
        check(
            my_number,
            Inkan,
            Channel::Counter,
            Some(Applicant::Person),
            Err(OptionError::NotForKind {
                option: "show_my_number",
                kind: Inkan,
            }),
        );
        check(
            CertificateOptions {
                show_resident_code: true,
                ..Default::default()
            },
            Juminhyo,
            Channel::Kiosk,
            None,
            Err(OptionError::ResidentCodeOnKiosk),
        );
        check(
            CertificateOptions::default(),
            ShotokuKazei,
            Channel::Kiosk,
            None,
            Err(OptionError::MissingTaxYear),
        );
        check(
            CertificateOptions {
                omit_seal: true,
                ..Default::default()
            },
            Juminhyo,
            Channel::Counter,
            Some(Applicant::Official {
                office: "見本税務署".into(),
            }),
            Ok(()),
        );
        check(
            CertificateOptions {
                omit_seal: true,
                ..Default::default()
            },
            Juminhyo,
            Channel::Counter,
            Some(Applicant::Person),
            Err(OptionError::SealOmissionNotAllowed),
        );
        check(
            CertificateOptions::default(),
            Juminhyo,
            Channel::Counter,
            Some(Applicant::ThirdParty {
                purpose: " ".into(),
            }),
            Err(OptionError::MissingPurpose),
        );
    }
}
