CREATE TABLE `job_tags` (
	`job` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`job`, `key`)
);
--> statement-breakpoint
CREATE INDEX `job_tags_kv_idx` ON `job_tags` (`key`,`value`,`job`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `owner` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `jobs_owner_idx` ON `jobs` (`owner`,`name`);--> statement-breakpoint
CREATE INDEX `executions_started_idx` ON `executions` (`started_at`);