// The public face of control/auth/: what other folders use. Import from the folder, not its files.

export { ACCESS, type Access, authorize, coversJob, mustCoverJob } from "./access";
export { Authenticator, type AuthenticatorOptions } from "./authenticator";
export { ADMIN_TOKEN_FILE, bootstrapAdminToken } from "./bootstrap";
export { DEFAULT_FAILURE_LIMIT, FailureLimiter, type FailureLimitOptions } from "./failure-limiter";
export { anonymousAdmin, type Identity, SYSTEM_IDENTITY } from "./identity";
export { type RunnerIdentity, verifyRunnerCredential } from "./runner-credential";
export { hashSecret, mintSecretPair, mintToken, secretMatches } from "./token-secret";
export { TOKEN_USE_FLUSH_MS, TokenUseFlusher } from "./token-uses";
