import { AppError } from "../errors";

/** A VALIDATION error about the schedule string; every message starts with "schedule: ". */
export function scheduleError(message: string): AppError {
  return new AppError("VALIDATION", `schedule: ${message}`, { field: "schedule" });
}
