CREATE TABLE `gossip_keyring` (
	`id` integer PRIMARY KEY NOT NULL,
	`keys` text NOT NULL,
	`updated_at` integer NOT NULL
);
