CREATE TABLE `audit` (
	`log_index` integer NOT NULL,
	`seq` integer DEFAULT 0 NOT NULL,
	`at` integer NOT NULL,
	`token_id` text NOT NULL,
	`token_name` text NOT NULL,
	`action` text NOT NULL,
	`target` text DEFAULT '' NOT NULL,
	`client` text DEFAULT '' NOT NULL,
	`outcome` text NOT NULL,
	`detail` text DEFAULT '' NOT NULL,
	PRIMARY KEY(`log_index`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `audit_at_idx` ON `audit` (`at`);--> statement-breakpoint
CREATE INDEX `audit_target_idx` ON `audit` (`target`,`at`);--> statement-breakpoint
CREATE INDEX `audit_token_idx` ON `audit` (`token_id`,`at`);--> statement-breakpoint
CREATE TABLE `tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`scopes` text NOT NULL,
	`prefix` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text DEFAULT '' NOT NULL,
	`expires_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`hook_id` text NOT NULL,
	`delivery_id` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`hook_id`, `delivery_id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_at_idx` ON `webhook_deliveries` (`at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`job` text NOT NULL,
	`secret` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text DEFAULT '' NOT NULL,
	`last_delivery_at` integer
);
--> statement-breakpoint
CREATE INDEX `webhooks_job_idx` ON `webhooks` (`job`);--> statement-breakpoint
ALTER TABLE `executions` ADD `payload` text;