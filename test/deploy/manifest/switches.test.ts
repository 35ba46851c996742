// biome-ignore-all lint/suspicious/noTemplateCurlyInString: manifest references are ${…} in plain strings.
import { describe, expect, it } from "vitest";
import { BASE, errors, load } from "./helpers.js";

// Resources that need credentials or exist on one target only are switched off with a reason, not an error.
const MANIFEST = `${BASE}variables:
  docs_site: { default: false }
  docs_url: { default: "" }
targets:
  local: { default: true, local: true, variables: { docs_site: true, docs_url: "\${resources.applications.docs.url}" } }
  workspace: { url: https://ml.example.test }
jobs:
  scrape: { script: src/a.py, env: { DOCS_URL: "\${var.docs_url}" } }
  populate-pinecone:
    script: src/b.py
    after: scrape
    requires: [PINECONE_API_KEY]
    env: { PINECONE_API_KEY: "\${secret:PINECONE_API_KEY}" }
  query-pinecone: { script: src/b.py, after: populate-pinecone }
applications:
  docs: { subdomain: docs, script: src/app.py, enabled: "\${var.docs_site}" }
`;

describe("enabled and requires", () => {
  it("skips a resource whose required variable is unset (keeping any live copy), and the jobs that run after it", async () => {
    const r = await load(MANIFEST);
    expect(errors(r)).toEqual([]);
    expect(Object.keys(r.manifest?.jobs ?? {})).toEqual(["scrape"]);
    expect(r.manifest?.skipped?.map((s) => [s.key, s.reason, s.keepLive])).toEqual([
      ["jobs.populate-pinecone", "PINECONE_API_KEY is not set", true],
      [
        "jobs.query-pinecone",
        "it runs after jobs.populate-pinecone, which is skipped (PINECONE_API_KEY is not set)",
        true,
      ],
    ]);
  });

  it("deploys it, secret and all, once the variable is set", async () => {
    const r = await load(MANIFEST, { env: { PINECONE_API_KEY: "pc-key" } });
    expect(errors(r)).toEqual([]);
    expect(r.manifest?.skipped).toBeUndefined();
    expect(r.manifest?.jobs["populate-pinecone"]?.env.PINECONE_API_KEY).toEqual({
      kind: "secret",
      name: "PINECONE_API_KEY",
      value: "pc-key",
    });
  });

  it('an empty value is unset (GitHub Actions expands a secret the repository lacks to "")', async () => {
    const r = await load(MANIFEST, { env: { PINECONE_API_KEY: "" } });
    expect(errors(r)).toEqual([]);
    expect(Object.keys(r.manifest?.jobs ?? {})).toEqual(["scrape"]);
    expect(r.manifest?.skipped?.[0]?.reason).toBe("PINECONE_API_KEY is not set");

    const scrape = '  scrape: { script: src/a.py, env: { DOCS_URL: "${var.docs_url}" } }';
    const withOptional = MANIFEST.replace(scrape, '  scrape: { script: src/a.py, env: { KEY: "${secret:KEY?}" } }');
    const optional = await load(withOptional, { env: { KEY: "" } });
    expect(errors(optional)).toEqual([]);
    expect(optional.manifest?.jobs.scrape?.env).toEqual({});
  });

  it("switches per target through a variable, and a variable may carry a resource reference", async () => {
    const local = await load(MANIFEST);
    expect(local.manifest?.applications.docs).toBeDefined();
    expect(local.manifest?.jobs.scrape?.env.DOCS_URL).toEqual({
      kind: "ref",
      resource: "applications.docs",
      field: "url",
    });
    const remote = await load(MANIFEST, { target: "workspace", env: { CML_API_KEY: "k" } });
    expect(errors(remote)).toEqual([]);
    expect(remote.manifest?.applications.docs).toBeUndefined();
    expect(remote.manifest?.skipped).toContainEqual(
      expect.objectContaining({
        key: "applications.docs",
        reason: "enabled: ${var.docs_site} is false",
        keepLive: false,
      }),
    );
    expect(remote.manifest?.jobs.scrape?.env.DOCS_URL).toBe("");
  });

  it("refuses a reference to a skipped resource, naming why it is skipped", async () => {
    const r = await load(
      MANIFEST.replace('DOCS_URL: "${var.docs_url}"', 'DOCS_URL: "${resources.applications.docs.url}"'),
      { target: "workspace", env: { CML_API_KEY: "k" } },
    );
    expect(errors(r)).toEqual([
      "jobs.scrape.env.DOCS_URL: applications.docs is skipped (enabled: ${var.docs_site} is false), so it has no url",
    ]);
  });
});

describe("optional secrets", () => {
  it("leave the env entry out when unset and keep the value as a secret when set", async () => {
    const manifest = `${BASE}applications:
  chat: { subdomain: chat, script: src/app.py, env: { AWS_SECRET_ACCESS_KEY: "\${secret:AWS_SECRET_ACCESS_KEY?}", A: b } }
`;
    const without = await load(manifest);
    expect(without.diagnostics).toEqual([]);
    expect(without.manifest?.applications.chat?.env).toEqual({ A: "b" });
    const withKey = await load(manifest, { env: { AWS_SECRET_ACCESS_KEY: "s3cr3t" } });
    expect(withKey.manifest?.applications.chat?.env.AWS_SECRET_ACCESS_KEY).toEqual({
      kind: "secret",
      name: "AWS_SECRET_ACCESS_KEY",
      value: "s3cr3t",
    });
  });
});
