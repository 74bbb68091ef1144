CREATE TABLE `runner_join_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`tags` text DEFAULT '{}' NOT NULL,
	`single_use` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text DEFAULT '' NOT NULL,
	`expires_at` integer,
	`used_at` integer,
	`used_by` text,
	`uses` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `runners` (
	`name` text PRIMARY KEY NOT NULL,
	`credential_id` text NOT NULL,
	`hash` text NOT NULL,
	`tags` text DEFAULT '{}' NOT NULL,
	`joined_at` integer NOT NULL,
	`join_token` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runners_credential_id_unique` ON `runners` (`credential_id`);