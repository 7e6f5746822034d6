// The SCIM schema URNs (RFC 7643 resources, RFC 7644 messages).

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
