import { describe, expect, it } from "vitest";
import { cmlModelUrl, modelChoices } from "../../src/workloads/llm/registry.js";

// The chat app finds the CML model endpoint without configuration inside a workload, as CML's own code does.
describe("cmlModelUrl", () => {
  it("prefers the explicit URL, then the local platform's model service, then modelservice.<CDSW_DOMAIN>", () => {
    expect(cmlModelUrl({ CML_LAB_CML_MODEL_URL: "https://x/model", CDSW_DOMAIN: "ml.example" })).toBe(
      "https://x/model",
    );
    expect(cmlModelUrl({ CML_LOCAL_MODEL_SERVICE_URL: "http://127.0.0.1:9/", CDSW_DOMAIN: "127.0.0.1:8" })).toBe(
      "http://127.0.0.1:9/model",
    );
    expect(cmlModelUrl({ CDSW_DOMAIN: "ml-1a2b.example.cloudera.site" })).toBe(
      "https://modelservice.ml-1a2b.example.cloudera.site/model",
    );
    expect(cmlModelUrl({})).toBeUndefined();
  });

  it("makes the cml back-end available in a workload that has the model's access key", () => {
    const cml = (env: NodeJS.ProcessEnv) => modelChoices(env).find((m) => m.id === "cml");
    expect(cml({ CDSW_DOMAIN: "ml.example" })?.available).toBe(false);
    expect(cml({ CDSW_DOMAIN: "ml.example", CML_LAB_CML_MODEL_ACCESS_KEY: "mkey" })?.available).toBe(true);
  });
});
