/** The utterance store over the MEDIA R2 bucket: the same keys and metadata the call-time cache reads and backfills. */
import type { UtteranceStore } from "./render";

/** R2-backed store for pre-rendered µ-law lines. */
export function r2UtteranceStore(bucket: R2Bucket): UtteranceStore {
  return {
    has: async (key) => (await bucket.head(key)) !== null,
    put: async (key, audio, meta) => {
      await bucket.put(key, audio, {
        httpMetadata: { contentType: "audio/basic" },
        customMetadata: { text: meta.text },
      });
    },
  };
}
