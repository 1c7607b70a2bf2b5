import { itipRequests } from '../ical/index.js';
import type { MeetingNotifications, Notification } from '../store/outbox-repo.js';

/**
 * The notifications of one changed meeting, for a migration and for its undo alike: internal attendees are
 * told through their updated copies; each external attendee gets an iTIP REQUEST holding only the components that
 * invite them (RFC 5546 §3.2.2), those invited to the same ones share a message, and one invited to nothing live
 * (a cancelled occurrence only) gets none and is not counted as notified.
 */
export function announce(
  ics: string,
  recipients: readonly Notification[],
  m: { tenantId: string; correlationId: string; organizerId: string; uid: string; subject: string; from: string; sender: string; now: number },
): MeetingNotifications {
  const external = recipients.filter((r) => !r.internal).map((r) => r.recipient);
  const messages = external.length ? itipRequests(ics, external, { sentBy: m.sender, dtstamp: m.now }) : [];
  const variantOf = new Map(messages.flatMap((msg) => msg.recipients.map((r) => [r, msg.variant] as const)));
  const told = recipients.flatMap((r) => {
    if (r.internal) return [r];
    const variant = variantOf.get(r.recipient);
    return variant === undefined ? [] : [{ ...r, variant }];
  });
  return {
    tenantId: m.tenantId, correlationId: m.correlationId, organizerId: m.organizerId, uid: m.uid, now: m.now, recipients: told,
    messages: messages.map((msg) => ({ from: m.from, sender: m.sender, subject: m.subject, ics: msg.ics, variant: msg.variant })),
  };
}
