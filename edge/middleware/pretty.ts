import type { MiddlewareHandler } from "hono";
import { prettyJSON } from "hono/pretty-json";

/**
 * `?pretty` (presence, any value) indents JSON responses, errors included. Four spaces, as gin's
 * IndentedJSON renders them in Dkron.
 */
export function pretty(): MiddlewareHandler {
  return prettyJSON({ space: 4, query: "pretty" });
}
