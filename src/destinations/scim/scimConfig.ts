// The SCIM 2.0 destination, pure part: every helper the destination's adapter builds requests with,
// one file a concern, exported here together:
export * from './schemas';
export * from './scimSettings';
export * from './token';
export * from './serviceProvider';
export * from './userFields';
export * from './patch';
export * from './bulk';
export * from './retryAfter';
export * from './manualIds';
