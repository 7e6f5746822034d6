// Errors name their field as the form labels it ("Time zone must be…"), not by the path the server
// uses (error.field, e.g. schedule.timeZone). Only the field's own name in the text is replaced.
import type { ServerError, SettingsDraft } from './client';

/** Finds the label of a field path, or null when the form has none for it. */
export type FieldLabels = (field: string) => string | null;

/** The error with its field named by its label: "Setting schedule.timeZone must be…" → "Time zone must be…". */
export function withFieldLabel(error: ServerError, labels: FieldLabels): ServerError {
  const name = error.field ? labels(error.field) : null;
  if (!error.field || !name) return error;
  for (const prefix of ['Setting ' + error.field + ' ', error.field + ' ']) {
    if (error.text.startsWith(prefix)) return { ...error, text: name + ' ' + error.text.slice(prefix.length) };
  }
  return error;
}

/** A fixed map of field → label, for forms whose fields are not lists. */
export function labelsOf(map: Record<string, string>): FieldLabels {
  return (field) => (Object.prototype.hasOwnProperty.call(map, field) ? map[field] : null);
}

const SETTING_LABELS: Record<string, string> = {
  settings: 'Settings',
  'schedule.mode': 'Scheduled sync',
  'schedule.hour': 'Hour',
  'schedule.timeZone': 'Time zone',
  'schedule.blackouts': 'Blackout dates',
  graceDays: 'Grace days',
  threshold: 'Deletion threshold',
  'threshold.kind': 'Threshold unit',
  'threshold.value': 'Deletion threshold',
  'threshold.windowHours': 'Rolling window (hours)',
  privilegedGrantLimit: 'Privileged role grants',
  exclude: 'Exclude',
  suspendedUsers: 'Suspended users',
  archivedUsers: 'Archived users',
  permissionNames: 'Permission names',
  admins: 'Extra admins',
  cooldownMinutes: 'Cooldown (minutes)',
  notifyOnFailure: 'Notify on failure',
  incremental: 'Between daily syncs, apply changes hourly',
  reportEmail: 'Email a report after scheduled syncs',
  destination: 'Destination',
  scim: 'SCIM settings',
  'scim.baseUrl': 'SCIM base URL',
  'scim.roleMapping': 'Roles in the app',
  'scim.roleGroups': 'Group names',
  'scim.attributes': 'Attribute mapping',
  'scim.attributes.userName': 'userName',
  'scim.attributes.externalId': 'externalId',
  'scim.attributes.name': 'name',
  'scim.attributes.emails': 'emails',
  'scim.attributes.active': 'active',
  'scim.maxMembersPerPatch': 'Max members per PATCH',
  rules: 'Rules',
};

/** One-per-line lists: an entry is named by the list's label and the value typed. */
const LIST_FIELDS = { exclude: 'Exclude', admins: 'Extra admins', permissionNames: 'Permission names' } as const;

/** The settings form's labels; `sent` is the document that was saved, to quote a list entry. */
export function settingLabels(sent: SettingsDraft): FieldLabels {
  return (field) => {
    const blackout = /^schedule\.blackouts\[(\d+)\](?:\.(start|end))?$/.exec(field);
    if (blackout) return 'Blackout ' + (Number(blackout[1]) + 1) + (blackout[2] === 'start' ? ' first day' : blackout[2] === 'end' ? ' last day' : '');
    const group = /^scim\.roleGroups\.(.+)$/.exec(field);
    if (group) return 'Group for ' + group[1];
    const entry = /^(exclude|admins|permissionNames)\[(\d+)\]$/.exec(field);
    if (entry) {
      const list = entry[1] as keyof typeof LIST_FIELDS;
      const value = sent[list][Number(entry[2])];
      return LIST_FIELDS[list] + (value === undefined ? '' : ' “' + value + '”');
    }
    const attribute = /^attributes\[(\d+)\](?:\.(\w+))?$/.exec(field);
    if (attribute) return 'Attribute ' + (Number(attribute[1]) + 1) + (attribute[2] ? ' ' + attribute[2] : '');
    if (field === 'attributes') return 'Attributes';
    const appGroup = /^appGroups(?:\[(\d+)\])?$/.exec(field);
    if (appGroup) return 'App groups' + (appGroup[1] === undefined ? '' : ' “' + (sent.appGroups[Number(appGroup[1])] ?? '') + '”');
    const rule = /^rules\[(\d+)\]/.exec(field);
    if (rule) return 'Rule ' + (Number(rule[1]) + 1);
    return labelsOf(SETTING_LABELS)(field);
  };
}
