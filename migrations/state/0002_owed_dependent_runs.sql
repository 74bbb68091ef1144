CREATE TABLE `owed_dependent_runs` (
	`job_name` text NOT NULL,
	`mark` integer NOT NULL,
	`parent_job` text NOT NULL,
	`parent_group` integer NOT NULL,
	`owed_at` integer NOT NULL,
	PRIMARY KEY(`job_name`, `mark`)
);
