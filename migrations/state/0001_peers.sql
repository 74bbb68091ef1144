CREATE TABLE `peers` (
	`id` text PRIMARY KEY NOT NULL,
	`addr` text NOT NULL
);
