CREATE TABLE `command_log` (
	`idx` integer PRIMARY KEY NOT NULL,
	`term` integer NOT NULL,
	`command` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `executions` (
	`id` text PRIMARY KEY NOT NULL,
	`job_name` text NOT NULL,
	`group_id` integer NOT NULL,
	`attempt` integer NOT NULL,
	`node_name` text NOT NULL,
	`trigger` text NOT NULL,
	`scheduled_at` integer NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`state` text NOT NULL,
	`success` integer DEFAULT false NOT NULL,
	`output` text DEFAULT '' NOT NULL,
	`exit_code` integer
);
--> statement-breakpoint
CREATE INDEX `executions_job_started_idx` ON `executions` (`job_name`,`started_at`);--> statement-breakpoint
CREATE INDEX `executions_job_group_idx` ON `executions` (`job_name`,`group_id`);--> statement-breakpoint
CREATE INDEX `executions_state_idx` ON `executions` (`state`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`name` text PRIMARY KEY NOT NULL,
	`spec` text NOT NULL,
	`parent_job` text DEFAULT '' NOT NULL,
	`success_count` integer DEFAULT 0 NOT NULL,
	`error_count` integer DEFAULT 0 NOT NULL,
	`last_success` integer,
	`last_error` integer,
	`status` text DEFAULT '' NOT NULL,
	`anchor` integer NOT NULL,
	`cursor` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `jobs_parent_idx` ON `jobs` (`parent_job`);--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
