//! Fees: per kind and channel, multiplied by copies, with exemptions that record why.

use serde::{Deserialize, Serialize};

use crate::certificate::{CertificateKind, Channel};
use crate::municipality::Municipality;

/// The fee of one certificate line of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// The certificate.
    pub kind: CertificateKind,
    /// Counter or kiosk.
    pub channel: Channel,
    /// Fee per copy before exemption.
    pub unit_yen: u32,
    /// Number of copies.
    pub copies: u32,
    /// What is charged: `unit_yen * copies`, or 0 when exempt.
    pub total_yen: u32,
    /// The legal reason of an exemption (公用, 法令による免除…), if exempt.
    pub exemption: Option<String>,
}

/// Why a fee cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    /// The town has no fee for this kind on this channel: it does not issue it there.
    #[error("no fee is configured for {kind} at the {channel:?}")]
    NotOffered {
        /// The certificate.
        kind: CertificateKind,
        /// The channel.
        channel: Channel,
    },
    /// Copies outside 1..=10.
    #[error("copies must be between 1 and 10, got {0}")]
    Copies(u32),
    /// An exemption without a reason.
    #[error("an exemption needs a reason")]
    ExemptionWithoutReason,
}

/// The most copies of one certificate in one request.
pub const MAX_COPIES: u32 = 10;

/// Computes the fee. `exemption` is the reason of a fee exemption, if any; an
/// exempt line costs nothing and keeps its reason for the fee ledger.
pub fn compute_fee(
    town: &Municipality,
    kind: CertificateKind,
    channel: Channel,
    copies: u32,
    exemption: Option<&str>,
) -> Result<Fee, FeeError> {
    if !(1..=MAX_COPIES).contains(&copies) {
        return Err(FeeError::Copies(copies));
    }
    let unit_yen = town
        .fee(kind, channel)
        .ok_or(FeeError::NotOffered { kind, channel })?;
    let exemption = match exemption {
        Some(r) if r.trim().is_empty() => return Err(FeeError::ExemptionWithoutReason),
        Some(r) => Some(r.trim().to_owned()),
        None => None,
    };
    let total_yen = if exemption.is_some() {
        0
    } else {
        unit_yen * copies
    };
    Ok(Fee {
        kind,
        channel,
        unit_yen,
        copies,
        total_yen,
        exemption,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn fees() {
        let town = sample::municipality();
        let check =
            |kind, channel, copies, exemption: Option<&str>, expected: Result<u32, FeeError>| {
                let got = compute_fee(&town, kind, channel, copies, exemption).map(|f| f.total_yen);
                assert_eq!(got, expected, "{kind} {channel:?} x{copies} {exemption:?}");
            };
        use CertificateKind::*;
        check(Juminhyo, Channel::Counter, 1, None, Ok(300));
        check(Juminhyo, Channel::Kiosk, 2, None, Ok(400));
        check(KosekiZenbu, Channel::Kiosk, 1, None, Ok(450));
        check(
            Juminhyo,
            Channel::Counter,
            3,
            Some("公用 (見本税務署)"),
            Ok(0),
        );
        check(
            Juminhyo,
            Channel::Counter,
            1,
            Some("  "),
            Err(FeeError::ExemptionWithoutReason),
        );
        check(
            Juminhyo,
            Channel::Counter,
            0,
            None,
            Err(FeeError::Copies(0)),
        );
        check(
            Juminhyo,
            Channel::Counter,
            11,
            None,
            Err(FeeError::Copies(11)),
        );
    }
}
