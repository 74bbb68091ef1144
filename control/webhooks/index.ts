// The public face of control/webhooks/: what other folders use. Import from the folder, not its files.

export { HOOK_SECRET_PREFIX, mintHook } from "./mint";
export { hmacHex, type VerifiedDelivery, type VerifyInput, verifyDelivery } from "./signature";
