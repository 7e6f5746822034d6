// What a settings save changes, in an admin's words: for History (who changed what, with the
// before and after of the rules and the mass-change protection) and for the confirmation a save
// needs when it lowers that protection. Pure.
import { Settings, Threshold, describeRule } from './settings';

const LISTED = 5;

function thresholdText(t: Threshold): string {
  return t.kind === 'percent' ? `${t.value}%` : `${t.value} accounts`;
}

function listChange(label: string, before: string[], after: string[]): string | null {
  const added = after.filter((x) => !before.includes(x));
  const removed = before.filter((x) => !after.includes(x));
  if (!added.length && !removed.length) return null;
  const some = (xs: string[]) => xs.slice(0, LISTED).join(', ') + (xs.length > LISTED ? ` and ${xs.length - LISTED} more` : '');
  return `${label}: ${[added.length ? `added ${some(added)}` : '', removed.length ? `removed ${some(removed)}` : ''].filter(Boolean).join('; ')}`;
}

/** The changes the mass-change protection loses, each with its before and after (empty: not lowered). */
export function loweredProtection(before: Settings, after: Settings): string[] {
  const out: string[] = [];
  const t0 = before.threshold;
  const t1 = after.threshold;
  if (t0.kind !== t1.kind || t1.value > t0.value) {
    if (t0.kind !== t1.kind || t1.value !== t0.value) out.push(`the deletion threshold from ${thresholdText(t0)} to ${thresholdText(t1)}`);
  }
  if (t1.windowHours < t0.windowHours) out.push(t1.windowHours ? `the rolling window from ${t0.windowHours} to ${t1.windowHours} hours` : `the rolling window turned off (was ${t0.windowHours} hours)`);
  if (after.privilegedGrantLimit > before.privilegedGrantLimit) out.push(`the privileged role grant limit from ${before.privilegedGrantLimit} to ${after.privilegedGrantLimit}`);
  const unprivileged = before.privilegedRoles.filter((r) => !after.privilegedRoles.includes(r));
  if (unprivileged.length) out.push(`${unprivileged.join(', ')} no longer a privileged role`);
  return out;
}

/** Every change between two settings documents: rules and protection with before and after, other settings by name. */
export function describeSettingsChange(before: Settings, after: Settings): string[] {
  const out: string[] = [];
  const t0 = before.threshold;
  const t1 = after.threshold;
  if (t0.kind !== t1.kind || t0.value !== t1.value) out.push(`deletion threshold ${thresholdText(t0)} → ${thresholdText(t1)}`);
  if (t0.windowHours !== t1.windowHours) out.push(`rolling window ${t0.windowHours} → ${t1.windowHours} hours`);
  if (before.privilegedGrantLimit !== after.privilegedGrantLimit) out.push(`privileged role grant limit ${before.privilegedGrantLimit} → ${after.privilegedGrantLimit}`);
  const privileged = listChange('privileged roles', before.privilegedRoles, after.privilegedRoles);
  if (privileged) out.push(privileged);
  const beforeRules = new Map(before.rules.map((r) => [r.id, r]));
  const afterRules = new Map(after.rules.map((r) => [r.id, r]));
  for (const r of before.rules) if (!afterRules.has(r.id)) out.push(`rule removed: ${describeRule(r)}`);
  for (const r of after.rules) {
    const was = beforeRules.get(r.id);
    if (!was) out.push(`rule added: ${describeRule(r)}`);
    else if (JSON.stringify(was) !== JSON.stringify(r)) out.push(`rule changed: ${describeRule(was)} → ${describeRule(r)}`);
  }
  const exclude = listChange('exclude list', before.exclude, after.exclude);
  if (exclude) out.push(exclude);
  const admins = listChange('admins', before.admins, after.admins);
  if (admins) out.push(admins);
  const described = new Set(['threshold', 'privilegedGrantLimit', 'privilegedRoles', 'rules', 'exclude', 'admins', 'revision', 'schemaVersion']);
  const others = (Object.keys(after) as (keyof Settings)[]).filter((k) => !described.has(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  if (others.length) out.push(`also changed: ${others.join(', ')}`);
  return out;
}
