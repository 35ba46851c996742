/**
 * Where an application's URL comes from and whether logs can be read are the platform's, and the platform is
 * asked, not guessed from the address: a workspace on a loopback address (a port-forward) is still a workspace,
 * and the local platform behind any hostname (a tunnel) is still the local platform.
 */
import { bypass, HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTarget } from "../../src/deploy/connection.js";
import { startTestPlatform, type TestPlatform } from "../local/helpers.js";

const FORWARDED_WORKSPACE = "http://127.0.0.1:9"; // a workspace seen through a port-forward
const TUNNELLED_LOCAL = "https://cml-lab-local.example.test"; // the local platform seen through a tunnel
let tp: TestPlatform;
const asked: string[] = [];
const server = setupServer(
  http.all(`${FORWARDED_WORKSPACE}/*`, ({ request }) => {
    asked.push(new URL(request.url).pathname);
    // CML has no such path.
    return HttpResponse.json({ message: "Not Found", code: 5 }, { status: 404 });
  }),
  http.all(`${TUNNELLED_LOCAL}/*`, async ({ request }) => {
    const url = new URL(request.url);
    return fetch(bypass(`${tp.platform.apiUrl}${url.pathname}${url.search}`, { headers: request.headers }));
  }),
);

beforeAll(async () => {
  tp = await startTestPlatform();
  server.listen({ onUnhandledRequest: "bypass" });
}, 30_000);
afterAll(async () => {
  server.close();
  await tp?.close();
});

describe("the platform behind a connection", () => {
  it("is a workspace when the API does not say otherwise, whatever its address: subdomain URLs, no log API", async () => {
    const { platform } = openTarget({ baseUrl: FORWARDED_WORKSPACE, apiKey: "k", source: "test" });
    expect(await platform.appUrl({ id: "a1", subdomain: "chat", projectId: "p1" })).toBe("http://chat.127.0.0.1:9");
    expect(await platform.logs()).toBe(false);
    // Asked once, and no local extension was called.
    expect(asked).toEqual(["/api/v2/cml-lab/platform"]);
  });

  it("is the local platform when it says so, whatever its hostname: the endpoint extension, logs", async () => {
    const { platform, api } = openTarget({ baseUrl: TUNNELLED_LOCAL, apiKey: tp.platform.apiKey, source: "test" });
    expect(await platform.logs()).toBe(true);
    // No application: the endpoint extension answers 404 and there is no URL (not a made-up subdomain one).
    expect(await platform.appUrl({ id: "missing", subdomain: "chat", projectId: "missing" })).toBeUndefined();
    expect(api).toBeDefined();
  });
});
