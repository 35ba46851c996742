/**
 * Cross-site request forgery: a web page can post `text/plain` (a "simple" request, no CORS preflight) from a
 * visitor's browser. The API takes only application/json (which a cross-site page cannot send without a
 * preflight that this server never grants), and a browser request whose Origin is neither this host nor in
 * CML_LAB_APP_ALLOWED_ORIGINS is refused. Requests without Origin (curl, scripts) are not browser requests.
 */
import type { MiddlewareHandler } from "hono";

export function refuseCrossSite(env: NodeJS.ProcessEnv): MiddlewareHandler {
  const allowedOrigins = new Set(
    (env.CML_LAB_APP_ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim().replace(/\/+$/, ""))
      .filter(Boolean),
  );
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const origin = c.req.header("origin");
    if (origin !== undefined && !allowedOrigins.has(origin)) {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {}
      const own = [c.req.header("host"), c.req.header("x-forwarded-host")].filter(Boolean);
      if (!host || !own.includes(host))
        return c.json({ error: `requests from origin ${origin} are not allowed`, field: "origin" }, 403);
    }
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json")
      return c.json({ error: "the body must be sent as Content-Type: application/json", field: "content-type" }, 415);
    return next();
  };
}
