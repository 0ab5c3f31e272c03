//! Mutations. Each either applies in full or changes nothing.

use super::enums::ServiceMethod;
use super::objects::connection::Agency;
use super::objects::order::ProtectionOrder;
pub use super::order_inputs::*;
use super::scalars::{Date, DateTime};
use super::{caller, services, Audited};
use crate::domain::order::SoaNotification;
use crate::domain::validation::{OrderDraft, PersonDraft};
use crate::service::orders::{GrantRequest, VaryRequest};
use async_graphql::{Context, MaybeUndefined, Object, Result};

#[derive(Default)]
pub struct CoreMutation;

#[Object]
impl CoreMutation {
    /// Registers a police force, court or advocacy service (ADMIN).
    #[graphql(visible = "super::visibility::create_agency")]
    async fn create_agency(&self, ctx: &Context<'_>, input: CreateAgencyInput) -> Result<Agency> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        Ok(svc
            .create_agency(who, input.code, input.name, input.kind.into())
            .await
            .audited(ctx)
            .await?
            .into())
    }

    /// Records an order made by the caller's court, or a notice (DVPN, DAPN) issued by the caller's force.
    #[graphql(visible = "super::visibility::grant_order")]

    async fn grant_order(
        &self,
        ctx: &Context<'_>,
        input: GrantOrderInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let req = GrantRequest {
            draft: OrderDraft {
                reference: input.reference,
                order_type: input.order_type.into(),
                subject_names: input.subject.names,
                subject_date_of_birth: input.subject.date_of_birth.map(|d| d.0),
                protected_persons: input
                    .protected_persons
                    .into_iter()
                    .map(|p| PersonDraft {
                        name: p.name,
                        date_of_birth: p.date_of_birth.map(|d| d.0),
                        contact: p.contact,
                    })
                    .collect(),
                made_on: input.made_on.0,
                expires_on: input.expires_on.map(|d| d.0),
                conditions: input.conditions.into_iter().map(Into::into).collect(),
                without_notice: input.without_notice,
                soa_notification: input.soa_part2_notification.map(|s| SoaNotification {
                    final_day: s.final_day.map(|d| d.0),
                    start_day: s.start_day.map(|d| d.0),
                }),
                until_event: input.until_event,
            },
            applicant_agency: input.applicant_agency,
            court: input.court,
            replaces_reference: input.replaces_reference,
            court_motion: input.court_motion.map(Into::into),
            note: input.note,
        };
        let order = svc.grant_order(who, req).await.audited(ctx).await?;
        super::returned_order(ctx, order).await
    }

    /// Records that the subject was served with the order (POLICE).
    #[graphql(visible = "super::visibility::record_service")]

    async fn record_service(
        &self,
        ctx: &Context<'_>,
        reference: String,
        served_at: DateTime,
        method: ServiceMethod,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .record_service(who, reference, served_at.0, method.into())
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }

    /// Records when the subject of an order made without notice became aware of it other than by service (POLICE):
    /// a breach of a non-molestation order or DAPO made without notice counts only from then, or from service if that
    /// was earlier.
    #[graphql(visible = "super::visibility::record_service")]
    async fn record_awareness(
        &self,
        ctx: &Context<'_>,
        reference: String,
        aware_at: DateTime,
        #[graphql(
            desc = "The version a DAPO variation without notice made (its `versions[].version`): the subject became aware of that variation, from which a breach of what it added or extended counts (Domestic Abuse Act 2021 s45(9))."
        )]
        variation: Option<i64>,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .record_awareness(who, reference, aware_at.0, variation)
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }

    /// Sets or clears the subject's Sexual Offences Act 2003 Part 2 notification as it stood when an SPO or SHPO was
    /// made (POLICE, the managing force): an SPO's own notification requirements apply only from its final day
    /// (SPA 2019 s9(5)-(7)); an SHPO's subject who was registered notifies under that registration (s103G(1)). `registered: false` clears it; the order's deadlines are planned again.
    #[graphql(visible = "super::visibility::record_service")]
    async fn set_soa_part2_notification(
        &self,
        ctx: &Context<'_>,
        reference: String,
        registered: bool,
        final_day: Option<Date>,
        #[graphql(
            desc = "The day the registration began, when after the order was made (the order's own requirements are suspended from then); omit when it was in place when the order was made."
        )]
        start_day: Option<Date>,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let soa = SoaNotification {
            final_day: final_day.map(|d| d.0),
            start_day: start_day.map(|d| d.0),
        };
        let order = svc
            .set_soa_notification(who, reference, registered, soa)
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }

    /// Varies an order's end date or conditions (the court that made it). The previous terms stay in `versions`.
    #[graphql(visible = "super::visibility::change_order")]

    async fn vary_order(
        &self,
        ctx: &Context<'_>,
        input: VaryOrderInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let expires_on = match input.expires_on {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(d) => Some(Some(d.0)),
        };
        let req = VaryRequest {
            reference: input.reference,
            expires_on,
            conditions: input
                .conditions
                .map(|cs| cs.into_iter().map(Into::into).collect()),
            decided_on: input.decided_on.map(|d| d.0),
            note: input.note,
            without_notice: input.without_notice,
        };
        let order = svc.vary_order(who, req).await.audited(ctx).await?;
        super::returned_order(ctx, order).await
    }

    /// Renews a fixed-term order to a later last day (the court that made it).
    #[graphql(visible = "super::visibility::change_order")]

    async fn renew_order(
        &self,
        ctx: &Context<'_>,
        input: RenewOrderInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .renew_order(
                who,
                input.reference,
                input.expires_on.0,
                input.decided_on.map(|d| d.0),
                input.note,
                input.without_notice,
            )
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }

    /// Discharges an order (the court that made it).
    #[graphql(visible = "super::visibility::change_order")]

    async fn discharge_order(
        &self,
        ctx: &Context<'_>,
        input: DischargeOrderInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .discharge_order(
                who,
                input.reference,
                input.consent_of_subject_and_chief_officer,
                input.decided_on.map(|d| d.0),
                input.note,
            )
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }

    /// Records that the event a DAPO had effect until has occurred (the court that made it): the day it did becomes
    /// the order's last day (Domestic Abuse Act 2021 s38(3)).
    #[graphql(visible = "super::visibility::change_order")]
    async fn record_ending_event(
        &self,
        ctx: &Context<'_>,
        input: RecordEndingEventInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .record_ending_event(who, input.reference, input.occurred_on.0, input.note)
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }

    /// Quashes an order on appeal: a Crown Court (an agency of kind `CROWN_COURT`), for an order a court made
    /// (SPA 2019 s7 and the equivalents). The order becomes `QUASHED` and `ORDER_QUASHED` is raised.
    #[graphql(visible = "super::visibility::change_order")]
    async fn quash_order(
        &self,
        ctx: &Context<'_>,
        input: QuashOrderInput,
    ) -> Result<ProtectionOrder> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let order = svc
            .quash_order(
                who,
                input.reference,
                input.decided_on.map(|d| d.0),
                input.note,
            )
            .await
            .audited(ctx)
            .await?;
        super::returned_order(ctx, order).await
    }
}
