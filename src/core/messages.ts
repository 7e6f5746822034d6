// Every message a user can see comes from this catalog, so code, sidebar and the
// README's troubleshooting table (generated from it) cannot drift apart.

export interface CatalogEntry {
  /** What went wrong, in an admin's words. `{name}` placeholders are filled in. */
  text: string;
  /** How to fix it; empty when nothing needs fixing. */
  fix: string;
}

export const CATALOG = {
  notAllowed: {
    text: 'You do not have permission to change Roster Sync.',
    fix: 'Ask the admin who installed Roster Sync to add your email under Settings → Admins.',
  },
  invalidSetting: {
    text: 'Setting {field} {problem}.',
    fix: 'Correct the value and save again.',
  },
  invalidInput: {
    text: '{field} {problem}.',
    fix: 'Correct the value and try again.',
  },
  corruptSettings: {
    text: 'The saved settings cannot be read: {problem}.',
    fix: 'Open the sidebar and save the settings again; nothing was synced while they were unreadable.',
  },
  settingsTooNew: {
    text: 'The saved settings were written by a newer version of Roster Sync (settings version {version}; this version reads versions up to {current}).',
    fix: 'Publish the newer version of Roster Sync again: it reads these settings as they are. Nothing was changed or synced, and saving is refused so the newer settings are not lost.',
  },
  settingsChanged: {
    text: 'Settings saved by {who}: {changes}.',
    fix: '',
  },
  protectionLowered: {
    text: 'This save lowers the protection against mass changes: {changes}.',
    fix: 'Check that this is meant, then save again and confirm it.',
  },
  settingsStale: {
    text: 'The settings were changed (revision {saved}) since you opened them (revision {read}), by another admin or by an exclude from the Accounts tab; your save was refused so it does not undo that change.',
    fix: 'The sidebar now shows the saved settings: make your change again and save.',
  },
  propertyStoreFull: {
    text: 'Roster Sync could not save {key} ({kb} KB): {store} are full ({used} KB of the 500 KB Google allows). Nothing was marked as synced.',
    fix: 'Free space: in the Apps Script editor (Project settings → Script properties) delete the keys of rosters no longer used (they start with rs: and that spreadsheet\'s id), or shorten long settings such as the exclude list; then sync again.',
  },
  alreadyRunning: {
    text: 'A sync is already running (started {startedAt}, part {part}).',
    fix: 'Wait for it to finish; its result will appear in History.',
  },
  rosterBeingEdited: {
    text: 'An admin is changing accounts right now (since {since}); the roster is locked for those few seconds.',
    fix: 'Try again in a moment.',
  },
  runKilled: {
    text: 'The {what} that started {since} was stopped by Google before it could finish; the roster stays locked until {until}.',
    fix: 'Try again after {until}. Nothing is lost: a sync carries on from its last saved progress.',
  },
  rosterLocked: {
    text: 'Another run of Roster Sync holds the roster right now (at the latest until {until}).',
    fix: 'Try again in a few minutes; its result will appear in History.',
  },
  cooldown: {
    text: 'A full sync ran {minutesAgo} minutes ago; the next one is allowed at {nextAllowed}.',
    fix: 'Wait for the cooldown (Settings → Policy) or use "Sync this user" for a single account.',
  },
  notInstalled: {
    text: 'Roster Sync has not been properly installed in Google Workspace.',
    fix: 'Install Roster Sync from the Google Workspace Marketplace (Admin install, for everyone in the domain), then open Extensions → Roster Sync → Open and accept the permissions.',
  },
  notLinked: {
    text: 'Roster Sync is not linked to the directory yet.',
    fix: 'A Workspace admin opens the sidebar and chooses "I am a Workspace admin — use my account for syncing".',
  },
  notSyncAccount: {
    text: 'Scheduled syncs run as {owner}, not as this account, so this trigger does nothing.',
    fix: 'Nothing to do: the trigger of the old sync account removes itself. To make this account the sync account, use "Change sync account?" in the sidebar.',
  },
  authorizationRequired: {
    text: 'Roster Sync needs your permission for the scopes it uses.',
    fix: 'Open Extensions → Roster Sync → Open Roster Sync and accept the permissions, or visit {url}.',
  },
  ruleMatchesNobody: {
    text: 'The rule "{rule}" matches no user right now.',
    fix: 'Check that the OU or group holds the people you expect; a rule that matches nobody syncs nobody.',
  },
  apiDisabled: {
    text: 'The API access has been disabled in the Google Admin console settings.',
    fix: 'In the Google Admin console open Security → Access and data control → API controls and make sure API access is allowed; in the Apps Script project, Services must list Admin SDK API.',
  },
  noDirectoryAccess: {
    text: 'This account cannot access the Google Workspace Directory.',
    fix: 'In the Google Admin console, give the sync account an admin role with Organizational Units → Read, Users → Read and Groups → Read, and Reports for incremental syncs (Account → Admin roles → Create new role), or use a Workspace admin as the sync account.',
  },
  directoryUnavailable: {
    text: 'Google Workspace Directory did not answer ({detail}); nothing was changed.',
    fix: 'This is usually temporary. A scheduled sync tries again at the next hourly run; you can also press Sync now later.',
  },
  urlFetchQuotaDirectory: {
    text: "Apps Script refused the sync account more web requests today (Service invoked too many times for one day: urlfetch.), and a large directory is read through them; nothing was changed.",
    fix: "Nothing to do: Google renews the quota 24 hours after the day's first request, and the next daily sync reads the directory again. If it happens often, the sync account's other scripts use most of its daily web requests: move them to another account.",
  },
  listingTooSlow: {
    text: 'The directory could not be read within one hour: Google ends a listing of users or group members after 60 minutes, and this sync resumes an hour apart (after {users} users read); nothing was changed.',
    fix: 'Press Sync now in the sidebar and keep it open until the sync finishes: it runs the parts one after another, so the listing is read in minutes.',
  },
  directoryError: {
    text: 'Google Workspace Directory refused a request ({detail}); nothing was changed.',
    fix: 'Run Finalize sync to see which permission or setting is missing.',
  },
  reportsRefused: {
    text: 'Incremental syncs cannot read the admin activity log (Reports API {detail}); only full syncs run, on the schedule.',
    fix: 'Give the sync account\'s admin role the privilege Reports (Google Admin console → Account → Admin roles), or use a super admin; then open Roster Sync once as the sync account and accept the permission to view audit reports (admin.reports.audit.readonly). Finalize sync checks it.',
  },
  reportsUnavailable: {
    text: 'The admin activity log (Reports API) did not answer ({detail}); nothing was changed.',
    fix: 'This is usually temporary: the next hourly run reads the log again from where the last applied sync stopped, and the nightly full sync corrects anything missed.',
  },
  incrementalDone: {
    text: 'Incremental: {events} changes in the admin log since {since}, {users} users re-read. {summary}.{notes}',
    fix: '',
  },
  incrementalFallback: {
    text: 'Full sync instead of an incremental one: {reason}.',
    fix: '',
  },
  reconcileFound: {
    text: 'This full sync found {count} differences that the incremental syncs since {since} had not caught (Google\'s log delayed or dropped their events); they are corrected now.',
    fix: '',
  },
  ouMissing: {
    text: 'The organizational unit {path} in rule "{rule}" no longer exists in Google Workspace.',
    fix: 'Edit the rule to point at the OU\'s new path, or remove the rule. Until then, users it matched are kept, not deactivated.',
  },
  groupMissing: {
    text: 'The group {email} in rule "{rule}" no longer exists in Google Workspace.',
    fix: 'Edit the rule to point at the group\'s new email, or remove the rule. Until then, users it matched are kept, not deactivated.',
  },
  ruleHeld: {
    text: 'Held (no deactivation, deletion or role removal) while a rule is broken: {problems}',
    fix: 'Fix the broken rule; the account is reviewed again on the next sync.',
  },
  idConflict: {
    text: 'The roster row of {email} has the ID {id}, which no Google user has, while the Google user {email} has the ID {googleId}: the ID was retyped, or the user was deleted and re-created in Google. Neither account is changed until this is resolved.',
    fix: 'If the ID was retyped, restore {googleId} in that row (Edit → Undo or File → Version history). If the user was re-created, choose: keep the old account by typing {googleId} into its ID, or set its status to deleted so that a new account is created.',
  },
  thresholdBlocked: {
    text: 'This sync would deactivate or delete {count} accounts, more than the limit of {limit} ({threshold}). Nothing was changed.',
    fix: 'Review the Preview. If the changes are expected (for example a yearly rollover), confirm them once with "Apply anyway"; otherwise fix the mappings. The limit is Settings → Policy → deletion threshold.',
  },
  rollingThresholdBlocked: {
    text: 'This sync would deactivate or delete {count} accounts; with the {recent} deactivated or deleted in the last {hours} hours that makes {total}, more than the limit of {limit} ({threshold}). Nothing was changed.',
    fix: 'Review the Preview and History. If the changes are expected, confirm them once with "Apply anyway"; otherwise fix the mappings. The limit is Settings → Policy → deletion threshold, counted over its rolling window.',
  },
  roleThresholdBlocked: {
    text: 'This sync would take the role {role} from {count} of its {total} accounts (by deactivation or a rule change), more than {limit} ({threshold} of them). Nothing was changed.',
    fix: 'Review the Preview. If the changes are expected, confirm them once with "Apply anyway"; otherwise fix the mappings (a removed or changed rule). The share is Settings → Policy → deletion threshold.',
  },
  privilegeBlocked: {
    text: 'This sync would give the privileged role {roles} to {count} accounts, more than {limit} at once. Nothing was changed.',
    fix: 'Review the Preview. If these people should have it, confirm once with "Apply anyway"; otherwise fix the mappings. The limit is Settings → Policy → privileged role grants.',
  },
  noRules: {
    text: 'No OU or group is mapped to a role yet, so there is nothing to sync.',
    fix: 'Add at least one rule under Mappings.',
  },
  rosterMissing: {
    text: 'The roster spreadsheet cannot be opened (it may have been deleted or unshared).',
    fix: 'Open the spreadsheet that should hold the roster and choose Extensions → Roster Sync → Open to link it again.',
  },
  rosterProtected: {
    text: 'The roster sheet "{sheet}" cannot be written: {detail}.',
    fix: 'Remove the protection from the roster sheet (Data → Protect sheets and ranges) or give the sync account edit access; nothing was marked as synced.',
  },
  rosterColumnsChanged: {
    text: 'The roster sheet "{sheet}" is missing the column(s) {columns}.',
    fix: 'Restore the header row (undo the change, or copy it from the README) and sync again; nothing was written.',
  },
  rosterColumnsMoved: {
    text: 'The columns of the roster sheet "{sheet}" were moved; they must stay in the order {columns}.',
    fix: 'Move the columns back (or undo the change) and sync again; nothing was written.',
  },
  rosterDeleted: {
    text: 'The roster sheet "{sheet}" was deleted after syncs had written it. A new empty sheet would recreate every account and lose every local decision (disabled, deleted and manual accounts), so nothing was written.',
    fix: 'Undo the deletion or restore the sheet from File → Version history. To start a new roster on purpose, choose "Start a new roster" under Settings → Destination.',
  },
  rosterEmptied: {
    text: 'The roster sheet "{sheet}" held {count} synced accounts after the last sync and now holds none (its rows were cleared or deleted). Syncing now would recreate every account and lose every local decision (disabled, deleted and manual accounts), so nothing was written.',
    fix: 'Undo the change (Edit → Undo) or restore the sheet from File → Version history. To start a new roster on purpose, choose "Start a new roster" under Settings → Destination.',
  },
  rosterNotEmpty: {
    text: 'The roster sheet "{sheet}" still holds {count} accounts, so it cannot be started anew.',
    fix: 'Nothing to do: the next sync keeps this roster in step. To start over, move the accounts to another sheet first.',
  },
  rosterRowInvalid: {
    text: 'Row {row} of "{sheet}" cannot be read: {problem}.',
    fix: 'Correct the row by hand (or delete it); the row is left as it is until then.',
  },
  emailTaken: {
    text: 'The Google user of {previous} is now {email}, which another account of the roster keeps ({holder}), so the change was not written: two accounts never share one email.',
    fix: 'If both are the same person, set the other account\'s status to deleted (Accounts) and the next sync writes the new address; otherwise change one of the two emails, in Google Workspace or on the other account.',
  },
  rosterIdTwice: {
    text: 'The ID {id} is on rows {first} and {row} of "{sheet}"{more}: one account on two rows, as when a person sorts or moves rows at the instant a sync writes them, and another account may have been written over. Nothing was written.',
    fix: 'Restore the sheet from File → Version history (a version from before that sync), or delete one row of each pair; the next sync writes those accounts again and brings back, with its local decisions, any account written over.',
  },
  duplicateEmail: {
    text: 'An account with this email already exists.',
    fix: 'Search the roster for that email and edit the existing account instead.',
  },
  accountNotFound: {
    text: 'No account with id {id} is in the roster.',
    fix: 'Reload the accounts list; it may have been deleted by another admin.',
  },
  manualOnly: {
    text: 'Only manual accounts can be edited this way; {email} is kept in step with Google.',
    fix: 'Change the user in Google Workspace, or change the status instead.',
  },
  recreatedUserChoice: {
    text: 'The roster still has the account of an earlier Google user with the address {email} (account {id}, deleted in Google); it is not given to this user unless you choose so.',
    fix: 'Give the old app account to this user (it keeps what the app holds for it), or delete the old account so that a new one is created.',
  },
  deactivationsNotSent: {
    text: '{count} deactivations were not sent to {destination}, so {sample} can still sign in to it: {why}',
    fix: 'See the destination\'s settings; the accounts are recorded as deactivated and deleted when their grace period ends.',
  },
  syncFailed: {
    text: 'The sync failed: {detail}',
    fix: 'Run Finalize sync to check the setup. Nothing was marked as synced that was not written; the next sync retries.',
  },
  syncInProgress: {
    text: 'Sync in progress (part {part}): {phase}.',
    fix: '',
  },
  syncDone: {
    text: '{summary}.{notes}',
    fix: '',
  },
  noSyncYet: {
    text: 'No sync has run yet.',
    fix: '',
  },
  lastSyncOutcome: {
    text: '{message}',
    fix: '{fix}',
  },
  reportNotKept: {
    text: 'No report is kept for the sync started {startedAt}.',
    fix: 'Reports are kept for the last {kept} syncs of the last {days} days; History still shows its counts and message.',
  },
  staleCheckpoint: {
    text: 'A sync that stopped part-way ({reason}) was discarded; the next sync starts from the beginning.',
    fix: '',
  },
  triggerMissing: {
    text: 'The schedule trigger is not installed.',
    fix: 'Press “Reinstall the trigger” (or save the schedule under Settings) as the sync account to install it.',
  },
  suspendedNotSynced: {
    text: '{State} in Google, so not synced: the rules would give {roles}, but no account is created for a {state} user.',
    fix: 'Nothing to do: the account is created by the first sync after the user is restored in Google.',
  },
  triggerNotYours: {
    text: 'Only the sync account ({owner}) can install the schedule trigger: a trigger belongs to the account that installs it, and scheduled syncs run as {owner}.',
    fix: 'Sign in as {owner} and run Finalize sync again, or make this account the sync account with “Change sync account?”.',
  },
  unknownUser: {
    text: 'No Google user with the email {email} was found.',
    fix: 'Check the spelling of the email address.',
  },
  scimNotConfigured: {
    text: 'The SCIM destination is not set up: {missing}.',
    fix: 'Open Settings → Destination, enter the app\'s SCIM base URL and paste its bearer token.',
  },
  scimTokenMissing: {
    text: 'No SCIM token is saved for {user}.',
    fix: 'Sign in as the sync account ({user}) and paste the app\'s SCIM token under Settings → Destination; tokens are kept per person and never shown again.',
  },
  scimTokenUnbound: {
    text: 'The SCIM token of {user} was saved by an earlier version of Roster Sync, which did not record the address it was meant for, and no sync has gone to {baseUrl} yet: the token is not sent there.',
    fix: 'If {baseUrl} is the app\'s right address, sign in as the sync account ({user}) and paste the app\'s token again under Settings → Destination (it is then bound to this address); otherwise set the base URL back.',
  },
  scimTokenOtherUrl: {
    text: 'The SCIM token of {user} was saved for {savedFor}, but the SCIM base URL is now {baseUrl}: the token is sent only to the address it was saved for, so nothing was sent.',
    fix: 'If {baseUrl} is the app\'s right address, sign in as the sync account ({user}) and paste the app\'s token again under Settings → Destination; otherwise set the base URL back.',
  },
  scimUnauthorized: {
    text: 'The SCIM token was refused by {host} (HTTP 401); nothing more was sent.',
    fix: 'Paste a new one: create a new SCIM token in the app\'s provisioning settings and paste it under Settings → Destination.',
  },
  scimForbidden: {
    text: 'The SCIM app at {host} refused access (HTTP 403): {detail}',
    fix: 'Give the token permission to manage users (and groups, when roles map to SCIM groups) in the app, or create a token that has it.',
  },
  scimNotScim: {
    text: '{url} is not a SCIM 2.0 service ({detail}).',
    fix: 'Check the SCIM base URL under Settings → Destination: it is the address the app documents for SCIM 2.0 (often ending in /scim/v2), without /Users at the end.',
  },
  scimUnreachable: {
    text: 'The SCIM app at {host} cannot be reached: {detail}.',
    fix: 'Check the SCIM base URL (https://…) under Settings → Destination and that the app is online; Apps Script reaches only public internet addresses.',
  },
  scimUnavailable: {
    text: 'The SCIM app at {host} kept answering HTTP {code} after {attempts} tries.',
    fix: 'This is usually temporary; the accounts not written are retried on the next sync.',
  },
  scimRejected: {
    text: 'The SCIM app rejected {email} (HTTP {code}): {detail}',
    fix: 'Check the attribute mapping under Settings → Destination (userName must be unique and in the form the app expects) and the SCIM attributes under Settings → Attributes (the app must know each one, and the extension URN it belongs to); the account is retried on the next sync.',
  },
  scimConflict: {
    text: '{email} conflicts with an existing user in the SCIM app that cannot be found by userName {userName} or externalId ({detail}).',
    fix: 'Find the user in the app and give it the userName {userName}, or remove the duplicate; the next sync adopts it.',
  },
  scimUserNameCollision: {
    text: '{emails} would all get the userName {userName} in the SCIM app, so {email} was not created or renamed: two people never share one app account.',
    fix: 'Choose a userName that differs for everyone under Settings → Destination (the primary email or the Google user id), or change one of the emails in Google Workspace; the next sync writes them.',
  },
  scimUserNameTaken: {
    text: '{email} would get the userName {userName}, which the app account of {holder} holds, so it was not sent: nobody is given another person\'s app account.',
    fix: 'If {holder} is a different person, choose a userName that differs for everyone under Settings → Destination; if that app account should now be {email}\'s, delete it (Accounts → status deleted, or in the app) and the next sync creates {email}\'s own.',
  },
  scimRecreatedUser: {
    text: '{email} is a new Google user (id {id}), but the SCIM app account with the userName {userName} belongs to the earlier Google user with this address (account {holderId}), so it was not given to the new one.',
    fix: 'Choose under Explain {email}: give the old app account to the new user (it keeps what the app holds for it), or delete the old account and a new app account is created. Until then the old account is kept until its grace period ends.',
  },
  scimEmailTaken: {
    text: '{email} is already the email of another active account in the SCIM app ({holder}), so it was not written: two active app accounts never share one email.',
    fix: 'If both are the same person, delete the other app account (Accounts → status deleted, or in the app) and the next sync writes {email}; otherwise change one of the emails in Google Workspace or in the app.',
  },
  scimEmailInUse: {
    text: '{email} was not created in the SCIM app (HTTP 409: {detail}): the app already has an account with this email that was not created by provisioning: link it in the app, or exclude the user. {waiting} accounts wait for this.',
    fix: 'The app already has an account with this email that was not created by provisioning: link it to the user in the app, or exclude the user under Settings → Policy. It is tried again when the user changes in Google, or after {retryAt}.',
  },
  scimRateLimited: {
    text: 'The SCIM app at {host} asked Roster Sync to wait {wait} seconds before sending more (HTTP 429); {waiting} changes were not sent and wait for the next sync.',
    fix: "Nothing to do: the next sync sends them, never before the app allows. If this happens on every sync, ask the app's support how many provisioning requests it allows.",
  },
  scimQuotaDay: {
    text: "{done} of {total} accounts provisioned; the other {waiting} continue after {resumeAt}, when the sync account's daily quota of Apps Script web requests is renewed ({usage}).",
    fix: 'Nothing to do while scheduled syncs are on: the first hourly run after that time continues where this one stopped (or press Sync now then). A first sync of a very large domain takes several days.',
  },
  scimQuotaDayReading: {
    text: "The sync account has used today's Apps Script web requests ({usage}), so the SCIM app at {host} was not read; nothing was changed. Syncing continues after {resumeAt}.",
    fix: 'Nothing to do while scheduled syncs are on: the first hourly run after that time continues (or press Sync now then).',
  },
  scimGroupFailed: {
    text: 'The membership of {email} in the SCIM group "{group}" could not be changed (HTTP {code}): {detail}',
    fix: 'Check that the token may manage groups; the account is retried on the next sync.',
  },
  scimAttributeNotKept: {
    text: 'The SCIM app at {host} did not keep {attributes} (sent for {email} and others); Roster Sync remembers what it sent instead.',
    fix: 'Check that the app supports these attributes (and the extension URN they belong to), or clear their SCIM attribute under Settings → Attributes.',
  },
  attributesNotDerived: {
    text: '{count} mapped attribute value(s) could not be derived (first: {first}); those accounts keep their last values.',
    fix: 'Preview lists them per user: check the OU pattern under Settings → Attributes, or move the users to an OU that fits it.',
  },
  appGroupMissing: {
    text: 'The selected group {email} no longer exists in Google Workspace.',
    fix: 'Select its new email under Settings → App groups (or remove it); until then its app group and members are kept as they are.',
  },
  appGroupDeselected: {
    text: 'The app group(s) {groups} are no longer selected under Settings → App groups; they stay in the app with their members.',
    fix: 'To remove them from the app, choose "Remove deselected groups from the app" under Settings → App groups and confirm; to keep them in step, select them again.',
  },
  scimGroupRemoveFailed: {
    text: 'The SCIM group "{group}" could not be removed from the app (HTTP {code}): {detail}',
    fix: 'Check that the token may manage groups, then try again.',
  },
  scimGroupRenameFailed: {
    text: 'The SCIM group "{group}" could not be renamed to "{name}" as in Google (HTTP {code}): {detail}',
    fix: 'Check that the token may manage groups; the next sync tries again.',
  },
  scimIncompleteList: {
    text: 'The SCIM app at {host} listed {got} of its {total} {what}: its paging (startIndex and count) does not work; nothing was changed.',
    fix: 'Try again later. If it keeps happening, the app\'s SCIM paging is broken: send this message to the app\'s support.',
  },
  scimListUncounted: {
    text: 'The SCIM app at {host} listed {got} {what} without saying how many it holds (no totalResults), and its pages repeat: the list may be incomplete, so nothing was changed.',
    fix: 'Try again later. If it keeps happening, the app\'s SCIM paging is broken (startIndex is ignored): send this message to the app\'s support.',
  },
  scimNoActiveFlag: {
    text: 'The SCIM mapping sends no active flag (Settings → Destination → active): a user who leaves, is suspended or is disabled keeps signing in to the app until the grace period ends and the account is deleted.',
    fix: 'If the app has an active flag, choose to send it under Settings → Destination; otherwise remove such accounts\' access in the app by hand.',
  },
  scimLedgerLost: {
    text: 'The record linking the SCIM app\'s users to Google users (kept in the hidden sheet "Roster Sync state") was deleted or cleared after syncs had written it. Without it, accounts disabled in Roster Sync could be re-activated in the app and grace periods would start again, so nothing was sent to {host}.',
    fix: 'Restore the sheet "Roster Sync state" from File → Version history (a version from before it was lost) and sync again. If it cannot be restored, choose "Rebuild from the app" under Settings → Destination: users are linked again by externalId, accounts inactive in the app stay disabled, and the grace periods of people who left start again from today.',
  },
  scimLedgerRebuilt: {
    text: '{email} chose to rebuild the links to the SCIM app\'s users from the app: the next sync links them by externalId, and accounts inactive in the app stay disabled.',
    fix: 'Run Sync now, then check Accounts for disabled accounts that should be active and reactivate them there.',
  },
  scimMostFailed: {
    text: 'Stopped early: {failed} of {sent} requests to the SCIM app at {host} failed (first: {first}).',
    fix: 'Run Finalize sync to check the SCIM base URL and token. Nothing was marked as synced that the app did not accept; the next sync retries.',
  },
  unexpected: {
    text: 'Something unexpected went wrong: {detail}',
    fix: 'Try again. If it keeps happening, run Finalize sync and check History.',
  },
} satisfies Record<string, CatalogEntry>;

export type MessageId = keyof typeof CATALOG;

export interface Message {
  id: MessageId;
  text: string;
  fix: string;
  /** The setting or input the message is about (its path, e.g. `schedule.timeZone`), so a form can point at it. */
  field?: string;
}

/** The Admin API privileges of the least-privileged sync account, as the Admin console names them. */
export const SYNC_ACCOUNT_PRIVILEGES = ['Organizational Units → Read', 'Users → Read', 'Groups → Read'] as const;

export function msg(id: MessageId, params: Record<string, string | number> = {}): Message {
  const fill = (s: string) => s.replace(/\{(\w+)\}/g, (_, k: string) => (k in params ? String(params[k]) : `{${k}}`));
  const message: Message = { id, text: fill(CATALOG[id].text), fix: fill(CATALOG[id].fix) };
  if (typeof params.field === 'string') message.field = params.field;
  return message;
}

/** An error a user can cause or fix: shown as-is (text + fix), never as a stack trace. */
export class UserError extends Error {
  constructor(readonly detail: Message) {
    super(detail.text);
    this.name = 'UserError';
  }
}

export function toMessage(error: unknown): Message {
  if (error instanceof UserError) return error.detail;
  if (error && typeof error === 'object' && 'detail' in error) {
    const d = (error as { detail: Message }).detail;
    if (d && typeof d.text === 'string') return d;
  }
  const text = error instanceof Error ? error.message : String(error);
  return msg('unexpected', { detail: text.slice(0, 300) });
}
