// Preloaded by `specmc replay --on bun@VERSION` before the witness: a witness forces collections
// with globalThis.gc() where the engine offers one (node --expose-gc); bun offers Bun.gc, which
// with `true` collects synchronously, so that a cleanup the collection makes due is queued
// before the witness's next turn.
globalThis.gc = () => Bun.gc(true);
