// The local-onnx embedder describes the slice of transformers.js it uses with its own interface (the package is
// an optional dependency, so src/ must build without it). This checks that slice against the real typings:
// when an upgrade changes pipeline(), env or the tensor it returns, the typecheck fails here.
import type * as Transformers from "@huggingface/transformers";
import { describe, expectTypeOf, it } from "vitest";
import type { FeatureExtractor, TransformersModule } from "../../src/workloads/rag/embedders/local-onnx.js";

describe("transformers.js surface used by local-onnx", () => {
  it("the real module satisfies TransformersModule", () => {
    expectTypeOf<typeof Transformers>().toExtend<TransformersModule>();
  });
  it("the real feature-extraction pipeline satisfies FeatureExtractor", () => {
    expectTypeOf<Transformers.FeatureExtractionPipeline>().toExtend<FeatureExtractor>();
  });
});
