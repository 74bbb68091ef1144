// The public face of edge/ui/pages/: one component per dashboard page.

export { ClusterPage } from "./cluster";
export { ErrorPage } from "./error";
export { ExecutionPage } from "./execution";
export { JobPage } from "./job";
export { JobFormPage } from "./job-form";
export { JobsPage } from "./jobs";
export { OverviewPage } from "./overview";
export { SignInPage } from "./sign-in";
export { ConfirmPage, TokensPage } from "./tokens";
export { WebhookPage, WebhooksPage } from "./webhooks";
