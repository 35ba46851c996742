/**
 * How far the local store scales. It scores every chunk on every question (a brute-force vector scan plus
 * BM25 over an in-memory index, each copy in each retrieval thread), so its cost grows linearly with the index:
 * bench/app/local-scale.mjs measures query p50/p95 at 10k, 50k and 100k chunks (numbers in
 * src/workloads/app/README.md). Past this size a question's retrieval alone takes tens of milliseconds on a
 * 2-core machine and the index takes seconds to open, which is where Chroma and Pinecone (approximate nearest
 * neighbour indexes on a server) are the better engines.
 */
export const LOCAL_STORE_ADVISED_MAX_CHUNKS = 50_000;

/** A line for the start-up log and /api/config when the local store holds more than it should; else undefined. */
export function storeAdvice(store: string, chunks: number): string | undefined {
  if (store !== "local" || chunks <= LOCAL_STORE_ADVISED_MAX_CHUNKS) return undefined;
  return (
    `the local store holds ${chunks} chunks, past the ${LOCAL_STORE_ADVISED_MAX_CHUNKS} it is sized for: ` +
    "every question scans all of them; index into Chroma or Pinecone (cml-lab ingest index --store chroma|pinecone)"
  );
}
