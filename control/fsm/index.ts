// The public face of control/fsm/: what other folders use. Import from the folder, not its files.

export { type ApplyResult, apply, isStorageFault, lastApplied } from "./apply";
export { refuseJoin } from "./apply-runners";
export type {
  AuditStamp,
  Command,
  CommandResult,
  DeliveryMark,
  ExecutionFinishCommand,
  ExecutionStartCommand,
  ExecutionsStartedCommand,
  FsmEvent,
  ResultOf,
  StartValue,
} from "./commands";
export { retriesOwed } from "./group-status";
