import type { Bridge, Tenant, User } from '../domain/directory.js';
import { notFound } from '../domain/errors.js';
import type { ChangeKind } from '../domain/trigger-rules.js';
import { getTenant, listBridges, requireUser } from '../store/directory-repo.js';
import { transactionFor, type Tx } from '../store/transaction.js';
import { applyUserChange, type ChangeOutcome } from './apply-change.js';
import { newPin, PinNeeded, preparePin, type DirectoryContext, type PreparedPin } from './context.js';

export interface UserMutation {
  readonly after: User;
  readonly kinds: readonly ChangeKind[];
}

/**
 * What `mutate` returns when the user already is as asked: the command succeeds and writes nothing (no audit
 * row, no request), so a script that re-applies a desired state does not fail.
 */
export interface NoChange {
  readonly noChange: string;
}

/** The outcome of a change that was already in place: `reason` says why nothing happened. */
export function noChangeOutcome(user: User, reason: string): ChangeOutcome {
  return { user, decision: { migrate: false, reason: `no change: ${reason}`, kind: null }, correlationId: null, coalesced: false };
}

/**
 * One user operation as one transaction: read the user, the tenant's settings and bridges as they are now,
 * let `mutate` compute the new state, then decide, store, audit and enqueue. `whatIf` (-WhatIf): the very same
 * transaction rolled back at its end, so the outcome (and a refusal) is the real one and nothing is written.
 */
export async function changeUser(
  ctx: DirectoryContext,
  tenantId: string,
  identity: string,
  cmdlet: string,
  mutate: (user: User, tenant: Tenant, bridges: readonly Bridge[], tx: Tx) => Promise<UserMutation | NoChange> | UserMutation | NoChange,
  whatIf = false,
): Promise<ChangeOutcome> {
  // A change that issues a leader PIN needs its slow hash (context.ts): made here, outside the transaction, when the
  // first run asks for one; the second run uses it (the user is read again, so nothing decided on is stale).
  let preparedPin: PreparedPin | undefined;
  for (;;) {
    try {
      return await transactionFor(ctx.db, whatIf, async (tx) => {
        const tenant = await getTenant(tx, tenantId);
        if (!tenant) throw notFound(`tenant ${tenantId} no longer exists`);
        const before = await requireUser(tx, tenant.id, identity);
        const bridges = await listBridges(tx, tenant.id);
        const m = await mutate(before, tenant, bridges, tx);
        if ('noChange' in m) return noChangeOutcome(before, m.noChange);
        const { after, kinds } = m;
        return applyUserChange(tx, { ...ctx, preparedPin, pinBeforeTransaction: true }, { tenant, bridges, cmdlet, before, after, kinds });
      });
    } catch (err) {
      if (!(err instanceof PinNeeded) || preparedPin?.pin.length === err.length) throw err;
      // -WhatIf rolls everything back and shows no PIN: a PIN without its slow hash is enough to say what would happen.
      preparedPin = whatIf ? { pin: newPin(err.length), hash: '' } : await preparePin(err.length, ctx.secrets);
    }
  }
}
