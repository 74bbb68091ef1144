CREATE TABLE `raft_entries` (
	`idx` integer PRIMARY KEY NOT NULL,
	`term` integer NOT NULL,
	`type` text NOT NULL,
	`data` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `raft_hard_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`term` integer NOT NULL,
	`vote` text,
	`commit_index` integer NOT NULL,
	`log_start_index` integer NOT NULL,
	`log_start_term` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `raft_snapshot` (
	`id` integer PRIMARY KEY NOT NULL,
	`idx` integer NOT NULL,
	`term` integer NOT NULL,
	`conf` text NOT NULL,
	`data` blob NOT NULL
);
