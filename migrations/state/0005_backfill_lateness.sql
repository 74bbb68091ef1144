-- Custom SQL migration file, put your code below! --
-- Rows recorded before dispatched_at existed: their start command's time is lost; started_at is
-- the best there is (it held the dispatch time until a runner's result replaced it).
UPDATE `executions` SET `dispatched_at` = `started_at`;--> statement-breakpoint
-- A runner's result replaced started_at with the runner's start: success and failed records run
-- on a node (a retry that found no runner is marked too; retries are not lateness samples). A
-- run with no target (node ''), a lost one or a missed slot never reported one.
UPDATE `executions` SET `start_reported` = 1 WHERE `state` IN ('success', 'failed') AND `node_name` <> '';
