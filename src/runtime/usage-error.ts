/**
 * A user mistake (a bad flag, an unreadable file, a port already taken): raised anywhere below
 * the commands and printed by them as one line without a stack, exit status 2.
 */
export class UsageError extends Error {}
