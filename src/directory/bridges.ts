import { randomUUID } from 'node:crypto';
import type { Bridge, BridgeNumber } from '../domain/directory.js';
import { conflict, notFound, usageError } from '../domain/errors.js';
import { meetingTarget } from '../domain/meeting-target.js';
import { insertAudit } from '../store/audit-repo.js';
import { deleteBridgeNumber, getTenant, insertBridge, listBridges, listUsers, updateBridgeDefaults } from '../store/directory-repo.js';
import { transactionFor, writeTransaction } from '../store/transaction.js';
import { applyUserChange, type ChangeOutcome } from './apply-change.js';
import type { DirectoryContext } from './context.js';
import { parseServiceNumber, toE164 } from './phone-number.js';

/**
 * New-MmsBridge: an audio-conferencing bridge with its service numbers. The first toll and toll-free numbers are
 * its defaults. The first online bridge of a tenant becomes its default; `-Default` moves the default to this one
 * (users already provisioned keep their bridge, as in the reference). `-OnPremises` marks the on-premises
 * deployment's dial-in conferencing.
 */
export async function newBridge(
  ctx: DirectoryContext,
  tenantId: string,
  input: { name: string; tollNumbers: readonly string[]; tollFreeNumbers?: readonly string[]; isDefault?: boolean; onPremises?: boolean },
): Promise<Bridge> {
  const name = input.name.trim();
  if (!name) throw usageError('Name is empty: give the bridge a name, e.g. -Name "Contoso US"');
  if (input.isDefault && input.onPremises) throw usageError('an on-premises bridge cannot be the default online bridge: drop -Default or -OnPremises');
  const numbers: BridgeNumber[] = [
    ...input.tollNumbers.map((n) => ({ ...parseServiceNumber(n, 'TollNumber'), kind: 'Toll' as const })),
    ...(input.tollFreeNumbers ?? []).map((n) => ({ ...parseServiceNumber(n, 'TollFreeNumber'), kind: 'TollFree' as const })),
  ];
  if (!numbers.some((n) => n.kind === 'Toll')) throw usageError('a bridge needs at least one toll number: -TollNumber "+14255550100 (Seattle)"');
  const seen = new Set<string>();
  for (const n of numbers) {
    if (seen.has(n.number)) throw usageError(`${n.number} is given twice`);
    seen.add(n.number);
  }
  return writeTransaction(ctx.db, async (tx) => {
    const tenant = await getTenant(tx, tenantId);
    if (!tenant) throw notFound(`tenant ${tenantId} no longer exists`);
    const bridges = await listBridges(tx, tenantId);
    if (bridges.some((b) => b.name.toLowerCase() === name.toLowerCase())) throw conflict(`a bridge named ${name} already exists`);
    for (const b of bridges) {
      const dup = b.numbers.find((n) => seen.has(n.number));
      if (dup) throw conflict(`${dup.number} already belongs to bridge ${b.name}`);
    }
    if (input.onPremises && bridges.some((b) => b.onPremises)) throw conflict('the tenant already has an on-premises bridge');
    const firstOnline = !input.onPremises && !bridges.some((b) => !b.onPremises);
    const isDefault = !input.onPremises && (Boolean(input.isDefault) || firstOnline);
    if (isDefault) {
      for (const b of bridges.filter((x) => x.isDefault)) await updateBridgeDefaults(tx, { ...b, isDefault: false });
    }
    const bridge: Bridge = {
      id: randomUUID(),
      tenantId,
      name,
      isDefault,
      onPremises: Boolean(input.onPremises),
      defaultTollNumber: numbers.find((n) => n.kind === 'Toll')?.number ?? null,
      defaultTollFreeNumber: numbers.find((n) => n.kind === 'TollFree')?.number ?? null,
      numbers,
    };
    const now = ctx.now();
    await insertBridge(tx, bridge, now);
    await insertAudit(tx, {
      tenantId, at: now, actor: ctx.actor, cmdlet: 'New-MmsBridge', userId: null, target: name,
      changes: { Bridge: [null, { name, numbers: numbers.map((n) => n.number), isDefault, onPremises: bridge.onPremises }] },
      decision: 'None', reason: 'bridge created; users keep the bridge they were provisioned on', correlationId: null,
    });
    return bridge;
  });
}

/** What Unregister-CsOnlineDialInConferencingServiceNumber did: the bridge after it and every user it changed. */
export interface UnregisterOutcome {
  /** The number unassigned, E.164. */
  readonly number: string;
  readonly bridge: Bridge;
  readonly outcomes: ChangeOutcome[];
  /** The bridge's default numbers that changed (the unassigned number was one): kind, before, after (null: none left). */
  readonly defaultChanged: ReadonlyArray<{ kind: 'Toll' | 'TollFree'; before: string; after: string | null }>;
}

/**
 * Unregister-CsOnlineDialInConferencingServiceNumber: removes a number from a bridge. Every user whose meetings
 * show that number gets the bridge's (next) default instead, and the trigger rules decide, user by user, whether
 * their meetings migrate. A bridge keeps at least one toll number.
 *
 * The reference names `-RemoveDefaultServiceNumber` ("unassigns the previously assigned service number as default
 * Conference Bridge number") without saying more. Read as its name says: removing a number that is the bridge's
 * default takes that switch; without it the command is refused and changes nothing, because the bridge's default is
 * what every user without a number of their own shows, so it changes the meetings of many users at once (the
 * reference's admins complain of unwanted mass re-sends). With it, the bridge's next number of the same kind
 * becomes the default (for toll-free, none may be left).
 *
 * `whatIf` (-WhatIf, the admin center's confirmation): the very same transaction — the same users, the same trigger
 * decisions — rolled back at its end, so the preview cannot drift from what the real run does; nothing is written.
 */
export async function unregisterServiceNumber(
  ctx: DirectoryContext,
  tenantId: string,
  input: { number: string; bridgeName?: string; bridgeId?: string; removeDefaultServiceNumber?: boolean; whatIf?: boolean },
): Promise<UnregisterOutcome> {
  const number = toE164(input.number, 'Identity');
  if (input.bridgeName === undefined && input.bridgeId === undefined) throw usageError('say which bridge: -BridgeName <name> or -BridgeId <id>');
  return transactionFor(ctx.db, input.whatIf, async (tx) => {
    const tenant = await getTenant(tx, tenantId);
    if (!tenant) throw notFound(`tenant ${tenantId} no longer exists`);
    const bridges = await listBridges(tx, tenantId);
    const key = input.bridgeName?.trim().toLowerCase();
    const bridge = bridges.find((b) => b.id === input.bridgeId || b.name.toLowerCase() === key);
    if (!bridge) throw notFound(`no bridge ${input.bridgeName ?? input.bridgeId}: the tenant's bridges are ${bridges.map((b) => b.name).join(', ') || 'none'}`);
    const entry = bridge.numbers.find((n) => n.number === number);
    if (!entry) throw notFound(`${number} is not a number of bridge ${bridge.name} (its numbers: ${bridge.numbers.map((n) => n.number).join(', ')})`);
    const rest = bridge.numbers.filter((n) => n.number !== number);
    if (entry.kind === 'Toll' && !rest.some((n) => n.kind === 'Toll')) {
      throw conflict(`${number} is the only toll number of bridge ${bridge.name}: a bridge needs one; add another toll number first`);
    }
    const next = (kind: 'Toll' | 'TollFree', current: string | null) =>
      current === number ? rest.find((n) => n.kind === kind)?.number ?? null : current;
    const isDefault = bridge.defaultTollNumber === number || bridge.defaultTollFreeNumber === number;
    if (isDefault && !input.removeDefaultServiceNumber) {
      const kind = bridge.defaultTollNumber === number ? 'Toll' : 'TollFree';
      const successor = next(kind, number);
      throw conflict(`${number} is the default ${kind === 'Toll' ? 'toll' : 'toll-free'} number of bridge ${bridge.name}: every user without a number of their own shows it; `
        + `add -RemoveDefaultServiceNumber to unassign it anyway (${successor ?? 'no toll-free number'} becomes the default and those users' meetings migrate)`);
    }
    const after: Bridge = {
      ...bridge,
      numbers: rest,
      defaultTollNumber: next('Toll', bridge.defaultTollNumber),
      defaultTollFreeNumber: next('TollFree', bridge.defaultTollFreeNumber),
    };
    const bridgesAfter = bridges.map((b) => (b.id === bridge.id ? after : b));
    await deleteBridgeNumber(tx, tenantId, number);
    await updateBridgeDefaults(tx, after);

    const outcomes: ChangeOutcome[] = [];
    for (const user of await listUsers(tx, tenantId)) {
      // Users whose meetings show the number are decided by the rules; users who merely hold it as their own
      // number (audio conferencing off at the moment) lose it too, so it cannot come back when they are enabled.
      const shown = meetingTarget(user, tenant, bridges).dialIn;
      const shows = shown?.toll?.number === number || shown?.tollFree?.number === number;
      if (!shows && user.tollNumber !== number && user.tollFreeNumber !== number) continue;
      const updated = {
        ...user,
        tollNumber: user.tollNumber === number ? null : user.tollNumber,
        tollFreeNumber: user.tollFreeNumber === number ? null : user.tollFreeNumber,
      };
      outcomes.push(await applyUserChange(tx, ctx, {
        tenant, bridges, bridgesAfter, cmdlet: 'Unregister-CsOnlineDialInConferencingServiceNumber', before: user, after: updated, kinds: ['NumberUnassigned'],
      }));
    }
    const queued = outcomes.filter((o) => o.decision.migrate).length;
    const defaultChanged = [
      ...(bridge.defaultTollNumber !== after.defaultTollNumber && bridge.defaultTollNumber ? [{ kind: 'Toll' as const, before: bridge.defaultTollNumber, after: after.defaultTollNumber }] : []),
      ...(bridge.defaultTollFreeNumber !== after.defaultTollFreeNumber && bridge.defaultTollFreeNumber ? [{ kind: 'TollFree' as const, before: bridge.defaultTollFreeNumber, after: after.defaultTollFreeNumber }] : []),
    ];
    await insertAudit(tx, {
      tenantId, at: ctx.now(), actor: ctx.actor, cmdlet: 'Unregister-CsOnlineDialInConferencingServiceNumber', userId: null, target: bridge.name,
      changes: { Number: [number, null], DefaultTollNumber: [bridge.defaultTollNumber, after.defaultTollNumber], DefaultTollFreeNumber: [bridge.defaultTollFreeNumber, after.defaultTollFreeNumber] },
      decision: queued ? 'Migrate' : 'NoMigration',
      reason: `${outcomes.length} user(s) showed ${number} in their meetings; ${queued} queued for migration (see each user's row for why or why not)`
        + defaultChanged.map((d) => `; the bridge's default ${d.kind === 'Toll' ? 'toll' : 'toll-free'} number is now ${d.after ?? 'none'}`).join(''),
      correlationId: null,
    });
    return { number, bridge: after, outcomes, defaultChanged };
  });
}
