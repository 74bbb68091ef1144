CREATE TABLE `job_metadata` (
	`job` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`job`, `key`)
);
--> statement-breakpoint
CREATE INDEX `job_metadata_kv_idx` ON `job_metadata` (`key`,`value`,`job`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `displayname` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `schedule` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `disabled` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `next_fire` integer;--> statement-breakpoint
ALTER TABLE `jobs` ADD `wake_at` integer;--> statement-breakpoint
ALTER TABLE `jobs` ADD `index_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `jobs_displayname_idx` ON `jobs` (`displayname`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_schedule_idx` ON `jobs` (`schedule`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_success_count_idx` ON `jobs` (`success_count`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_error_count_idx` ON `jobs` (`error_count`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_skipped_count_idx` ON `jobs` (`skipped_count`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_last_success_idx` ON `jobs` (`last_success`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_last_error_idx` ON `jobs` (`last_error`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_next_fire_idx` ON `jobs` (`next_fire`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_status_idx` ON `jobs` (`status`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_disabled_idx` ON `jobs` (`disabled`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_wake_idx` ON `jobs` (`wake_at`);--> statement-breakpoint
CREATE INDEX `jobs_index_version_idx` ON `jobs` (`index_version`);